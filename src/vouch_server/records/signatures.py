"""Minka Ledger proofs, method ``ed25519-v2``.

A proof is ``{method: "ed25519-v2", public, digest, result, custom}``: ``public`` is the signer's
raw 32-byte Ed25519 key in base64, ``digest = sha256_hex(record.hash + stable_stringify(custom))``
and ``result`` is the base64 Ed25519 signature (RFC 8032 §5.1.6) over the 32 bytes the digest's
hex spells — not over the hex text.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vouch_server.records.canonical import proof_digest

METHOD = "ed25519-v2"
HEX64 = re.compile(r"^[0-9a-f]{64}$")


class ProofRejected(ValueError):
    """Why a proof does not verify over a hash (a human sentence)."""


def decode_public(text: str) -> bytes:
    """A signer's key: base64 of exactly 32 bytes. Raises ``ValueError`` otherwise."""
    raw = _b64(text)
    if len(raw) != 32:
        raise ValueError("public key must be 32 bytes of base64 (ed25519-raw)")
    return raw


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("not valid base64") from exc


def encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def public_of(private_key: Ed25519PrivateKey) -> str:
    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return encode(raw)


@dataclass(frozen=True)
class ProofInput:
    method: str
    public: str
    digest: str
    result: str
    custom: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": self.method,
            "public": self.public,
            "digest": self.digest,
            "result": self.result,
        }
        if self.custom is not None:
            out["custom"] = self.custom
        return out


def verify_proof(proof: ProofInput, record_hash: str) -> None:
    """Check that ``proof`` signs ``record_hash``; raises ``ProofRejected`` saying why not."""
    if proof.method != METHOD:
        raise ProofRejected(f"unsupported proof method {proof.method!r}; expected {METHOD!r}")
    expected = proof_digest(record_hash, proof.custom)
    if proof.digest != expected:
        raise ProofRejected("the proof's digest is not over the record's current hash and custom")
    try:
        public = Ed25519PublicKey.from_public_bytes(decode_public(proof.public))
        signature = _b64(proof.result)
    except ValueError as exc:
        raise ProofRejected(f"malformed proof: {exc}") from exc
    if len(signature) != 64:
        raise ProofRejected("malformed proof: the signature must be 64 bytes of base64")
    try:
        public.verify(signature, bytes.fromhex(expected))
    except InvalidSignature as exc:
        raise ProofRejected("the signature does not verify with the proof's public key") from exc


def sign_proof(
    private_key: Ed25519PrivateKey, record_hash: str, custom: dict[str, Any]
) -> ProofInput:
    digest = proof_digest(record_hash, custom)
    result = private_key.sign(bytes.fromhex(digest))
    return ProofInput(METHOD, public_of(private_key), digest, encode(result), dict(custom))
