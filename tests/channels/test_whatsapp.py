"""WhatsApp Cloud API: the subscribe handshake, X-Hub-Signature-256 on the raw body, sender
checks (phone and business-scoped user ids), replies through a Graph API stand-in."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from tests.channels.conftest import WA_APP_SECRET, WA_VERIFY_TOKEN
from tests.fixtures.providers import FakeApi
from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import create_verification


def notification(
    text: str, *, wa_id: str | None = "37069199199", bsuid: str | None = None
) -> dict[str, Any]:
    contact: dict[str, Any] = {"profile": {"name": "Ona"}}
    message: dict[str, Any] = {
        "id": "wamid.HBgLMzcwNjkxOTkxOTkVAgASGBQzQUI0",
        "timestamp": "1763700000",
        "text": {"body": text},
        "type": "text",
    }
    if wa_id is not None:
        contact["wa_id"] = wa_id
        message["from"] = wa_id
    if bsuid is not None:
        contact["user_id"] = bsuid
        message["from_user_id"] = bsuid
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550001111",
                                "phone_number_id": "1098765",
                            },
                            "contacts": [contact],
                            "messages": [message],
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def sign(raw: bytes, secret: str = WA_APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


async def post(
    cc: httpx.AsyncClient, body: dict[str, Any], *, signature: str | None = "auto"
) -> httpx.Response:
    raw = json.dumps(body, indent=1).encode()  # not compact: the signature is over these bytes
    headers = {"Content-Type": "application/json"}
    if signature == "auto":
        headers["X-Hub-Signature-256"] = sign(raw)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return await cc.post("/inbound/whatsapp", content=raw, headers=headers)


async def status(cc: httpx.AsyncClient, keys: Keys, id_: str) -> dict[str, Any]:
    return (await cc.get(f"/api/v1/verifications/{id_}", headers=keys.live_headers)).json()  # type: ignore[no-any-return]


class TestHandshake:
    async def test_subscribe_with_the_right_token_echoes_the_challenge(
        self, cc: httpx.AsyncClient
    ) -> None:
        response = await cc.get(
            "/inbound/whatsapp",
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": WA_VERIFY_TOKEN,
                "hub.challenge": "1158201444",
            },
        )
        assert response.status_code == 200 and response.text == "1158201444"

    @pytest.mark.parametrize("token", ["nope", ""])
    async def test_wrong_token_is_403(self, cc: httpx.AsyncClient, token: str) -> None:
        response = await cc.get(
            "/inbound/whatsapp",
            params={"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1"},
        )
        assert response.status_code == 403


class TestSignature:
    @pytest.mark.parametrize("signature", [None, "sha256=00", "sha1=abc", sign(b"{}")])
    async def test_bad_signature_is_401_and_changes_nothing(
        self, cc: httpx.AsyncClient, ckeys: Keys, fake_api: FakeApi, signature: str | None
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers, channel="whatsapp")
        response = await post(cc, notification(v["challenge"]["code"]), signature=signature)
        assert response.status_code == 401
        assert (await status(cc, ckeys, v["id"]))["status"] == "pending"
        assert fake_api.calls == []

    async def test_signature_is_checked_on_the_raw_bytes(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers, channel="whatsapp")
        body = notification(v["challenge"]["code"])
        compact = json.dumps(body, separators=(",", ":")).encode()
        response = await post(cc, body, signature=sign(compact))  # signed over other bytes
        assert response.status_code == 401


class TestProof:
    async def test_code_from_the_verified_number_completes_and_replies(
        self, cc: httpx.AsyncClient, ckeys: Keys, fake_api: FakeApi
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers, channel="whatsapp")
        assert (
            v["challenge"]["deep_link"]
            == f"https://wa.me/15550001111?text={v['challenge']['code']}"
        )
        assert (await post(cc, notification(v["challenge"]["code"]))).status_code == 200
        body = await status(cc, ckeys, v["id"])
        assert body["status"] == "verified" and body["proof_token"]
        (call,) = fake_api.calls_to("/1098765/messages")
        assert call.headers["Authorization"] == "Bearer wa-access-token"
        sent = call.json()
        assert sent["to"] == "37069199199" and "Verified" in sent["text"]["body"]

    async def test_right_code_from_another_number_does_not_complete(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers, channel="whatsapp")
        await post(cc, notification(v["challenge"]["code"], wa_id="447700900123"))
        body = await status(cc, ckeys, v["id"])
        assert body["status"] == "pending" and body["attempts"] == 1

    async def test_bsuid_only_message_cannot_prove_a_phone(
        self, cc: httpx.AsyncClient, ckeys: Keys, fake_api: FakeApi
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers, channel="whatsapp")
        await post(
            cc, notification(v["challenge"]["code"], wa_id=None, bsuid="LT.1349120865530274")
        )
        body = await status(cc, ckeys, v["id"])
        assert body["status"] == "pending" and body["attempts"] == 0
        (call,) = fake_api.calls_to("/messages")
        assert call.json()["recipient"] == "LT.1349120865530274"
        assert "cannot prove a phone number" in call.json()["text"]["body"]

    async def test_a_verification_of_the_bsuid_completes_from_it(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        v = await create_verification(
            cc, ckeys.live_headers, channel="whatsapp", identifier="LT.1349120865530274"
        )
        await post(
            cc, notification(v["challenge"]["code"], wa_id=None, bsuid="LT.1349120865530274")
        )
        assert (await status(cc, ckeys, v["id"]))["status"] == "verified"
