"""The operator's own provider settings are trusted: ``VOUCH_TELEGRAM_API_BASE``,
``VOUCH_WHATSAPP_API_BASE``, ``VOUCH_TWILIO_API_BASE`` and ``VOUCH_SMTP_URL`` may point at a
self-hosted or local server (here: stand-ins on 127.0.0.1) without
``VOUCH_ALLOW_PRIVATE_TARGETS`` — the SSRF guard is for what API callers supply."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.channels.conftest import BOT_TOKEN, TELEGRAM_SECRET
from tests.channels.email_standins import SmtpSink, run_smtp_sink
from tests.fixtures.providers import FakeApi, run_fake_api
from tests.fixtures.tenancy import make_keys
from tests.fixtures.verifications import create_verification
from vouch_server.app import create_app
from vouch_server.channels import email as mail
from vouch_server.channels.sms import TwilioClient
from vouch_server.channels.telegram import TelegramBot
from vouch_server.channels.whatsapp import WhatsAppClient
from vouch_server.config import Settings
from vouch_server.models import OutboundMessage

USER_ID = 515151


@pytest.fixture
def bot_api() -> Iterator[FakeApi]:
    """A self-hosted Bot API server (``telegram-bot-api --local``) on loopback."""
    with run_fake_api() as api:
        yield api


@pytest.fixture
def operator_env(monkeypatch: pytest.MonkeyPatch, bot_api: FakeApi) -> None:
    """The operator's environment: the bot, its self-hosted API base, no private-target switch."""
    monkeypatch.delenv("VOUCH_ALLOW_PRIVATE_TARGETS", raising=False)
    monkeypatch.setenv("VOUCH_TELEGRAM_API_BASE", bot_api.base)
    monkeypatch.setenv("VOUCH_TELEGRAM_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("VOUCH_TELEGRAM_BOT_USERNAME", "vouch_selfhosted_bot")
    monkeypatch.setenv("VOUCH_TELEGRAM_WEBHOOK_SECRET", TELEGRAM_SECRET)


@pytest.fixture
async def operator_app(settings_factory: Any, operator_env: None) -> AsyncIterator[FastAPI]:
    settings: Settings = settings_factory(webhook_worker_enabled=False)
    assert settings.allow_private_targets is False
    assert settings.telegram_api_base.startswith("http://127.0.0.1:")
    app = create_app(settings)
    await app.state.vouch.limiter.reset()
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def strict(settings_factory: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Settings without VOUCH_ALLOW_PRIVATE_TARGETS, with the given operator settings."""
    monkeypatch.delenv("VOUCH_ALLOW_PRIVATE_TARGETS", raising=False)

    def make(**operator: Any) -> Settings:
        settings: Settings = settings_factory(**operator)
        assert settings.allow_private_targets is False
        return settings

    return make


class TestSelfHostedBotApi:
    async def test_the_person_gets_the_request_contact_keyboard_from_the_loopback_bot_api(
        self, operator_app: FastAPI, bot_api: FakeApi
    ) -> None:
        keys = await make_keys(operator_app.state.vouch)
        transport = httpx.ASGITransport(app=operator_app)
        async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
            v = await create_verification(c, keys.live_headers)
            update = {
                "update_id": 700001,
                "message": {
                    "message_id": 3,
                    "from": {"id": USER_ID, "is_bot": False, "first_name": "Ona"},
                    "chat": {"id": USER_ID, "type": "private"},
                    "date": 1763700000,
                    "text": f"/start {v['challenge']['code']}",
                    "entities": [{"offset": 0, "length": 6, "type": "bot_command"}],
                },
            }
            response = await c.post(
                "/inbound/telegram",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
            )
        assert response.status_code == 200
        (call,) = bot_api.calls_to("/sendMessage")
        assert call.path == f"/bot{BOT_TOKEN}/sendMessage"
        sent = call.json()
        assert sent["chat_id"] == str(USER_ID)
        buttons = [b for row in sent["reply_markup"]["keyboard"] for b in row]
        assert any(b.get("request_contact") is True for b in buttons)
        async with operator_app.state.vouch.db.session() as session:
            rows = (await session.scalars(select(OutboundMessage))).all()
        assert [r.status for r in rows] == ["sent"]
        assert all("refused" not in (r.error or "") for r in rows)


class TestOperatorProviderBases:
    async def test_telegram_sends_to_a_loopback_base(self, strict: Any) -> None:
        with run_fake_api() as api:
            bot = TelegramBot(strict(telegram_api_base=api.base), BOT_TOKEN)
            await bot.send_message("42", "hello")
        (call,) = api.calls_to("/sendMessage")
        assert call.json() == {"chat_id": "42", "text": "hello"}

    async def test_whatsapp_sends_to_a_loopback_base(self, strict: Any) -> None:
        with run_fake_api(default={"messages": [{"id": "wamid.1"}]}) as api:
            client = WhatsAppClient(strict(whatsapp_api_base=api.base), "1098765", "wa-token-123")
            await client.send_text("+37069199199", "hello")
        (call,) = api.calls_to("/1098765/messages")
        assert call.json()["to"] == "37069199199"
        assert call.headers["Authorization"] == "Bearer wa-token-123"

    async def test_twilio_sends_to_a_loopback_base(self, strict: Any) -> None:
        with run_fake_api(default={"sid": "SM1"}) as api:
            client = TwilioClient(strict(twilio_api_base=api.base), "AC123", "twilio-token")
            await client.send_sms("+13125550100", "+37069199199", "hello")
        (call,) = api.calls_to("/Accounts/AC123/Messages.json")
        assert b"Body=hello" in call.body


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with run_smtp_sink() as s:
        yield s


class TestOperatorSmtp:
    async def test_the_operators_smtp_url_may_be_a_loopback_relay(
        self, strict: Any, sink: SmtpSink
    ) -> None:
        settings = strict(smtp_url=sink.url + "?starttls=off", email_from="vouch@acme.example")
        message = mail.build_message(
            sender=settings.email_from, recipient="ona@example.com", subject="hi", text="hello"
        )
        await mail.send_mail(settings, settings, message)
        ((mail_from, rcpt, got),) = sink.messages
        assert (mail_from, rcpt) == ("vouch@acme.example", ["ona@example.com"])
        assert got["Subject"] == "hi"
