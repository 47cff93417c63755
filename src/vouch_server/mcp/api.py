"""How the MCP tools reach vouch: one HTTP call per tool, and vouch's error bodies turned into
MCP tool errors.

Every surface of vouch answers errors in its own shape (``DESIGN.md``, "Surfaces and their wire
formats"): ``{"error": {"code", "message", …}}`` on ``/api/v1``, ZeroProof's ``{"error",
"message"}`` and ``{"verified": false, "error", "reason"}`` on ``/v1``, Minka's ``{"data":
{"reason", "detail"}}`` on ``/v2`` and RFC 9457 problem+json on ``/verify/v0``. :func:`parse_error`
reads them all into one ``(code, message)`` pair, so the model always sees the code vouch chose.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import anyio
import httpx
from mcp.server.mcpserver.exceptions import ToolError

log = logging.getLogger("vouch.mcp")

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
    connector holds its own (stdio); ``origin`` is the HTTP request that carried the MCP call,
    when there is one. ``public`` is true when the caller has no key (public mode).
    """

    public: bool

    def client(
        self, key: str | None, origin: Any = None
    ) -> AbstractAsyncContextManager[httpx.AsyncClient]: ...

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
    async def client(self, key: str | None, origin: Any = None) -> AsyncIterator[httpx.AsyncClient]:
        yield self._http

    async def aclose(self) -> None:
        await self._http.aclose()


class _AppResponseStream(httpx.AsyncByteStream):
    """The body of an in-process response, chunk by chunk as the app sends it."""

    def __init__(
        self,
        messages: asyncio.Queue[Mapping[str, Any] | None],
        task: asyncio.Task[None],
        disconnected: asyncio.Event,
    ) -> None:
        self._messages = messages
        self._task = task
        self._disconnected = disconnected

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            message = await self._messages.get()
            if message is None:  # the app returned
                return
            if message.get("type") == "http.response.body":
                if message.get("body"):
                    yield bytes(message["body"])
                if not message.get("more_body", False):
                    return

    async def aclose(self) -> None:
        self._disconnected.set()
        if not self._task.done():
            self._task.cancel()
        # Shielded: a cancelled tool call still lets the app's stream end cleanly (its
        # ``finally`` blocks release what the stream held).
        with anyio.CancelScope(shield=True):
            await asyncio.wait({self._task})
        if not self._task.cancelled() and self._task.exception() is not None:
            log.warning("in-process response ended with an error", exc_info=self._task.exception())


class StreamingASGITransport(httpx.AsyncBaseTransport):
    """An httpx transport into an ASGI app that *streams* the response (httpx's own
    ``ASGITransport`` collects the whole body first, so an event stream would never arrive).

    The app runs in a task of its own for as long as the response is read; closing the
    response tells the app the client disconnected (ASGI ``http.disconnect``) and ends it.
    """

    def __init__(self, app: Any, *, client: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        self._app = app
        self._client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = b"".join([chunk async for chunk in request.stream])  # type: ignore[union-attr]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for (k, v) in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": self._client,
            "root_path": "",
        }
        messages: asyncio.Queue[Mapping[str, Any] | None] = asyncio.Queue()
        disconnected = asyncio.Event()
        body_sent = False

        async def receive() -> dict[str, Any]:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await disconnected.wait()
            return {"type": "http.disconnect"}

        async def send(message: Mapping[str, Any]) -> None:
            await messages.put(message)

        async def run() -> None:
            try:
                await self._app(scope, receive, send)
            finally:
                messages.put_nowait(None)

        task = asyncio.create_task(run(), name="vouch-mcp-in-process")
        try:
            start = await messages.get()
        except BaseException:
            task.cancel()
            raise
        if start is None or start.get("type") != "http.response.start":
            await asyncio.gather(task, return_exceptions=False)  # raises what ended the app
            raise httpx.RemoteProtocolError("the app ended without a response")
        stream = _AppResponseStream(messages, task, disconnected)
        return httpx.Response(
            int(start["status"]), headers=list(start.get("headers", [])), stream=stream
        )


class InProcessConnector:
    """The ``/mcp`` mount: each call goes through the whole app in-process (middleware, auth,
    rate limits), carrying the key the MCP caller presented and the caller's own address (so
    per-IP limits count the real caller, not the process)."""

    def __init__(self, app: Any, base_url: str, *, public: bool = False) -> None:
        self._app = app
        self._base_url = base_url.rstrip("/")
        self.public = public

    @property
    def base_url(self) -> str:
        return self._base_url

    @asynccontextmanager
    async def client(self, key: str | None, origin: Any = None) -> AsyncIterator[httpx.AsyncClient]:
        headers = {"User-Agent": "vouch-mcp"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        address = getattr(origin, "client", None)
        client = (address.host, address.port) if address is not None else ("127.0.0.1", 0)
        forwarded = getattr(origin, "headers", {}).get("x-forwarded-for") if origin else None
        if forwarded:
            headers["X-Forwarded-For"] = forwarded
        transport = StreamingASGITransport(self._app, client=client)
        async with httpx.AsyncClient(
            transport=transport, base_url=self._base_url, headers=headers, timeout=DEFAULT_TIMEOUT
        ) as http:
            yield http
