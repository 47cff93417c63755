"""How the MCP tools reach vouch: one HTTP call per tool, and vouch's error bodies turned into
MCP tool errors.

Every surface of vouch answers errors in its own shape (``DESIGN.md``, "Surfaces and their wire
formats"): ``{"error": {"code", "message", …}}`` on ``/api/v1``, ZeroProof's ``{"error",
"message"}`` and ``{"verified": false, "error", "reason"}`` on ``/v1``, Minka's ``{"data":
{"reason", "detail"}}`` on ``/v2`` and RFC 9457 problem+json on ``/verify/v0``. :func:`parse_error`
reads them all into one ``(code, message)`` pair, so the model always sees the code vouch chose.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import httpx
from mcp.server.mcpserver.exceptions import ToolError

DEFAULT_TIMEOUT = httpx.Timeout(30.0, read=90.0)  # a long poll holds the read for up to 60 s


class VouchToolError(ToolError):
    """A vouch error response (or an unreachable vouch), as an MCP tool error.

    The MCP SDK puts ``str(error)`` in the tool result's text content, flagged ``isError``; the
    text begins with the machine code in brackets, ``[not_found] Verification not found (HTTP
    404)``, and ends with vouch's ``details`` as JSON when it sent any.
    """

    def __init__(
        self, code: str, message: str, *, status: int | None = None, details: Any = None
    ) -> None:
        self.code = code
        self.message = message
        self.status = status
        self.details = details
        text = f"[{code}] {message}"
        if status is not None:
            text += f" (HTTP {status})"
        if details not in (None, [], {}):
            text += " details: " + json.dumps(details, separators=(",", ":"), default=str)
        super().__init__(text)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_error(status: int, body: Any, raw: str = "") -> tuple[str, str, Any]:
    """``(code, message, details)`` from any of vouch's error shapes, else from the status."""
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):  # /api/v1
            code = _text(error.get("code")) or f"http_{status}"
            return code, _text(error.get("message")) or code, error.get("details")
        data = body.get("data")
        if isinstance(data, Mapping) and _text(data.get("reason")):  # /v2 (Minka)
            reason = str(data["reason"])
            return reason, _text(data.get("detail")) or reason, data.get("custom")
        if _text(body.get("title")) and "status" in body:  # /verify/v0 (RFC 9457)
            type_ = _text(body.get("type")) or ""
            code = type_.rstrip("/").rsplit("/", 1)[-1] or f"http_{status}"
            return code, _text(body.get("detail")) or str(body["title"]), None
        if _text(error):  # /v1 (ZeroProof)
            message = _text(body.get("message")) or _text(body.get("reason")) or str(error)
            return str(error), message, None
        if _text(body.get("detail")):  # FastAPI's own (an unknown route)
            return f"http_{status}", str(body["detail"]), None
    message = raw.strip()[:200] or httpx.codes.get_reason_phrase(status) or "error"
    return f"http_{status}", message, None


def raise_for_response(response: httpx.Response) -> Any:
    """The decoded JSON body of a 2xx response; a :class:`VouchToolError` for anything else."""
    try:
        body: Any = response.json() if response.content else None
    except ValueError:
        body = None
    if response.is_success:
        if body is None and response.content:
            return {"text": response.text}
        return body
    code, message, details = parse_error(response.status_code, body, response.text)
    raise VouchToolError(code, message, status=response.status_code, details=details)


class Connector(Protocol):
    """Gives a tool call an HTTP client that reaches vouch as the caller.

    ``key`` is the API key the MCP caller presented (Streamable HTTP), or ``None`` when the
    connector holds its own (stdio).
    """

    public: bool

    def client(self, key: str | None) -> AbstractAsyncContextManager[httpx.AsyncClient]: ...

    @property
    def base_url(self) -> str: ...


class RemoteConnector:
    """``vouch mcp`` over stdio: one pooled client to ``VOUCH_URL`` with ``VOUCH_API_KEY``."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self.api_key = api_key or None
        self.public = self.api_key is None
        headers = {"User-Agent": "vouch-mcp"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            headers=headers,
            timeout=DEFAULT_TIMEOUT,
            transport=transport,
            trust_env=False,
        )

    @property
    def base_url(self) -> str:
        return self._base_url

    @asynccontextmanager
    async def client(self, key: str | None) -> AsyncIterator[httpx.AsyncClient]:
        yield self._http

    async def aclose(self) -> None:
        await self._http.aclose()


class InProcessConnector:
    """The ``/mcp`` mount: each call goes through the whole app in-process (middleware, auth,
    rate limits), carrying the key the MCP caller presented."""

    public = False

    def __init__(self, app: Any, base_url: str) -> None:
        self._app = app
        self._base_url = base_url.rstrip("/")

    @property
    def base_url(self) -> str:
        return self._base_url

    @asynccontextmanager
    async def client(self, key: str | None) -> AsyncIterator[httpx.AsyncClient]:
        headers = {"User-Agent": "vouch-mcp"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        transport = httpx.ASGITransport(app=self._app)
        async with httpx.AsyncClient(
            transport=transport, base_url=self._base_url, headers=headers, timeout=DEFAULT_TIMEOUT
        ) as http:
            yield http
