"""Webhook signatures, in two styles at once.

proof.holdings style (its golden vector): ``X-Proof-Timestamp: <unix seconds>`` and
``X-Proof-Signature: <hex HMAC-SHA256(secret, "<timestamp>.<body>")>``, keyed with the whole
secret string as shown to the user (``whsec_…``).

Standard Webhooks (standardwebhooks.com, "Signature scheme"): ``webhook-id``, ``webhook-timestamp``
and ``webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``, keyed with the
base64-decoded bytes after the ``whsec_`` prefix.

While a secret is being rotated both the new and the previous secret sign: Standard Webhooks lists
several signatures separated by spaces; ``X-Proof-Signature`` lists several hex digests separated
by commas (new first).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format prefix, not a secret)


def generate_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes (the Standard Webhooks form)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def standard_key(secret: str) -> bytes:
    encoded = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return base64.b64decode(encoded, validate=True)
    except ValueError:
        return secret.encode()


def proof_signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def standard_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(
        standard_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256
    ).digest()
    return "v1," + base64.b64encode(mac).decode()


def signature_headers(
    secrets_: list[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    ts = str(timestamp)
    return {
        "Content-Type": "application/json",
        "User-Agent": "vouch-webhooks/1",
        "X-Proof-Timestamp": ts,
        "X-Proof-Signature": ",".join(proof_signature(s, ts, body) for s in secrets_),
        "X-Proof-Event-Id": msg_id,
        "webhook-id": msg_id,
        "webhook-timestamp": ts,
        "webhook-signature": " ".join(standard_signature(s, msg_id, ts, body) for s in secrets_),
    }
