"""``POST /v1/verify/challenge`` and ``GET /v1/verify/status/{session_id}`` (ZeroProof's shapes)."""

from __future__ import annotations

import base64
import re
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from tests.agents.factories import IndependentAgent, api, challenge, register, submit
from tests.fixtures.tenancy import Keys
from vouch_server.kit.clock import parse_instant, utcnow
from vouch_server.models.agents import AgentChallenge
from vouch_server.runtime import Runtime


@pytest.fixture
def headers(keys: Keys) -> dict[str, str]:
    return api(keys.test)


class TestCreateChallenge:
    async def test_has_zeroproofs_shape(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        await register(client, headers)
        before = int(time.time() * 1000)
        ch = await challenge(client, headers, context={"amount": 10})
        assert re.fullmatch(r"ch_[a-z0-9]{16}", ch["challenge_id"])
        assert len(base64.urlsafe_b64decode(ch["nonce"] + "=")) * 8 >= 128
        assert ch["expires_in"] == 300
        assert before - 5 <= ch["timestamp"] <= int(time.time() * 1000) + 5
        assert ch["agent_id"] == "shop-bot-001"
        assert ch["action"] == "purchase"
        assert ch["context"] == {"amount": 10}
        created = ch["timestamp"] / 1000
        assert parse_instant(ch["expires_at"]).timestamp() == pytest.approx(created + 300)

    async def test_every_challenge_is_new(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        await register(client, headers)
        made = [await challenge(client, headers) for _ in range(5)]
        assert len({c["challenge_id"] for c in made}) == 5
        assert len({c["nonce"] for c in made}) == 5

    async def test_unknown_agent_is_a_clear_404(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.post(
            "/v1/verify/challenge", json={"agent_id": "ghost", "action": "buy"}, headers=headers
        )
        assert response.status_code == 404
        assert response.json() == {
            "error": "Agent not found",
            "message": "No agent 'ghost' is registered in this project",
        }

    async def test_deleted_agent_is_404(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        await register(client, headers)
        await client.delete("/v1/agents/shop-bot-001", headers=headers)
        response = await client.post(
            "/v1/verify/challenge",
            json={"agent_id": "shop-bot-001", "action": "buy"},
            headers=headers,
        )
        assert response.status_code == 404

    async def test_agent_without_an_active_key_is_409(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        agent = IndependentAgent()
        await register(client, headers, agent)
        await client.delete(f"/v1/agents/shop-bot-001/keys/{agent.kid}", headers=headers)
        response = await client.post(
            "/v1/verify/challenge",
            json={"agent_id": "shop-bot-001", "action": "buy"},
            headers=headers,
        )
        assert response.status_code == 409
        assert response.json()["error"] == "Agent has no active key"

    async def test_context_beyond_rfc8785_is_400(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        await register(client, headers)
        response = await client.post(
            "/v1/verify/challenge",
            json={"agent_id": "shop-bot-001", "action": "buy", "context": {"n": 2**60}},
            headers=headers,
        )
        assert response.status_code == 400
        assert response.json()["error"] == "Invalid context"

    @pytest.mark.parametrize(
        "body",
        [
            {"agent_id": "shop-bot-001"},
            {"agent_id": "shop-bot-001", "action": "two words"},
            {"agent_id": "shop-bot-001", "action": "buy", "context": [1, 2]},
        ],
        ids=["no-action", "action-with-space", "context-not-object"],
    )
    async def test_bad_body_is_400_invalid_request(
        self, client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, object]
    ) -> None:
        await register(client, headers)
        response = await client.post("/v1/verify/challenge", json=body, headers=headers)
        assert response.status_code == 400
        assert response.json()["error"] == "Invalid request"


class TestStatus:
    async def _status(
        self, client: httpx.AsyncClient, headers: dict[str, str], session_id: str
    ) -> httpx.Response:
        return await client.get(f"/v1/verify/status/{session_id}", headers=headers)

    async def test_pending_then_verified(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        agent = IndependentAgent()
        await register(client, headers, agent)
        ch = await challenge(client, headers)
        pending = (await self._status(client, headers, ch["challenge_id"])).json()
        assert list(pending)[:8] == [
            "session_id",
            "status",
            "agent_id",
            "action",
            "created_at",
            "verified_at",
            "confidence",
            "expires_at",
        ]
        assert pending["session_id"] == ch["challenge_id"]
        assert pending["status"] == "pending"
        assert pending["verified_at"] is None
        assert pending["confidence"] is None
        assert parse_instant(pending["created_at"]).timestamp() * 1000 == ch["timestamp"]
        proof = await submit(client, headers, ch["challenge_id"], agent.prove(ch))
        verified = (await self._status(client, headers, ch["challenge_id"])).json()
        assert verified["status"] == "verified"
        assert verified["confidence"] == 0.99
        assert verified["verified_at"] == proof.json()["timestamp"]
        assert verified["method"] == "signed-challenge"

    async def test_verified_at_keeps_milliseconds_and_never_precedes_created_at(
        self, client: httpx.AsyncClient, headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Created at .900 and verified 50 ms later in the same second: the status says .950 (a
        whole-second verified_at would read .000, before created_at)."""
        import vouch_server.agents.service as agent_service

        base = utcnow().replace(microsecond=900_000)
        agent = IndependentAgent()
        await register(client, headers, agent)
        monkeypatch.setattr(agent_service, "utcnow", lambda: base)
        ch = await challenge(client, headers)
        monkeypatch.setattr(agent_service, "utcnow", lambda: base + timedelta(milliseconds=50))
        await submit(client, headers, ch["challenge_id"], agent.prove(ch))
        status = (await self._status(client, headers, ch["challenge_id"])).json()
        assert status["status"] == "verified"
        assert status["created_at"].endswith(".900Z")
        assert status["verified_at"].endswith(".950Z")
        assert parse_instant(status["verified_at"]) >= parse_instant(status["created_at"])

    async def test_failed_shows_the_reason(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        await register(client, headers)
        ch = await challenge(client, headers)
        await submit(client, headers, ch["challenge_id"], "zz")
        failed = (await self._status(client, headers, ch["challenge_id"])).json()
        assert failed["status"] == "failed"
        assert failed["confidence"] is None
        assert failed["failure_reason"] == "Invalid proof format"

    async def test_expired_after_five_minutes(
        self, client: httpx.AsyncClient, headers: dict[str, str], runtime: Runtime
    ) -> None:
        await register(client, headers)
        ch = await challenge(client, headers)
        async with runtime.db.session() as session:
            await session.execute(
                update(AgentChallenge)
                .where(AgentChallenge.id == ch["challenge_id"])
                .values(expires_at=utcnow() - timedelta(milliseconds=1))
            )
        expired = (await self._status(client, headers, ch["challenge_id"])).json()
        assert expired["status"] == "expired"

    async def test_unknown_or_foreign_session_is_404(
        self, client: httpx.AsyncClient, headers: dict[str, str], keys: Keys
    ) -> None:
        await register(client, headers)
        ch = await challenge(client, headers)
        for key, session_id in (
            (keys.test, "ch_0000000000000000"),
            (keys.test, "bogus"),
            (keys.other_test, ch["challenge_id"]),
        ):
            response = await self._status(client, api(key), session_id)
            assert response.status_code == 404
            assert response.json()["error"] == "Session not found"
