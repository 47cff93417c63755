"""Verify webhook deliveries from vouch (both header styles it sends).

proof.holdings style: ``X-Proof-Timestamp`` and ``X-Proof-Signature`` = hex HMAC-SHA256 of
``"<timestamp>.<body>"`` keyed with the secret string as shown (``whsec_…``); during a secret
rotation the header lists several digests separated by commas.

Standard Webhooks style: ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` =
space-separated ``v1,<base64 HMAC-SHA256>`` over ``"<id>.<timestamp>.<body>"`` keyed with the
base64-decoded bytes after ``whsec_``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

__all__ = ["WebhookVerificationError", "verify_webhook"]

_PREFIX = "whsec_"


class WebhookVerificationError(Exception):
    """The delivery is not authentic or not fresh; ``reason`` says which check failed."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def _standard_key(secret: str) -> bytes:
    encoded = secret[len(_PREFIX) :] if secret.startswith(_PREFIX) else secret
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return secret.encode()


def _any_matches(expected: bytes, candidates: list[bytes]) -> bool:
    # Compare against every candidate without stopping early, each in constant time.
    found = False
    for candidate in candidates:
        found |= hmac.compare_digest(expected, candidate)
    return found


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    tolerance: int = 300,
    *,
    now: float | None = None,
) -> dict[str, Any]:
    """Check a delivery's signature and timestamp; return the decoded JSON payload.

    ``body`` must be the raw request body, exactly as received. Raises
    :class:`WebhookVerificationError` with ``reason`` one of ``missing_headers``,
    ``invalid_timestamp``, ``timestamp_out_of_tolerance``, ``invalid_signature``, ``invalid_body``.
    """
    raw = body.encode() if isinstance(body, str) else bytes(body)
    current = time.time() if now is None else now
    standard = _header(headers, "webhook-signature")
    if standard is not None:
        msg_id = _header(headers, "webhook-id")
        timestamp = _header(headers, "webhook-timestamp")
        if msg_id is None or timestamp is None:
            raise WebhookVerificationError("missing_headers", "webhook-id/timestamp missing")
        _check_time(timestamp, current, tolerance)
        mac = hmac.new(
            _standard_key(secret), f"{msg_id}.{timestamp}.".encode() + raw, hashlib.sha256
        ).digest()
        candidates = []
        for part in standard.split():
            version, _, value = part.partition(",")
            if version == "v1":
                try:
                    candidates.append(base64.b64decode(value, validate=True))
                except (binascii.Error, ValueError):
                    continue
        if not _any_matches(mac, candidates):
            raise WebhookVerificationError("invalid_signature", "no signature matches")
    else:
        signature = _header(headers, "x-proof-signature")
        timestamp = _header(headers, "x-proof-timestamp")
        if signature is None or timestamp is None:
            raise WebhookVerificationError(
                "missing_headers", "neither webhook-signature nor X-Proof-Signature present"
            )
        _check_time(timestamp, current, tolerance)
        digest = (
            hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256)
            .hexdigest()
            .encode()
        )
        candidates = [part.strip().lower().encode() for part in signature.split(",")]
        if not _any_matches(digest, candidates):
            raise WebhookVerificationError("invalid_signature", "no signature matches")
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise WebhookVerificationError("invalid_body", "body is not JSON") from exc
    if not isinstance(payload, dict):
        raise WebhookVerificationError("invalid_body", "body is not a JSON object")
    return payload


def _check_time(timestamp: str, now: float, tolerance: int) -> None:
    try:
        sent = int(timestamp)
    except ValueError as exc:
        raise WebhookVerificationError("invalid_timestamp", "timestamp is not an integer") from exc
    if abs(now - sent) > tolerance:
        raise WebhookVerificationError(
            "timestamp_out_of_tolerance", f"timestamp is more than {tolerance} s away from now"
        )
