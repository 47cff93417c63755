"""``vouch_client``'s ``client.agents`` against the real app: register → get → every page by
cursor → add and revoke a key → delete, errors in the agents surface's envelope mapped to the
SDK's exceptions, and a 429 from the agents rate limiter retried after its Retry-After."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.tenancy import Keys, make_keys
from tests.fixtures.typed_dicts import assert_satisfies
from vouch_client import (
    Agent,
    AgentList,
    AsyncClient,
    Conflict,
    NotFound,
    RateLimited,
    RetryPolicy,
)
from vouch_client.agents import AgentKey
from vouch_server.app import create_app


@pytest.fixture
async def sdk(app: FastAPI, keys: Keys) -> AsyncIterator[AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with AsyncClient("https://vouch.test", api_key=keys.test, transport=transport) as c:
        yield c


async def test_agent_round_trip(sdk: AsyncClient) -> None:
    key = AgentKey.generate()
    agent = await sdk.agents.register("shop-bot-1", key, name="Shop bot")
    assert_satisfies(agent, Agent)
    assert agent["keys"][0]["kid"] == key.thumbprint
    for n in range(2, 4):
        await sdk.agents.register(f"shop-bot-{n}", AgentKey.generate().public_jwk)
    assert (await sdk.agents.get("shop-bot-1"))["name"] == "Shop bot"
    page = await sdk.agents.list(limit=2)
    assert_satisfies(page, AgentList)
    assert page["has_more"] is True and page["next_cursor"]
    every = [a["agent_id"] async for a in sdk.agents.iter(limit=2)]
    assert sorted(every) == ["shop-bot-1", "shop-bot-2", "shop-bot-3"]
    rotated = await sdk.agents.add_key("shop-bot-1", AgentKey.generate(), revoke_previous=True)
    assert [k["status"] for k in rotated["keys"]].count("active") == 1
    newest = next(k for k in rotated["keys"] if k["status"] == "active")
    revoked = await sdk.agents.revoke_key("shop-bot-1", newest["kid"])
    assert all(k["status"] == "revoked" for k in revoked["keys"])
    deleted = await sdk.agents.delete("shop-bot-1")
    assert deleted["status"] == "deleted" and deleted["deleted_at"]


async def test_errors_in_the_agents_envelope_map_to_the_sdks(sdk: AsyncClient) -> None:
    await sdk.agents.register("dup", AgentKey.generate())
    with pytest.raises(Conflict) as twice:
        await sdk.agents.register("dup", AgentKey.generate())
    assert twice.value.status_code == 409 and twice.value.code
    with pytest.raises(NotFound) as missing:
        await sdk.agents.get("nobody")
    assert missing.value.status_code == 404 and missing.value.message


async def test_a_429_from_the_agents_limiter_is_retried_after_retry_after(
    settings_factory: Any,
) -> None:
    app = create_app(settings_factory(agent_rate_limit="1/minute"))
    await app.state.vouch.limiter.reset()
    async with app.router.lifespan_context(app):
        keys = await make_keys(app.state.vouch)
        delays: list[float] = []

        async def sleep(seconds: float) -> None:
            delays.append(seconds)
            await app.state.vouch.limiter.reset()

        transport = httpx.ASGITransport(app=app)
        async with AsyncClient(
            "https://vouch.test",
            api_key=keys.test,
            transport=transport,
            retry=RetryPolicy(),  # the defaults wait out a per-minute limit as told
            sleep=sleep,
        ) as sdk:
            await sdk.agents.list()
            listed = await sdk.agents.list()
        assert listed["data"] == []
        await app.state.vouch.limiter.reset()
        async with AsyncClient(
            "https://vouch.test",
            api_key=keys.test,
            transport=transport,
            retry=RetryPolicy(max_retries=0),
        ) as impatient:
            await impatient.agents.list()
            with pytest.raises(RateLimited) as caught:
                await impatient.agents.list()
    assert caught.value.retry_after is not None
    assert delays == [float(caught.value.retry_after)]
