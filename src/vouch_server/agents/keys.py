"""Agent public keys: Ed25519 (RFC 8032) given as raw base64url or as an OKP JWK (RFC 8037 §2),
named by their JWK SHA-256 thumbprint (RFC 7638 §3) — the ``keyid`` Web Bot Auth uses."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.bindings import crypto_core_ed25519_is_valid_point

ED25519_KEY_BYTES = 32
ED25519_SIGNATURE_BYTES = 64


class InvalidPublicKey(ValueError):
    """The key is not an acceptable Ed25519 public key; the message says why."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict unpadded (or correctly padded) base64url, as JOSE writes it (RFC 7515 §2)."""
    stripped = text.rstrip("=")
    if not stripped or any(c not in _B64URL for c in stripped):
        raise ValueError("not base64url")
    try:
        data = base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc
    if b64url_encode(data) != stripped:
        raise ValueError("non-canonical base64url")
    return data


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True)
class AgentPublicKey:
    raw: bytes

    @property
    def x(self) -> str:
        """The JWK ``x`` member: the raw key, base64url without padding."""
        return b64url_encode(self.raw)

    @property
    def jwk(self) -> dict[str, str]:
        return {"kty": "OKP", "crv": "Ed25519", "x": self.x}

    @property
    def thumbprint(self) -> str:
        """RFC 7638 §3 (members of an OKP key per RFC 8037 §2: crv, kty, x, in that order)."""
        members = json.dumps(
            {"crv": "Ed25519", "kty": "OKP", "x": self.x}, separators=(",", ":"), sort_keys=True
        )
        return b64url_encode(hashlib.sha256(members.encode("ascii")).digest())

    def verifier(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.raw)

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            self.verifier().verify(signature, message)
        except InvalidSignature:
            return False
        return True


def parse_public_key(value: str | dict[str, Any]) -> AgentPublicKey:
    """A raw 32-byte key in base64url, or a public OKP/Ed25519 JWK."""
    if isinstance(value, dict):
        raw = _from_jwk(value)
    else:
        try:
            raw = b64url_decode(value.strip())
        except ValueError as exc:
            raise InvalidPublicKey(
                "public_key must be the raw 32-byte Ed25519 key in base64url, or a JWK"
            ) from exc
    if len(raw) != ED25519_KEY_BYTES:
        raise InvalidPublicKey(
            f"An Ed25519 public key is {ED25519_KEY_BYTES} bytes; this one is {len(raw)}"
        )
    # Small-order and off-curve points are rejected: with such a "key" a signature can be made
    # to verify without any secret, so it would prove nothing (RFC 8032 §5.1.7 leaves this to us).
    if not crypto_core_ed25519_is_valid_point(raw):
        raise InvalidPublicKey("public_key is not a valid Ed25519 point (small order or off-curve)")
    return AgentPublicKey(raw)


def _from_jwk(jwk: dict[str, Any]) -> bytes:
    if "d" in jwk:
        raise InvalidPublicKey(
            "This JWK contains the private key ('d'); send only the public key and keep 'd' secret"
        )
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise InvalidPublicKey('The JWK must have "kty": "OKP" and "crv": "Ed25519"')
    alg = jwk.get("alg")
    if alg is not None and alg not in ("EdDSA", "Ed25519"):
        raise InvalidPublicKey(f'The JWK\'s "alg" is {alg!r}; expected EdDSA or Ed25519')
    x = jwk.get("x")
    if not isinstance(x, str):
        raise InvalidPublicKey('The JWK has no "x" member')
    try:
        return b64url_decode(x)
    except ValueError as exc:
        raise InvalidPublicKey('The JWK\'s "x" is not base64url') from exc
