"""One-time completion under concurrency (DESIGN principle 3): of 20 simultaneous submissions of
the same correct code, exactly one completes the verification and exactly one proof is minted."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select

from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import PHONE, create_verification
from vouch_server.control import service as control_service
from vouch_server.kit.clock import utcnow
from vouch_server.models import Proof
from vouch_server.runtime import Runtime


class TestConcurrentSubmissions:
    async def test_twenty_concurrent_correct_submissions_complete_once(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        data = await create_verification(client, keys.test_headers)
        body = {"challenge_code": data["challenge"]["code"], "source_identifier": PHONE}
        url = f"/api/v1/verifications/{data['id']}/submit"
        responses = await asyncio.gather(
            *(client.post(url, json=body, headers=keys.test_headers) for _ in range(20))
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses.count(200) == 1, [r.text for r in responses if r.status_code != 400]
        losers = [r.json()["error"]["code"] for r in responses if r.status_code != 200]
        assert set(losers) == {"invalid_status"}
        async with runtime.db.session() as session:
            proofs = await session.scalar(select(func.count()).select_from(Proof))
        assert proofs == 1
        winner = next(r for r in responses if r.status_code == 200).json()
        final = (
            await client.get(f"/api/v1/verifications/{data['id']}", headers=keys.test_headers)
        ).json()
        assert final["proof_token"] == winner["proof_token"]
        assert final["attempts"] == 0

    async def test_concurrent_wrong_codes_never_exceed_max_attempts(
        self, client: httpx.AsyncClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        data = await create_verification(
            client, keys.test_headers, type="email", channel="email", identifier="a@example.com"
        )
        # The 1 s backoff must not run out while 20 requests queue on a loaded machine: the
        # service's "now" stands still for the burst, so only the atomic UPDATE decides.
        frozen = utcnow()
        monkeypatch.setattr(control_service, "utcnow", lambda: frozen)
        wrong = "AAAAAA" if data["challenge"]["code"] != "AAAAAA" else "BBBBBB"
        url = f"/api/v1/verifications/{data['id']}/submit"
        responses = await asyncio.gather(
            *(client.post(url, json={"code": wrong}, headers=keys.test_headers) for _ in range(20))
        )
        counted = [r for r in responses if r.status_code == 400]
        assert len(counted) == 1  # backoff holds the rest off without counting them
        assert all(r.status_code == 429 for r in responses if r not in counted)
        final = (
            await client.get(f"/api/v1/verifications/{data['id']}", headers=keys.test_headers)
        ).json()
        assert final["attempts"] == 1
