"""A server with no Telegram bot of its own never sends people to somebody else's: there is no
default bot username, a phone verification over Telegram carries no ``t.me`` link, and the flows
that cannot work without the bot (phone-first sessions, consent requests, chat-id discovery)
answer ``channel_not_configured`` and create nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.fixtures.tenancy import Keys, make_keys
from vouch_server.app import create_app
from vouch_server.config import Settings
from vouch_server.models import PhoneSession
from vouch_server.models.delegation import Authorization
from vouch_server.models.hitl import ChatIdDiscovery
from vouch_server.runtime import Runtime


def test_there_is_no_default_bot(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).telegram_bot_username == ""


@pytest.fixture
async def bare(settings_factory: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime, Keys]]:
    app = create_app(settings_factory(telegram_bot_username=""))
    async with app.router.lifespan_context(app):
        runtime: Runtime = app.state.vouch
        keys = await make_keys(runtime)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
            yield c, runtime, keys


async def count(runtime: Runtime, model: Any) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_telegram_verification_links_to_no_bot_and_still_test_verifies(
    bare: tuple[httpx.AsyncClient, Runtime, Keys],
) -> None:
    client, _, keys = bare
    created = await client.post(
        "/api/v1/verifications",
        json={"type": "phone", "channel": "telegram", "identifier": "+37069199199"},
        headers=keys.test_headers,
    )
    assert created.status_code == 201, created.text
    assert "t.me" not in created.text and "vouch_verify_bot" not in created.text
    assert "deep_link" not in created.json()["challenge"]
    done = await client.post(
        f"/api/v1/verifications/{created.json()['id']}/test-verify", headers=keys.test_headers
    )
    assert done.status_code == 200 and done.json()["status"] == "verified", done.text


@pytest.mark.parametrize(
    ("path", "body", "model"),
    [
        ("/api/v1/sessions", {"channel": "telegram"}, PhoneSession),
        (
            "/api/v1/authorizations",
            {"channel": "telegram", "recipient": "123456789", "business_name": "Acme"},
            Authorization,
        ),
        ("/api/v1/hitl/chat-id-discovery", None, ChatIdDiscovery),
    ],
)
async def test_flows_that_need_the_bot_say_so_and_create_nothing(
    bare: tuple[httpx.AsyncClient, Runtime, Keys], path: str, body: Any, model: Any
) -> None:
    client, runtime, keys = bare
    for headers in (keys.test_headers, keys.live_headers):
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "channel_not_configured", error
        assert "VOUCH_TELEGRAM_BOT_USERNAME" in error["message"]
        assert "t.me" not in response.text
    assert await count(runtime, model) == 0
