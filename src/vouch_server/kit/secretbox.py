"""Secrets at rest: AES-256-GCM under keys derived from the master secret.

The master secret is ``VOUCH_SECRET_KEY`` (or a random key generated into the data directory). Each
purpose gets its own key through HKDF-SHA256 (RFC 5869) with a purpose label, so a key used to seal
signing keys never doubles as an HMAC key for codes. Ciphertexts are ``v1.`` + base64url(nonce ||
ciphertext || tag); the caller passes associated data (e.g. the key id) that binds a ciphertext to
the row it belongs to, so swapping ciphertexts between rows fails authentication.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_PREFIX = "v1."


def derive_key(master: bytes, purpose: str, length: int = 32) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=length, salt=None, info=b"vouch/" + purpose.encode()
    ).derive(master)


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("SecretBox needs a 256-bit key")
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, associated_data: bytes = b"") -> str:
        nonce = os.urandom(12)
        sealed = nonce + self._aead.encrypt(nonce, plaintext, associated_data)
        return _PREFIX + base64.urlsafe_b64encode(sealed).decode()

    def open(self, token: str, associated_data: bytes = b"") -> bytes:
        if not token.startswith(_PREFIX):
            raise ValueError("unknown ciphertext format")
        raw = base64.urlsafe_b64decode(token[len(_PREFIX) :])
        return self._aead.decrypt(raw[:12], raw[12:], associated_data)
