"""Solana signatures over text: Ed25519 (RFC 8032) with the address's 32-byte public key, as the
Wallet Standard's ``solana:signMessage`` / ``solana:signIn`` produce them (PyNaCl/libsodium)."""

from __future__ import annotations

import base64
import binascii

import base58
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

SIGNATURE_BYTES = 64


def decode_signature(text: str) -> bytes:
    """A 64-byte signature in base58 (what Solana tools print), base64 or hex."""
    decoders = (
        base58.b58decode,
        lambda t: base64.b64decode(t, validate=True),
        lambda t: base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)),
        bytes.fromhex,
    )
    for decode in decoders:
        try:
            raw = decode(text)
        except (ValueError, binascii.Error):
            continue
        if len(raw) == SIGNATURE_BYTES:
            return raw
    raise ValueError("signature must be 64 bytes in base58, base64 or hex")


def verify(address: str, message: bytes, signature: bytes) -> bool:
    try:
        VerifyKey(base58.b58decode(address)).verify(message, signature)
    except (BadSignatureError, ValueError, TypeError):
        return False
    return True
