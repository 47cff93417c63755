"""``/mcp``: the MCP tools over Streamable HTTP (MCP "Transports" §Streamable HTTP), inside
``vouch serve``.

The caller authenticates with the project's API key as a bearer (RFC 6750 §2.1). A request with
no ``Authorization`` header reaches the *public* server, which offers only the tools that need
no key (as ``vouch mcp`` does without ``VOUCH_API_KEY``); a key that is malformed, unknown or
revoked is answered 401 with ``WWW-Authenticate: Bearer …, error="invalid_token"`` (§3). Each
tool call then goes through the whole app in-process, carrying that key (or none) and the
caller's address, so it meets the same authentication, test/live separation and rate limits as
a direct API call.

The session manager runs *stateless*: every POST stands alone, so any ``vouch serve`` process
behind a load balancer can answer any request (nothing lives in one process's memory between
requests). Progress notifications still reach the caller, on the POST's own event stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from vouch_server.mcp.api import InProcessConnector
from vouch_server.mcp.server import VouchMCP, build_server
from vouch_server.runtime import Runtime
from vouch_server.tenancy.service import authenticate

PATH = "/mcp"


def bearer_key(scope: Scope) -> str | None:
    """The bearer token, ``""`` for an ``Authorization`` header that carries none (refused like
    a bad key), ``None`` when there is no such header (public mode)."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return None


async def _refuse(send: Send, status: int, code: str, message: str, challenge: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if challenge:
        headers.append((b"www-authenticate", challenge.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class McpEndpoint:
    """The ASGI app at ``/mcp``: checks the bearer key, then hands the request to the SDK's
    session manager of the full server (a valid key) or of the public one (no key).

    The two servers are built and their session managers started on the first request to
    ``/mcp``, not at startup: registering every tool builds a pydantic model per tool (about a
    third of a second for both servers), which a process that never serves MCP should not pay.
    The router's lifespan stops them if they were started."""

    def __init__(self) -> None:
        self.manager: StreamableHTTPSessionManager | None = None
        self.public_manager: StreamableHTTPSessionManager | None = None
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._stopping = False

    async def _start(self, app: FastAPI) -> None:
        async with self._lock:
            if self._holder is not None or self._stopping:
                return
            url = app.state.vouch.settings.public_url
            full = _session_manager(build_server(InProcessConnector(app, url), transport="http"))
            public = _session_manager(
                build_server(InProcessConnector(app, url, public=True), transport="http")
            )
            # The managers' task group lives in a task of its own, entered and left there:
            # the request that starts it and the lifespan that stops it run in other tasks.
            ready = asyncio.Event()

            async def hold() -> None:
                async with full.run(), public.run():
                    self.manager, self.public_manager = full, public
                    ready.set()
                    try:
                        await self._stop.wait()
                    finally:
                        self.manager = self.public_manager = None

            self._holder = asyncio.create_task(hold(), name="vouch-mcp-sessions")
            waiter = asyncio.create_task(ready.wait())
            await asyncio.wait({self._holder, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if self._holder.done():
                waiter.cancel()
                holder, self._holder = self._holder, None
                holder.result()  # raises what stopped it

    def open(self) -> None:
        """Allow a start again (a new lifespan of the same app)."""
        self._stopping = False
        self._stop = asyncio.Event()

    async def stop(self) -> None:
        async with self._lock:
            self._stopping = True
            self._stop.set()
            if self._holder is not None:
                await self._holder
                self._holder = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # pragma: no cover - only HTTP routes reach here
            return
        key = bearer_key(scope)
        public = key is None
        if key is not None:
            runtime: Runtime = scope["app"].state.vouch
            principal = None
            if key:
                async with runtime.db.session() as session:
                    principal = await authenticate(session, key)
            if principal is None:
                await _refuse(
                    send,
                    401,
                    "invalid_api_key",
                    "The API key is invalid or revoked; send a valid one as Authorization: "
                    "Bearer pk_…, or none at all for the public tools",
                    'Bearer realm="vouch", error="invalid_token"',
                )
                return
        if self.manager is None:
            await self._start(scope["app"])
        manager = self.public_manager if public else self.manager
        if manager is None:
            await _refuse(send, 503, "unavailable", "The MCP endpoint is stopping", "")
            return
        await manager.handle_request(scope, receive, send)


def _session_manager(server: VouchMCP) -> StreamableHTTPSessionManager:
    # DNS-rebinding protection guards local servers that trust whoever reaches them; here the
    # full tools need a bearer key a rebinding page cannot know, and the public ones expose
    # nothing a page could not fetch itself. vouch answers on whatever host it serves.
    server.streamable_http_app(
        streamable_http_path=PATH,
        stateless_http=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    return server.session_manager


def router() -> APIRouter:
    """``/mcp`` and the lifespan that stops its session managers; ``app.include_router`` merges
    the lifespan into the app's."""
    endpoint = McpEndpoint()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        endpoint.open()
        try:
            yield
        finally:
            await endpoint.stop()

    mcp_router = APIRouter(lifespan=lifespan)
    mcp_router.routes.append(Route(PATH, endpoint, methods=["GET", "POST", "DELETE"]))
    return mcp_router
