"""What ``/.well-known/jwks.json`` and ``/.well-known/jwks-test.json`` hold, for the OpenAPI
description (documentation only: the key ring serialises the document itself, ``keys.KeyRing``).

Each key is a public JWK (RFC 7517) with the metadata proof.holdings verifiers read: its purpose
and signing window; withdrawn keys stay listed for a year as ``proof_tombstones``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema


class SigningJwkOut(BaseModel):
    """A public signing key. RSA keys carry ``n``/``e``, EC keys ``crv``/``x``/``y``, Ed25519
    keys (OKP) ``crv``/``x``."""

    kty: Literal["RSA", "EC", "OKP"]
    kid: str = Field(description="The key's RFC 7638 thumbprint; tokens name it in their header.")
    use: Literal["sig"]
    alg: Literal["RS256", "ES256", "EdDSA"] = Field(description="The JWS algorithm it signs with.")
    n: str | SkipJsonSchema[None] = Field(default=None, description="RSA modulus, base64url.")
    e: str | SkipJsonSchema[None] = Field(default=None, description="RSA exponent, base64url.")
    crv: str | SkipJsonSchema[None] = Field(default=None, description="Curve (P-256, Ed25519).")
    x: str | SkipJsonSchema[None] = Field(default=None, description="Public point x, base64url.")
    y: str | SkipJsonSchema[None] = Field(default=None, description="EC point y, base64url.")
    proof_purpose: Literal["proof", "status-list"] = Field(
        description="What the key signs: proof tokens, or Token Status Lists."
    )
    not_before: int = Field(description="Unix seconds from which the key signs.")
    not_after: int = Field(description="Unix seconds after which it signs nothing new.")
    max_token_lifetime: int = Field(description="Longest life, in seconds, of what it signs.")


class SigningKeyTombstoneOut(BaseModel):
    """A withdrawn proof key: tokens it signed must no longer be trusted."""

    kid: str
    revoked_at: int = Field(description="Unix seconds when the key was withdrawn.")


class SigningJwksOut(BaseModel):
    """A JWK Set of vouch's signing keys for one environment (live or test)."""

    keys: list[SigningJwkOut]
    proof_tombstones: list[SigningKeyTombstoneOut] | SkipJsonSchema[None] = Field(
        default=None, description="Present only when a key was withdrawn in the last year."
    )
