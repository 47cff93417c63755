"""Webhook deliveries connect to the address the SSRF guard approved (DNS rebinding, threat
model §10): the guard resolves the endpoint's name once per attempt, and the connection goes to
that answer, whatever the name answers a moment later."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.fixtures.network import Router, ScriptedDns
from tests.fixtures.receiver import Receiver, run_receiver
from tests.fixtures.tenancy import Keys, make_keys
from tests.fixtures.verifications import verified_proof
from vouch_client import verify_webhook
from vouch_server.app import create_app
from vouch_server.models import WebhookDelivery
from vouch_server.runtime import Runtime
from vouch_server.webhooks.delivery import DeliveryWorker

HOOK_HOST = "hooks.acme.example"
PUBLIC_IP = "93.184.216.34"
PRIVATE_IP = "10.0.0.7"


@pytest.fixture
def public_receiver() -> Iterator[Receiver]:
    with run_receiver() as r:
        yield r


@pytest.fixture
def internal_receiver() -> Iterator[Receiver]:
    """What sits inside the network at PRIVATE_IP: it must never be reached."""
    with run_receiver() as r:
        yield r


@pytest.fixture
async def strict_app(settings_factory: Any) -> AsyncIterator[FastAPI]:
    """Private targets NOT allowed: the guard's address rules apply."""
    settings = settings_factory(webhook_worker_enabled=False)
    assert settings.allow_private_targets is False
    app = create_app(settings)
    await app.state.vouch.limiter.reset()
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def sc(strict_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=strict_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
        yield c


@pytest.fixture
async def skeys(strict_app: FastAPI) -> Keys:
    return await make_keys(strict_app.state.vouch)


@pytest.fixture
async def network(
    public_receiver: Receiver, internal_receiver: Receiver
) -> AsyncIterator[tuple[ScriptedDns, Router]]:
    dns = ScriptedDns()
    router = Router(dns, {PUBLIC_IP: public_receiver.url, PRIVATE_IP: internal_receiver.url})
    yield dns, router
    await router.shutdown()


async def register(c: httpx.AsyncClient, keys: Keys, url: str) -> dict[str, Any]:
    response = await c.post(
        "/api/v1/webhook-endpoints", json={"url": url}, headers=keys.test_headers
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def drain(runtime: Runtime, dns: ScriptedDns, router: Router) -> None:
    async with DeliveryWorker(runtime, resolver=dns, transport=router) as worker:
        while await worker.run_once():
            pass


async def delivery_rows(runtime: Runtime) -> list[WebhookDelivery]:
    async with runtime.db.session() as session:
        rows = await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at))
        return list(rows.all())


class TestDeliveryPinning:
    async def test_rebinding_after_the_check_still_delivers_to_the_approved_address(
        self,
        sc: httpx.AsyncClient,
        skeys: Keys,
        strict_app: FastAPI,
        network: tuple[ScriptedDns, Router],
        public_receiver: Receiver,
        internal_receiver: Receiver,
    ) -> None:
        dns, router = network
        # The name answers a public address to the first look-up, then a private one.
        dns.script(HOOK_HOST, [PUBLIC_IP], [PRIVATE_IP])
        endpoint = await register(sc, skeys, f"http://{HOOK_HOST}/hook")
        await verified_proof(sc, skeys.test_headers)
        await drain(strict_app.state.vouch, dns, router)
        assert dns.lookups == [HOOK_HOST]  # resolved once, by the guard
        assert router.dialled == [PUBLIC_IP]
        assert internal_receiver.requests == []
        (got,) = public_receiver.requests
        assert got.path == "/hook"
        assert got.headers["Host"] == HOOK_HOST  # the name, not the address
        assert verify_webhook(endpoint["secret"], got.headers, got.body)["event"]
        (row,) = await delivery_rows(strict_app.state.vouch)
        assert row.status == "delivered"

    async def test_a_name_that_now_answers_a_private_address_is_refused_at_delivery(
        self,
        sc: httpx.AsyncClient,
        skeys: Keys,
        strict_app: FastAPI,
        network: tuple[ScriptedDns, Router],
        public_receiver: Receiver,
        internal_receiver: Receiver,
    ) -> None:
        dns, router = network
        dns.script(HOOK_HOST, [PUBLIC_IP], [PRIVATE_IP])
        await register(sc, skeys, f"http://{HOOK_HOST}/hook")
        await verified_proof(sc, skeys.test_headers)
        await drain(strict_app.state.vouch, dns, router)
        await verified_proof(sc, skeys.test_headers)
        await drain(strict_app.state.vouch, dns, router)
        assert dns.lookups == [HOOK_HOST, HOOK_HOST]  # every attempt checks afresh
        assert router.dialled == [PUBLIC_IP]
        assert len(public_receiver.requests) == 1
        assert internal_receiver.requests == []
        first, second = await delivery_rows(strict_app.state.vouch)
        assert first.status == "delivered"
        assert second.status == "failed"
        assert PRIVATE_IP in (second.error_message or "")
        assert "SSRF" in (second.error_message or "")

    async def test_a_second_approved_address_is_tried_when_the_first_refuses(
        self,
        sc: httpx.AsyncClient,
        skeys: Keys,
        strict_app: FastAPI,
        network: tuple[ScriptedDns, Router],
        public_receiver: Receiver,
    ) -> None:
        dns, router = network
        unrouted = "93.184.216.35"  # public, but nothing answers there
        dns.script(HOOK_HOST, [unrouted, PUBLIC_IP])
        await register(sc, skeys, f"http://{HOOK_HOST}/hook")
        await verified_proof(sc, skeys.test_headers)
        await drain(strict_app.state.vouch, dns, router)
        assert router.dialled == [unrouted, PUBLIC_IP]
        assert len(public_receiver.requests) == 1
