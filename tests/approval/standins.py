"""Consent and approvals against provider stand-ins on loopback: an app wired to a fake Bot API /
Graph API / Twilio (``run_fake_api``) and an SMTP sink, provider payloads exactly as Telegram,
Meta and Twilio send them (and signed as they sign them), and small flows used by the tests of
``tests/consent``, ``tests/approval`` and ``tests/web`` (whose conftests re-export the fixtures).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from twilio.request_validator import RequestValidator

from tests.channels.email_standins import SmtpSink, run_smtp_sink
from tests.conftest import TEST_SECRET
from tests.fixtures.providers import FakeApi, run_fake_api
from tests.fixtures.tenancy import Keys, make_keys
from vouch_server.app import create_app
from vouch_server.config import Settings

TELEGRAM_SECRET = "tg-webhook-secret-456"
BOT_TOKEN = "654321:XYZ-bot-token"
BOT_USERNAME = "vouch_approvals_bot"
WA_APP_SECRET = "wa-app-secret-approvals"
TWILIO_TOKEN = "twilio-auth-token-approvals"
TWILIO_URL = "https://vouch.test/inbound/twilio/sms"

CHAT_ID = 424242  # a private chat: chat id = user id
OTHER_CHAT_ID = 777001
PHONE = "+37069199199"
WA_ID = "37069199199"
OTHER_WA_ID = "37069100000"
EMAIL = "ona@example.com"


def provider_settings(fake_api: FakeApi, smtp: SmtpSink) -> dict[str, Any]:
    return {
        "allow_private_targets": True,
        "webhook_worker_enabled": False,
        "telegram_bot_token": BOT_TOKEN,
        "telegram_bot_username": BOT_USERNAME,
        "telegram_webhook_secret": TELEGRAM_SECRET,
        "telegram_api_base": fake_api.base,
        "whatsapp_app_secret": WA_APP_SECRET,
        "whatsapp_verify_token": "wa-verify-token-approvals",
        "whatsapp_phone_number": "+15550001111",
        "whatsapp_phone_number_id": "1098765",
        "whatsapp_access_token": "wa-access-token",
        "whatsapp_api_base": fake_api.base,
        "twilio_account_sid": "AC123",
        "twilio_auth_token": TWILIO_TOKEN,
        "twilio_numbers": "US=+13125550100",
        "twilio_api_base": fake_api.base,
        "smtp_url": smtp.url,
        "email_from": "approvals@vouch.test",
    }


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    with run_fake_api() as api:
        # The Graph API answers a send with the new message's id.
        api.answers["/messages"] = (
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": WA_ID, "wa_id": WA_ID}],
                "messages": [{"id": "wamid.HBgLMzcwNjkxOTkxOTkVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"}],
            },
        )
        yield api


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with run_smtp_sink() as sink:
        yield sink


@pytest.fixture
async def dapp(settings_factory: Any, fake_api: FakeApi, smtp: SmtpSink) -> AsyncIterator[FastAPI]:
    app = create_app(settings_factory(**provider_settings(fake_api, smtp)))
    await app.state.vouch.limiter.reset()
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def dc(dapp: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=dapp)
    async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
        yield c


@pytest.fixture
async def dkeys(dapp: FastAPI) -> Keys:
    return await make_keys(dapp.state.vouch)


# -- Telegram (Bot API "Update") ----------------------------------------------------------------
_update_ids = itertools.count(912345678)


def tg_message(
    text: str,
    *,
    chat_id: int = CHAT_ID,
    user_id: int | None = None,
    reply_to: int | str | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": 17,
        "from": {
            "id": user_id or chat_id,
            "is_bot": False,
            "first_name": "Ona",
            "language_code": "lt",
        },
        "chat": {"id": chat_id, "first_name": "Ona", "type": "private" if chat_id > 0 else "group"},
        "date": 1763700000,
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    if reply_to is not None:
        message["reply_to_message"] = {
            "message_id": int(reply_to),
            "from": {"id": 654321, "is_bot": True, "first_name": "vouch", "username": BOT_USERNAME},
            "chat": message["chat"],
            "date": 1763699990,
            "text": "🔔 Approval request",
        }
    return {"update_id": next(_update_ids), "message": message}


def tg_press(
    data: str, *, chat_id: int = CHAT_ID, user_id: int | None = None, message_id: int = 1
) -> dict[str, Any]:
    """A callback_query exactly as the Bot API delivers one."""
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"4382bfdwdsb323b2d9{next(_update_ids)}",
            "from": {
                "id": user_id or chat_id,
                "is_bot": False,
                "first_name": "Ona",
                "language_code": "lt",
            },
            "message": {
                "message_id": message_id,
                "from": {
                    "id": 654321,
                    "is_bot": True,
                    "first_name": "vouch",
                    "username": BOT_USERNAME,
                },
                "chat": {
                    "id": chat_id,
                    "first_name": "Ona",
                    "type": "private" if chat_id > 0 else "group",
                },
                "date": 1763700000,
                "text": "🔔 Approval request",
            },
            "chat_instance": "-8737461298416472",
            "data": data,
        },
    }


async def post_telegram(
    client: httpx.AsyncClient, update: dict[str, Any], secret: str = TELEGRAM_SECRET
) -> httpx.Response:
    return await client.post(
        "/inbound/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
    )


# -- WhatsApp (Cloud API webhook notification) -----------------------------------------------------
def wa_notification(
    message: dict[str, Any], *, wa_id: str = WA_ID, bsuid: str | None = None
) -> dict[str, Any]:
    contact: dict[str, Any] = {"profile": {"name": "Ona"}, "wa_id": wa_id}
    if bsuid is not None:
        contact["user_id"] = bsuid
    body = {
        "from": wa_id,
        "id": f"wamid.IN{next(_update_ids)}",
        "timestamp": "1763700000",
        **message,
    }
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
                            "messages": [body],
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def wa_button(
    reply_id: str, title: str = "Approve", *, context_id: str | None = None, wa_id: str = WA_ID
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}},
    }
    if context_id is not None:
        message["context"] = {"from": "15550001111", "id": context_id}
    return wa_notification(message, wa_id=wa_id)


def wa_text(text: str, *, context_id: str | None = None, wa_id: str = WA_ID) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "text", "text": {"body": text}}
    if context_id is not None:
        message["context"] = {"from": "15550001111", "id": context_id}
    return wa_notification(message, wa_id=wa_id)


def wa_sign(raw: bytes, secret: str = WA_APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


async def post_whatsapp(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    raw = json.dumps(body, indent=1).encode()
    return await client.post(
        "/inbound/whatsapp",
        content=raw,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": wa_sign(raw)},
    )


# -- SMS (Twilio) ----------------------------------------------------------------------------------
async def post_sms(client: httpx.AsyncClient, body: str, sender: str = PHONE) -> httpx.Response:
    fields = {
        "ToCountry": "US",
        "SmsMessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
        "NumMedia": "0",
        "Body": body,
        "To": "+13125550100",
        "MessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f",
        "AccountSid": "AC123",
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, fields)
    return await client.post(
        "/inbound/twilio/sms",
        content=urlencode(fields),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )


# -- real server processes -----------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(settings: Settings, fake_api: FakeApi | None = None) -> Iterator[str]:
    """``vouch serve`` in a child process on this test's database, wired to the stand-ins."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCH_")}
    env.update(
        VOUCH_DATA_DIR=str(settings.data_dir),
        VOUCH_SECRET_KEY=TEST_SECRET,
        VOUCH_PUBLIC_URL="https://vouch.test",
        VOUCH_ALLOW_PRIVATE_TARGETS="true",
        VOUCH_WEBHOOK_POLL_SECONDS="0.2",
        VOUCH_WEBHOOK_RETRY_SCHEDULE="0.2,0.2",
        VOUCH_RATE_LIMIT_API="10000/minute",
    )
    if settings.telegram_bot_username:
        env["VOUCH_TELEGRAM_BOT_USERNAME"] = settings.telegram_bot_username
    if fake_api is not None:
        env.update(
            VOUCH_TELEGRAM_BOT_TOKEN=BOT_TOKEN,
            VOUCH_TELEGRAM_BOT_USERNAME=BOT_USERNAME,
            VOUCH_TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
            VOUCH_TELEGRAM_API_BASE=fake_api.base,
            VOUCH_WHATSAPP_APP_SECRET=WA_APP_SECRET,
            VOUCH_WHATSAPP_PHONE_NUMBER="+15550001111",
            VOUCH_WHATSAPP_PHONE_NUMBER_ID="1098765",
            VOUCH_WHATSAPP_ACCESS_TOKEN="wa-access-token",
            VOUCH_WHATSAPP_API_BASE=fake_api.base,
        )
    if settings.database_url:
        env["VOUCH_DATABASE_URL"] = settings.database_url
    if settings.redis_url:
        env["VOUCH_REDIS_URL"] = settings.redis_url
    log = open(Path(settings.data_dir) / f"serve-{port}.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "vouch_server.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("server did not start")
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# -- flows -----------------------------------------------------------------------------------------
def sent_to(api: FakeApi, method: str) -> list[dict[str, Any]]:
    return [c.json() for c in api.calls_to(method)]


async def consent_telegram(
    client: httpx.AsyncClient, headers: dict[str, str], chat_id: int = CHAT_ID
) -> dict[str, Any]:
    """The whole Telegram consent flow: request, open the deep link, press Allow."""
    created = await client.post(
        "/api/v1/authorizations",
        json={"channel": "telegram", "recipient": str(chat_id), "business_name": "Acme Deploys"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    token = created.json()["deep_link"].split("start=auth_", 1)[1]
    assert (
        await post_telegram(client, tg_message(f"/start auth_{token}", chat_id=chat_id))
    ).status_code == 200
    key = await callback_key_of(client, created.json()["id"])
    assert (await post_telegram(client, tg_press(f"ca:{key}", chat_id=chat_id))).status_code == 200
    final = (
        await client.get(f"/api/v1/authorizations/{created.json()['id']}", headers=headers)
    ).json()
    assert final["status"] == "active", final
    return final  # type: ignore[no-any-return]


async def consent_whatsapp(
    client: httpx.AsyncClient, headers: dict[str, str], phone: str = PHONE
) -> dict[str, Any]:
    created = await client.post(
        "/api/v1/authorizations",
        json={"channel": "whatsapp", "recipient": phone, "business_name": "Acme Deploys"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    key = await callback_key_of(client, created.json()["id"])
    wa_id = phone.lstrip("+")
    assert (
        await post_whatsapp(client, wa_button(f"ca:{key}", "Allow", wa_id=wa_id))
    ).status_code == 200
    final = (
        await client.get(f"/api/v1/authorizations/{created.json()['id']}", headers=headers)
    ).json()
    assert final["status"] == "active", final
    return final  # type: ignore[no-any-return]


async def callback_key_of(client: httpx.AsyncClient, authorization_id: str) -> str:
    """The buttons' key, read where a person's phone would read it: the sent prompt."""
    from sqlalchemy import select

    from vouch_server.models.delegation import Authorization

    app = client._transport.app  # type: ignore[attr-defined]
    async with app.state.vouch.db.session() as session:
        key = await session.scalar(
            select(Authorization.callback_key).where(Authorization.id == authorization_id)
        )
    assert key
    return str(key)


async def create_hitl(
    client: httpx.AsyncClient, headers: dict[str, str], channels: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/hitl",
        json={"name": "Production Deploys", "channels": channels, **extra},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def create_confirmation(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    hitl_id: str,
    message: str = "Deploy v2.1 to production?",
    **extra: Any,
) -> httpx.Response:
    return await client.post(
        "/api/v1/confirmations",
        json={"hitl_id": hitl_id, "message": message, **extra},
        headers=headers,
    )


async def verify_offline(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    """Check a proof token with nothing but the published JWKS (PyJWT, not vouch's code).

    The key is looked up in the live and the test key sets; whichever holds it must agree with
    the token: a test-set key signs only ``test: true`` tokens, a live key never does."""
    import jwt

    header = jwt.get_unverified_header(token)
    found = [
        (key, is_test)
        for name, is_test in (("jwks.json", False), ("jwks-test.json", True))
        for key in (await client.get(f"/.well-known/{name}")).json()["keys"]
        if key["kid"] == header["kid"]
    ]
    assert len(found) == 1, f"kid {header['kid']} is in {len(found)} key sets, not one"
    key, is_test = found[0]
    claims: dict[str, Any] = jwt.decode(
        token, jwt.PyJWK(key).key, algorithms=[header["alg"]], issuer="https://vouch.test"
    )
    assert (claims.get("test") is True) is is_test, "the token's test claim contradicts its key"
    return claims


async def events_of(app: FastAPI, type_prefix: str) -> list[dict[str, Any]]:
    """Webhook events written to the outbox, oldest first."""
    from sqlalchemy import select

    from vouch_server.models import WebhookEvent

    async with app.state.vouch.db.session() as session:
        rows = await session.scalars(
            select(WebhookEvent)
            .where(WebhookEvent.type.like(f"{type_prefix}%"))
            .order_by(WebhookEvent.created_at, WebhookEvent.id)
        )
        return [dict(r.payload) for r in rows.all()]


async def outbound_of(app: FastAPI, message_type: str | None = None) -> list[Any]:
    from sqlalchemy import select

    from vouch_server.models import OutboundMessage

    async with app.state.vouch.db.session() as session:
        query = select(OutboundMessage).order_by(OutboundMessage.created_at, OutboundMessage.id)
        if message_type is not None:
            query = query.where(OutboundMessage.message_type == message_type)
        return list((await session.scalars(query)).all())
