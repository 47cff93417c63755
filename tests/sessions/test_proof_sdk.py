"""proof.holdings' own Python SDK (``proof-holdings-sdk``) driving vouch's phone-first sessions:
``sessions.create`` / ``retrieve`` / ``wait_for_completion``, unchanged, against the in-process app
wired to the provider stand-ins (only the SDK's httpx client is pointed at the app); the person's
side is the Telegram stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.channels.test_telegram import post as post_telegram
from tests.channels.test_telegram import update as tg_update
from tests.fixtures import proof_sdk
from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import PHONE
from tests.sessions.test_api import code_of, contact

BASE = "https://vouch.test"


@pytest.fixture(scope="session")
def sdk_module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return proof_sdk.load(tmp_path_factory.mktemp("proof_sdk"))


@pytest.fixture
async def proof(sdk_module: Any, capp: FastAPI, ckeys: Keys) -> AsyncIterator[Any]:
    client = sdk_module.Proof(ckeys.live, base_url=BASE, max_retries=0)
    client._http._get_client()._transport = httpx.ASGITransport(app=capp)
    yield client
    await client.close()


class TestSessionsThroughTheSdk:
    async def test_create_retrieve_and_wait_until_the_person_verifies_on_telegram(
        self, proof: Any, cc: httpx.AsyncClient
    ) -> None:
        created = await proof.sessions.create(channel="telegram", client_metadata={"a": 1})
        assert created["id"].startswith("sess_") and created["status"] == "pending"
        assert created["qr_code"].startswith("data:image/png;base64,")
        assert created["qr_text"] == created["deep_link"]
        pending = await proof.sessions.retrieve(created["id"])
        assert pending["status"] == "pending" and "phone_number" not in pending

        await post_telegram(cc, tg_update(f"/start {code_of(created)}"))
        await post_telegram(cc, tg_update(contact=contact()))
        done = await proof.sessions.wait_for_completion(created["id"], interval=0.01, jitter=0)
        assert done["status"] == "verified" and done["phone_number"] == PHONE
        assert done["proof"]["token"] and done["verification_id"]
        single = await proof.verifications.retrieve(done["verification_id"])
        assert single["proof_token"] == done["proof"]["token"]

    async def test_sms_session_and_unknown_ids(self, proof: Any, sdk_module: Any) -> None:
        created = await proof.sessions.create(channel="sms")
        assert created["sms_code"] and created["sms_dids"]["americas"]["did"]
        with pytest.raises(sdk_module.NotFoundError):
            await proof.sessions.retrieve("sess_missing")
        with pytest.raises(sdk_module.ValidationError):
            await proof.sessions.create(channel="email")
