"""The threat model's 10 KB body limit holds for every caller until it is authenticated
(threat model §9). The larger limits of ``/v2`` (256 KiB), ``/verify/v0`` (1 MiB),
``/inbound/email`` (1 MiB), ``/inbound/…`` (64 KiB) and ``/approve/…`` (32 KiB) are granted only
by a credential in the request head, checked before the body is read past 10 KB."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message

from tests.fixtures.tenancy import Keys, make_keys
from vouch_server.app import create_app
from vouch_server.approval import links
from vouch_server.kit.clock import utcnow

DEFAULT_LIMIT = 10 * 1024
TELEGRAM_SECRET = "tg-secret-for-body-gates"
EMAIL_SECRET = "inbound-mail-secret-for-body-gates"
WA_SECRET = "wa-app-secret-for-body-gates"


@pytest.fixture
async def gapp(settings_factory: Any) -> AsyncIterator[FastAPI]:
    settings = settings_factory(
        webhook_worker_enabled=False,
        telegram_bot_token="123456:ABC-gates",
        telegram_webhook_secret=TELEGRAM_SECRET,
        whatsapp_app_secret=WA_SECRET,
        inbound_email_secret=EMAIL_SECRET,
        inbound_email_address="verify@vouch.test",
    )
    app = create_app(settings)
    await app.state.vouch.limiter.reset()
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def gc(gapp: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=gapp)
    async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as client:
        yield client


@pytest.fixture
async def gkeys(gapp: FastAPI) -> Keys:
    return await make_keys(gapp.state.vouch)


def _record(size: int) -> dict[str, Any]:
    return {"data": {"handle": "big-record", "note": "a" * size}, "meta": {"proofs": []}}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class TestApiKeySurfaces:
    async def test_v2_over_10kb_without_a_key_is_413_in_minka_shape(
        self, gc: httpx.AsyncClient
    ) -> None:
        response = await gc.post("/v2/wallets", json=_record(20_000))
        assert response.status_code == 413
        body = response.json()["data"]
        assert body["reason"] == "api.body-too-large"
        assert "unauthenticated" in body["detail"]

    async def test_v2_over_10kb_with_a_wrong_key_is_413(self, gc: httpx.AsyncClient) -> None:
        headers = _bearer("pk_test_" + "x" * 32)
        response = await gc.post("/v2/wallets", json=_record(20_000), headers=headers)
        assert response.status_code == 413

    async def test_v2_over_10kb_with_a_valid_key_reaches_the_handler(
        self, gc: httpx.AsyncClient, gkeys: Keys
    ) -> None:
        response = await gc.post("/v2/wallets", json=_record(20_000), headers=gkeys.test_headers)
        assert response.status_code != 413
        assert response.status_code < 500

    async def test_v2_under_10kb_without_a_key_is_401_not_413(self, gc: httpx.AsyncClient) -> None:
        response = await gc.post("/v2/wallets", json=_record(100))
        assert response.status_code == 401

    async def test_v2_keyed_limit_still_holds(self, gc: httpx.AsyncClient, gkeys: Keys) -> None:
        response = await gc.post(
            "/v2/wallets", json=_record(300 * 1024), headers=gkeys.test_headers
        )
        assert response.status_code == 413
        assert "unauthenticated" not in response.json()["data"]["detail"]

    async def test_location_over_10kb_anonymous_is_413_problem(self, gc: httpx.AsyncClient) -> None:
        body = {"stamps": [{"signals": {"padding": "a" * 20_000}}]}
        response = await gc.post("/verify/v0/proof", json=body)
        assert response.status_code == 413
        assert response.headers["content-type"].startswith("application/problem+json")

    async def test_location_over_10kb_with_a_key_reaches_the_handler(
        self, gc: httpx.AsyncClient, gkeys: Keys
    ) -> None:
        body = {"stamps": [{"signals": {"padding": "a" * 20_000}}]}
        response = await gc.post("/verify/v0/proof", json=body, headers=gkeys.test_headers)
        assert response.status_code != 413
        assert response.status_code < 500


class TestNotReadBeforeAuthentication:
    """A chunked body (no Content-Length) is cut off once it passes 10 KB without credentials:
    the edge pulls no more than the limit plus the chunk in hand from the connection."""

    @staticmethod
    async def _stream(app: FastAPI, headers: list[tuple[bytes, bytes]]) -> tuple[int, int]:
        chunk = b"a" * 1000
        prefix = json.dumps({"data": {"handle": "h", "note": ""}})[:-3].encode()
        chunks = [prefix, *([chunk] * 200), b'"}}']
        pulled = 0
        status = 0

        async def receive() -> Message:
            nonlocal pulled
            if not chunks:
                return {"type": "http.disconnect"}
            body = chunks.pop(0)
            pulled += len(body)
            return {"type": "http.request", "body": body, "more_body": bool(chunks)}

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "https",
            "path": "/v2/wallets",
            "raw_path": b"/v2/wallets",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"vouch.test"), (b"content-type", b"application/json"), *headers],
            "client": ("127.0.0.1", 50000),
            "server": ("vouch.test", 443),
        }
        await app(scope, receive, send)
        return status, pulled

    async def test_anonymous_stream_is_cut_at_the_default_limit(self, gapp: FastAPI) -> None:
        status, pulled = await self._stream(gapp, [])
        assert status == 413
        assert pulled <= DEFAULT_LIMIT + 1000

    async def test_keyed_stream_is_read_in_full(self, gapp: FastAPI, gkeys: Keys) -> None:
        key = gkeys.test_headers["Authorization"].encode()
        status, pulled = await self._stream(gapp, [(b"authorization", key)])
        assert status != 413
        assert pulled > 200 * 1000


class TestProviderSurfaces:
    async def test_inbound_email_over_10kb_without_the_secret_is_413(
        self, gc: httpx.AsyncClient
    ) -> None:
        raw = b"From: a@example.com\r\n\r\n" + b"x" * 20_000
        response = await gc.post(
            "/inbound/email", content=raw, headers={"Content-Type": "message/rfc822"}
        )
        assert response.status_code == 413

    async def test_inbound_email_over_10kb_with_the_secret_is_processed(
        self, gc: httpx.AsyncClient
    ) -> None:
        raw = b"From: a@example.com\r\nTo: verify@vouch.test\r\n\r\n" + b"x" * 20_000
        response = await gc.post(
            "/inbound/email",
            content=raw,
            headers={"Content-Type": "message/rfc822", **_bearer(EMAIL_SECRET)},
        )
        assert response.status_code == 200
        assert response.json()["accepted"] is False  # unsigned: proves nothing, but was read

    async def test_telegram_over_10kb_needs_the_secret_token(self, gc: httpx.AsyncClient) -> None:
        update = {"update_id": 1, "message": {"message_id": 1, "text": "a" * 20_000}}
        wrong = {"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"}
        assert (await gc.post("/inbound/telegram", json=update, headers=wrong)).status_code == 413
        right = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        response = await gc.post("/inbound/telegram", json=update, headers=right)
        assert response.status_code not in (401, 413)

    async def test_whatsapp_over_10kb_needs_a_signature_header(self, gc: httpx.AsyncClient) -> None:
        notification = {"object": "whatsapp_business_account", "entry": [], "pad": "a" * 20_000}
        assert (await gc.post("/inbound/whatsapp", json=notification)).status_code == 413
        # A well-formed but wrong signature passes the edge and is refused by the handler.
        forged = {"X-Hub-Signature-256": "sha256=" + "0" * 64}
        response = await gc.post("/inbound/whatsapp", json=notification, headers=forged)
        assert response.status_code == 401

    async def test_unknown_credential_gets_the_default_limit(self, gc: httpx.AsyncClient) -> None:
        update = {"update_id": 1, "message": {"message_id": 1, "text": "a" * 20_000}}
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        response = await gc.post("/inbound/telegram/cred_unknown", json=update, headers=headers)
        assert response.status_code == 413


class TestApprovalLinks:
    async def test_forged_link_gets_the_default_limit(self, gc: httpx.AsyncClient) -> None:
        forged = "0" * 24 + "." + str(int(utcnow().timestamp()) + 600) + "." + "A" * 43
        response = await gc.post(
            f"/approve/{forged}", data={"action": "approve", "comment": "a" * 20_000}
        )
        assert response.status_code == 413

    async def test_signed_link_may_send_a_long_comment(
        self, gapp: FastAPI, gc: httpx.AsyncClient
    ) -> None:
        runtime = gapp.state.vouch
        async with runtime.db.session() as session:
            _, token = await links.issue(
                session,
                runtime,
                kind="web",
                subject_id="0" * 24,
                expires_at=utcnow() + timedelta(minutes=10),
            )
            await session.commit()
        assert links.is_signed_and_current(runtime, token)
        response = await gc.post(
            f"/approve/{token}", data={"action": "approve", "comment": "a" * 20_000}
        )
        assert response.status_code != 413
        assert response.status_code < 500

    async def test_expired_link_is_not_current(self, gapp: FastAPI) -> None:
        runtime = gapp.state.vouch
        async with runtime.db.session() as session:
            _, token = await links.issue(
                session,
                runtime,
                kind="web",
                subject_id="1" * 24,
                expires_at=utcnow() - timedelta(seconds=5),
            )
            await session.commit()
        assert not links.is_signed_and_current(runtime, token)
        assert not links.is_signed_and_current(runtime, token[:-1] + "B")
