"""Challenge codes (threat model, "Cryptographic Details — Challenge Generation").

Six characters from A–Z0–9 (36^6 ≈ 2.18e9, 31.0 bits). ``secrets.choice`` draws each character
with ``secrets.randbelow``, which rejects out-of-range samples instead of reducing them modulo 36,
so every character is uniform: no modulo bias.

Codes are never stored: the database keeps ``code_digest`` = HMAC-SHA256(server key, code), so a
stolen database does not reveal live codes and 31 bits cannot be brute-forced offline without the
server key. Digests are compared with ``hmac.compare_digest`` (constant time).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
CODE_LENGTH = 6


def generate_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def code_digest(key: bytes, code: str) -> str:
    return hmac.new(key, code.strip().upper().encode(), hashlib.sha256).hexdigest()


def code_matches(key: bytes, candidate: str, stored_digest: str) -> bool:
    return hmac.compare_digest(code_digest(key, candidate), stored_digest)
