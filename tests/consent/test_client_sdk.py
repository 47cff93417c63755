"""``vouch_client``'s ``client.authorizations`` against the real app (ASGI transport, provider
stand-ins): create → get → every page through the iterator → answer → revoke → export, errors as
the SDK's exceptions with the server's code, and a real 429 retried after its Retry-After."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.approval.standins import provider_settings
from tests.channels.email_standins import SmtpSink
from tests.fixtures.providers import FakeApi
from tests.fixtures.tenancy import Keys, make_keys
from tests.fixtures.typed_dicts import assert_satisfies
from vouch_client import (
    AsyncClient,
    Authorization,
    AuthorizationExport,
    AuthorizationList,
    BadRequest,
    NotFound,
    RetryPolicy,
)
from vouch_server.app import create_app


@pytest.fixture
async def sdk(dapp: FastAPI, dkeys: Keys) -> AsyncIterator[AsyncClient]:
    transport = httpx.ASGITransport(app=dapp)
    async with AsyncClient("https://vouch.test", api_key=dkeys.test, transport=transport) as c:
        yield c


async def test_authorization_round_trip(sdk: AsyncClient) -> None:
    made = [
        await sdk.authorizations.create("telegram", 7000 + n, business_name="Acme")
        for n in range(3)
    ]
    assert all(a["status"] == "pending" for a in made)
    assert_satisfies(made[0], Authorization)
    fetched = await sdk.authorizations.get(made[0]["id"])
    assert fetched["id"] == made[0]["id"] and fetched["channel"] == "telegram"
    page = await sdk.authorizations.list(limit=2)
    assert_satisfies(page, AuthorizationList)
    assert page["pagination"]["hasMore"] is True
    every = [a["id"] async for a in sdk.authorizations.iter(limit=2)]
    assert sorted(every) == sorted(a["id"] for a in made)
    answered = await sdk.authorizations.test_respond(made[0]["id"], "allow")
    assert answered["status"] == "active"
    revoked = await sdk.authorizations.revoke(made[0]["id"], "done with it")
    assert revoked["status"] == "revoked"
    exported = await sdk.authorizations.export()
    assert_satisfies(exported, AuthorizationExport)
    assert exported["count"] == 3 and exported["truncated"] is False
    csv = await sdk.authorizations.export_csv(status="revoked")
    assert csv.splitlines()[0].startswith("id") and len(csv.splitlines()) == 2


async def test_errors_carry_the_servers_code(sdk: AsyncClient) -> None:
    with pytest.raises(NotFound) as missing:
        await sdk.authorizations.get("0" * 24)
    assert missing.value.status_code == 404
    with pytest.raises(BadRequest) as bad:
        await sdk.authorizations.create("pigeon", "x")
    assert bad.value.code == "validation_error"
    assert (await sdk.authorizations.list())["data"] == []


async def test_a_429_is_retried_after_the_servers_retry_after(
    settings_factory: Any, fake_api: FakeApi, smtp: SmtpSink
) -> None:
    settings = settings_factory(**provider_settings(fake_api, smtp), rate_limit_api="1/minute")
    app = create_app(settings)
    await app.state.vouch.limiter.reset()
    async with app.router.lifespan_context(app):
        keys = await make_keys(app.state.vouch)
        delays: list[float] = []

        async def sleep(seconds: float) -> None:
            delays.append(seconds)
            await app.state.vouch.limiter.reset()

        async with AsyncClient(
            "https://vouch.test",
            api_key=keys.test,
            transport=httpx.ASGITransport(app=app),
            retry=RetryPolicy(),  # the defaults wait out a per-minute limit as told
            sleep=sleep,
        ) as sdk:
            await sdk.authorizations.list()
            # A POST is retried too: a 429 is refused before any work is done.
            created = await sdk.authorizations.create("telegram", 4242, business_name="Acme")
    assert created["status"] == "pending"
    assert len(delays) == 1 and delays[0] > 0
