"""``/api/v1/verification-requests`` over HTTP against the real app and database: bad input,
tenancy, the routes beside control's, cancellation, expiry, completion under concurrency, and the
``verification_request.*`` webhooks as a real receiver gets them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from tests.fixtures.receiver import Receiver, run_receiver
from tests.fixtures.tenancy import Keys, make_keys
from tests.fixtures.verifications import PHONE
from vouch_server.app import create_app
from vouch_server.kit.clock import utcnow
from vouch_server.models import (
    Proof,
    Verification,
    VerificationRequest,
    WebhookEvent,
)
from vouch_server.runtime import Runtime
from vouch_server.webhooks.delivery import DeliveryWorker

VECTORS = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "proof_holdings_test_vectors.json").read_text()
)

REQUESTS = "/api/v1/verification-requests"
EMAIL = "jane.doe@example.com"


@pytest.fixture
async def hook_app(settings_factory: Any) -> AsyncIterator[FastAPI]:
    """The app with loopback webhook targets allowed and the delivery worker driven here."""
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


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with run_receiver() as r:
        yield r


async def create(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    body.setdefault(
        "assets",
        [
            {"type": "phone", "identifier": PHONE, "allowed_channels": ["telegram"]},
            {"type": "email", "identifier": EMAIL},
        ],
    )
    response = await client.post(REQUESTS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def counts(runtime: Runtime) -> tuple[int, int]:
    async with runtime.db.session() as session:
        requests = await session.scalar(select(func.count()).select_from(VerificationRequest))
        verifications = await session.scalar(select(func.count()).select_from(Verification))
    return int(requests or 0), int(verifications or 0)


async def verifications_of(runtime: Runtime, ids: list[str]) -> dict[str, Verification]:
    async with runtime.db.session() as session:
        rows = await session.scalars(select(Verification).where(Verification.id.in_(ids)))
        return {v.id: v for v in rows}


async def events(runtime: Runtime, type_: str) -> list[dict[str, Any]]:
    async with runtime.db.session() as session:
        rows = await session.scalars(select(WebhookEvent).where(WebhookEvent.type == type_))
        return [dict(r.payload) for r in rows]


async def overdue(runtime: Runtime, request_id: str) -> None:
    """Time passing, as the database sees it: the request's deadline moves into the past."""
    async with runtime.db.session() as session, session.begin():
        await session.execute(
            update(VerificationRequest)
            .where(VerificationRequest.id == request_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


def backing(request: dict[str, Any]) -> list[str]:
    return [a["verification_id"] for a in request["assets"] if a["verification_id"]]


class TestBadInput:
    @pytest.mark.parametrize(
        ("body", "code", "field"),
        [
            ({"assets": []}, "validation_error", "assets"),
            (
                {"assets": [{"type": "email", "identifier": EMAIL}] * 11},
                "validation_error",
                "assets",
            ),
            (
                {"assets": [{"type": "phone", "allowed_channels": ["dns"]}]},
                "invalid_channel_for_type",
                "assets.0.allowed_channels.0",
            ),
            (
                {
                    "assets": [
                        {"type": "email", "identifier": EMAIL},
                        {"type": "phone", "identifier": "12"},
                    ]
                },
                "invalid_identifier",
                "assets.1.identifier",
            ),
            (
                {
                    "assets": [
                        {"type": "email", "identifier": EMAIL},
                        {"type": "email", "identifier": "Jane.Doe@Example.com"},
                    ]
                },
                "validation_error",
                "assets.1.identifier",
            ),
            (
                {"assets": [{"type": "email"}], "redirect_url": "javascript:alert(1)"},
                "validation_error",
                "redirect_url",
            ),
            (
                {"assets": [{"type": "email"}], "callback_url": "http://127.0.0.1:9/hook"},
                "validation_error",
                "callback_url",
            ),
            (
                {"assets": [{"type": "email"}], "expires_in": 604_801},
                "validation_error",
                "expires_in",
            ),
            (
                {"assets": [{"type": "email"}], "validity_requirement": "3y"},
                "validation_error",
                "validity_requirement",
            ),
        ],
        ids=[
            "no-assets",
            "eleven-assets",
            "channel-for-type",
            "bad-phone-in-second-asset",
            "same-email-twice",
            "javascript-redirect",
            "private-callback",
            "expires-past-7-days",
            "validity-unit",
        ],
    )
    async def test_is_refused_with_details_and_creates_nothing(
        self,
        client: httpx.AsyncClient,
        keys: Keys,
        runtime: Runtime,
        body: dict[str, Any],
        code: str,
        field: str,
    ) -> None:
        before = await counts(runtime)
        response = await client.post(REQUESTS, json=body, headers=keys.test_headers)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == code, error
        assert any(d["field"].startswith(field) for d in error["details"]), error
        # The first asset's verification is not left behind when the second one is refused.
        assert await counts(runtime) == before


class TestScope:
    async def test_another_project_or_mode_sees_nothing(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        created = await create(client, keys.test_headers, reference_id="order-1")
        for headers in (keys.auth(keys.other_test), keys.live_headers):
            for path in (
                f"{REQUESTS}/{created['id']}",
                f"{REQUESTS}/{created['id']}/proofs",
                f"{REQUESTS}/by-reference/order-1",
            ):
                response = await client.get(path, headers=headers)
                assert response.status_code == 404, (path, response.text)
            cancel = await client.delete(f"{REQUESTS}/{created['id']}", headers=headers)
            assert cancel.status_code == 404
            listed = await client.get(REQUESTS, headers=headers)
            assert created["id"] not in {r["id"] for r in listed.json()["data"]}
        still = await client.get(f"{REQUESTS}/{created['id']}", headers=keys.test_headers)
        assert still.json()["status"] == "pending"

    async def test_a_live_key_cannot_test_verify_an_asset(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        # An asset the person identifies: no live channel is needed until the person starts it.
        created = await create(client, keys.live_headers, assets=[{"type": "email"}])
        response = await client.post(
            f"{REQUESTS}/{created['id']}/assets/0/test-verify",
            json={"identifier": EMAIL},
            headers=keys.live_headers,
        )
        assert response.status_code == 403, response.text
        again = await client.get(f"{REQUESTS}/{created['id']}", headers=keys.live_headers)
        assert again.json()["assets"][0]["status"] == "pending"

    async def test_verified_users_is_not_read_as_a_verification_id(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await client.get("/api/v1/verifications/users", headers=keys.test_headers)
        assert response.status_code == 200, response.text
        assert response.json()["data"] == []
        one = await client.get("/api/v1/verifications/users/nobody", headers=keys.test_headers)
        assert one.status_code == 404
        assert one.json()["error"]["message"] == "Verified user not found"


class TestEnding:
    async def test_cancel_ends_the_backing_verifications_for_good(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        created = await create(client, keys.test_headers)
        response = await client.delete(f"{REQUESTS}/{created['id']}", headers=keys.test_headers)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "cancelled"
        ended = await verifications_of(runtime, backing(created))
        assert {(v.status, v.failure_reason) for v in ended.values()} == {
            ("expired", "request_cancelled")
        }
        # The person finishing a challenge afterwards completes nothing and mints no proof.
        for verification_id in backing(created):
            late = await client.post(
                f"/api/v1/verifications/{verification_id}/test-verify", headers=keys.test_headers
            )
            assert late.status_code == 400, late.text
        async with runtime.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(Proof)) == 0
        again = await client.delete(f"{REQUESTS}/{created['id']}", headers=keys.test_headers)
        assert again.status_code == 400
        assert again.json()["error"]["code"] == "invalid_status"

    async def test_an_overdue_request_expires_and_says_so_once(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        created = await create(client, keys.test_headers)
        await overdue(runtime, created["id"])
        read = await client.get(f"{REQUESTS}/{created['id']}", headers=keys.test_headers)
        assert read.json()["status"] == "expired"
        assert read.json()["computed_state"]["is_expired"] is True
        await client.get(f"{REQUESTS}/{created['id']}", headers=keys.test_headers)
        assert len(await events(runtime, "verification_request.expired")) == 1
        ended = await verifications_of(runtime, backing(created))
        assert {v.failure_reason for v in ended.values()} == {"request_expired"}
        late = await client.post(
            f"{REQUESTS}/{created['id']}/assets/0/test-verify", headers=keys.test_headers
        )
        assert late.status_code == 400
        cancel = await client.delete(f"{REQUESTS}/{created['id']}", headers=keys.test_headers)
        assert cancel.json()["error"]["code"] == "invalid_status"

    async def test_partial_ok_completes_at_the_deadline_with_what_it_has(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        created = await create(client, keys.test_headers, partial_ok=True)
        first = await client.post(
            f"{REQUESTS}/{created['id']}/assets/0/test-verify", headers=keys.test_headers
        )
        assert first.json()["status"] == "partial"
        assert len(await events(runtime, "verification_request.partial")) == 1
        await overdue(runtime, created["id"])
        read = await client.get(f"{REQUESTS}/{created['id']}", headers=keys.test_headers)
        assert read.json()["status"] == "completed"
        (completed,) = await events(runtime, "verification_request.completed")
        assert [p["type"] for p in completed["proofs"]] == ["phone"]
        assert await events(runtime, "verification_request.expired") == []

    async def test_completion_ends_an_optional_asset_still_pending(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        created = await create(
            client,
            keys.test_headers,
            assets=[
                {"type": "email", "identifier": EMAIL},
                {"type": "phone", "identifier": PHONE, "required": False},
            ],
        )
        done = await client.post(
            f"{REQUESTS}/{created['id']}/assets/0/test-verify", headers=keys.test_headers
        )
        assert done.json()["status"] == "completed"
        optional = (await verifications_of(runtime, [backing(created)[1]]))[backing(created)[1]]
        assert (optional.status, optional.failure_reason) == ("expired", "request_completed")


class TestCompletion:
    async def test_assets_completing_together_complete_the_request_once(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        created = await create(client, keys.test_headers)
        results = await asyncio.gather(
            *(
                client.post(f"/api/v1/verifications/{v}/test-verify", headers=keys.test_headers)
                for v in backing(created)
            )
        )
        assert [r.status_code for r in results] == [200, 200], [r.text for r in results]
        read = await client.get(f"{REQUESTS}/{created['id']}", headers=keys.test_headers)
        assert read.json()["status"] == "completed"
        assert len(await events(runtime, "verification_request.completed")) == 1

    async def test_the_completed_webhook_reaches_a_receiver_as_the_golden_vector_says(
        self, hc: httpx.AsyncClient, hkeys: Keys, hook_app: FastAPI, receiver: Receiver
    ) -> None:
        runtime: Runtime = hook_app.state.vouch
        created = await create(
            hc,
            hkeys.test_headers,
            reference_id="signup-42",
            client_metadata={"plan": "pro"},
            callback_url=receiver.url,
        )
        for index in range(2):
            response = await hc.post(
                f"{REQUESTS}/{created['id']}/assets/{index}/test-verify",
                headers=hkeys.test_headers,
            )
            assert response.status_code == 200, response.text
        async with DeliveryWorker(runtime) as worker:
            while await worker.run_once():
                pass
        bodies = [json.loads(r.body) for r in receiver.requests]
        completed = [b for b in bodies if b.get("event") == "verification_request.completed"]
        assert len(completed) == 1, bodies
        payload = completed[0]
        expected = VECTORS["test_mode_vectors"]["test_mode_webhook_payload"]
        assert expected["expected_payload_contains"].items() <= payload.items()
        assert payload["request_id"] == created["id"]
        assert payload["reference_id"] == "signup-42"
        assert payload["client_metadata"] == {"plan": "pro"}
        assert {p["type"] for p in payload["proofs"]} == {"phone", "email"}
        assert all(p["proof_token"] for p in payload["proofs"])


class TestList:
    async def test_cursor_walks_every_request_once_newest_first(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        made = [
            (await create(client, keys.test_headers, assets=[{"type": "email"}]))["id"]
            for _ in range(5)
        ]
        seen: list[str] = []
        params: dict[str, Any] = {"limit": 2}
        while True:
            response = await client.get(REQUESTS, params=params, headers=keys.test_headers)
            assert response.status_code == 200, response.text
            body = response.json()
            seen += [r["id"] for r in body["data"]]
            assert body["pagination"]["total"] == 5
            assert body["pagination"]["total_pages"] == 3
            if not body["pagination"]["hasMore"]:
                break
            params = {"limit": 2, "cursor": body["pagination"]["nextCursor"]}
        assert seen == list(reversed(made))
        foreign = await client.get(
            REQUESTS, params={"cursor": made[0]}, headers=keys.auth(keys.other_test)
        )
        assert foreign.status_code == 400
        assert foreign.json()["error"]["details"][0]["field"] == "cursor"
