"""proof.holdings' own Python SDK (``proof-holdings-sdk``) driving vouch's verification requests
and verified users: ``verification_requests.*`` and ``verifications.list_verified_users`` /
``get_verified_user``, unchanged, against the in-process app (only its httpx client is pointed at
the app through ``httpx.ASGITransport``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures import proof_sdk
from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import PHONE

BASE = "https://vouch.test"


@pytest.fixture(scope="session")
def sdk_module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return proof_sdk.load(tmp_path_factory.mktemp("proof_sdk"))


async def _client(sdk_module: Any, app: FastAPI, key: str) -> Any:
    client = sdk_module.Proof(key, base_url=BASE, max_retries=0)
    # The SDK's own client (its headers, its base URL), with only the transport swapped.
    client._http._get_client()._transport = httpx.ASGITransport(app=app)
    return client


@pytest.fixture
async def proof(sdk_module: Any, app: FastAPI, keys: Keys) -> AsyncIterator[Any]:
    client = await _client(sdk_module, app, keys.test)
    yield client
    await client.close()


@pytest.fixture
async def other_proof(sdk_module: Any, app: FastAPI, keys: Keys) -> AsyncIterator[Any]:
    client = await _client(sdk_module, app, keys.other_test)
    yield client
    await client.close()


ASSETS = [
    {"type": "phone", "identifier": PHONE, "allowed_channels": ["telegram", "whatsapp"]},
    {"type": "email", "identifier": "Jane.Doe@Example.com", "channel": "email"},
    {"type": "domain", "identifier": None, "required": False},
]


class TestVerificationRequestsThroughTheSdk:
    async def test_create_then_test_verify_each_asset_completes_the_request(
        self, proof: Any
    ) -> None:
        created = await proof.verification_requests.create(
            assets=ASSETS,
            reference_id="order_12345",
            action_type="custom",
            action_context={"title": "Verify your identity", "description": "Before payout"},
            redirect_url="https://shop.example/done",
            expires_in=3600,
        )
        assert created["status"] == "pending"
        assert created["verification_url"] == f"{BASE}/verify/{created['id']}"
        phone, email, domain = created["assets"]
        assert phone["identifier"] == PHONE and phone["current_channel"] == "telegram"
        assert email["identifier"] == "jane.doe@example.com"  # normalized
        assert domain["identifier"] is None and domain["verification_id"] is None
        assert created["progress"] == {
            "verified": 0,
            "total": 3,
            "required": 2,
            "required_verified": 0,
        }

        # Each fixed asset is an ordinary verification: the SDK's own test-verify completes it.
        first = await proof.verifications.test_verify(phone["verification_id"])
        assert first["status"] == "verified"
        partial = await proof.verification_requests.retrieve(created["id"])
        assert partial["status"] == "partial"
        assert partial["assets"][0]["proof_token"] == first["proof_token"]
        await proof.verifications.test_verify(email["verification_id"])

        done = await proof.verification_requests.wait_for_completion(
            created["id"], interval=0.01, jitter=0
        )
        assert done["status"] == "completed" and done["completed_at"]
        assert done["assets"][1]["verified_identifier"] == "jane.doe@example.com"
        proofs = await proof.verification_requests.get_proofs(created["id"])
        assert [p["type"] for p in proofs["proofs"]] == ["phone", "email"]
        assert proofs["proofs"][0]["proof_token"] == first["proof_token"]
        by_reference = await proof.verification_requests.get_by_reference("order_12345")
        assert by_reference["id"] == created["id"]

    async def test_list_filters_and_cancel(self, proof: Any) -> None:
        kept = await proof.verification_requests.create(assets=ASSETS[:1], reference_id="a")
        dropped = await proof.verification_requests.create(assets=ASSETS[:1], reference_id="b")

        cancelled = await proof.verification_requests.cancel(dropped["id"])
        assert cancelled["status"] == "cancelled" and cancelled["success"] is True

        listing = await proof.verification_requests.list(limit=10)
        assert [r["id"] for r in listing["data"]] == [dropped["id"], kept["id"]]
        assert listing["data"][0]["asset_count"] == 1
        assert listing["pagination"]["total"] == 2
        only = await proof.verification_requests.list(status="pending")
        assert [r["id"] for r in only["data"]] == [kept["id"]]
        by_ref = await proof.verification_requests.list(reference_id="b")
        assert [r["status"] for r in by_ref["data"]] == ["cancelled"]
        ended = await proof.verification_requests.wait_for_completion(
            dropped["id"], interval=0.01, jitter=0
        )
        assert ended["status"] == "cancelled"

    async def test_another_project_sees_none_of_it(self, proof: Any, other_proof: Any) -> None:
        created = await proof.verification_requests.create(assets=ASSETS[:1], reference_id="x")
        from proof_sdk.errors import NotFoundError

        with pytest.raises(NotFoundError):
            await other_proof.verification_requests.retrieve(created["id"])
        with pytest.raises(NotFoundError):
            await other_proof.verification_requests.get_by_reference("x")
        with pytest.raises(NotFoundError):
            await other_proof.verification_requests.cancel(created["id"])
        with pytest.raises(NotFoundError):
            await other_proof.verification_requests.get_proofs(created["id"])
        assert (await other_proof.verification_requests.list())["data"] == []

    async def test_bad_input_raises_the_sdks_validation_error(self, proof: Any) -> None:
        from proof_sdk.errors import ValidationError

        with pytest.raises(ValidationError) as caught:
            await proof.verification_requests.create(assets=[])
        assert caught.value.code == "validation_error"
        with pytest.raises(ValidationError):
            await proof.verification_requests.create(assets=ASSETS, expires_in=7 * 86400 + 1)


class TestVerifiedUsersThroughTheSdk:
    async def test_users_are_grouped_and_masked(self, proof: Any) -> None:
        for body in (
            {"type": "phone", "channel": "telegram", "identifier": PHONE},
            {"type": "email", "channel": "email", "identifier": "jane@example.com"},
        ):
            made = await proof.verifications.create(**body, external_user_id="user_1")
            await proof.verifications.test_verify(made["id"])
        await proof.verifications.create(  # pending: not a verified user's verification
            type="phone", channel="sms", identifier="+14155550100", external_user_id="user_2"
        )

        listing = await proof.verifications.list_verified_users()
        assert [u["external_user_id"] for u in listing["data"]] == ["user_1"]
        (user,) = listing["data"]
        assert user["verification_count"] == 2
        assert user["types_verified"] == ["email", "phone"]
        shown = {v["type"]: v["identifier"] for v in user["verifications"]}
        assert shown == {"phone": "+370****9199", "email": "j***@example.com"}
        assert user["first_verified_at"] <= user["last_verified_at"]

        detail = await proof.verifications.get_verified_user("user_1")
        assert {v["status"] for v in detail["verifications"]} == {"verified"}
        assert all(v["has_proof"] for v in detail["verifications"])
        assert PHONE not in str(detail)

        from proof_sdk.errors import NotFoundError

        with pytest.raises(NotFoundError):
            await proof.verifications.get_verified_user("user_2")
