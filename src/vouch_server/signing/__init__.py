"""Token signing: keys sealed at rest, the published JWKS, rotation, and token mint/verify."""
