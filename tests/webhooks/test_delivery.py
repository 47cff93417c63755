"""Webhooks end to end: registration, the outbox, the worker, signatures, retries, the log."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from tests.fixtures.receiver import Receiver, run_receiver
from tests.fixtures.tenancy import Keys, make_keys
from tests.fixtures.verifications import create_verification, verified_proof
from vouch_client import WebhookVerificationError, verify_webhook
from vouch_server.app import create_app
from vouch_server.models import Verification, WebhookDelivery, WebhookEvent
from vouch_server.runtime import Runtime
from vouch_server.webhooks.delivery import DeliveryWorker
from vouch_server.webhooks.signing import proof_signature

VECTORS = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "proof_holdings_test_vectors.json").read_text()
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with run_receiver() as r:
        yield r


@pytest.fixture
async def hook_app(settings_factory: Any) -> AsyncIterator[FastAPI]:
    """The app with loopback targets allowed and the worker driven by the test."""
    app = create_app(settings_factory(allow_private_targets=True, webhook_worker_enabled=False))
    await app.state.vouch.limiter.reset()
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def hc(hook_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=hook_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
        yield c


@pytest.fixture
async def hkeys(hook_app: FastAPI) -> Keys:
    return await make_keys(hook_app.state.vouch)


async def register(c: httpx.AsyncClient, keys: Keys, url: str, **body: Any) -> dict[str, Any]:
    response = await c.post(
        "/api/v1/webhook-endpoints", json={"url": url, **body}, headers=keys.test_headers
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def drain(runtime: Runtime) -> int:
    total = 0
    async with DeliveryWorker(runtime) as worker:
        while n := await worker.run_once():
            total += n
    return total


async def deliveries(runtime: Runtime) -> list[WebhookDelivery]:
    async with runtime.db.session() as session:
        return list((await session.scalars(select(WebhookDelivery))).all())


class TestSignatureVector:
    def test_proof_signature_follows_the_golden_vector(self) -> None:
        v = VECTORS["webhook_signature_vector"]
        expected = hmac.new(
            v["secret"].encode(), v["expected_signature_input"].encode(), hashlib.sha256
        ).hexdigest()
        assert proof_signature(v["secret"], v["timestamp"], v["body"].encode()) == expected
        headers = {"X-Proof-Timestamp": v["timestamp"], "X-Proof-Signature": expected}
        now = int(v["timestamp"]) + 10
        assert verify_webhook(v["secret"], headers, v["body"], now=now)["data"]["id"]
        with pytest.raises(WebhookVerificationError) as old:
            verify_webhook(
                v["secret"], headers, v["body"], now=now + v["validation_window_seconds"]
            )
        assert old.value.reason == "timestamp_out_of_tolerance"


class TestEndpointsApi:
    async def test_secret_is_shown_once(self, hc: httpx.AsyncClient, hkeys: Keys) -> None:
        created = await register(
            hc, hkeys, "https://hooks.example.com/a", events=["verification.completed"]
        )
        assert created["secret"].startswith("whsec_") and len(created["secret"]) == 50
        fetched = (
            await hc.get(f"/api/v1/webhook-endpoints/{created['id']}", headers=hkeys.test_headers)
        ).json()
        assert "secret" not in fetched and fetched["events"] == ["verification.completed"]
        listed = (await hc.get("/api/v1/webhook-endpoints", headers=hkeys.test_headers)).json()
        assert [e["id"] for e in listed["data"]] == [created["id"]]
        assert created["secret"] not in json.dumps(listed)

    async def test_update_delete_and_isolation(self, hc: httpx.AsyncClient, hkeys: Keys) -> None:
        created = await register(hc, hkeys, "https://hooks.example.com/a")
        url = f"/api/v1/webhook-endpoints/{created['id']}"
        patched = await hc.patch(
            url, json={"enabled": False, "events": ["proof.revoked"]}, headers=hkeys.test_headers
        )
        assert patched.json()["enabled"] is False and patched.json()["events"] == ["proof.revoked"]
        assert (await hc.get(url, headers=hkeys.live_headers)).status_code == 404
        assert (await hc.get(url, headers=hkeys.auth(hkeys.other_test))).status_code == 404
        assert (await hc.delete(url, headers=hkeys.test_headers)).status_code == 204
        assert (await hc.get(url, headers=hkeys.test_headers)).status_code == 404

    @pytest.mark.parametrize(
        "body",
        [
            {"url": "ftp://x.example.com"},
            {"url": "https://h.example.com", "events": ["nope"]},
            {"url": ""},
        ],
    )
    async def test_bad_registrations(
        self, hc: httpx.AsyncClient, hkeys: Keys, body: dict[str, Any]
    ) -> None:
        response = await hc.post("/api/v1/webhook-endpoints", json=body, headers=hkeys.test_headers)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "validation_error"

    @pytest.mark.parametrize(
        "url",
        ["http://127.0.0.1:9/h", "http://10.0.0.5/h", "http://[::1]/h", "http://printer.local/h"],
    )
    async def test_private_targets_refused_without_the_setting(
        self, client: httpx.AsyncClient, keys: Keys, url: str
    ) -> None:
        response = await client.post(
            "/api/v1/webhook-endpoints", json={"url": url}, headers=keys.test_headers
        )
        assert response.status_code == 400
        assert response.json()["error"]["details"][0]["field"] == "url"


class TestDelivery:
    async def test_completed_verification_is_delivered_once_signed_both_ways(
        self, hc: httpx.AsyncClient, hkeys: Keys, hook_app: FastAPI, receiver: Receiver
    ) -> None:
        endpoint = await register(hc, hkeys, receiver.url)
        proof = await verified_proof(hc, hkeys.test_headers)
        runtime = hook_app.state.vouch
        assert await drain(runtime) == 1
        assert await drain(runtime) == 0
        assert len(receiver.requests) == 1
        got = receiver.requests[0]
        payload = verify_webhook(endpoint["secret"], got.headers, got.body)
        assert payload["event"] == "verification.completed"
        assert payload["test"] is True
        assert payload["data"]["id"] == proof["id"]
        assert payload["data"]["proof_token"] == proof["proof_token"]
        standard_only = {
            k: v for k, v in got.headers.items() if not k.lower().startswith("x-proof")
        }
        proof_only = {k: v for k, v in got.headers.items() if not k.lower().startswith("webhook-")}
        assert verify_webhook(endpoint["secret"], standard_only, got.body) == payload
        assert verify_webhook(endpoint["secret"], proof_only, got.body) == payload
        assert got.headers["webhook-id"] == payload["id"]
        # The Standard Webhooks reference library (not ours) accepts the delivery too.
        from standardwebhooks.webhooks import Webhook

        lowered = {k.lower(): v for k, v in got.headers.items()}
        assert Webhook(endpoint["secret"]).verify(got.body, lowered)["id"] == payload["id"]
        for tampered in (got.body.replace(b"true", b"false"), got.body + b" "):
            with pytest.raises(WebhookVerificationError):
                verify_webhook(endpoint["secret"], got.headers, tampered)
        with pytest.raises(WebhookVerificationError):
            verify_webhook("whsec_" + "A" * 44, got.headers, got.body)
        (row,) = await deliveries(runtime)
        assert row.status == "delivered" and row.attempts == 1 and row.response_status == 200

    async def test_event_filter_and_callback_url(
        self, hc: httpx.AsyncClient, hkeys: Keys, hook_app: FastAPI
    ) -> None:
        with run_receiver() as filtered, run_receiver() as callback:
            await register(hc, hkeys, filtered.url, events=["proof.revoked"])
            secret = (
                await hc.post(
                    "/api/v1/webhook-endpoints/callback-secret/rotate", headers=hkeys.test_headers
                )
            ).json()["secret"]
            proof = await verified_proof(hc, hkeys.test_headers, callback_url=callback.url)
            await drain(hook_app.state.vouch)
            assert filtered.requests == []
            assert [
                verify_webhook(secret, r.headers, r.body)["event"] for r in callback.requests
            ] == ["verification.completed"]
            await hc.post(
                f"/api/v1/proofs/{proof['id']}/revoke",
                json={"reason": "fraud"},
                headers=hkeys.test_headers,
            )
            await drain(hook_app.state.vouch)
            assert [json.loads(r.body)["event"] for r in filtered.requests] == ["proof.revoked"]
            assert json.loads(filtered.requests[0].body)["data"]["reason"] == "fraud"
            assert [json.loads(r.body)["event"] for r in callback.requests] == [
                "verification.completed",
                "proof.revoked",
            ]

    async def test_failed_and_expired_verifications_are_events(
        self, hc: httpx.AsyncClient, hkeys: Keys, hook_app: FastAPI, receiver: Receiver
    ) -> None:
        runtime = hook_app.state.vouch
        await register(hc, hkeys, receiver.url)
        failing = await create_verification(
            hc, hkeys.test_headers, type="email", channel="email", identifier="a@example.com"
        )
        wrong = "AAAAAA" if failing["challenge"]["code"] != "AAAAAA" else "BBBBBB"
        for _ in range(3):
            async with runtime.db.session() as session:
                await session.execute(
                    update(Verification).values(
                        next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)
                    )
                )
            await hc.post(
                f"/api/v1/verifications/{failing['id']}/submit",
                json={"code": wrong},
                headers=hkeys.test_headers,
            )
        expiring = await create_verification(hc, hkeys.test_headers)
        async with runtime.db.session() as session:
            await session.execute(
                update(Verification)
                .where(Verification.id == expiring["id"])
                .values(challenge_expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        await hc.get("/api/v1/verifications", headers=hkeys.test_headers)  # reads expire
        await drain(runtime)
        events = sorted(
            (json.loads(r.body)["event"], json.loads(r.body)["data"]["id"])
            for r in receiver.requests
        )
        assert events == sorted(
            [("verification.failed", failing["id"]), ("verification.expired", expiring["id"])]
        )

    async def test_rolled_back_change_sends_nothing(self, hook_app: FastAPI, hkeys: Keys) -> None:
        from vouch_server.webhooks import service as webhooks

        runtime = hook_app.state.vouch
        with pytest.raises(RuntimeError):
            async with runtime.db.session() as session:
                await webhooks.emit(
                    session,
                    runtime,
                    project_id=hkeys.project_id,
                    environment="test",
                    type="verification.completed",
                    data={"id": "x"},
                    callback_url="https://h.example.com/x",
                )
                raise RuntimeError("the change fails after the event was written")
        async with runtime.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
            assert await session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


class TestRetries:
    async def test_receiver_down_then_up(
        self, hc: httpx.AsyncClient, hkeys: Keys, hook_app: FastAPI
    ) -> None:
        runtime = hook_app.state.vouch
        with run_receiver() as probe:
            url = probe.url  # a port that will be closed
        await register(hc, hkeys, url)
        await verified_proof(hc, hkeys.test_headers)
        await drain(runtime)
        (row,) = await deliveries(runtime)
        assert row.status == "pending" and row.attempts == 1 and row.error_message
        wait = (row.next_attempt_at - row.last_attempt_at).total_seconds()  # type: ignore[operator]
        assert 4.0 <= wait <= 6.0  # 5 s ± 20 %
        assert await drain(runtime) == 0  # not due yet
        host, port = url.split("//")[1].split("/")[0].split(":")
        import http.server
        import threading

        got: list[bytes] = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                got.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a: object) -> None:
                return None

        server = http.server.ThreadingHTTPServer((host, int(port)), H)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        thread.start()
        try:
            async with runtime.db.session() as session:
                await session.execute(
                    update(WebhookDelivery).values(next_attempt_at=datetime.now(UTC))
                )
            assert await drain(runtime) == 1
        finally:
            server.shutdown()
            server.server_close()
        assert len(got) == 1
        (row,) = await deliveries(runtime)
        assert row.status == "delivered" and row.attempts == 2

    async def test_410_disables_the_endpoint(
        self, hc: httpx.AsyncClient, hkeys: Keys, hook_app: FastAPI
    ) -> None:
        with run_receiver(status=410) as gone:
            endpoint = await register(hc, hkeys, gone.url)
            await verified_proof(hc, hkeys.test_headers)
            await drain(hook_app.state.vouch)
        (row,) = await deliveries(hook_app.state.vouch)
        assert row.status == "failed" and row.response_status == 410
        fetched = (
            await hc.get(f"/api/v1/webhook-endpoints/{endpoint['id']}", headers=hkeys.test_headers)
        ).json()
        assert fetched["enabled"] is False

    async def test_exhausted_attempts_fail_and_manual_retry_delivers(
        self, settings_factory: Any, receiver: Receiver
    ) -> None:
        app = create_app(
            settings_factory(
                allow_private_targets=True, webhook_worker_enabled=False, webhook_retry_schedule="0"
            )
        )
        async with app.router.lifespan_context(app):
            runtime = app.state.vouch
            await runtime.limiter.reset()
            keys = await make_keys(runtime)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
                await register(c, keys, receiver.url)
                receiver.status = 500
                await verified_proof(c, keys.test_headers)
                await drain(runtime)
                (row,) = await deliveries(runtime)
                assert row.status == "failed" and row.attempts == 2 == row.max_attempts
                assert len(receiver.requests) == 2
                body = (
                    await c.get(f"/api/v1/webhook-deliveries/{row.id}", headers=keys.test_headers)
                ).json()
                assert (
                    body["response_status"] == 500
                    and body["request"]["payload"]["event"] == "verification.completed"
                )
                assert body["request"]["headers"]["webhook-id"] == body["event_id"]
                receiver.status = 200
                retried = await c.post(
                    f"/api/v1/webhook-deliveries/{row.id}/retry", headers=keys.test_headers
                )
                assert (
                    retried.status_code == 200 and retried.json()["delivery"]["status"] == "pending"
                )
                await drain(runtime)
                again = await c.post(
                    f"/api/v1/webhook-deliveries/{row.id}/retry", headers=keys.test_headers
                )
                assert again.status_code == 400
                stats = (
                    await c.get("/api/v1/webhook-deliveries/stats", headers=keys.test_headers)
                ).json()
                assert stats == {
                    "total": 1,
                    "by_status": {"pending": 0, "delivered": 1, "failed": 0},
                    "delivery_rate": "100.0%",
                    "recent_failures_24h": 0,
                    "retrying": 0,
                    "delivered": 1,
                    "failed": 0,
                    "pending": 0,
                    "success_rate": 100.0,
                }
                detail = (
                    await c.get(f"/api/v1/webhook-deliveries/{row.id}", headers=keys.test_headers)
                ).json()
                assert detail["payload"]["event"] == "verification.completed"
                assert detail["delivered_at"] == detail["last_attempt_at"]
                assert detail["verification_request_id"] is None
                ids = {json.loads(r.body)["id"] for r in receiver.requests}
                assert len(ids) == 1  # the event id is stable across retries
                listed = (
                    await c.get(
                        "/api/v1/webhook-deliveries?status=delivered&event_type=verification.completed",
                        headers=keys.test_headers,
                    )
                ).json()
                assert [d["id"] for d in listed["data"]] == [row.id]
                assert (
                    await c.get(
                        "/api/v1/webhook-deliveries?status=failed", headers=keys.test_headers
                    )
                ).json()["data"] == []
                assert (
                    await c.get("/api/v1/webhook-deliveries", headers=keys.live_headers)
                ).json()["data"] == []

    async def test_private_target_refused_at_delivery(
        self, settings_factory: Any, receiver: Receiver
    ) -> None:
        # Registered while private targets were allowed; delivered by a worker where they are not.
        app = create_app(settings_factory(allow_private_targets=True, webhook_worker_enabled=False))
        async with app.router.lifespan_context(app):
            await app.state.vouch.limiter.reset()
            keys = await make_keys(app.state.vouch)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
                await register(c, keys, receiver.url)
                await verified_proof(c, keys.test_headers)
        strict = Runtime.build(settings_factory(allow_private_targets=False))
        try:
            await drain(strict)
            (row,) = await deliveries(strict)
        finally:
            await strict.close()
        assert receiver.requests == []
        assert row.status == "failed" and "SSRF" in (row.error_message or "")


class TestTimeouts:
    async def test_slow_receiver_times_out_and_is_retried(self, settings_factory: Any) -> None:
        import http.server
        import threading
        import time as _time

        class Slow(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                _time.sleep(2)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a: object) -> None:
                return None

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        thread.start()
        try:
            app = create_app(
                settings_factory(
                    allow_private_targets=True,
                    webhook_worker_enabled=False,
                    webhook_timeout_seconds=0.3,
                )
            )
            async with app.router.lifespan_context(app):
                await app.state.vouch.limiter.reset()
                keys = await make_keys(app.state.vouch)
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="https://vouch.test"
                ) as c:
                    await register(c, keys, f"http://127.0.0.1:{server.server_address[1]}/h")
                    await verified_proof(c, keys.test_headers)
                    await drain(app.state.vouch)
                (row,) = await deliveries(app.state.vouch)
        finally:
            server.shutdown()
            server.server_close()
        assert row.status == "pending" and row.attempts == 1
        assert "timed out" in (row.error_message or "")


class TestRotation:
    async def test_old_and_new_secret_both_verify_during_overlap(
        self, hc: httpx.AsyncClient, hkeys: Keys, hook_app: FastAPI, receiver: Receiver
    ) -> None:
        endpoint = await register(hc, hkeys, receiver.url)
        rotated = (
            await hc.post(
                f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret",
                headers=hkeys.test_headers,
            )
        ).json()
        assert rotated["secret"] != endpoint["secret"]
        await verified_proof(hc, hkeys.test_headers)
        await drain(hook_app.state.vouch)
        got = receiver.requests[0]
        assert len(got.headers["webhook-signature"].split()) == 2
        for secret in (endpoint["secret"], rotated["secret"]):
            assert (
                verify_webhook(secret, got.headers, got.body)["event"] == "verification.completed"
            )


class TestConcurrentWorkers:
    async def test_two_workers_deliver_each_attempt_once(
        self,
        hc: httpx.AsyncClient,
        hkeys: Keys,
        hook_app: FastAPI,
        receiver: Receiver,
        settings_factory: Any,
    ) -> None:
        await register(hc, hkeys, receiver.url)
        for _ in range(15):
            await verified_proof(hc, hkeys.test_headers)
        # Two workers with their own engines (as two processes would have).
        first = Runtime.build(settings_factory(allow_private_targets=True))
        second = Runtime.build(settings_factory(allow_private_targets=True))
        try:
            async with DeliveryWorker(first, batch=3) as a, DeliveryWorker(second, batch=3) as b:

                async def loop(worker: DeliveryWorker) -> int:
                    total = 0
                    while n := await worker.run_once():
                        total += n
                        await asyncio.sleep(0)
                    return total

                counts = await asyncio.gather(loop(a), loop(b))
        finally:
            await first.close()
            await second.close()
        ids = [json.loads(r.body)["id"] for r in receiver.requests]
        assert len(ids) == 15 == len(set(ids)) == sum(counts)


class TestStats:
    async def test_deliveries_waiting_for_a_retry_count_as_failures(
        self, settings_factory: Any, receiver: Receiver
    ) -> None:
        """Every attempt fails and the deliveries wait for their next retry: they are pending,
        and the rate must say so, not 100%."""
        app = create_app(
            settings_factory(
                allow_private_targets=True,
                webhook_worker_enabled=False,
                webhook_retry_schedule="3600",
            )
        )
        async with app.router.lifespan_context(app):
            runtime = app.state.vouch
            await runtime.limiter.reset()
            keys = await make_keys(runtime)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
                await register(c, keys, receiver.url)
                await verified_proof(c, keys.test_headers)
                await drain(runtime)  # one delivered
                receiver.status = 500
                for _ in range(3):
                    await verified_proof(c, keys.test_headers)
                await drain(runtime)
                rows = await deliveries(runtime)
                assert sorted((r.status, r.attempts) for r in rows) == [
                    ("delivered", 1),
                    ("pending", 1),
                    ("pending", 1),
                    ("pending", 1),
                ]
                stats = (
                    await c.get("/api/v1/webhook-deliveries/stats", headers=keys.test_headers)
                ).json()
        assert stats["by_status"] == {"pending": 3, "delivered": 1, "failed": 0}
        assert stats["retrying"] == 3 and stats["recent_failures_24h"] == 3
        # One of four delivered: 25%, where counting only finished deliveries said 100%.
        assert stats["delivery_rate"] == "25.0%" and stats["success_rate"] == 25.0
