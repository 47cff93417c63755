"""Errors of the location surface as RFC 9457 problem details (``application/problem+json``).

The body is ``{type, title, status, detail, instance}`` with the ``type`` names Astral's verify
API uses (seed ``004_…``): ``invalid-input`` 400, ``validation`` 400, ``not-implemented`` 501,
``internal`` 500, ``rate-limited`` 429, ``unauthorized`` 401 — each Astral's base URI
``https://astral.global/errors/`` plus the name, so clients written for Astral match them. Errors raised by shared
code on ``/verify/v0/…`` (404, 405, 413, 429, 500, …) are rendered the same way, with type names
in the same style (``not-found``, ``method-not-allowed``, ``payload-too-large``).

``instance`` is the request path when the error knows it (every error this package raises
does), else the request's id as a URN (``urn:vouch:request:req_…``): both identify the
occurrence, as RFC 9457 §3.1.5 asks.
"""

from __future__ import annotations

from typing import Any

from vouch_server.errors import VouchError

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://astral.global/errors/"

# type name -> title (Astral's titles where it has one)
TITLES = {
    "invalid-input": "Invalid Input",
    "validation": "Validation Error",
    "not-implemented": "Not Implemented",
    "internal": "Internal Server Error",
    "rate-limited": "Rate Limited",
    "unauthorized": "Unauthorized",
    "forbidden": "Forbidden",
    "not-found": "Not Found",
    "method-not-allowed": "Method Not Allowed",
    "payload-too-large": "Payload Too Large",
    "unsupported-media-type": "Unsupported Media Type",
    "service-unavailable": "Service Unavailable",
}

# vouch's shared error codes -> problem type names
_SHARED_CODES = {
    "validation_error": "validation",
    "bad_request": "invalid-input",
    "unauthorized": "unauthorized",
    "rate_limited": "rate-limited",
    "internal_error": "internal",
    "not_found": "not-found",
    "method_not_allowed": "method-not-allowed",
    "payload_too_large": "payload-too-large",
    "unsupported_media_type": "unsupported-media-type",
    "blocked": "forbidden",
    "forbidden": "forbidden",
    "service_unavailable": "service-unavailable",
    "temporarily_unavailable": "service-unavailable",
}


class LocationProblem(VouchError):
    """An error of this surface; ``code`` is the problem type name."""

    def __init__(
        self,
        detail: str,
        *,
        instance: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        extra: dict[str, Any] = {}
        if instance is not None:
            extra["instance"] = instance
        super().__init__(detail, details=errors, headers=headers, **extra)


class InvalidInput(LocationProblem):
    code, status = "invalid-input", 400


class ValidationProblem(LocationProblem):
    code, status = "validation", 400


class NotImplementedProblem(LocationProblem):
    code, status = "not-implemented", 501


class InternalProblem(LocationProblem):
    code, status = "internal", 500


def type_name(error: VouchError) -> str:
    if isinstance(error, LocationProblem):
        return error.code
    return _SHARED_CODES.get(error.code, error.code.replace("_", "-"))


def render_problem(error: VouchError, request_id: str | None) -> tuple[dict[str, Any], str]:
    """RFC 9457 body for any error on ``/verify/v0/…``."""
    name = type_name(error)
    status = error.status
    detail = error.message
    if name == "internal":
        detail = "An unexpected error occurred"
    elif name == "rate-limited":
        detail = "Too many requests. Please try again later."
    instance = error.extra.get("instance")
    if not isinstance(instance, str):
        instance = f"urn:vouch:request:{request_id}" if request_id else "urn:vouch:request"
    body: dict[str, Any] = {
        "type": TYPE_BASE + name,
        "title": TITLES.get(name, name.replace("-", " ").title()),
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if error.details and name in ("validation", "invalid-input"):
        body["errors"] = error.details
    retry_after = error.extra.get("retry_after")
    if isinstance(retry_after, int):
        body["retryAfter"] = retry_after
    if request_id:
        body["requestId"] = request_id
    return body, PROBLEM_MEDIA_TYPE
