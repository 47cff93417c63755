"""HTTP plumbing shared by every surface: request ids, the body-size limit, security headers,
rate-limit headers, the probe guard, the client address (RFC 7239 §5.2 ``X-Forwarded-For``
through trusted proxies), capability redaction in logs, the JSON input checks, and the error
renderers (one per surface, chosen by path prefix)."""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vouch_server.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
    VouchError,
)

log = logging.getLogger("vouch.http")

# The path of the request being handled, for renderers that cite it (RFC 9457 ``instance``).
REQUEST_PATH: ContextVar[str | None] = ContextVar("vouch_request_path", default=None)
# Its request id (``X-Request-Id``), for every log line written while it is handled.
REQUEST_ID: ContextVar[str | None] = ContextVar("vouch_request_id", default=None)

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
        elif isinstance(exc, _BodyTooLarge):
            error = PayloadTooLarge(str(exc.detail), limit=exc.limit)
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
        path = redact_target(request.url.path)
        log.exception("unhandled error on %s %s (%s)", request.method, path, request_id)
        return error_response(VouchError(), request.url.path, request_id)


# -- middleware -----------------------------------------------------------------------------------
class _BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive`` when a streamed body passes the limit. It is an HTTPException so
    that FastAPI's body parsing re-raises it unchanged and the 413 handler renders it."""

    def __init__(self, limit: int, detail: str | None = None) -> None:
        super().__init__(
            status_code=413, detail=detail or f"Request body exceeds the {limit}-byte limit"
        )
        self.limit = limit


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


# -- the client address ----------------------------------------------------------------------
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_TRUSTED_PROXIES = "127.0.0.1/8,::1"


@lru_cache(maxsize=16)
def parse_trusted_proxies(spec: str) -> tuple[IPNetwork, ...]:
    """``VOUCH_TRUSTED_PROXIES``: comma-separated addresses or CIDR networks."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip()
    )


def _is_trusted(address: str, proxies: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in proxies)


def _valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def scope_client_ip(
    scope: Scope, *, trust_forwarded_for: bool, trusted_proxies: str = DEFAULT_TRUSTED_PROXIES
) -> str:
    """The caller's address.

    ``X-Forwarded-For`` is read only when ``trust_forwarded_for`` is set and the immediate peer is
    one of ``trusted_proxies``. It is then walked from the right, each trusted proxy appending
    the address it saw: the first hop that is not a trusted proxy is the client. Whatever the
    client wrote itself sits to the left of that and is never used, so a forged header cannot
    make vouch charge (or ban) somebody else's address.
    """
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    if not trust_forwarded_for:
        return peer
    proxies = parse_trusted_proxies(trusted_proxies)
    if not _is_trusted(peer, proxies):
        return peer
    hops: list[str] = []
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-for":
            hops.extend(part.strip() for part in value.decode("latin-1").split(","))
    nearest = peer
    for hop in reversed(hops):
        if not _valid_ip(hop):
            # Garbage to the right of the client can only come from a proxy: keep its word.
            break
        if not _is_trusted(hop, proxies):
            return hop
        nearest = hop
    return nearest


def scope_presented_key(scope: Scope) -> str | None:
    """The API key in ``Authorization: Bearer`` or ``X-API-Key``, as the dependencies read it."""
    authorization: str | None = None
    api_key: str | None = None
    for name, value in scope.get("headers", []):
        if name == b"authorization" and authorization is None:
            authorization = value.decode("latin-1")
        elif name == b"x-api-key" and api_key is None:
            api_key = value.decode("latin-1")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return api_key.strip() if api_key and api_key.strip() else None


# -- capability tokens in logs ----------------------------------------------------------------
# Query parameters that carry a capability: email magic links (``token``), OAuth 2.0
# redirections (RFC 6749 §4.1.2 ``code`` and ``state``), WhatsApp's webhook handshake.
REDACTED_QUERY_PARAMS = frozenset({"token", "code", "state", "hub.verify_token", "access_token"})
# Path prefixes whose next segment is itself a capability (the hosted approval page).
REDACTED_PATH_PREFIXES = ("/approve/",)
REDACTED = "[redacted]"


def redact_target(target: str) -> str:
    """A request target (path and optional query) with its capability tokens replaced."""
    path, sep, query = target.partition("?")
    for prefix in REDACTED_PATH_PREFIXES:
        if path.startswith(prefix) and len(path) > len(prefix):
            rest = path[len(prefix) :]
            _, slash, tail = rest.partition("/")
            path = prefix + REDACTED + slash + tail
    if sep and query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(name.lower() in REDACTED_QUERY_PARAMS for name, _ in pairs):
            query = urlencode(
                [
                    (name, REDACTED if name.lower() in REDACTED_QUERY_PARAMS else value)
                    for name, value in pairs
                ],
                safe="[]",
            )
    return path + sep + query


class RedactCapabilities(logging.Filter):
    """Rewrites request targets in log records (uvicorn's access log passes the target as one of
    its ``args``) so approval links, magic-link tokens and OAuth codes never reach a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and args:
            record.args = tuple(
                redact_target(a) if isinstance(a, str) and a.startswith("/") else a for a in args
            )
        return True


def install_log_redaction(*logger_names: str) -> None:
    """Attach :class:`RedactCapabilities` to each logger once (idempotent across apps)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactCapabilities) for f in logger.filters):
            logger.addFilter(RedactCapabilities())


# -- JSON input checks -----------------------------------------------------------------------------
# Deepest nesting a JSON body on /v2 and /verify/v0 may have (documented in docs/security.md).
MAX_JSON_DEPTH = 64


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _has_nul(query_string: bytes) -> bool:
    """Whether a raw query string decodes to a NUL anywhere (``%00``, or a raw byte)."""
    return b"\x00" in query_string or b"%00" in query_string


def json_input_problem(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why a parsed JSON document cannot be taken as input, or None when it can.

    Refuses nesting deeper than ``max_depth`` and strings (values or member names) holding a
    lone surrogate, which I-JSON forbids (RFC 7493 §2.1) and which no UTF-8 encoder can write.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _has_lone_surrogate(item):
                return "A string holds a lone surrogate (not I-JSON, RFC 7493 §2.1)"
            continue
        if depth >= max_depth and isinstance(item, dict | list):
            return f"JSON nested deeper than {max_depth} levels"
        if isinstance(item, dict):
            for key, child in item.items():
                stack.append((key, depth))
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return None


# Paths no vouch client asks for, but scanners do (threat model §11 "Path Traversal & Probing").
PROBE_PATTERN = re.compile(
    r"(^|/)(\.git|\.env|\.svn|\.hg|\.ht(access|passwd)|\.aws|\.ssh|\.DS_Store|wp-admin|wp-login"
    r"|wp-content|wp-includes|xmlrpc\.php|phpmyadmin|pma|adminer|cgi-bin|server-status|actuator"
    r"|vendor/phpunit|boaform|HNAP1|\.well-known/security\.txt\.bak)(/|$|\?)"
    r"|\.(php|asp|aspx|jsp|cgi|sql|bak|old|swp|ini|log|sh)$"
    r"|\.\./|%2e%2e|/etc/passwd|/proc/self",
    re.IGNORECASE,
)
# On surfaces whose path segments are caller-chosen ids and handles (``/v2/{resource}/{handle}``:
# a handle may be ``wp-admin``, ``.env`` or ``backup.sql``), only a literal dot-segment in the raw
# path is a probe: no client sends one (RFC 3986 §5.2.4 removes them), and a handle with dots is
# sent percent-encoded.
HANDLE_SURFACES = ("/v2/",)
DOT_SEGMENT = re.compile(r"/\.\.(/|$)")

KeyCheck = Callable[[str], Awaitable[bool]]


def is_probe(path: str, raw_path: str) -> bool:
    if path.startswith(HANDLE_SURFACES):
        return DOT_SEGMENT.search(raw_path) is not None
    return PROBE_PATTERN.search(path) is not None or PROBE_PATTERN.search(raw_path) is not None


class ProbeGuard:
    """Answers scanner probes with 404 and blocks an address that keeps probing.

    Each probe counts against ``rule`` for the caller's address; once it is exhausted, every
    request from that address is refused with 403 ``blocked`` until the window has passed —
    except a request with a valid API key (``key_is_valid``): a ban is on an address, which a
    caller may share with others (NAT, a proxy), and a key holder is identified without it.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: Any,
        rule: str,
        trust_forwarded_for: bool = False,
        trusted_proxies: str = DEFAULT_TRUSTED_PROXIES,
        key_is_valid: KeyCheck | None = None,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.rule = rule
        self.trust_forwarded_for = trust_forwarded_for
        self.trusted_proxies = trusted_proxies
        self.key_is_valid = key_is_valid

    async def _authenticated(self, scope: Scope) -> bool:
        key = scope_presented_key(scope)
        if key is None or self.key_is_valid is None:
            return False
        return await self.key_is_valid(key)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.limiter.enabled:
            await self.app(scope, receive, send)
            return
        ip = scope_client_ip(
            scope,
            trust_forwarded_for=self.trust_forwarded_for,
            trusted_proxies=self.trusted_proxies,
        )
        path = scope.get("path", "")
        raw = scope.get("raw_path") or b""
        request_id = scope.get("state", {}).get("request_id")
        error: VouchError | None = None
        if is_probe(path, raw.decode("latin-1")):
            state = await self.limiter.hit(self.rule, "probe", ip)
            blocked = not state.allowed and not await self._authenticated(scope)
            error = _blocked() if blocked else NotFound("Route not found")
        elif await self.limiter.exhausted(self.rule, "probe", ip) and not (
            await self._authenticated(scope)
        ):
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


# Decides, from the request head alone (headers and path; nothing of the body), whether the
# caller is authenticated for a surface's larger body limit.
BodyGate = Callable[[Scope], Awaitable[bool]]


@dataclass(frozen=True)
class BodyLimit:
    """A path prefix's body limit. With a ``gate``, the limit applies only to a caller the gate
    admits (an API key, a provider's shared secret, a signed link); everyone else keeps the
    default limit (the threat model's 10 KB), and the gate runs before the body is read past it."""

    limit: int
    gate: BodyGate | None = None


class EdgeMiddleware:
    """Outermost layer: request id, body limit, security and rate-limit headers.

    The body limit is enforced twice: on ``Content-Length`` before anything is read, and on the
    bytes actually received (chunked bodies), so no handler ever sees more than the limit. A
    prefix's larger limit behind a gate is granted only when the body needs it: a declared length
    over the default runs the gate before reading, and a chunked body runs it the moment the
    bytes received pass the default. Small bodies never pay for the gate.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        default_limit: int,
        limits: dict[str, int | BodyLimit] | None = None,
        hsts: bool = False,
    ) -> None:
        self.app = app
        self.default_limit = default_limit
        self.limits = sorted(
            (
                (prefix, rule if isinstance(rule, BodyLimit) else BodyLimit(rule))
                for prefix, rule in (limits or {}).items()
            ),
            key=lambda kv: -len(kv[0]),
        )
        self.extra_headers = list(SECURITY_HEADERS)
        if hsts:
            self.extra_headers.append(
                (b"strict-transport-security", b"max-age=63072000; includeSubDomains; preload")
            )

    def _limit_for(self, path: str) -> BodyLimit:
        for prefix, rule in self.limits:
            if path.startswith(prefix):
                return rule
        return BodyLimit(self.default_limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = "req_" + secrets.token_hex(8)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        path: str = scope.get("path", "")
        REQUEST_PATH.set(path)
        REQUEST_ID.set(request_id)
        rule = self._limit_for(path)
        # Until the gate has admitted the caller, only the default limit holds.
        limit = rule.limit if rule.gate is None else min(rule.limit, self.default_limit)
        gated = rule.gate is not None and rule.limit > limit

        def too_large_detail() -> str:
            if rule.gate is not None and limit < rule.limit:
                return (
                    f"Request body exceeds the {limit}-byte limit for unauthenticated callers "
                    f"(up to {rule.limit} bytes with valid credentials)"
                )
            return f"Request body exceeds the {limit}-byte limit"

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

        async def admit() -> bool:
            """Run the gate once; on success the prefix's larger limit holds."""
            nonlocal limit, gated
            gated = False
            assert rule.gate is not None
            if await rule.gate(scope):
                limit = rule.limit
                return True
            return False

        if "\x00" in path or _has_nul(scope.get("query_string", b"")):
            # No text column (PostgreSQL refuses U+0000 in text and jsonb) and no identifier
            # holds a NUL; refused here once, so no route can reach the database with one.
            await self._refuse(
                path, request_id, send_wrapper, "The path or query string holds a NUL"
            )
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > rule.limit:
                    # Too large for anyone: say so without asking for credentials.
                    limit, gated = rule.limit, False
                elif declared > limit and gated:
                    await admit()
                if declared > limit or declared < 0:
                    await self._too_large(path, request_id, limit, send_wrapper, too_large_detail())
                    return

        received = 0

        async def receive_wrapper() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit and gated:
                    await admit()
                if received > limit:
                    raise _BodyTooLarge(limit, too_large_detail())
            return message

        try:
            await self.app(scope, receive_wrapper, send_wrapper)
        except _BodyTooLarge as exc:
            if not started:
                await self._too_large(path, request_id, exc.limit, send_wrapper, str(exc.detail))

    @staticmethod
    async def _refuse(path: str, request_id: str, send: Send, detail: str) -> None:
        await EdgeMiddleware._error(path, request_id, send, BadRequest(detail), 400)

    @staticmethod
    async def _too_large(
        path: str, request_id: str, limit: int, send: Send, detail: str | None = None
    ) -> None:
        error = PayloadTooLarge(
            detail or f"Request body exceeds the {limit}-byte limit", limit=limit
        )
        await EdgeMiddleware._error(path, request_id, send, error, 413)

    @staticmethod
    async def _error(
        path: str, request_id: str, send: Send, error: VouchError, status: int
    ) -> None:
        body, media_type = renderer_for(path)(error, request_id)
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", media_type.encode()),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
