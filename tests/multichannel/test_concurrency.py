"""First completion wins, once (DESIGN principle 3): two channels of one group completed at the
same moment in two transactions — through the API, and through control's own completion in two
database sessions — leave exactly one winner, one proof and one ``verification.completed``
event. Runs on SQLite always and on PostgreSQL when ``VOUCH_TEST_DATABASE_URL`` is set."""

from __future__ import annotations

import asyncio

import httpx

from tests.fixtures.tenancy import Keys
from tests.multichannel.helpers import create_group, group_status, proofs_and_completions
from vouch_server.control import service as control
from vouch_server.models import Verification
from vouch_server.runtime import Runtime

ROUNDS = 5


class TestTwoChannelsAtOnce:
    async def test_two_simultaneous_test_verifies_have_one_winner(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        for _ in range(ROUNDS):
            created = await create_group(client, keys.test_headers, channels=["telegram", "sms"])
            ids = [c["verification_id"] for c in created["channels"]]
            responses = await asyncio.gather(
                *(
                    client.post(
                        f"/api/v1/verifications/{id_}/test-verify", headers=keys.test_headers
                    )
                    for id_ in ids
                )
            )
            codes = sorted(r.status_code for r in responses)
            assert codes[0] == 200 and codes[1] in (400, 503), [r.text for r in responses]
            winner = ids[[r.status_code for r in responses].index(200)]
            status = await group_status(client, keys.test_headers, created["group_id"])
            assert status["status"] == "verified"
            assert status["verification_id"] == winner
            assert sorted(c["status"] for c in status["channels"]) == ["expired", "verified"]
            assert await proofs_and_completions(runtime, ids) == (1, 1)

    async def test_two_simultaneous_completions_in_two_sessions_have_one_winner(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        for _ in range(ROUNDS):
            created = await create_group(client, keys.live_headers, channels=["whatsapp", "sms"])
            ids = [c["verification_id"] for c in created["channels"]]
            started = asyncio.Barrier(2)

            async def complete(id_: str, started: asyncio.Barrier) -> bool:
                async with runtime.db.session() as session:
                    verification = await session.get(Verification, id_)
                    assert verification is not None
                    await started.wait()
                    return await control.complete(session, runtime, verification)

            outcomes = await asyncio.gather(
                *(complete(i, started) for i in ids), return_exceptions=True
            )
            assert sum(o is True for o in outcomes) == 1, outcomes
            status = await group_status(client, keys.live_headers, created["group_id"])
            assert status["status"] == "verified"
            assert status["verification_id"] == ids[outcomes.index(True)]
            assert sorted(c["status"] for c in status["channels"]) == ["expired", "verified"]
            assert await proofs_and_completions(runtime, ids) == (1, 1)
