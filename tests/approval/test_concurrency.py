"""First response wins (DESIGN principle 3): 20 simultaneous answers from Telegram and WhatsApp —
in one process on every backend, and across two ``vouch serve`` processes on PostgreSQL — record
exactly one decision, mint one proof and send one webhook."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from tests.approval.standins import (
    CHAT_ID,
    PHONE,
    consent_telegram,
    consent_whatsapp,
    create_confirmation,
    create_hitl,
    post_telegram,
    post_whatsapp,
    sent_to,
    serve,
    tg_press,
    wa_button,
)
from tests.fixtures.providers import FakeApi
from tests.fixtures.receiver import run_receiver
from tests.fixtures.tenancy import Keys, make_keys
from vouch_server.models import Proof, WebhookDelivery, WebhookEvent
from vouch_server.runtime import Runtime

CHANNELS = [
    {"type": "telegram", "config": {"chat_id": str(CHAT_ID)}},
    {"type": "whatsapp", "config": {"phone_number": PHONE}},
]


def buttons(fake_api: FakeApi) -> tuple[list[str], list[str]]:
    """The callback data of the Telegram request and the reply ids of the WhatsApp one."""
    telegram = [m for m in sent_to(fake_api, "/sendMessage") if "reply_markup" in m][-1]
    keyboard = telegram["reply_markup"]["inline_keyboard"][0]
    whatsapp = [m for m in sent_to(fake_api, "/messages") if m.get("type") == "interactive"][-1]
    replies = whatsapp["interactive"]["action"]["buttons"]
    return [b["callback_data"] for b in keyboard], [b["reply"]["id"] for b in replies]


async def counts(runtime: Runtime, confirmation_id: str) -> tuple[int, int, int]:
    async with runtime.db.session() as session:
        events = await session.scalar(
            select(func.count())
            .select_from(WebhookEvent)
            .where(WebhookEvent.subject_id == confirmation_id)
        )
        deliveries = await session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.subject_id == confirmation_id)
        )
        proofs = await session.scalar(
            select(func.count()).select_from(Proof).where(Proof.id == confirmation_id)
        )
    return int(events or 0), int(deliveries or 0), int(proofs or 0)


class TestOneProcess:
    async def test_twenty_concurrent_answers_from_two_channels_decide_once(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi, dapp: FastAPI
    ) -> None:
        await consent_telegram(dc, dkeys.live_headers)
        await consent_whatsapp(dc, dkeys.live_headers)
        await dc.post(
            "/api/v1/webhook-endpoints",
            json={
                "url": "https://hooks.example.com/vouch",
                "events": ["confirmation.approved", "confirmation.denied"],
            },
            headers=dkeys.live_headers,
        )
        hitl = await create_hitl(dc, dkeys.live_headers, CHANNELS)
        created = (await create_confirmation(dc, dkeys.live_headers, hitl["id"])).json()
        telegram, whatsapp = buttons(fake_api)
        answers = [
            post_telegram(dc, tg_press(telegram[i % 2]))
            if i % 2 == 0
            else post_whatsapp(dc, wa_button(whatsapp[i % 2]))
            for i in range(20)
        ]
        responses = await asyncio.gather(*answers)
        assert all(r.status_code == 200 for r in responses)
        final = (
            await dc.get(f"/api/v1/confirmations/{created['id']}", headers=dkeys.live_headers)
        ).json()
        assert final["status"] in ("approved", "denied")
        assert await counts(dapp.state.vouch, created["id"]) == (1, 1, 1)
        # Everyone else was told it was already decided.
        told = [a["text"] for a in sent_to(fake_api, "/answerCallbackQuery")][-10:]
        told += [
            m["text"]["body"]
            for m in sent_to(fake_api, "/messages")
            if m.get("type") == "text" and m["text"]["body"].startswith(("Already", "✅", "❌"))
        ]
        winners = [t for t in told if t in ("✅ Approved.", "❌ Denied.")]
        assert len(winners) == 1
        assert sum(t.startswith("Already") for t in told) == 19


@pytest.mark.slow
class TestTwoProcesses:
    async def test_twenty_answers_across_two_servers_decide_once_and_send_one_webhook(
        self, settings_factory: Any, backend: str, fake_api: FakeApi
    ) -> None:
        if backend != "postgres":
            pytest.skip("several server processes share a database on PostgreSQL only")
        settings = settings_factory()
        runtime = Runtime.build(settings)
        try:
            keys = await make_keys(runtime)
        finally:
            await runtime.close()
        with (
            run_receiver() as receiver,
            serve(settings, fake_api) as a,
            serve(settings, fake_api) as b,
        ):
            async with (
                httpx.AsyncClient(base_url=a, timeout=30) as ca,
                httpx.AsyncClient(base_url=b, timeout=30) as cb,
            ):
                headers = keys.live_headers
                await _consent_over_http(ca, headers, fake_api)
                hook = await ca.post(
                    "/api/v1/webhook-endpoints",
                    json={
                        "url": receiver.url,
                        "events": ["confirmation.approved", "confirmation.denied"],
                    },
                    headers=headers,
                )
                assert hook.status_code == 201, hook.text
                hitl = await create_hitl(ca, headers, CHANNELS)
                created = (await create_confirmation(ca, headers, hitl["id"])).json()
                assert [c["status"] for c in created["channels"]] == ["sent", "sent"]
                telegram, whatsapp = buttons(fake_api)
                answers = []
                for i in range(20):
                    client = ca if i % 2 == 0 else cb
                    if i % 4 < 2:
                        answers.append(post_telegram(client, tg_press(telegram[i % 2])))
                    else:
                        answers.append(post_whatsapp(client, wa_button(whatsapp[i % 2])))
                responses = await asyncio.gather(*answers)
                assert [r.status_code for r in responses] == [200] * 20
                final = (
                    await cb.get(f"/api/v1/confirmations/{created['id']}", headers=headers)
                ).json()
                assert final["status"] in ("approved", "denied")

            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not receiver.requests:
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.5)  # room for a (wrong) second delivery to show up
            bodies = [json.loads(r.body) for r in receiver.requests]
            assert len(bodies) == 1, bodies
            assert bodies[0]["data"]["id"] == created["id"]
            assert bodies[0]["data"]["status"] == final["status"]

        runtime = Runtime.build(settings)
        try:
            events, deliveries, proofs = await counts(runtime, created["id"])
        finally:
            await runtime.close()
        assert (events, deliveries, proofs) == (1, 1, 1)


async def _consent_over_http(
    client: httpx.AsyncClient, headers: dict[str, str], fake_api: FakeApi
) -> None:
    """Telegram and WhatsApp consent through the server's own endpoints (reading the buttons
    from what the provider stand-in received, as a person's phone would show them)."""
    created = (
        await client.post(
            "/api/v1/authorizations",
            json={"channel": "telegram", "recipient": str(CHAT_ID), "business_name": "Acme"},
            headers=headers,
        )
    ).json()
    token = created["deep_link"].split("start=auth_", 1)[1]
    from tests.approval.standins import tg_message

    await post_telegram(client, tg_message(f"/start auth_{token}"))
    prompt = [m for m in sent_to(fake_api, "/sendMessage") if "reply_markup" in m][-1]
    allow = prompt["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await post_telegram(client, tg_press(allow))
    wa = (
        await client.post(
            "/api/v1/authorizations",
            json={"channel": "whatsapp", "recipient": PHONE, "business_name": "Acme"},
            headers=headers,
        )
    ).json()
    interactive = [m for m in sent_to(fake_api, "/messages") if m.get("type") == "interactive"][-1]
    allow_id = interactive["interactive"]["action"]["buttons"][0]["reply"]["id"]
    await post_whatsapp(client, wa_button(allow_id, "Allow"))
    for id_ in (created["id"], wa["id"]):
        status = (await client.get(f"/api/v1/authorizations/{id_}", headers=headers)).json()
        assert status["status"] == "active", status
