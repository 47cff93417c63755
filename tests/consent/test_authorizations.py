"""Proof of Delegation: consent requests over Telegram (deep link), WhatsApp (reply buttons), SMS
(YES/NO) and email (hosted page), the person's answer from the providers' exact payloads, proofs
that verify offline, revocation by the API and by the person (/stop, STOP), list and export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.approval.standins import (
    BOT_USERNAME,
    CHAT_ID,
    EMAIL,
    OTHER_CHAT_ID,
    OTHER_WA_ID,
    PHONE,
    WA_ID,
    callback_key_of,
    consent_telegram,
    consent_whatsapp,
    events_of,
    post_sms,
    post_telegram,
    post_whatsapp,
    sent_to,
    tg_message,
    tg_press,
    verify_offline,
    wa_button,
    wa_text,
)
from tests.channels.email_standins import SmtpSink
from tests.fixtures.providers import FakeApi
from tests.fixtures.tenancy import Keys
from vouch_server.consent import service as consent_service
from vouch_server.kit.clock import utcnow
from vouch_server.models.delegation import Authorization


async def request(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> httpx.Response:
    body.setdefault("business_name", "Acme Deploys")
    return await client.post("/api/v1/authorizations", json=body, headers=headers)


async def fetch(
    client: httpx.AsyncClient, keys: Keys, id_: str, live: bool = True
) -> dict[str, Any]:
    headers = keys.live_headers if live else keys.test_headers
    return (await client.get(f"/api/v1/authorizations/{id_}", headers=headers)).json()  # type: ignore[no-any-return]


class TestCreate:
    async def test_telegram_returns_a_deep_link_and_sends_nothing_yet(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi
    ) -> None:
        response = await request(dc, dkeys.live_headers, channel="telegram", recipient=CHAT_ID)
        assert response.status_code == 201
        body = response.json()
        assert body["status"] == "pending"
        assert body["scope"] == "confirmations"
        assert body["expires_in"] == 90 * 86400
        assert body["deep_link"].startswith(f"https://t.me/{BOT_USERNAME}?start=auth_")
        token = body["deep_link"].split("start=", 1)[1]
        assert len(token) <= 64 and token.replace("_", "").replace("-", "").isalnum()
        assert fake_api.calls == []  # a bot cannot write first

    async def test_whatsapp_sends_allow_and_deny_reply_buttons(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi
    ) -> None:
        response = await request(
            dc, dkeys.live_headers, channel="whatsapp", recipient="+370 691 99199"
        )
        assert response.status_code == 201
        assert response.json()["recipient"] == PHONE
        [sent] = sent_to(fake_api, "/messages")
        assert fake_api.calls_to("/messages")[0].path == "/v21.0/1098765/messages"
        assert sent["to"] == WA_ID and sent["type"] == "interactive"
        interactive = sent["interactive"]
        assert interactive["type"] == "button"
        assert interactive["body"]["text"].startswith(
            "Allow Acme Deploys to send you approval requests?"
        )
        titles = [b["reply"]["title"] for b in interactive["action"]["buttons"]]
        assert titles == ["Allow", "Deny"]

    async def test_sms_asks_for_yes_or_no(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi
    ) -> None:
        response = await request(dc, dkeys.live_headers, channel="sms", recipient=PHONE)
        assert response.status_code == 201
        [call] = fake_api.calls_to("/Messages.json")
        assert b"Reply+YES+to+allow" in call.body and b"To=%2B37069199199" in call.body

    async def test_email_sends_a_link_to_the_hosted_page(
        self, dc: httpx.AsyncClient, dkeys: Keys, smtp: SmtpSink
    ) -> None:
        response = await request(
            dc, dkeys.live_headers, channel="email", recipient="Ona@Example.com"
        )
        assert response.status_code == 201
        assert response.json()["recipient"] == EMAIL
        [(_, rcpts, message)] = smtp.messages
        assert rcpts == [EMAIL]
        assert "https://vouch.test/approve/" in message.get_content()

    async def test_test_mode_sends_nothing(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi, smtp: SmtpSink
    ) -> None:
        for channel, recipient in (("whatsapp", PHONE), ("sms", PHONE), ("email", EMAIL)):
            response = await request(dc, dkeys.test_headers, channel=channel, recipient=recipient)
            assert response.status_code == 201 and response.json()["test_mode"] is True
        assert fake_api.calls == [] and smtp.messages == []

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"channel": "telegram", "recipient": "@ona"}, "recipient"),
            ({"channel": "sms", "recipient": "12"}, "recipient"),
            ({"channel": "email", "recipient": "not-an-email"}, "recipient"),
            ({"channel": "fax", "recipient": "1"}, "channel"),
            ({"channel": "sms", "recipient": PHONE, "expires_in": 91 * 86400}, "expires_in"),
            ({"channel": "sms", "recipient": PHONE, "business_name": ""}, "business_name"),
        ],
    )
    async def test_bad_input_is_a_validation_error_and_creates_nothing(
        self, dc: httpx.AsyncClient, dkeys: Keys, body: dict[str, Any], field: str
    ) -> None:
        response = await request(dc, dkeys.live_headers, **body)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert error["details"][0]["field"] == field
        listed = (await dc.get("/api/v1/authorizations", headers=dkeys.live_headers)).json()
        assert listed["data"] == []

    async def test_prompts_to_one_recipient_are_rate_limited(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        codes = [
            (await request(dc, dkeys.live_headers, channel="sms", recipient=PHONE)).status_code
            for _ in range(6)
        ]
        assert codes == [201] * 5 + [429]


class TestTelegramConsent:
    async def test_opening_the_link_sends_the_prompt_with_inline_buttons(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi
    ) -> None:
        created = (
            await request(dc, dkeys.live_headers, channel="telegram", recipient=CHAT_ID)
        ).json()
        token = created["deep_link"].split("start=auth_", 1)[1]
        assert (await post_telegram(dc, tg_message(f"/start auth_{token}"))).status_code == 200
        [prompt] = sent_to(fake_api, "/sendMessage")
        assert prompt["chat_id"] == str(CHAT_ID)
        assert prompt["text"].startswith("Allow Acme Deploys to send you approval requests?")
        buttons = prompt["reply_markup"]["inline_keyboard"][0]
        assert [b["text"] for b in buttons] == ["✅ Allow", "❌ Deny"]
        for button in buttons:
            assert len(button["callback_data"].encode()) <= 64  # Bot API limit
            assert created["id"] not in button["callback_data"]  # opaque

    async def test_allow_activates_and_mints_a_proof_that_verifies_offline(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi, dapp: FastAPI
    ) -> None:
        final = await consent_telegram(dc, dkeys.live_headers)
        claims = await verify_offline(dc, final["proof_token"])
        assert claims["type"] == "authorization"
        assert claims["sub"] == final["id"]
        assert claims["channel"] == "telegram"
        assert claims["scope"] == "confirmations"
        assert claims["identifier_hash"] == final["recipient_hash"]
        assert claims["exp"] - claims["iat"] == 90 * 86400
        assert [c["callback_query_id"] for c in sent_to(fake_api, "/answerCallbackQuery")]
        [edit] = sent_to(fake_api, "/editMessageText")
        assert edit["text"].startswith("✅ You allowed Acme Deploys")
        assert "reply_markup" not in edit  # the buttons are gone
        [event] = await events_of(dapp, "authorization.")
        assert event["type"] == "authorization.approved"
        assert event["data"]["id"] == final["id"]

    async def test_deny_records_a_denial_without_proof(
        self, dc: httpx.AsyncClient, dkeys: Keys, dapp: FastAPI
    ) -> None:
        created = (
            await request(dc, dkeys.live_headers, channel="telegram", recipient=CHAT_ID)
        ).json()
        key = await callback_key_of(dc, created["id"])
        await post_telegram(dc, tg_press(f"cd:{key}"))
        final = await fetch(dc, dkeys, created["id"])
        assert final["status"] == "denied" and "proof_token" not in final
        assert [e["type"] for e in await events_of(dapp, "authorization.")] == [
            "authorization.denied"
        ]

    async def test_a_press_from_another_chat_is_refused(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi
    ) -> None:
        created = (
            await request(dc, dkeys.live_headers, channel="telegram", recipient=CHAT_ID)
        ).json()
        key = await callback_key_of(dc, created["id"])
        assert (
            await post_telegram(dc, tg_press(f"ca:{key}", chat_id=OTHER_CHAT_ID))
        ).status_code == 200
        assert (await fetch(dc, dkeys, created["id"]))["status"] == "pending"
        [answer] = sent_to(fake_api, "/answerCallbackQuery")
        assert answer["text"] == "Only the person this request was sent to can answer it."

    async def test_the_deep_link_opened_from_another_account_sends_no_prompt(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi
    ) -> None:
        created = (
            await request(dc, dkeys.live_headers, channel="telegram", recipient=CHAT_ID)
        ).json()
        token = created["deep_link"].split("start=auth_", 1)[1]
        await post_telegram(dc, tg_message(f"/start auth_{token}", chat_id=OTHER_CHAT_ID))
        [reply] = sent_to(fake_api, "/sendMessage")
        assert reply["chat_id"] == str(OTHER_CHAT_ID)
        assert "another Telegram account" in reply["text"]
        assert "reply_markup" not in reply

    async def test_a_forged_secret_token_is_refused(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        created = (
            await request(dc, dkeys.live_headers, channel="telegram", recipient=CHAT_ID)
        ).json()
        key = await callback_key_of(dc, created["id"])
        response = await post_telegram(dc, tg_press(f"ca:{key}"), secret="guessed")
        assert response.status_code == 401
        assert (await fetch(dc, dkeys, created["id"]))["status"] == "pending"

    async def test_stop_revokes_active_and_denies_pending(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi, dapp: FastAPI
    ) -> None:
        active = await consent_telegram(dc, dkeys.live_headers)
        pending = (
            await request(dc, dkeys.live_headers, channel="telegram", recipient=CHAT_ID)
        ).json()
        await post_telegram(dc, tg_message("/stop"))
        revoked = await fetch(dc, dkeys, active["id"])
        assert revoked["status"] == "revoked" and revoked["revoked_by"] == "recipient"
        assert (await fetch(dc, dkeys, pending["id"]))["status"] == "denied"
        validation = (
            await dc.post(
                "/api/v1/proofs/validate",
                json={"proof_token": active["proof_token"]},
                headers=dkeys.live_headers,
            )
        ).json()
        assert validation["valid"] is False and validation["reason"] == "revoked"
        assert sent_to(fake_api, "/sendMessage")[-1]["text"].startswith("Stopped.")
        assert "authorization.revoked" in [
            e["type"] for e in await events_of(dapp, "authorization.")
        ]


class TestWhatsAppConsent:
    async def test_the_allow_button_activates(self, dc: httpx.AsyncClient, dkeys: Keys) -> None:
        final = await consent_whatsapp(dc, dkeys.live_headers)
        claims = await verify_offline(dc, final["proof_token"])
        assert claims["channel"] == "whatsapp" and claims["type"] == "authorization"

    async def test_a_press_from_another_number_is_refused(
        self, dc: httpx.AsyncClient, dkeys: Keys, fake_api: FakeApi
    ) -> None:
        created = (
            await request(dc, dkeys.live_headers, channel="whatsapp", recipient=PHONE)
        ).json()
        key = await callback_key_of(dc, created["id"])
        await post_whatsapp(dc, wa_button(f"ca:{key}", "Allow", wa_id=OTHER_WA_ID))
        assert (await fetch(dc, dkeys, created["id"]))["status"] == "pending"
        reply = sent_to(fake_api, "/messages")[-1]
        assert reply["to"] == OTHER_WA_ID and "Only the person" in reply["text"]["body"]

    async def test_stop_revokes(self, dc: httpx.AsyncClient, dkeys: Keys) -> None:
        active = await consent_whatsapp(dc, dkeys.live_headers)
        await post_whatsapp(dc, wa_text("STOP"))
        assert (await fetch(dc, dkeys, active["id"]))["status"] == "revoked"


class TestSmsConsent:
    @pytest.mark.parametrize(("answer", "status"), [("YES", "active"), ("no", "denied")])
    async def test_the_answer_decides(
        self, dc: httpx.AsyncClient, dkeys: Keys, answer: str, status: str
    ) -> None:
        created = (await request(dc, dkeys.live_headers, channel="sms", recipient=PHONE)).json()
        response = await post_sms(dc, answer)
        assert response.status_code == 200
        assert (await fetch(dc, dkeys, created["id"]))["status"] == status

    async def test_yes_from_another_number_changes_nothing(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        created = (await request(dc, dkeys.live_headers, channel="sms", recipient=PHONE)).json()
        await post_sms(dc, "YES", sender="+37069100000")
        assert (await fetch(dc, dkeys, created["id"]))["status"] == "pending"

    async def test_stop_revokes(self, dc: httpx.AsyncClient, dkeys: Keys) -> None:
        created = (await request(dc, dkeys.live_headers, channel="sms", recipient=PHONE)).json()
        await post_sms(dc, "YES")
        await post_sms(dc, "STOP")
        assert (await fetch(dc, dkeys, created["id"]))["status"] == "revoked"


class TestRevoke:
    async def test_delete_revokes_the_authorization_and_its_proof(
        self, dc: httpx.AsyncClient, dkeys: Keys, dapp: FastAPI
    ) -> None:
        active = await consent_whatsapp(dc, dkeys.live_headers)
        response = await dc.request(
            "DELETE",
            f"/api/v1/authorizations/{active['id']}",
            json={"reason": "user_request"},
            headers=dkeys.live_headers,
        )
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "revoked"
        assert body["revoked_reason"] == "user_request" and body["revoked_by"] == "api"
        validation = (
            await dc.post(
                "/api/v1/proofs/validate",
                json={"proof_token": active["proof_token"]},
                headers=dkeys.live_headers,
            )
        ).json()
        assert validation["reason"] == "revoked"
        types = [e["type"] for e in await events_of(dapp, "authorization.")]
        assert types == ["authorization.approved", "authorization.revoked"]

    async def test_a_second_revocation_is_a_conflict(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        active = await consent_whatsapp(dc, dkeys.live_headers)
        url = f"/api/v1/authorizations/{active['id']}?reason=fraud"
        assert (await dc.delete(url, headers=dkeys.live_headers)).status_code == 200
        again = await dc.delete(url, headers=dkeys.live_headers)
        assert again.status_code == 409 and again.json()["error"]["code"] == "already_revoked"

    async def test_a_free_text_reason_is_kept_and_the_proof_list_says_other(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        active = await consent_whatsapp(dc, dkeys.live_headers)
        response = await dc.request(
            "DELETE",
            f"/api/v1/authorizations/{active['id']}",
            json={"reason": "done with the migration"},
            headers=dkeys.live_headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "revoked"
        assert body["revocation_reason"] == body["revoked_reason"] == "done with the migration"
        listed = (await dc.get("/api/v1/proofs/revoked")).json()["revoked"]
        assert [(e["proof_id"], e["reason"]) for e in listed] == [(active["id"], "other")]

    @pytest.mark.parametrize("reason", ["x" * 501, "line\nbreak", "   "])
    async def test_an_unusable_reason_is_refused_and_changes_nothing(
        self, dc: httpx.AsyncClient, dkeys: Keys, reason: str
    ) -> None:
        active = await consent_whatsapp(dc, dkeys.live_headers)
        response = await dc.request(
            "DELETE",
            f"/api/v1/authorizations/{active['id']}",
            json={"reason": reason},
            headers=dkeys.live_headers,
        )
        assert response.status_code == 400
        assert (await fetch(dc, dkeys, active["id"]))["status"] == "active"

    async def test_revoking_the_proof_revokes_the_authorization(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        active = await consent_whatsapp(dc, dkeys.live_headers)
        response = await dc.post(
            f"/api/v1/proofs/{active['id']}/revoke",
            json={"reason": "fraud"},
            headers=dkeys.live_headers,
        )
        assert response.status_code == 200
        assert (await fetch(dc, dkeys, active["id"]))["status"] == "revoked"

    async def test_a_pending_request_can_be_withdrawn(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        created = (
            await request(dc, dkeys.live_headers, channel="telegram", recipient=CHAT_ID)
        ).json()
        response = await dc.delete(
            f"/api/v1/authorizations/{created['id']}", headers=dkeys.live_headers
        )
        assert response.status_code == 200 and response.json()["status"] == "revoked"
        key = await callback_key_of(dc, created["id"])
        await post_telegram(dc, tg_press(f"ca:{key}"))
        assert (await fetch(dc, dkeys, created["id"]))["status"] == "revoked"


class TestReadAndList:
    async def test_another_projects_authorization_is_not_found(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        created = (await request(dc, dkeys.test_headers, channel="sms", recipient=PHONE)).json()
        other = await dc.get(
            f"/api/v1/authorizations/{created['id']}", headers=dkeys.auth(dkeys.other_test)
        )
        assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
        live = await dc.get(f"/api/v1/authorizations/{created['id']}", headers=dkeys.live_headers)
        assert live.status_code == 404

    async def test_list_filters_and_paginates(self, dc: httpx.AsyncClient, dkeys: Keys) -> None:
        for _ in range(3):
            await request(dc, dkeys.test_headers, channel="sms", recipient=PHONE)
        await request(dc, dkeys.test_headers, channel="email", recipient=EMAIL)
        page = (
            await dc.get("/api/v1/authorizations?channel=sms&limit=2", headers=dkeys.test_headers)
        ).json()
        assert len(page["data"]) == 2
        assert page["pagination"] == {
            "hasMore": True,
            "total": 3,
            "page": 1,
            "limit": 2,
            "nextCursor": page["data"][-1]["id"],
            "nextPage": 2,
        }
        by_recipient = (
            await dc.get(
                "/api/v1/authorizations",
                params={"channel": "email", "recipient": "ONA@example.com"},
                headers=dkeys.test_headers,
            )
        ).json()
        assert [a["recipient"] for a in by_recipient["data"]] == [EMAIL]
        active = (
            await dc.get("/api/v1/authorizations?status=active", headers=dkeys.test_headers)
        ).json()
        assert active["data"] == []

    async def test_a_request_nobody_answers_expires(
        self, dc: httpx.AsyncClient, dkeys: Keys, dapp: FastAPI
    ) -> None:
        created = (await request(dc, dkeys.test_headers, channel="sms", recipient=PHONE)).json()
        async with dapp.state.vouch.db.session() as session:
            await session.execute(
                update(Authorization)
                .where(Authorization.id == created["id"])
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        assert (await fetch(dc, dkeys, created["id"], live=False))["status"] == "expired"
        response = await dc.post(
            f"/api/v1/authorizations/{created['id']}/test-respond",
            json={"action": "allow"},
            headers=dkeys.test_headers,
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "authorization_expired"


class TestTestRespond:
    async def test_allow_in_test_mode_mints_a_proof(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        created = (
            await request(dc, dkeys.test_headers, channel="whatsapp", recipient=PHONE)
        ).json()
        response = await dc.post(
            f"/api/v1/authorizations/{created['id']}/test-respond",
            json={"action": "allow"},
            headers=dkeys.test_headers,
        )
        assert response.status_code == 200 and response.json()["status"] == "active"
        assert (await verify_offline(dc, response.json()["proof_token"]))["type"] == "authorization"

    async def test_live_keys_may_not_use_it(self, dc: httpx.AsyncClient, dkeys: Keys) -> None:
        created = (await request(dc, dkeys.live_headers, channel="sms", recipient=PHONE)).json()
        response = await dc.post(
            f"/api/v1/authorizations/{created['id']}/test-respond",
            json={"action": "allow"},
            headers=dkeys.live_headers,
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "test_mode_required"


class TestExport:
    async def test_json_export_lists_records_oldest_first(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        first = (await request(dc, dkeys.test_headers, channel="sms", recipient=PHONE)).json()
        second = (await request(dc, dkeys.test_headers, channel="email", recipient=EMAIL)).json()
        body = (await dc.get("/api/v1/authorizations/export", headers=dkeys.test_headers)).json()
        assert [r["id"] for r in body["data"]] == [first["id"], second["id"]]
        assert body["count"] == 2 and body["truncated"] is False

    async def test_csv_export_neutralizes_formulas(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        await request(
            dc, dkeys.test_headers, channel="sms", recipient=PHONE, business_name="=HYPERLINK(1)"
        )
        response = await dc.get(
            "/api/v1/authorizations/export?format=csv", headers=dkeys.test_headers
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert rows[0]["business_name"] == "'=HYPERLINK(1)"
        assert rows[0]["recipient"] == PHONE

    async def test_filters_by_status_and_dates(self, dc: httpx.AsyncClient, dkeys: Keys) -> None:
        await request(dc, dkeys.test_headers, channel="sms", recipient=PHONE)
        later = (utcnow() + timedelta(hours=1)).isoformat()
        assert (
            await dc.get(
                "/api/v1/authorizations/export", params={"from": later}, headers=dkeys.test_headers
            )
        ).json()["count"] == 0
        assert (
            await dc.get("/api/v1/authorizations/export?status=pending", headers=dkeys.test_headers)
        ).json()["count"] == 1
        bad = await dc.get(
            "/api/v1/authorizations/export", params={"to": "yesterday"}, headers=dkeys.test_headers
        )
        assert bad.status_code == 400

    async def test_at_most_the_cap_is_exported(
        self, dc: httpx.AsyncClient, dkeys: Keys, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(consent_service, "EXPORT_MAX", 2)
        for _ in range(3):
            await request(dc, dkeys.test_headers, channel="sms", recipient=PHONE)
        body = (await dc.get("/api/v1/authorizations/export", headers=dkeys.test_headers)).json()
        assert body["count"] == 2 and body["truncated"] is True
        csv_response = await dc.get(
            "/api/v1/authorizations/export?format=csv", headers=dkeys.test_headers
        )
        assert csv_response.headers["x-export-truncated"] == "true"
