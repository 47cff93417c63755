"""One challenge, used once (DESIGN principle 3): of 20 simultaneous proofs for one challenge,
exactly one is verified and exactly one proof token is minted; the rest are told it was used."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from tests.agents.factories import IndependentAgent, api, challenge, register, submit
from tests.fixtures.tenancy import make_keys
from vouch_server.app import create_app
from vouch_server.models import Proof


@pytest.fixture
async def roomy_app(settings_factory: Any) -> Any:
    # 21 requests in well under a second: lift the 20/s burst so only the challenge rules answer.
    app = create_app(settings_factory(agent_rate_limit_burst="1000/second"))
    await app.state.vouch.limiter.reset()
    async with app.router.lifespan_context(app):
        yield app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://vouch.test")


class TestConcurrentProofs:
    async def test_twenty_concurrent_proofs_verify_exactly_once(self, roomy_app: FastAPI) -> None:
        keys = await make_keys(roomy_app.state.vouch)
        headers = api(keys.test)
        agent = IndependentAgent()
        async with _client(roomy_app) as client:
            await register(client, headers, agent)
            ch = await challenge(client, headers)
            proof = agent.prove(ch)
            responses = await asyncio.gather(
                *(submit(client, headers, ch["challenge_id"], proof) for _ in range(20))
            )
            status = await client.get(f"/v1/verify/status/{ch['challenge_id']}", headers=headers)
        winners = [r for r in responses if r.status_code == 200]
        assert len(winners) == 1, [r.text for r in responses]
        assert winners[0].json()["verified"] is True
        losers = [r.json() for r in responses if r.status_code != 200]
        assert all(r.status_code == 400 for r in responses if r.status_code != 200)
        assert (
            losers
            == [
                {
                    "error": "Challenge already used",
                    "verified": False,
                    "previous_status": "verified",
                }
            ]
            * 19
        )
        async with roomy_app.state.vouch.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(Proof)) == 1
        assert status.json()["status"] == "verified"
        assert status.json()["proof_id"] == winners[0].json()["proof_id"]

    async def test_a_bad_and_good_proof_racing_decide_the_challenge_once(
        self, roomy_app: FastAPI
    ) -> None:
        keys = await make_keys(roomy_app.state.vouch)
        headers = api(keys.test)
        agent = IndependentAgent()
        async with _client(roomy_app) as client:
            await register(client, headers, agent)
            ch = await challenge(client, headers)
            good, bad = agent.prove(ch), IndependentAgent().prove(ch)
            responses = await asyncio.gather(
                *(
                    submit(client, headers, ch["challenge_id"], good if i % 2 else bad)
                    for i in range(20)
                )
            )
            final = (
                await client.get(f"/v1/verify/status/{ch['challenge_id']}", headers=headers)
            ).json()["status"]
        deciders = [r.json() for r in responses if "previous_status" not in r.json()]
        # Exactly one request decided the challenge (verified, or failed by a bad proof).
        assert len(deciders) == 1, deciders
        used = {r.json()["previous_status"] for r in responses if "previous_status" in r.json()}
        assert used == {final}
