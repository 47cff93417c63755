"""Telegram bots: ``submit {code: <bot token>}`` against a Bot API stand-in on loopback."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.control.methods.conftest import Build, Env
from tests.control.methods.standins import BotApiStandIn
from vouch_server.control.methods import get_method
from vouch_server.control.methods.bot import RedactBotTokens, TelegramBotTokenMethod
from vouch_server.models import Proof, Verification

TOKEN = "7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"
OTHER_TOKEN = "7000000001:AAE9xxDqqHw2Zx3bLk2eW0uOB_h6vK-3pX1"


@pytest.fixture
def bot_api() -> Iterator[BotApiStandIn]:
    stand_in = BotApiStandIn()
    stand_in.add_bot(TOKEN, "AcmeSupportBot")
    stand_in.add_bot(OTHER_TOKEN, "SomebodyElseBot")
    with stand_in.server:
        yield stand_in


async def bot_env(build: Build, bot_api: BotApiStandIn) -> Env:
    return await build(telegram_api_base=bot_api.server.base_url)


async def everything_stored(env: Env) -> str:
    """Every column of every verification and proof, as text."""
    async with env.runtime.db.session() as session:
        rows = [
            *(await session.scalars(select(Verification))).all(),
            *(await session.scalars(select(Proof))).all(),
        ]
        return repr([{c.key: getattr(r, c.key) for c in r.__table__.columns} for r in rows])


class TestRegistration:
    def test_the_bot_channel_is_the_bot_method(self) -> None:
        assert isinstance(get_method("telegram_bot", "telegram_bot_token"), TelegramBotTokenMethod)


class TestSubmitToken:
    async def test_the_bots_own_token_completes_on_the_spot(
        self, build: Build, bot_api: BotApiStandIn
    ) -> None:
        env = await bot_env(build, bot_api)
        data = await env.created("telegram_bot", "telegram_bot_token", "@acmesupportbot")
        assert "code" not in data["challenge"]
        response = await env.submit(data["id"], {"code": TOKEN})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "verified"
        assert response.json()["proof_token"].startswith("eyJ")
        assert bot_api.server.requests[-1].path == f"/bot{TOKEN}/getMe"

    async def test_the_token_is_neither_stored_nor_logged(
        self, build: Build, bot_api: BotApiStandIn, caplog: pytest.LogCaptureFixture
    ) -> None:
        env = await bot_env(build, bot_api)
        data = await env.created("telegram_bot", "telegram_bot_token", "acmesupportbot")
        with caplog.at_level(logging.DEBUG):
            await env.submit(data["id"], {"code": TOKEN})
            other = await env.created("telegram_bot", "telegram_bot_token", "acmesupportbot")
            await env.submit(other["id"], {"code": OTHER_TOKEN})
        assert "getMe" in caplog.text  # httpx did log the request line…
        secret = TOKEN.split(":")[1]
        assert secret not in caplog.text  # …without the token
        assert OTHER_TOKEN.split(":")[1] not in caplog.text
        stored = await everything_stored(env)
        assert secret not in stored and OTHER_TOKEN.split(":")[1] not in stored

    async def test_a_token_of_another_bot_is_refused(
        self, build: Build, bot_api: BotApiStandIn
    ) -> None:
        env = await bot_env(build, bot_api)
        data = await env.created("telegram_bot", "telegram_bot_token", "acmesupportbot")
        response = await env.submit(data["id"], {"code": OTHER_TOKEN})
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "bot_mismatch"
        assert "@SomebodyElseBot" in error["message"]
        assert OTHER_TOKEN not in response.text
        after = await env.get(data["id"])
        assert after["status"] == "pending" and after["attempts"] == 1
        assert await env.proofs() == 0

    async def test_a_token_telegram_refuses_is_a_failed_attempt(
        self, build: Build, bot_api: BotApiStandIn
    ) -> None:
        env = await bot_env(build, bot_api)
        data = await env.created("telegram_bot", "telegram_bot_token", "acmesupportbot")
        revoked = "7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDrevoked"
        response = await env.submit(data["id"], {"bot_token": revoked})
        assert response.json()["error"]["code"] == "invalid_bot_token"
        assert revoked not in response.text
        assert (await env.get(data["id"]))["attempts"] == 1

    @pytest.mark.parametrize(
        "value", ["hello", "123:short", "abc:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"]
    )
    async def test_a_malformed_token_is_a_validation_error_and_not_echoed(
        self, build: Build, bot_api: BotApiStandIn, value: str
    ) -> None:
        env = await bot_env(build, bot_api)
        data = await env.created("telegram_bot", "telegram_bot_token", "acmesupportbot")
        response = await env.submit(data["id"], {"code": value})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "validation_error"
        assert value not in response.text
        assert (await env.get(data["id"]))["attempts"] == 0
        assert bot_api.server.requests == []

    async def test_telegram_down_is_retry_later_without_an_attempt(
        self, build: Build, bot_api: BotApiStandIn
    ) -> None:
        env = await bot_env(build, bot_api)
        bot_api.down = True
        data = await env.created("telegram_bot", "telegram_bot_token", "acmesupportbot")
        response = await env.submit(data["id"], {"code": TOKEN})
        assert response.status_code == 503
        assert TOKEN not in response.text
        assert (await env.get(data["id"]))["attempts"] == 0

    async def test_telegram_unreachable_is_retry_later(self, build: Build) -> None:
        env = await build(telegram_api_base="http://127.0.0.1:9")
        data = await env.created("telegram_bot", "telegram_bot_token", "acmesupportbot")
        response = await env.submit(data["id"], {"code": TOKEN})
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "provider_unavailable"

    async def test_verify_now_has_nothing_to_check(
        self, build: Build, bot_api: BotApiStandIn
    ) -> None:
        env = await bot_env(build, bot_api)
        data = await env.created("telegram_bot", "telegram_bot_token", "acmesupportbot")
        assert (await env.verify(data["id"])).json()["error"]["code"] == "method_not_supported"


class TestRedactBotTokens:
    def test_a_token_in_a_formatted_record_is_replaced(self) -> None:
        record = logging.LogRecord(
            "httpx",
            logging.INFO,
            __file__,
            1,
            "HTTP Request: %s %s",
            ("GET", f"https://api.telegram.org/bot{TOKEN}/getMe"),
            None,
        )
        assert RedactBotTokens().filter(record)
        assert TOKEN not in record.getMessage()
        assert "/bot<redacted>/getMe" in record.getMessage()
