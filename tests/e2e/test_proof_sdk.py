"""proof.holdings' own offline verifier (``proof-holdings-sdk`` 1.2.0, ``Proofs.verify_offline``)
run unchanged against vouch: its JWKS rotation rules and its Token Status List reader.

Only the network under the SDK is swapped: its two httpx clients are pointed at the app through
``httpx.ASGITransport`` (the SDK builds them lazily, so the slots are filled before first use).
Its key-set clock is its own documented test seam; only the monotonic half is moved, to space
the two fetches its rules need before a tombstone applies.

vouch is run with ``VOUCH_ISSUER=proof.holdings``: the SDK accepts no other ``iss``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from tests.fixtures import proof_sdk
from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import live_proof
from vouch_server.config import Settings
from vouch_server.runtime import Runtime

BASE = "https://vouch.test"


@pytest.fixture(scope="session")
def sdk_module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return proof_sdk.load(tmp_path_factory.mktemp("proof_sdk"))


@pytest.fixture
def settings(settings_factory: Any) -> Settings:
    settings: Settings = settings_factory(issuer="proof.holdings")
    assert settings.public_url == BASE
    return settings


class _ShiftedClock:
    """The SDK's clock pair, with the monotonic half movable (wall time stays real, so tokens the
    server signs now are judged by the same time they were signed at)."""

    def __init__(self) -> None:
        self.offset_ms = 0.0

    def monotonic_ms(self) -> float:
        return time.monotonic() * 1000 + self.offset_ms

    def wall_ms(self) -> float:
        return time.time() * 1000

    def advance(self, seconds: float) -> None:
        self.offset_ms += seconds * 1000


@pytest.fixture
def sdk_clock(sdk_module: Any) -> Iterator[_ShiftedClock]:
    from importlib import import_module

    cache = import_module("proof_sdk.jwks.key_set_cache")
    clock = _ShiftedClock()
    cache.set_jwks_clock_for_tests(clock)
    yield clock
    cache.set_jwks_clock_for_tests(None)


@pytest.fixture
async def proof(
    sdk_module: Any, app: FastAPI, keys: Keys, sdk_clock: _ShiftedClock
) -> AsyncIterator[Any]:
    client = sdk_module.Proof(keys.live, base_url=BASE, max_retries=0)
    transport = httpx.ASGITransport(app=app)
    client._http._client = httpx.AsyncClient(transport=transport, base_url=BASE)
    client._http._public_client = httpx.AsyncClient(transport=transport)
    yield client
    await client.close()


async def _live_token(client: httpx.AsyncClient, runtime: Runtime, keys: Keys) -> dict[str, Any]:
    return await live_proof(
        client, runtime, keys.live_headers, type="phone", channel="telegram", identifier=PHONE
    )


PHONE = "+37069199199"


class TestVerifyOffline:
    async def test_a_live_proof_is_valid_with_its_status_checked(
        self, proof: Any, client: httpx.AsyncClient, runtime: Runtime, keys: Keys
    ) -> None:
        made = await _live_token(client, runtime, keys)

        result = await proof.proofs.verify_offline(made["proof_token"])

        assert result["valid"] is True, result
        assert result["revocation_checked"] is True
        assert result["payload"]["sub"] == made["id"]
        assert result["payload"]["iss"] == "proof.holdings"

    async def test_a_revoked_proof_answers_revoked(
        self, proof: Any, client: httpx.AsyncClient, runtime: Runtime, keys: Keys
    ) -> None:
        made = await _live_token(client, runtime, keys)
        other = await _live_token(client, runtime, keys)
        revoke = await client.post(
            f"/api/v1/proofs/{made['id']}/revoke",
            json={"reason": "fraud"},
            headers=keys.live_headers,
        )
        assert revoke.status_code == 200, revoke.text

        result = await proof.proofs.verify_offline(made["proof_token"])
        assert result["valid"] is False
        assert result["reason"] == "revoked"
        assert result["revocation_checked"] is True
        # Its neighbour in the same list is untouched.
        neighbour = await proof.proofs.verify_offline(other["proof_token"])
        assert neighbour["valid"] is True and neighbour["revocation_checked"] is True

    async def test_a_test_proof_is_not_accepted_by_the_live_key_set(
        self, proof: Any, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        created = await client.post(
            "/api/v1/verifications",
            json={"type": "phone", "channel": "telegram", "identifier": PHONE},
            headers=keys.test_headers,
        )
        done = await client.post(
            f"/api/v1/verifications/{created.json()['id']}/test-verify", headers=keys.test_headers
        )
        token = done.json()["proof_token"]

        result = await proof.proofs.verify_offline(token)

        assert result["valid"] is False
        assert result["reason"] in ("unknown_key", "status_unavailable")

    async def test_a_token_from_a_rotated_away_key_stays_valid_until_the_key_is_withdrawn(
        self,
        proof: Any,
        client: httpx.AsyncClient,
        runtime: Runtime,
        keys: Keys,
        sdk_clock: _ShiftedClock,
    ) -> None:
        before = await _live_token(client, runtime, keys)
        old_kid = jwt.get_unverified_header(before["proof_token"])["kid"]
        assert (await proof.proofs.verify_offline(before["proof_token"]))["valid"] is True

        async with runtime.db.session() as session:
            new = await runtime.keyring.rotate(session, immediate=True)
            await runtime.keyring.refresh(session, force=True)
        after = await _live_token(client, runtime, keys)
        assert jwt.get_unverified_header(after["proof_token"])["kid"] == new.kid

        # The SDK learns the new key and keeps the old one: both tokens verify.
        sdk_clock.advance(6 * 60)
        proof.proofs.refresh_jwks()
        assert (await proof.proofs.verify_offline(after["proof_token"]))["valid"] is True
        rotated = await proof.proofs.verify_offline(before["proof_token"])
        assert rotated["valid"] is True, rotated

        # Withdrawn (a compromise): the key leaves the JWKS as a tombstone. The SDK applies a
        # tombstone once two fetches at least five minutes apart carry it.
        async with runtime.db.session() as session:
            assert await runtime.keyring.withdraw(session, old_kid)
        jwks = (await client.get("/.well-known/jwks.json")).json()
        assert old_kid in {t["kid"] for t in jwks["proof_tombstones"]}
        assert old_kid not in {k["kid"] for k in jwks["keys"]}
        proof.proofs.refresh_jwks()
        await proof.proofs.verify_offline(before["proof_token"])
        sdk_clock.advance(6 * 60)
        proof.proofs.refresh_jwks()

        withdrawn = await proof.proofs.verify_offline(before["proof_token"])
        assert withdrawn["valid"] is False
        assert withdrawn["reason"] == "key_revoked"
        # Tokens of the new key are unaffected.
        assert (await proof.proofs.verify_offline(after["proof_token"]))["valid"] is True

    async def test_the_status_list_is_read_from_its_published_uri(
        self, client: httpx.AsyncClient, runtime: Runtime, keys: Keys
    ) -> None:
        made = await _live_token(client, runtime, keys)
        claims = jwt.decode(made["proof_token"], options={"verify_signature": False})
        uri = claims["status"]["status_list"]["uri"]
        assert uri.startswith(f"{BASE}/statuslists/live/")
        response = await client.get(uri.removeprefix(BASE))
        assert response.headers["content-type"] == "application/statuslist+jwt"
        assert jwt.get_unverified_header(response.text)["typ"] == "statuslist+jwt"
