"""What proof.holdings' SDK 1.2.0 sends and reads on ``/api/v1/authorizations``: no
``business_name`` (the approval setup's name is used), ``hitl_id`` and ``phone`` beside
``recipient``, ``recipient_display_name`` / ``enrolled`` / ``confirmations_sent``, and webhook
payloads that never name the person."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI

from tests.approval.standins import (
    PHONE,
    WA_ID,
    callback_key_of,
    create_confirmation,
    create_hitl,
    events_of,
    post_whatsapp,
    sent_to,
    wa_button,
)
from tests.fixtures.providers import FakeApi
from tests.fixtures.tenancy import Keys

WHATSAPP = {"type": "whatsapp", "config": {"phone_number": PHONE}}


class TestCreateAsTheSdkDoes:
    async def test_without_business_name_the_setup_is_named_and_the_person_masked(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi
    ) -> None:
        hitl = await create_hitl(dc, dkeys.live_headers, [WHATSAPP])
        response = await dc.post(
            "/api/v1/authorizations",
            json={"hitl_id": hitl["id"], "recipient": PHONE, "phone": PHONE, "channel": "whatsapp"},
            headers=dkeys.live_headers,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["hitl_id"] == hitl["id"]
        assert body["business_name"] == "Production Deploys"
        assert body["enrolled"] is False and body["confirmations_sent"] == 0
        assert body["recipient_display_name"] == PHONE[:3] + "*" * (len(PHONE) - 7) + PHONE[-4:]
        [sent] = sent_to(fake_api, "/messages")
        assert sent["interactive"]["body"]["text"].startswith(
            "Allow Production Deploys to send you approval requests?"
        )

    async def test_without_a_setup_the_project_is_named(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        response = await dc.post(
            "/api/v1/authorizations",
            json={"phone": PHONE, "channel": "sms"},
            headers=dkeys.live_headers,
        )
        assert response.status_code == 201, response.text
        assert response.json()["business_name"] == "acme"
        assert response.json()["recipient"] == PHONE

    async def test_an_unknown_setup_or_no_recipient_creates_nothing(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        unknown = await dc.post(
            "/api/v1/authorizations",
            json={"hitl_id": "0" * 24, "recipient": PHONE, "channel": "whatsapp"},
            headers=dkeys.live_headers,
        )
        assert unknown.status_code == 404
        nobody = await dc.post(
            "/api/v1/authorizations", json={"channel": "whatsapp"}, headers=dkeys.live_headers
        )
        assert nobody.status_code == 400
        listed = await dc.get("/api/v1/authorizations", headers=dkeys.live_headers)
        assert listed.json()["data"] == []


class TestUseAndWebhooks:
    async def test_consent_counts_its_confirmations_and_webhooks_never_name_the_person(
        self, dc: httpx.AsyncClient, dkeys: Keys, dapp: FastAPI
    ) -> None:
        hitl = await create_hitl(dc, dkeys.live_headers, [WHATSAPP])
        created = await dc.post(
            "/api/v1/authorizations",
            json={"hitl_id": hitl["id"], "recipient": PHONE, "channel": "whatsapp"},
            headers=dkeys.live_headers,
        )
        key = await callback_key_of(dc, created.json()["id"])
        allowed = await post_whatsapp(dc, wa_button(f"ca:{key}", "Allow", wa_id=WA_ID))
        assert allowed.status_code == 200
        for _ in range(2):
            sent = await create_confirmation(dc, dkeys.live_headers, hitl["id"])
            assert sent.status_code == 201, sent.text
        body = (
            await dc.get(
                f"/api/v1/authorizations/{created.json()['id']}", headers=dkeys.live_headers
            )
        ).json()
        assert body["enrolled"] is True
        assert body["confirmations_sent"] == 2 and body["last_used_at"]
        [approved] = await events_of(dapp, "authorization.approved")
        assert approved["authorization_id"] == created.json()["id"]
        assert approved["hitl_id"] == hitl["id"] and approved["status"] == "active"
        assert approved["proof_token"]
        text = json.dumps(approved)
        assert PHONE not in text and PHONE.lstrip("+") not in text
