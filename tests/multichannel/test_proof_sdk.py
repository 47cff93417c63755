"""proof.holdings' own Python SDK (``proof-holdings-sdk``) driving vouch's multi-channel
verifications: ``verifications.create_multi_channel`` and ``get_multi_channel_status``, unchanged,
against the in-process app (only its httpx client is pointed at the app)."""

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


@pytest.fixture
async def proof(sdk_module: Any, app: FastAPI, keys: Keys) -> AsyncIterator[Any]:
    client = sdk_module.Proof(keys.test, base_url=BASE, max_retries=0)
    # The SDK's own client (its headers, its base URL), with only the transport swapped.
    client._http._get_client()._transport = httpx.ASGITransport(app=app)
    yield client
    await client.close()


class TestMultiChannelThroughTheSdk:
    async def test_create_then_test_verify_one_channel_and_poll_the_group(
        self, proof: Any, sdk_module: Any
    ) -> None:
        created = await proof.verifications.create_multi_channel(
            type="phone",
            identifier="+370 691 99199",
            channels=["whatsapp", "telegram"],
            external_user_id="user_9",
            proof_expiry_days=30,
        )
        assert created["group_id"].startswith("vg_")
        assert created["identifier"] == PHONE and created["status"] == "pending"
        assert [c["channel"] for c in created["channels"]] == ["whatsapp", "telegram"]
        pending = await proof.verifications.get_multi_channel_status(created["group_id"])
        assert pending["status"] == "pending" and pending["winning_channel"] is None

        telegram = created["channels"][1]["verification_id"]
        verified = await proof.verifications.test_verify(telegram)
        status = await proof.verifications.get_multi_channel_status(created["group_id"])
        assert status["status"] == "verified" and status["winning_channel"] == "telegram"
        assert status["proof"]["token"] == verified["proof_token"]
        assert [c["status"] for c in status["channels"]] == ["expired", "verified"]

    async def test_bad_input_raises_the_sdks_validation_error(
        self, proof: Any, sdk_module: Any
    ) -> None:
        with pytest.raises(sdk_module.ValidationError):
            await proof.verifications.create_multi_channel(
                type="phone", identifier=PHONE, channels=["email"]
            )
        with pytest.raises(sdk_module.NotFoundError):
            await proof.verifications.get_multi_channel_status("vg_0000")
