"""Location proofs: credibility vectors and EAS attestations (Astral surface)."""
