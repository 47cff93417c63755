"""No inbound message is lost: provider-signed messages are evaluated inside the API backoff
window, still count towards ``max_attempts``, always get a reply, and a message whose reply could
not be sent is redelivered by the provider (5xx) without losing the verification's outcome."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from twilio.request_validator import RequestValidator

from tests.channels import test_sms as sms
from tests.channels import test_telegram as tg
from tests.channels import test_whatsapp as wa
from tests.channels.conftest import TWILIO_TOKEN
from tests.fixtures.providers import FakeApi
from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import create_verification
from vouch_server.control import inbound
from vouch_server.models import OutboundMessage, Verification

OWN = "37069199199"
OTHER = "447700900123"


async def hold_backoff(app: FastAPI, id_: str) -> None:
    """Make sure the API backoff is in force, however slow the test machine is."""
    async with app.state.vouch.db.session() as session:
        await session.execute(
            update(Verification)
            .where(Verification.id == id_)
            .values(next_attempt_at=datetime.now(UTC) + timedelta(hours=1))
        )


def wa_texts(api: FakeApi) -> list[tuple[str, str]]:
    return [(c.json()["to"], c.json()["text"]["body"]) for c in api.calls_to("/messages")]


async def outbound_rows(app: FastAPI, verification_id: str) -> list[OutboundMessage]:
    async with app.state.vouch.db.session() as session:
        rows = await session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.verification_id == verification_id)
            .order_by(OutboundMessage.created_at)
        )
        return list(rows.all())


class TestWhatsAppInsideTheBackoff:
    async def test_own_message_right_after_a_foreign_one_completes(
        self, cc: httpx.AsyncClient, ckeys: Keys, capp: FastAPI, fake_api: FakeApi
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers, channel="whatsapp")
        code = v["challenge"]["code"]
        foreign = await wa.post(cc, wa.notification(code, wa_id=OTHER))
        assert foreign.status_code == 200
        await hold_backoff(capp, v["id"])
        own = await wa.post(cc, wa.notification(code, wa_id=OWN))
        assert own.status_code == 200
        body = await wa.status(cc, ckeys, v["id"])
        assert body["status"] == "verified" and body["proof_token"]
        assert body["attempts"] == 1
        (to_other, wrong), (to_own, verified) = wa_texts(fake_api)
        assert to_other == OTHER and "different number" in wrong
        assert to_own == OWN and "Verified" in verified

    async def test_foreign_messages_still_count_and_exhaust_the_attempts(
        self, cc: httpx.AsyncClient, ckeys: Keys, fake_api: FakeApi
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers, channel="whatsapp")
        code = v["challenge"]["code"]
        for _ in range(3):  # back to back: each lands inside the previous one's backoff
            assert (await wa.post(cc, wa.notification(code, wa_id=OTHER))).status_code == 200
        body = await wa.status(cc, ckeys, v["id"])
        assert body["status"] == "failed" and body["attempts"] == 3
        replies = [text for _, text in wa_texts(fake_api)]
        assert "different number" in replies[0] and "different number" in replies[1]
        assert "Too many wrong attempts" in replies[2]
        await wa.post(cc, wa.notification(code, wa_id=OWN))
        assert (await wa.status(cc, ckeys, v["id"]))["status"] == "failed"
        assert wa_texts(fake_api)[-1][0] == OWN  # answered, not dropped

    async def test_own_wrong_code_inside_the_backoff_counts_and_is_answered(
        self, cc: httpx.AsyncClient, ckeys: Keys, capp: FastAPI, fake_api: FakeApi
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers, channel="whatsapp")
        wrong = "AAAAAA" if v["challenge"]["code"] != "AAAAAA" else "BBBBBB"
        await wa.post(cc, wa.notification(wrong, wa_id=OWN))
        await hold_backoff(capp, v["id"])
        await wa.post(cc, wa.notification(wrong, wa_id=OWN))
        assert (await wa.status(cc, ckeys, v["id"]))["attempts"] == 2
        assert all("could not find" in text for _, text in wa_texts(fake_api))


class TestWhatsAppRedelivery:
    async def test_undelivered_reply_is_503_and_keeps_the_verification(
        self, cc: httpx.AsyncClient, ckeys: Keys, capp: FastAPI, fake_api: FakeApi
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers, channel="whatsapp")
        fake_api.answers["/messages"] = (500, {"error": {"message": "Service unavailable"}})
        message = wa.notification(v["challenge"]["code"], wa_id=OWN)
        first = await wa.post(cc, message)
        assert first.status_code == 503
        assert (await wa.status(cc, ckeys, v["id"]))["status"] == "verified"
        assert [row.status for row in await outbound_rows(capp, v["id"])] == ["failed"]
        # The provider redelivers the same message: same answer, nothing minted again.
        del fake_api.answers["/messages"]
        token = (await wa.status(cc, ckeys, v["id"]))["proof_token"]
        again = await wa.post(cc, message)
        assert again.status_code == 200
        assert wa_texts(fake_api)[-1][0] == OWN and "Verified" in wa_texts(fake_api)[-1][1]
        body = await wa.status(cc, ckeys, v["id"])
        assert body["status"] == "verified" and body["proof_token"] == token

    async def test_undelivered_reply_to_a_counted_attempt_is_not_redelivered(
        self, cc: httpx.AsyncClient, ckeys: Keys, capp: FastAPI, fake_api: FakeApi
    ) -> None:
        # Redelivery would count the attempt twice; the failed send is recorded instead.
        v = await create_verification(cc, ckeys.live_headers, channel="whatsapp")
        fake_api.answers["/messages"] = (500, {"error": {"message": "Service unavailable"}})
        response = await wa.post(cc, wa.notification(v["challenge"]["code"], wa_id=OTHER))
        assert response.status_code == 200
        assert (await wa.status(cc, ckeys, v["id"]))["attempts"] == 1
        assert [row.status for row in await outbound_rows(capp, v["id"])] == ["failed"]


@pytest.fixture
async def lenient(capp: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sees the 500 response instead of the re-raised exception."""
    transport = httpx.ASGITransport(app=capp, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
        yield c


class TestTransientFault:
    async def test_database_fault_is_5xx_and_changes_nothing(
        self,
        cc: httpx.AsyncClient,
        lenient: httpx.AsyncClient,
        ckeys: Keys,
        fake_api: FakeApi,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers, channel="whatsapp")

        async def unavailable(*args: Any, **kwargs: Any) -> Any:
            raise OperationalError("SELECT 1", {}, Exception("database is locked"))

        monkeypatch.setattr(inbound, "handle_message", unavailable)
        response = await wa.post(lenient, wa.notification(v["challenge"]["code"], wa_id=OWN))
        assert response.status_code >= 500
        assert (await wa.status(cc, ckeys, v["id"]))["status"] == "pending"
        assert fake_api.calls_to("/messages") == []


class TestSmsInsideTheBackoff:
    async def _post(self, cc: httpx.AsyncClient, code: str, sender: str) -> httpx.Response:
        fields = sms.form(code, sender=sender)
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(sms.URL, fields)
        return await sms.post(cc, fields, signature)

    async def test_own_message_right_after_a_foreign_one_completes(
        self, cc: httpx.AsyncClient, ckeys: Keys, capp: FastAPI
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers, channel="sms")
        code = v["challenge"]["code"]
        foreign = await self._post(cc, code, "+" + OTHER)
        assert "different number" in foreign.text
        await hold_backoff(capp, v["id"])
        own = await self._post(cc, code, "+" + OWN)
        assert own.status_code == 200 and "Verified" in own.text
        body = await sms.status(cc, ckeys, v["id"])
        assert body["status"] == "verified" and body["attempts"] == 1

    async def test_foreign_messages_still_exhaust_the_attempts(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers, channel="sms")
        code = v["challenge"]["code"]
        replies = [(await self._post(cc, code, "+" + OTHER)).text for _ in range(3)]
        assert "different number" in replies[1] and "Too many wrong attempts" in replies[2]
        body = await sms.status(cc, ckeys, v["id"])
        assert body["status"] == "failed" and body["attempts"] == 3


class TestTelegramInsideTheBackoff:
    async def test_own_contact_right_after_another_number_completes(
        self, cc: httpx.AsyncClient, ckeys: Keys, capp: FastAPI, fake_api: FakeApi
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers)
        await tg.post(cc, tg.update(f"/start {v['challenge']['code']}"))
        await tg.post(cc, tg.update(contact={"phone_number": OTHER, "user_id": tg.USER_ID}))
        await hold_backoff(capp, v["id"])
        await tg.post(cc, tg.update(contact={"phone_number": OWN, "user_id": tg.USER_ID}))
        body = await tg.status(cc, ckeys, v["id"])
        assert body["status"] == "verified" and body["attempts"] == 1
        assert "Verified" in tg.sent_texts(fake_api)[-1]["text"]
