"""``vouch_client``'s ``client.webhooks`` against the real app (ASGI transport): endpoints and
deliveries round trip, the iterator over several pages, errors as the SDK's exceptions with the
server's code, and a 429 from the real rate limiter retried after its ``Retry-After``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.tenancy import Keys, make_keys
from tests.fixtures.typed_dicts import assert_satisfies
from vouch_client import (
    AsyncClient,
    BadRequest,
    NotFound,
    RateLimited,
    RetryPolicy,
    WebhookDelivery,
    WebhookDeliveryList,
    WebhookDeliveryStats,
    WebhookEndpoint,
)
from vouch_server.app import create_app

HOOK = "https://hooks.example.com/vouch"


@pytest.fixture
async def sdk(app: FastAPI, keys: Keys) -> AsyncIterator[AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with AsyncClient("https://vouch.test", api_key=keys.test, transport=transport) as c:
        yield c


async def test_endpoint_round_trip(sdk: AsyncClient) -> None:
    created = await sdk.webhooks.create_endpoint(
        HOOK, events=["verification.completed"], description="orders"
    )
    assert_satisfies(created, WebhookEndpoint)
    assert created["secret"]
    assert created["events"] == ["verification.completed"]
    fetched = await sdk.webhooks.get_endpoint(created["id"])
    assert fetched["url"] == HOOK and "secret" not in fetched
    listed = await sdk.webhooks.list_endpoints()
    assert [e["id"] for e in listed["data"]] == [created["id"]]
    updated = await sdk.webhooks.update_endpoint(created["id"], enabled=False)
    assert updated["enabled"] is False and updated["description"] == "orders"
    rotated = await sdk.webhooks.rotate_secret(created["id"])
    assert rotated["secret"] != created["secret"]
    assert rotated["previous_secret_expires_at"]
    callback = await sdk.webhooks.rotate_callback_secret()
    assert callback["secret"]
    assert await sdk.webhooks.delete_endpoint(created["id"]) is None
    with pytest.raises(NotFound) as caught:
        await sdk.webhooks.get_endpoint(created["id"])
    assert caught.value.status_code == 404


@pytest.fixture
async def quiet(settings_factory: Any) -> AsyncIterator[AsyncClient]:
    """No delivery worker: every delivery stays ``pending``, so what retry answers is fixed."""
    app = create_app(settings_factory(webhook_worker_enabled=False))
    await app.state.vouch.limiter.reset()
    async with app.router.lifespan_context(app):
        keys = await make_keys(app.state.vouch)
        transport = httpx.ASGITransport(app=app)
        async with AsyncClient("https://vouch.test", api_key=keys.test, transport=transport) as c:
            yield c


async def test_deliveries_iterate_across_pages(quiet: AsyncClient) -> None:
    sdk = quiet
    await sdk.webhooks.create_endpoint(HOOK)
    for n in range(3):
        v = await sdk.create_verification("email", "email", f"user{n}@example.com")
        await sdk.test_verify(v["id"])
    first = await sdk.webhooks.list_deliveries(limit=2)
    assert_satisfies(first, WebhookDeliveryList)
    assert first["pagination"]["hasMore"] is True
    every = [d async for d in sdk.webhooks.iter_deliveries(limit=2)]
    assert len(every) == first["pagination"]["total"] > 2
    assert len({d["id"] for d in every}) == len(every)
    one = await sdk.webhooks.get_delivery(every[0]["id"])
    assert one["id"] == every[0]["id"] and "request" in one
    assert_satisfies(one, WebhookDelivery)
    stats = await sdk.webhooks.delivery_stats()
    assert_satisfies(stats, WebhookDeliveryStats)
    assert stats["total"] == len(every) == stats["pending"]
    # Only a failed delivery may be sent again: the server's own code comes through.
    with pytest.raises(BadRequest) as caught:
        await sdk.webhooks.retry_delivery(every[0]["id"])
    assert caught.value.code == "invalid_status"
    with pytest.raises(NotFound) as missing:
        await sdk.webhooks.retry_delivery("0" * 24)
    assert missing.value.status_code == 404


async def test_invalid_endpoint_is_a_bad_request_with_the_servers_code(sdk: AsyncClient) -> None:
    with pytest.raises(BadRequest) as caught:
        await sdk.webhooks.create_endpoint("not a url")
    assert caught.value.status_code == 400
    assert caught.value.code == "validation_error"
    assert (await sdk.webhooks.list_endpoints())["data"] == []


async def test_a_429_is_retried_after_the_servers_retry_after(
    settings_factory: Any,
) -> None:
    app = create_app(settings_factory(rate_limit_api="2/minute"))
    await app.state.vouch.limiter.reset()
    async with app.router.lifespan_context(app):
        keys = await make_keys(app.state.vouch)
        delays: list[float] = []

        async def sleep(seconds: float) -> None:
            delays.append(seconds)
            await app.state.vouch.limiter.reset()  # the window the server named has passed

        transport = httpx.ASGITransport(app=app)
        async with AsyncClient(
            "https://vouch.test",
            api_key=keys.test,
            transport=transport,
            sleep=sleep,
            retry=RetryPolicy(max_delay=120),
        ) as sdk:
            await sdk.webhooks.list_endpoints()
            await sdk.webhooks.list_endpoints()
            listed = await sdk.webhooks.list_endpoints()  # 429 first, then retried
            assert listed["data"] == []
            assert len(delays) == 1 and 0 < delays[0] <= 60

            await app.state.vouch.limiter.reset()
            async with AsyncClient(
                "https://vouch.test",
                api_key=keys.test,
                transport=transport,
                retry=RetryPolicy(max_retries=0),
            ) as impatient:
                await impatient.webhooks.list_endpoints()
                await impatient.webhooks.list_endpoints()
                with pytest.raises(RateLimited) as caught:
                    await impatient.webhooks.list_endpoints()
            assert caught.value.code == "rate_limited"
            assert caught.value.retry_after is not None
            assert delays[0] == float(caught.value.retry_after)
