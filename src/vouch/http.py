"""HTTP plumbing shared by every surface: request ids, the body-size limit, security headers,
rate-limit headers, and the error renderers (one per surface, chosen by path prefix)."""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vouch.errors import (
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
    VouchError,
)

log = logging.getLogger("vouch.http")

# The path of the request being handled, for renderers that cite it (RFC 9457 ``instance``).
REQUEST_PATH: ContextVar[str | None] = ContextVar("vouch_request_path", default=None)

Renderer = Callable[[VouchError, str | None], tuple[dict[str, Any], str]]


def render_api_error(error: VouchError, request_id: str | None) -> tuple[dict[str, Any], str]:
    """proof.holdings envelope: ``{"error": {"code", "message", "details"?, "request_id"?}}``."""
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = error.details
    body.update(error.extra)
    if request_id:
        body["request_id"] = request_id
    return {"error": body}, "application/json"


# Longest prefix first; later surfaces (agents, records, location, inbound) add themselves.
SURFACE_RENDERERS: list[tuple[str, Renderer]] = []


def renderer_for(path: str) -> Renderer:
    for prefix, renderer in SURFACE_RENDERERS:
        if path.startswith(prefix):
            return renderer
    return render_api_error


def error_response(error: VouchError, path: str, request_id: str | None) -> JSONResponse:
    body, media_type = renderer_for(path)(error, request_id)
    return JSONResponse(
        body, status_code=error.status, headers=error.headers, media_type=media_type
    )


# -- validation error translation -------------------------------------------------------------
_PYDANTIC_TO_CODE = {
    "missing": ("invalid_type", "Required"),
    "enum": ("invalid_enum_value", "Invalid enum value"),
    "literal_error": ("invalid_enum_value", "Invalid enum value"),
    "string_too_short": ("too_small", None),
    "string_too_long": ("too_big", None),
    "greater_than": ("too_small", None),
    "greater_than_equal": ("too_small", None),
    "less_than": ("too_big", None),
    "less_than_equal": ("too_big", None),
    "too_short": ("too_small", None),
    "too_long": ("too_big", None),
    "json_invalid": ("invalid_json", "Malformed JSON body"),
    "extra_forbidden": ("unrecognized_keys", "Unrecognized key"),
    "datetime_from_date_parsing": ("invalid_date", None),
    "datetime_parsing": ("invalid_date", None),
}


def validation_details(errors: Any) -> list[dict[str, str]]:
    details = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        kind = str(err.get("type", ""))
        code, message = _PYDANTIC_TO_CODE.get(kind, (None, None))
        if code is None:
            code = "invalid_type" if kind.endswith("_type") or kind.endswith("_parsing") else kind
        details.append(
            {
                "field": ".".join(loc) or "body",
                "message": message or str(err.get("msg", "Invalid value")),
                "code": code,
            }
        )
    return details


def install_error_handlers(app: FastAPI) -> None:
    def request_id_of(request: Request) -> str | None:
        value = request.scope.get("state", {}).get("request_id")
        return value if isinstance(value, str) else None

    @app.exception_handler(VouchError)
    async def _vouch_error(request: Request, exc: VouchError) -> JSONResponse:
        return error_response(exc, request.url.path, request_id_of(request))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        error = ValidationFailed(details=validation_details(exc.errors()))
        return error_response(error, request.url.path, request_id_of(request))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error: VouchError
        if exc.status_code == 404:
            error = NotFound("Route not found")
        elif exc.status_code == 413:
            error = PayloadTooLarge(str(exc.detail))
        elif exc.status_code == 405:
            error = MethodNotAllowed(headers=dict(exc.headers or {}))
        else:
            error = VouchError(str(exc.detail), code="http_error", status=exc.status_code)
        return error_response(error, request.url.path, request_id_of(request))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = request_id_of(request)
        log.exception("unhandled error on %s %s (%s)", request.method, request.url.path, request_id)
        return error_response(VouchError(), request.url.path, request_id)


# -- middleware -----------------------------------------------------------------------------------
class _BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive`` when a streamed body passes the limit. It is an HTTPException so
    that FastAPI's body parsing re-raises it unchanged and the 413 handler renders it."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"Request body exceeds the {limit}-byte limit")


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def scope_client_ip(scope: Scope, *, trust_forwarded_for: bool) -> str:
    """The caller's address; ``X-Forwarded-For`` only behind a proxy we were told to trust."""
    if trust_forwarded_for:
        for name, value in scope.get("headers", []):
            if name == b"x-forwarded-for":
                return str(value.decode("latin-1").split(",")[0].strip())
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


# Paths no vouch client asks for, but scanners do (threat model §11 "Path Traversal & Probing").
PROBE_PATTERN = re.compile(
    r"(^|/)(\.git|\.env|\.svn|\.hg|\.ht(access|passwd)|\.aws|\.ssh|\.DS_Store|wp-admin|wp-login"
    r"|wp-content|wp-includes|xmlrpc\.php|phpmyadmin|pma|adminer|cgi-bin|server-status|actuator"
    r"|vendor/phpunit|boaform|HNAP1|\.well-known/security\.txt\.bak)(/|$|\?)"
    r"|\.(php|asp|aspx|jsp|cgi|sql|bak|old|swp|ini|log|sh)$"
    r"|\.\./|%2e%2e|/etc/passwd|/proc/self",
    re.IGNORECASE,
)


class ProbeGuard:
    """Answers scanner probes with 404 and blocks an address that keeps probing.

    Each probe counts against ``rule`` for the caller's address; once it is exhausted, every
    request from that address is refused with 403 ``blocked`` until the window has passed.
    """

    def __init__(
        self, app: ASGIApp, *, limiter: Any, rule: str, trust_forwarded_for: bool = False
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.rule = rule
        self.trust_forwarded_for = trust_forwarded_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.limiter.enabled:
            await self.app(scope, receive, send)
            return
        ip = scope_client_ip(scope, trust_forwarded_for=self.trust_forwarded_for)
        path = scope.get("path", "")
        raw = scope.get("raw_path") or b""
        request_id = scope.get("state", {}).get("request_id")
        error: VouchError | None = None
        if PROBE_PATTERN.search(path) or PROBE_PATTERN.search(raw.decode("latin-1")):
            state = await self.limiter.hit(self.rule, "probe", ip)
            error = NotFound("Route not found") if state.allowed else _blocked()
        elif await self.limiter.exhausted(self.rule, "probe", ip):
            error = _blocked()
        if error is None:
            await self.app(scope, receive, send)
            return
        body, media_type = renderer_for(path)(error, request_id)
        await JSONResponse(body, status_code=error.status, media_type=media_type)(
            scope, receive, send
        )


def _blocked() -> VouchError:
    return VouchError("Too many suspicious requests from this address", code="blocked", status=403)


class EdgeMiddleware:
    """Outermost layer: request id, body limit, security and rate-limit headers.

    The body limit is enforced twice: on ``Content-Length`` before anything is read, and on the
    bytes actually received (chunked bodies), so no handler ever sees more than the limit.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        default_limit: int,
        limits: dict[str, int] | None = None,
        hsts: bool = False,
    ) -> None:
        self.app = app
        self.default_limit = default_limit
        self.limits = sorted((limits or {}).items(), key=lambda kv: -len(kv[0]))
        self.extra_headers = list(SECURITY_HEADERS)
        if hsts:
            self.extra_headers.append(
                (b"strict-transport-security", b"max-age=63072000; includeSubDomains; preload")
            )

    def _limit_for(self, path: str) -> int:
        for prefix, limit in self.limits:
            if path.startswith(prefix):
                return limit
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = "req_" + secrets.token_hex(8)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        path: str = scope.get("path", "")
        REQUEST_PATH.set(path)
        limit = self._limit_for(path)
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in self.extra_headers if h[0] not in present)
                headers.append((b"x-request-id", request_id.encode()))
                rate = state.get("rate_limit")
                if rate is not None:
                    headers.extend(
                        (k.lower().encode(), v.encode()) for k, v in rate.headers().items()
                    )
                message["headers"] = headers
            await send(message)

        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit or declared < 0:
                    await self._too_large(path, request_id, limit, send_wrapper)
                    return

        received = 0

        async def receive_wrapper() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(limit)
            return message

        try:
            await self.app(scope, receive_wrapper, send_wrapper)
        except _BodyTooLarge:
            if not started:
                await self._too_large(path, request_id, limit, send_wrapper)

    @staticmethod
    async def _too_large(path: str, request_id: str, limit: int, send: Send) -> None:
        error = PayloadTooLarge(f"Request body exceeds the {limit}-byte limit", limit=limit)
        body, media_type = renderer_for(path)(error, request_id)
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", media_type.encode()),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
