"""One error tree for the whole server; each surface renders it in its own wire format.

An error is data: a stable machine ``code``, an HTTP ``status`` and a human ``message`` (plus
optional ``details`` and extra fields such as ``retry_after``). Services raise these; the handlers in
``vouch_server.app`` pick the renderer for the surface the request came in on.
"""

from __future__ import annotations

from typing import Any


class VouchError(Exception):
    code: str = "internal_error"
    status: int = 500
    message: str = "Internal server error"
    # An error that reports a state change (a failed attempt was counted) keeps the unit of work's
    # changes: the session commits before the error is rendered instead of rolling back.
    keeps_changes: bool = False

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        keeps_changes: bool | None = None,
        **extra: Any,
    ) -> None:
        self.message = message or type(self).message
        if keeps_changes is not None:
            self.keeps_changes = keeps_changes
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details
        self.headers = headers or {}
        self.extra = extra
        super().__init__(self.message)


class BadRequest(VouchError):
    code, status, message = "bad_request", 400, "Bad request"


class ValidationFailed(BadRequest):
    code, message = "validation_error", "Request validation failed"


class InvalidChannelForType(BadRequest):
    code = "invalid_channel_for_type"


class InvalidIdentifier(BadRequest):
    code, message = "invalid_identifier", "Invalid identifier"


class Unauthorized(VouchError):
    code, status, message = "unauthorized", 401, "API key required"


class Forbidden(VouchError):
    code, status, message = "forbidden", 403, "Insufficient permissions for this operation"


class TestModeRequired(Forbidden):
    code = "test_mode_required"
    message = "This endpoint is only available with test API keys (pk_test_*)"


class NotFound(VouchError):
    code, status, message = "not_found", 404, "Not found"


class MethodNotAllowed(VouchError):
    code, status, message = "method_not_allowed", 405, "Method not allowed"


class Conflict(VouchError):
    code, status, message = "conflict", 409, "Conflict"


class PayloadTooLarge(VouchError):
    code, status, message = "payload_too_large", 413, "Request body too large"


class UnsupportedMediaType(VouchError):
    code, status, message = "unsupported_media_type", 415, "Content-Type must be application/json"


class RateLimited(VouchError):
    code, status, message = "rate_limited", 429, "Too many requests"

    def __init__(self, retry_after: int, message: str | None = None, **extra: Any) -> None:
        super().__init__(
            message,
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
            **extra,
        )


class ServiceUnavailable(VouchError):
    code, status, message = "service_unavailable", 503, "Service temporarily unavailable"


class RetryLater(VouchError):
    """A transient fault outside vouch (a provider, DNS): the caller may try again."""

    code, status, message = "temporarily_unavailable", 503, "Temporarily unavailable; retry later"
