"""``POST /v1/verify/proof``: an agent that knows only the documented proof string is verified,
gets a proof token that verifies offline, and every way a proof can be wrong gets ZeroProof's
error body (seed ``002_…``)."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from tests.agents.factories import (
    IndependentAgent,
    api,
    challenge,
    needs_node,
    node,
    register,
    submit,
)
from tests.fixtures.tenancy import Keys
from vouch_client import AsyncVerifier
from vouch_server.kit.clock import parse_instant, utcnow
from vouch_server.models import Proof
from vouch_server.models.agents import AgentChallenge
from vouch_server.runtime import Runtime

FAILED = "Proof verification failed"


@pytest.fixture
def headers(keys: Keys) -> dict[str, str]:
    return api(keys.test)


@pytest.fixture
def live_headers(keys: Keys) -> dict[str, str]:
    """A live key: an agent proof rests on the agent's own signature, so it is a live proof."""
    return api(keys.live)


@pytest.fixture
def agent() -> IndependentAgent:
    return IndependentAgent()


async def _ready(
    client: httpx.AsyncClient, headers: dict[str, str], agent: IndependentAgent, **kw: Any
) -> dict[str, Any]:
    await register(client, headers, agent)
    return await challenge(client, headers, **kw)


def _asgi(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://vouch.test")


class TestVerifiedProof:
    async def test_agent_written_from_the_docs_is_verified(
        self, client: httpx.AsyncClient, headers: dict[str, str], agent: IndependentAgent
    ) -> None:
        ch = await _ready(client, headers, agent, context={"amount": 42.5, "currency": "EUR"})
        response = await submit(client, headers, ch["challenge_id"], agent.prove(ch))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["verified"] is True
        assert body["agent_id"] == "shop-bot-001"
        assert body["action"] == "purchase"
        assert body["confidence"] == 0.99
        assert body["session_id"] == ch["challenge_id"]
        assert abs(parse_instant(body["timestamp"]) - utcnow()) < timedelta(seconds=5)
        assert body["agent_key_id"] == agent.kid
        assert body["method"] == "signed-challenge"

    async def test_proof_token_verifies_offline_with_only_the_jwks(
        self, client: httpx.AsyncClient, live_headers: dict[str, str], agent: IndependentAgent
    ) -> None:
        headers = live_headers
        ch = await _ready(client, headers, agent, context={"cart": ["sku-1"]})
        body = (await submit(client, headers, ch["challenge_id"], agent.prove(ch))).json()
        jwks = (await client.get("/.well-known/jwks.json")).json()
        token = body["proof_token"]
        kid = jwt.get_unverified_header(token)["kid"]
        key = next(k for k in jwks["keys"] if k["kid"] == kid)
        claims = jwt.decode(
            token, jwt.PyJWK(key).key, algorithms=[key["alg"]], issuer="https://vouch.test"
        )
        assert claims["type"] == "agent"
        assert claims["sub"] == body["proof_id"]
        assert claims["session_id"] == ch["challenge_id"]
        assert claims["agent_id"] == "shop-bot-001"
        assert claims["action"] == "purchase"
        assert claims["confidence"] == 0.99
        assert claims["agent_key_id"] == agent.kid
        assert claims["context_sha256"] == agent.message(ch).decode().splitlines()[-1]
        assert claims["exp"] - claims["iat"] == 3600
        assert "test" not in claims

    async def test_proof_token_passes_the_sdk_verifier_and_validate(
        self,
        client: httpx.AsyncClient,
        live_headers: dict[str, str],
        agent: IndependentAgent,
        app: FastAPI,
    ) -> None:
        headers = live_headers
        ch = await _ready(client, headers, agent)
        body = (await submit(client, headers, ch["challenge_id"], agent.prove(ch))).json()
        token = body["proof_token"]
        async with AsyncVerifier("https://vouch.test", http_client=_asgi(app)) as verifier:
            claims = await verifier.verify(token, type="agent", channel="signed-challenge")
        assert claims.sub == body["proof_id"]
        validated = await client.post(
            "/api/v1/proofs/validate", json={"proof_token": token}, headers=headers
        )
        assert validated.json()["valid"] is True

    async def test_lowercase_hex_base64url_and_base64_proofs_are_accepted(
        self, client: httpx.AsyncClient, headers: dict[str, str], agent: IndependentAgent
    ) -> None:
        await register(client, headers, agent)
        encoders = [
            lambda b: b.hex().upper(),
            lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode(),
            lambda b: base64.b64encode(b).decode(),
        ]
        for encode in encoders:
            ch = await challenge(client, headers)
            raw = bytes.fromhex(agent.prove(ch))
            response = await submit(client, headers, ch["challenge_id"], encode(raw))
            assert response.status_code == 200, response.text

    async def test_a_rotated_in_key_proves_and_the_revoked_one_does_not(
        self, client: httpx.AsyncClient, headers: dict[str, str], agent: IndependentAgent
    ) -> None:
        await register(client, headers, agent)
        new = IndependentAgent()
        rotated = await client.post(
            "/v1/agents/shop-bot-001/keys", json={"public_key": new.jwk}, headers=headers
        )
        assert rotated.status_code == 201
        ch = await challenge(client, headers)
        old = await submit(client, headers, ch["challenge_id"], agent.prove(ch))
        assert old.status_code == 400
        ch = await challenge(client, headers)
        assert (await submit(client, headers, ch["challenge_id"], new.prove(ch))).status_code == 200

    async def test_agent_signature_equal_to_the_proof_is_accepted(
        self, client: httpx.AsyncClient, headers: dict[str, str], agent: IndependentAgent
    ) -> None:
        ch = await _ready(client, headers, agent)
        proof = agent.prove(ch)
        response = await submit(client, headers, ch["challenge_id"], proof, agent_signature=proof)
        assert response.status_code == 200


@needs_node
class TestNodeAgent:
    async def test_node_crypto_agent_is_verified(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        key = node({"op": "keygen"})
        await client.post(
            "/v1/agents",
            json={"agent_id": "node-bot", "public_key": key["public_key"]},
            headers=headers,
        )
        context = {"z": [1, 2.5, 1e21, "é"], "a": {"nested": True, "n": None}}
        ch = await challenge(client, headers, agent_id="node-bot", context=context)
        proof = node({"op": "prove", "private_jwk": key["private_jwk"], "challenge": ch})["proof"]
        response = await submit(client, headers, ch["challenge_id"], proof)
        assert response.status_code == 200, response.text
        assert response.json()["agent_key_id"] == key["kid"]


class TestRejectedProof:
    @pytest.mark.parametrize(
        "override",
        [
            {"nonce": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
            {"action": "refund"},
            {"context": {"amount": 43}},
            {"agent_id": "other-bot"},
        ],
        ids=["nonce", "action", "context", "agent_id"],
    )
    async def test_proof_over_anything_else_fails(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        agent: IndependentAgent,
        override: dict[str, Any],
    ) -> None:
        ch = await _ready(client, headers, agent, context={"amount": 42})
        response = await submit(client, headers, ch["challenge_id"], agent.prove(ch, **override))
        assert response.status_code == 400
        body = response.json()
        assert list(body) == ["verified", "error", "reason"]
        assert body["verified"] is False
        assert body["error"] == FAILED
        assert "does not verify" in body["reason"]

    async def test_proof_by_another_key_fails(
        self, client: httpx.AsyncClient, headers: dict[str, str], agent: IndependentAgent
    ) -> None:
        ch = await _ready(client, headers, agent)
        response = await submit(client, headers, ch["challenge_id"], IndependentAgent().prove(ch))
        assert response.status_code == 400
        assert response.json()["error"] == FAILED

    async def test_garbage_proof_is_invalid_proof_format(
        self, client: httpx.AsyncClient, headers: dict[str, str], agent: IndependentAgent
    ) -> None:
        ch = await _ready(client, headers, agent)
        response = await submit(client, headers, ch["challenge_id"], "a1b2c3d4e5f6...")
        assert response.status_code == 400
        assert response.json() == {
            "verified": False,
            "error": FAILED,
            "reason": "Invalid proof format",
        }

    async def test_mismatching_agent_signature_fails(
        self, client: httpx.AsyncClient, headers: dict[str, str], agent: IndependentAgent
    ) -> None:
        ch = await _ready(client, headers, agent)
        other = IndependentAgent().prove(ch)
        response = await submit(
            client, headers, ch["challenge_id"], agent.prove(ch), agent_signature=other
        )
        assert response.status_code == 400
        assert response.json()["reason"] == "agent_signature does not verify"

    async def test_expired_challenge_is_refused_even_with_a_good_proof(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        agent: IndependentAgent,
        runtime: Runtime,
    ) -> None:
        ch = await _ready(client, headers, agent)
        async with runtime.db.session() as session:
            await session.execute(
                update(AgentChallenge)
                .where(AgentChallenge.id == ch["challenge_id"])
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        response = await submit(client, headers, ch["challenge_id"], agent.prove(ch))
        assert response.status_code == 400
        assert response.json() == {"error": "Challenge expired", "verified": False}
        status = await client.get(f"/v1/verify/status/{ch['challenge_id']}", headers=headers)
        assert status.json()["status"] == "expired"

    async def test_second_proof_is_challenge_already_used(
        self, client: httpx.AsyncClient, headers: dict[str, str], agent: IndependentAgent
    ) -> None:
        ch = await _ready(client, headers, agent)
        proof = agent.prove(ch)
        assert (await submit(client, headers, ch["challenge_id"], proof)).status_code == 200
        again = await submit(client, headers, ch["challenge_id"], proof)
        assert again.status_code == 400
        assert again.json() == {
            "error": "Challenge already used",
            "verified": False,
            "previous_status": "verified",
        }

    async def test_failed_challenge_cannot_be_retried(
        self, client: httpx.AsyncClient, headers: dict[str, str], agent: IndependentAgent
    ) -> None:
        ch = await _ready(client, headers, agent)
        bad = await submit(client, headers, ch["challenge_id"], IndependentAgent().prove(ch))
        assert bad.status_code == 400
        good = await submit(client, headers, ch["challenge_id"], agent.prove(ch))
        assert good.status_code == 400
        assert good.json()["previous_status"] == "failed"

    async def test_unknown_challenge_is_404(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        for challenge_id in ("ch_7x9k2a8f3e1d9c4b", "not-a-challenge"):
            response = await submit(client, headers, challenge_id, "00" * 64)
            assert response.status_code == 404
            assert response.json() == {
                "error": "Challenge not found",
                "message": "Invalid or expired challenge_id",
            }

    async def test_challenge_of_another_project_is_404(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        keys: Keys,
        agent: IndependentAgent,
    ) -> None:
        ch = await _ready(client, headers, agent)
        response = await submit(client, api(keys.other_test), ch["challenge_id"], agent.prove(ch))
        assert response.status_code == 404

    async def test_live_key_cannot_use_a_test_challenge(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        keys: Keys,
        agent: IndependentAgent,
    ) -> None:
        ch = await _ready(client, headers, agent)
        response = await submit(client, api(keys.live), ch["challenge_id"], agent.prove(ch))
        assert response.status_code == 404

    async def test_deleted_agent_proves_nothing(
        self, client: httpx.AsyncClient, headers: dict[str, str], agent: IndependentAgent
    ) -> None:
        ch = await _ready(client, headers, agent)
        assert (await client.delete("/v1/agents/shop-bot-001", headers=headers)).status_code == 200
        response = await submit(client, headers, ch["challenge_id"], agent.prove(ch))
        assert response.status_code == 400
        assert response.json()["reason"] == "The agent has been deleted"

    async def test_revoked_key_proves_nothing(
        self, client: httpx.AsyncClient, headers: dict[str, str], agent: IndependentAgent
    ) -> None:
        ch = await _ready(client, headers, agent)
        revoked = await client.delete(f"/v1/agents/shop-bot-001/keys/{agent.kid}", headers=headers)
        assert revoked.status_code == 200
        response = await submit(client, headers, ch["challenge_id"], agent.prove(ch))
        assert response.status_code == 400
        assert response.json()["error"] == FAILED

    async def test_failures_mint_nothing(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        agent: IndependentAgent,
        runtime: Runtime,
    ) -> None:
        ch = await _ready(client, headers, agent)
        await submit(client, headers, ch["challenge_id"], IndependentAgent().prove(ch))
        async with runtime.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(Proof)) == 0


class TestAuth:
    async def test_missing_api_key_is_zeroproofs_401(self, client: httpx.AsyncClient) -> None:
        response = await submit(client, {}, "ch_7x9k2a8f3e1d9c4b", "00" * 64)
        assert response.status_code == 401
        assert response.json() == {
            "error": "Missing API key",
            "message": "Provide API key in X-Api-Key header",
        }

    async def test_wrong_api_key_is_401(self, client: httpx.AsyncClient) -> None:
        response = await submit(client, api("pk_test_" + "x" * 32), "ch_x", "00")
        assert response.status_code == 401
        assert response.json() == {
            "error": "Invalid API key",
            "message": "Provide API key in X-Api-Key header",
        }


class TestRevocation:
    async def test_revoked_agent_proof_shows_in_status_and_fails_validation(
        self, client: httpx.AsyncClient, headers: dict[str, str], agent: IndependentAgent
    ) -> None:
        ch = await _ready(client, headers, agent)
        body = (await submit(client, headers, ch["challenge_id"], agent.prove(ch))).json()
        token = body["proof_token"]
        revoke = await client.post(
            f"/api/v1/proofs/{body['proof_id']}/revoke",
            json={"reason": "key_compromise"},
            headers=headers,
        )
        assert revoke.status_code == 200, revoke.text
        status = (
            await client.get(f"/v1/verify/status/{ch['challenge_id']}", headers=headers)
        ).json()
        assert status["status"] == "verified"
        assert status["proof_revoked_at"] is not None
        validated = await client.post(
            "/api/v1/proofs/validate", json={"proof_token": token}, headers=headers
        )
        assert validated.json()["reason"] == "revoked"
