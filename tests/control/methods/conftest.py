"""Fixtures for the method tests: an app built with the settings a test needs, and stand-ins."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.control.methods.standins import DnsStandIn
from tests.fixtures.tenancy import Keys, make_keys
from vouch_server.app import create_app
from vouch_server.models import Proof, Verification
from vouch_server.runtime import Runtime


@dataclass
class Env:
    """One running app (real database, real services) and a test API key."""

    client: httpx.AsyncClient
    runtime: Runtime
    keys: Keys

    def headers(self, live: bool = False) -> dict[str, str]:
        return self.keys.live_headers if live else self.keys.test_headers

    async def create(
        self, type_: str, channel: str, identifier: str, *, live: bool = False, **body: Any
    ) -> httpx.Response:
        payload = {"type": type_, "channel": channel, "identifier": identifier, **body}
        return await self.client.post(
            "/api/v1/verifications", json=payload, headers=self.headers(live)
        )

    async def created(
        self, type_: str, channel: str, identifier: str, **body: Any
    ) -> dict[str, Any]:
        response = await self.create(type_, channel, identifier, **body)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    async def verify(self, id_: str, *, live: bool = False) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/verifications/{id_}/verify", headers=self.headers(live)
        )

    async def submit(self, id_: str, body: dict[str, Any], *, live: bool = False) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/verifications/{id_}/submit", json=body, headers=self.headers(live)
        )

    async def get(self, id_: str, *, live: bool = False) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/verifications/{id_}", headers=self.headers(live))
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    async def proofs(self) -> int:
        async with self.runtime.db.session() as session:
            return int(await session.scalar(select(func.count()).select_from(Proof)) or 0)

    async def verifications(self) -> int:
        async with self.runtime.db.session() as session:
            return int(await session.scalar(select(func.count()).select_from(Verification)) or 0)

    async def row(self, id_: str) -> Verification:
        async with self.runtime.db.session() as session:
            row = await session.get(Verification, id_)
            assert row is not None
            return row


Build = Callable[..., Awaitable[Env]]


@pytest.fixture
async def build(settings_factory: Any) -> AsyncIterator[Build]:
    """``await build(**settings)``: start the app on this test's database with these settings."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(**overrides: Any) -> Env:
            settings = settings_factory(**overrides)
            app = create_app(settings)
            await app.state.vouch.limiter.reset()
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="https://vouch.test")
            )
            runtime: Runtime = app.state.vouch
            return Env(client, runtime, await make_keys(runtime))

        yield make


@pytest.fixture
def dns_server() -> Iterator[DnsStandIn]:
    with DnsStandIn() as server:
        yield server
