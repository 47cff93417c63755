"""A live vouch on a loopback port (its public URL, so proofs name it as issuer and status-list
origin), and MCP clients from the official SDK against it: Streamable HTTP on ``/mcp``, and
``vouch mcp`` as a stdio subprocess."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
import uvicorn
from fastapi import FastAPI
from mcp.client.streamable_http import streamable_http_client

from mcp import Client, StdioServerParameters
from tests.fixtures.tenancy import Keys, make_keys
from vouch_server.app import create_app

VOUCH = str(Path(sys.executable).with_name("vouch"))


@dataclass
class Live:
    app: FastAPI
    url: str
    keys: Keys
    http: httpx.AsyncClient  # a plain client of the live server

    @property
    def mcp_url(self) -> str:
        return f"{self.url}/mcp"


@pytest.fixture
async def live(settings_factory: Any) -> AsyncIterator[Live]:
    async with serve(settings_factory) as server:
        yield server


@asynccontextmanager
async def serve(settings_factory: Any, **overrides: Any) -> AsyncIterator[Live]:
    """A live vouch on this test's database, with these settings."""
    # Bound before the server starts: connections wait in the backlog, so no polling for "up".
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(settings_factory(public_url=url, **overrides))
    await app.state.vouch.limiter.reset()
    async with app.router.lifespan_context(app):
        keys = await make_keys(app.state.vouch)
        server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_config=None))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            # A loaded CI machine can take longer than httpx's default 5 s to answer.
            async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=60) as http:
                yield Live(app, url, keys, http)
        finally:
            server.should_exit = True
            await task
            sock.close()


@asynccontextmanager
async def http_client(live: Live, key: str | None) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    timeout = httpx2.Timeout(30, read=60)
    async with httpx2.AsyncClient(headers=headers, timeout=timeout, trust_env=False) as http:
        transport = streamable_http_client(live.mcp_url, http_client=http)
        async with Client(transport, read_timeout_seconds=60) as client:
            yield client


def stdio_client(live: Live, key: str | None) -> Client:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "VOUCH_URL": live.url,
    }
    if key:
        env["VOUCH_API_KEY"] = key
    params = StdioServerParameters(command=VOUCH, args=["mcp"], env=env)
    return Client(params, read_timeout_seconds=60)


ClientFactory = Callable[[Live, "str | None"], AbstractAsyncContextManager[Client]]


@pytest.fixture(params=["http", "stdio"])
def connect(request: pytest.FixtureRequest) -> ClientFactory:
    """Both transports: the same tests run over Streamable HTTP and over stdio."""
    return http_client if request.param == "http" else stdio_client
