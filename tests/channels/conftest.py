"""An app wired to provider stand-ins on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.providers import FakeApi, run_fake_api
from tests.fixtures.tenancy import Keys, make_keys
from vouch_server.app import create_app

TELEGRAM_SECRET = "tg-webhook-secret-123"
BOT_TOKEN = "123456:ABC-bot-token"
WA_APP_SECRET = "wa-app-secret"
WA_VERIFY_TOKEN = "wa-verify-token"
TWILIO_TOKEN = "twilio-auth-token"


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    with run_fake_api() as api:
        yield api


@pytest.fixture
async def capp(settings_factory: Any, fake_api: FakeApi) -> AsyncIterator[FastAPI]:
    settings = settings_factory(
        allow_private_targets=True,
        webhook_worker_enabled=False,
        telegram_bot_token=BOT_TOKEN,
        telegram_bot_username="vouch_test_bot",
        telegram_webhook_secret=TELEGRAM_SECRET,
        telegram_api_base=fake_api.base,
        whatsapp_app_secret=WA_APP_SECRET,
        whatsapp_verify_token=WA_VERIFY_TOKEN,
        whatsapp_phone_number="+15550001111",
        whatsapp_phone_number_id="1098765",
        whatsapp_access_token="wa-access-token",
        whatsapp_api_base=fake_api.base,
        twilio_account_sid="AC123",
        twilio_auth_token=TWILIO_TOKEN,
        twilio_numbers="US=+13125550100",
        twilio_api_base=fake_api.base,
    )
    app = create_app(settings)
    await app.state.vouch.limiter.reset()
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def cc(capp: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=capp)
    async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
        yield c


@pytest.fixture
async def ckeys(capp: FastAPI) -> Keys:
    return await make_keys(capp.state.vouch)
