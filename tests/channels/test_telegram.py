"""Telegram: Bot API updates exactly as Telegram sends them, the secret-token header, the
code + own-contact proof in either order, and replies through a Bot API stand-in."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from tests.channels.conftest import BOT_TOKEN, TELEGRAM_SECRET
from tests.fixtures.providers import FakeApi
from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import create_verification
from vouch_server.models import ChannelLink, OutboundMessage

USER_ID = 424242
PHONE = "+37069199199"


def update(
    text: str | None = None, *, contact: dict[str, Any] | None = None, user_id: int = USER_ID
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": 17,
        "from": {"id": user_id, "is_bot": False, "first_name": "Ona", "language_code": "lt"},
        "chat": {"id": user_id, "first_name": "Ona", "type": "private"},
        "date": 1763700000,
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/start"):
            message["entities"] = [{"offset": 0, "length": 6, "type": "bot_command"}]
    if contact is not None:
        message["contact"] = contact
    return {"update_id": 912345678, "message": message}


async def post(
    cc: httpx.AsyncClient, body: dict[str, Any], secret: str | None = TELEGRAM_SECRET
) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return await cc.post("/inbound/telegram", json=body, headers=headers)


async def status(cc: httpx.AsyncClient, keys: Keys, id_: str, live: bool = True) -> dict[str, Any]:
    headers = keys.live_headers if live else keys.test_headers
    return (await cc.get(f"/api/v1/verifications/{id_}", headers=headers)).json()  # type: ignore[no-any-return]


def sent_texts(api: FakeApi) -> list[dict[str, Any]]:
    return [c.json() for c in api.calls_to("/sendMessage")]


class TestAuthentication:
    @pytest.mark.parametrize("secret", [None, "wrong", TELEGRAM_SECRET + "x", ""])
    async def test_bad_secret_is_401_and_changes_nothing(
        self,
        cc: httpx.AsyncClient,
        ckeys: Keys,
        capp: FastAPI,
        fake_api: FakeApi,
        secret: str | None,
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers)
        response = await post(cc, update(f"/start {v['challenge']['code']}"), secret)
        assert response.status_code == 401
        assert (await status(cc, ckeys, v["id"]))["status"] == "pending"
        async with capp.state.vouch.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(ChannelLink)) == 0
        assert fake_api.calls == []


class TestProof:
    async def test_start_code_then_own_contact_completes(
        self, cc: httpx.AsyncClient, ckeys: Keys, fake_api: FakeApi
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers)
        assert (
            v["challenge"]["deep_link"]
            == f"https://t.me/vouch_test_bot?start={v['challenge']['code']}"
        )
        assert (await post(cc, update(f"/start {v['challenge']['code']}"))).status_code == 200
        (ask,) = sent_texts(fake_api)
        assert ask["chat_id"] == str(USER_ID)
        assert ask["reply_markup"]["keyboard"][0][0]["request_contact"] is True
        assert v["challenge"]["code"] not in ask["text"]
        assert all(BOT_TOKEN in c.path for c in fake_api.calls)
        contact = {"phone_number": "37069199199", "first_name": "Ona", "user_id": USER_ID}
        assert (await post(cc, update(contact=contact))).status_code == 200
        body = await status(cc, ckeys, v["id"])
        assert body["status"] == "verified" and body["proof_token"]
        assert "Verified" in sent_texts(fake_api)[-1]["text"]

    async def test_contact_first_then_typed_code_completes(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers)
        await post(cc, update(contact={"phone_number": "+37069199199", "user_id": USER_ID}))
        await post(cc, update(f"my code is {v['challenge']['code'].lower()}"))
        assert (await status(cc, ckeys, v["id"]))["status"] == "verified"

    async def test_someone_elses_contact_is_refused(
        self, cc: httpx.AsyncClient, ckeys: Keys, fake_api: FakeApi
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers)
        await post(cc, update(f"/start {v['challenge']['code']}"))
        await post(cc, update(contact={"phone_number": "37069199199", "user_id": 999}))
        body = await status(cc, ckeys, v["id"])
        assert body["status"] == "pending" and body["attempts"] == 0
        assert "own contact" in sent_texts(fake_api)[-1]["text"]

    async def test_contact_with_another_number_is_a_failed_attempt(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers)
        await post(cc, update(f"/start {v['challenge']['code']}"))
        await post(cc, update(contact={"phone_number": "447700900123", "user_id": USER_ID}))
        body = await status(cc, ckeys, v["id"])
        assert body["status"] == "pending" and body["attempts"] == 1

    async def test_wrong_code_counts_against_the_bound_verification(
        self, cc: httpx.AsyncClient, ckeys: Keys, capp: FastAPI
    ) -> None:
        v = await create_verification(cc, ckeys.live_headers)
        await post(cc, update(contact={"phone_number": "37069199199", "user_id": USER_ID}))
        wrong = "AAAAAA" if v["challenge"]["code"] != "AAAAAA" else "BBBBBB"
        await post(cc, update(wrong))
        body = await status(cc, ckeys, v["id"])
        assert body["status"] == "pending" and body["attempts"] == 1

    async def test_unknown_code_from_a_stranger_gets_a_friendly_reply(
        self, cc: httpx.AsyncClient, fake_api: FakeApi
    ) -> None:
        response = await post(cc, update("ZZZZZ9", user_id=7))
        assert response.status_code == 200
        (reply,) = sent_texts(fake_api)
        assert "could not find" in reply["text"]


class TestTestMode:
    async def test_test_mode_replies_are_recorded_not_sent(
        self, cc: httpx.AsyncClient, ckeys: Keys, capp: FastAPI, fake_api: FakeApi
    ) -> None:
        v = await create_verification(cc, ckeys.test_headers)
        await post(cc, update(f"/start {v['challenge']['code']}"))
        await post(cc, update(contact={"phone_number": "37069199199", "user_id": USER_ID}))
        assert (await status(cc, ckeys, v["id"], live=False))["status"] == "verified"
        assert sent_texts(fake_api) == []
        async with capp.state.vouch.db.session() as session:
            rows = (
                await session.scalars(select(OutboundMessage).order_by(OutboundMessage.created_at))
            ).all()
        assert [r.status for r in rows] == ["recorded", "recorded"]
        assert [r.message_type for r in rows] == ["ask_contact", "verified"]
