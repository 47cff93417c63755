"""Errors of the records surface, in Minka Ledger's vocabulary, and their renderer.

Minka's error body is ``{"data": {"reason", "detail", "custom"}}``; ``reason`` is a dotted code
whose prefix is its category (``auth.``, ``crypto.``, ``record.``, ``api.``, ``core.``), as in
Minka's public error reference. Errors raised by shared code (401 from the API-key dependency,
404 for unknown routes, 413, 422, 429, 500) keep their HTTP status and are given the Minka reason
of the same meaning, so Minka's SDK reads every error on ``/v2/`` the same way.
"""

from __future__ import annotations

from typing import Any

from vouch_server.errors import VouchError


class RecordsError(VouchError):
    """An error whose ``code`` is already a Minka reason."""


class BodyMalformed(RecordsError):
    code, status, message = "api.body-malformed", 400, "The request body is malformed"


class RouteUnknown(RecordsError):
    code, status, message = "api.route-unknown", 404, "Route not found"


class Forbidden(RecordsError):
    code, status, message = "auth.forbidden", 403, "The signer may not perform this action"


class RecordNotFound(RecordsError):
    code, status, message = "record.not-found", 404, "Record not found"


class RecordDuplicated(RecordsError):
    code, status, message = "record.duplicated", 409, "A record with this handle already exists"


class HashInvalid(RecordsError):
    code, status, message = "crypto.hash-invalid", 400, "The hash does not match the data"


class SignatureInvalid(RecordsError):
    code, status, message = "crypto.signature-invalid", 400, "The proof's signature is invalid"


class ParentHashInvalid(RecordsError):
    code, status, message = (
        "crypto.parent-hash-invalid",
        400,
        "data.parent must equal the record's current hash",
    )


class StatusPolicyViolation(RecordsError):
    code, status, message = (
        "record.status-policy-violation",
        400,
        "No status policy allows the requested status",
    )


class LabelsPolicyViolation(RecordsError):
    code, status, message = (
        "record.labels-policy-violation",
        400,
        "A labels policy does not allow the requested labels",
    )


# Shared codes (vouch_server.errors and vouch_server.http) → the Minka reason of the same meaning.
_REASONS = {
    "unauthorized": "auth.unauthorized",
    "forbidden": "auth.forbidden",
    "test_mode_required": "auth.forbidden",
    "blocked": "auth.forbidden",
    "not_found": "api.route-unknown",
    "method_not_allowed": "api.method-not-allowed",
    "validation_error": "api.body-malformed",
    "bad_request": "api.body-malformed",
    "unsupported_media_type": "api.body-malformed",
    "payload_too_large": "api.body-too-large",
    "rate_limited": "api.rate-limited",
    "conflict": "record.duplicated",
    "internal_error": "core.unexpected-error",
    "service_unavailable": "core.unavailable",
    "temporarily_unavailable": "core.unavailable",
}
_BY_STATUS = {
    401: "auth.unauthorized",
    403: "auth.forbidden",
    404: "api.route-unknown",
    405: "api.method-not-allowed",
    413: "api.body-too-large",
    429: "api.rate-limited",
}


def reason_of(error: VouchError) -> str:
    if isinstance(error, RecordsError) or "." in error.code:
        return error.code
    reason = _REASONS.get(error.code) or _BY_STATUS.get(error.status)
    if reason is not None:
        return reason
    return "core.unexpected-error" if error.status >= 500 else "api.body-malformed"


def render_minka_error(error: VouchError, request_id: str | None) -> tuple[dict[str, Any], str]:
    """Minka Ledger's error envelope: ``{"data": {"reason", "detail", "custom"}}``."""
    custom: dict[str, Any] = dict(error.extra)
    if error.details:
        custom["details"] = error.details
    if request_id:
        custom["requestId"] = request_id
    body = {"reason": reason_of(error), "detail": error.message, "custom": custom}
    return {"data": body}, "application/json"
