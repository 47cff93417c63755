"""Message templates (sandboxed, per project) and bring-your-own-channel credentials (sealed with
a per-project PBKDF2 key, never returned, taking precedence for the project)."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.fixtures.providers import FakeApi
from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import create_verification
from vouch_server.models import ChannelCredential
from vouch_server.tenancy import credentials

PROJECT_BOT = {
    "bot_token": "987654:project-own-bot-token",
    "bot_username": "acme_verify_bot",
    "webhook_secret": "acme-webhook-secret-0123456789",
}


class TestTemplates:
    async def test_default_then_override_then_delete(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        url = "/api/v1/templates/telegram/verification_request"
        default = (await cc.get(url, headers=ckeys.test_headers)).json()
        assert default["is_custom"] is False and default["body"] == "{{ code }}"
        put = await cc.put(
            url,
            json={
                "body": "Open Telegram and send {{ code }} to {{ business_name }} ({{ expires_in }})"
            },
            headers=ckeys.test_headers,
        )
        assert put.status_code == 200 and put.json()["is_custom"] is True
        assert put.json()["version"] == 1
        v = await create_verification(cc, ckeys.test_headers)
        assert (
            v["challenge"]["instruction"]
            == f"Open Telegram and send {v['challenge']['code']} to acme (10 minutes)"
        )
        other = await create_verification(cc, ckeys.auth(ckeys.other_test))
        assert (
            other["challenge"]["instruction"] == other["challenge"]["code"]
        )  # other project untouched
        deleted = await cc.delete(url, headers=ckeys.test_headers)
        assert deleted.status_code == 200 and deleted.json()["deleted"] is True
        assert (await cc.get(url, headers=ckeys.test_headers)).json()["is_custom"] is False
        assert (await cc.delete(url, headers=ckeys.test_headers)).status_code == 404
        again = await create_verification(cc, ckeys.test_headers)
        assert again["challenge"]["instruction"] == again["challenge"]["code"]

    async def test_inactive_template_leaves_the_default_in_force(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        url = "/api/v1/templates/telegram/verification_request"
        put = await cc.put(
            url, json={"body": "Code: {{ code }}", "is_active": False}, headers=ckeys.test_headers
        )
        assert put.status_code == 200 and put.json()["is_active"] is False
        v = await create_verification(cc, ckeys.test_headers)
        assert v["challenge"]["instruction"] == v["challenge"]["code"]

    @pytest.mark.parametrize(
        "body",
        [
            "Hi {{ password }}",
            "{{ code.__class__.__mro__ }}",
            "{{ code.format.__globals__ }}",
            "{% for x in range(10) %}",
            "x" * 2001,
        ],
    )
    async def test_unsafe_or_invalid_templates_are_refused(
        self, cc: httpx.AsyncClient, ckeys: Keys, body: str
    ) -> None:
        url = "/api/v1/templates/sms/verification_success"
        response = await cc.put(url, json={"body": body}, headers=ckeys.test_headers)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "validation_error"
        assert (await cc.get(url, headers=ckeys.test_headers)).json()["is_custom"] is False

    async def test_unknown_channel_or_type_is_404(self, cc: httpx.AsyncClient, ckeys: Keys) -> None:
        for path in ("fax/verification_success", "sms/nope", "telegram/instruction"):
            response = await cc.get(f"/api/v1/templates/{path}", headers=ckeys.test_headers)
            assert response.status_code == 404, path

    async def test_preview(self, cc: httpx.AsyncClient, ckeys: Keys) -> None:
        response = await cc.post(
            "/api/v1/templates/preview",
            json={
                "channel": "sms",
                "message_type": "verification_request",
                "body": "{{ business_name }}: {{ code }}",
            },
            headers=ckeys.test_headers,
        )
        assert response.status_code == 200, response.text
        assert response.json()["rendered"] == {"body": "acme: X7K2M9"}

    async def test_bot_replies_use_the_projects_template(
        self, cc: httpx.AsyncClient, ckeys: Keys, fake_api: FakeApi
    ) -> None:
        await cc.put(
            "/api/v1/templates/telegram/ask_contact",
            json={"body": "{{ business_name }} needs your number"},
            headers=ckeys.live_headers,
        )
        v = await create_verification(cc, ckeys.live_headers)
        from tests.channels.test_telegram import post
        from tests.channels.test_telegram import update as tg_update

        await post(cc, tg_update(f"/start {v['challenge']['code']}"))
        (sent,) = [c.json() for c in fake_api.calls_to("/sendMessage")]
        assert sent["text"] == "acme needs your number"


class TestCredentials:
    async def test_secrets_are_sealed_never_returned_and_webhook_url_given(
        self, cc: httpx.AsyncClient, ckeys: Keys, capp: FastAPI
    ) -> None:
        response = await cc.put(
            "/api/v1/channels/telegram/credentials", json=PROJECT_BOT, headers=ckeys.test_headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert PROJECT_BOT["bot_token"] not in response.text
        assert PROJECT_BOT["webhook_secret"] not in response.text
        assert body["public"] == {"bot_username": "acme_verify_bot"}
        assert body["webhook_url"] == f"https://vouch.test/inbound/telegram/{body['id']}"
        fetched = await cc.get("/api/v1/channels/telegram/credentials", headers=ckeys.test_headers)
        assert PROJECT_BOT["bot_token"] not in fetched.text and fetched.json()["configured"] is True
        async with capp.state.vouch.db.session() as session:
            row = (await session.scalars(select(ChannelCredential))).one()
        assert "project-own-bot-token" not in row.sealed

    async def test_key_is_pbkdf2_100k_per_project_and_bound_to_the_row(
        self, cc: httpx.AsyncClient, ckeys: Keys, capp: FastAPI
    ) -> None:
        from vouch_server.kit.secretbox import SecretBox

        await cc.put(
            "/api/v1/channels/telegram/credentials", json=PROJECT_BOT, headers=ckeys.test_headers
        )
        settings = capp.state.vouch.settings
        async with capp.state.vouch.db.session() as session:
            row = (await session.scalars(select(ChannelCredential))).one()
        independent = hashlib.pbkdf2_hmac(
            "sha256", settings.master_key, b"vouch/byoc/" + row.project_id.encode(), 100_000, 32
        )
        opened = SecretBox(independent).open(row.sealed, f"{row.project_id}/telegram".encode())
        assert b"project-own-bot-token" in opened
        other_project = "0" * 24
        with pytest.raises(Exception):  # noqa: B017 (cryptography's InvalidTag)
            SecretBox(independent).open(row.sealed, f"{other_project}/telegram".encode())
        row.project_id = other_project
        with pytest.raises(Exception):  # noqa: B017
            credentials.open_row(settings, row)

    @pytest.mark.parametrize(
        ("channel", "body"),
        [
            ("telegram", {"bot_token": "x"}),
            ("telegram", {**PROJECT_BOT, "webhook_secret": "has spaces in it !!"}),
            ("email", {"smtp_url": "http://x", "email_from": "a@b.c"}),
            ("telegram", {**PROJECT_BOT, "extra": 1}),
        ],
    )
    async def test_bad_credentials_are_refused(
        self, cc: httpx.AsyncClient, ckeys: Keys, channel: str, body: dict[str, Any]
    ) -> None:
        response = await cc.put(
            f"/api/v1/channels/{channel}/credentials", json=body, headers=ckeys.test_headers
        )
        assert response.status_code == 400
        assert body.get("bot_token", "none") not in response.text or body.get("bot_token") == "x"

    async def test_project_bot_takes_precedence_and_completes_only_its_project(
        self, cc: httpx.AsyncClient, ckeys: Keys, fake_api: FakeApi
    ) -> None:
        created = (
            await cc.put(
                "/api/v1/channels/telegram/credentials",
                json=PROJECT_BOT,
                headers=ckeys.live_headers,
            )
        ).json()
        v = await create_verification(cc, ckeys.live_headers)
        assert (
            v["challenge"]["deep_link"]
            == f"https://t.me/acme_verify_bot?start={v['challenge']['code']}"
        )
        foreign = await create_verification(cc, ckeys.auth(ckeys.other_test))
        assert foreign["challenge"]["send_to"] == "@vouch_test_bot"

        from tests.channels.test_telegram import update as tg_update

        path = f"/inbound/telegram/{created['id']}"
        server_secret = {"X-Telegram-Bot-Api-Secret-Token": "tg-webhook-secret-123"}
        assert (await cc.post(path, json=tg_update("hi"), headers=server_secret)).status_code == 401
        own = {"X-Telegram-Bot-Api-Secret-Token": PROJECT_BOT["webhook_secret"]}
        contact = {"phone_number": "37069199199", "user_id": 424242}
        await cc.post(path, json=tg_update(contact=contact), headers=own)
        # Another project's code through this bot finds nothing (from a user with no phone on file).
        await cc.post(path, json=tg_update(foreign["challenge"]["code"], user_id=777), headers=own)
        other = (
            await cc.get(
                f"/api/v1/verifications/{foreign['id']}", headers=ckeys.auth(ckeys.other_test)
            )
        ).json()
        assert other["status"] == "pending"
        await cc.post(path, json=tg_update(v["challenge"]["code"]), headers=own)
        mine = (await cc.get(f"/api/v1/verifications/{v['id']}", headers=ckeys.live_headers)).json()
        assert mine["status"] == "verified"
        assert all(
            "987654:project-own-bot-token" in c.path for c in fake_api.calls_to("/sendMessage")
        )

    async def test_delete(self, cc: httpx.AsyncClient, ckeys: Keys) -> None:
        await cc.put(
            "/api/v1/channels/telegram/credentials", json=PROJECT_BOT, headers=ckeys.test_headers
        )
        assert (
            await cc.delete("/api/v1/channels/telegram/credentials", headers=ckeys.test_headers)
        ).status_code == 204
        assert (
            await cc.get("/api/v1/channels/telegram/credentials", headers=ckeys.test_headers)
        ).json() == {
            "channel": "telegram",
            "configured": False,
        }
        assert (
            await cc.get("/api/v1/channels/fax/credentials", headers=ckeys.test_headers)
        ).status_code == 404
