"""Proofs of every family: validation, status, revocation, and the signed revocation list."""
