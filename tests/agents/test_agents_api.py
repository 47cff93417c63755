"""``/v1/agents``: registering agents and their Ed25519 keys, rotation, revocation, deletion."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.agents.factories import IndependentAgent, api, register
from tests.fixtures.tenancy import Keys


@pytest.fixture
def headers(keys: Keys) -> dict[str, str]:
    return api(keys.test)


async def _post(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> httpx.Response:
    return await client.post("/v1/agents", json=body, headers=headers)


class TestRegister:
    async def test_raw_base64url_key_registers_with_its_thumbprint(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        agent = IndependentAgent()
        response = await _post(
            client,
            headers,
            {"agent_id": "shop-bot-001", "name": "Shop bot", "public_key": agent.public_key},
        )
        assert response.status_code == 201
        body = response.json()
        assert body["agent_id"] == "shop-bot-001"
        assert body["name"] == "Shop bot"
        assert body["status"] == "active"
        assert body["test_mode"] is True
        [key] = body["keys"]
        assert key["kid"] == agent.kid
        assert key["public_key"] == agent.public_key
        assert key["jwk"] == {**agent.jwk, "kid": agent.kid}
        assert key["status"] == "active"

    async def test_jwk_registers(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        agent = IndependentAgent()
        body = await register(client, headers, agent, public_key={**agent.jwk, "alg": "EdDSA"})
        assert body["keys"][0]["kid"] == agent.kid

    @pytest.mark.parametrize(
        ("public_key", "fragment"),
        [
            ("not base64!", "base64url"),
            (base64.urlsafe_b64encode(b"\x01" * 31).decode().rstrip("="), "32 bytes"),
            (base64.urlsafe_b64encode(bytes(32)).decode().rstrip("="), "small order"),
            ({"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}, "OKP"),
            ({"kty": "OKP", "crv": "Ed25519"}, '"x"'),
            ({"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "alg": "RS256"}, "alg"),
        ],
        ids=["not-base64", "short", "small-order", "not-okp", "no-x", "wrong-alg"],
    )
    async def test_unusable_key_is_400_with_the_reason(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        public_key: Any,
        fragment: str,
    ) -> None:
        response = await _post(client, headers, {"agent_id": "bot", "public_key": public_key})
        assert response.status_code == 400
        body = response.json()
        assert body["error"] == "Invalid public key"
        assert fragment in body["message"]

    async def test_private_jwk_is_refused_and_not_stored(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        agent = IndependentAgent()
        response = await _post(
            client, headers, {"agent_id": "bot", "public_key": agent.private_jwk}
        )
        assert response.status_code == 400
        assert "private key" in response.json()["message"]
        assert (await client.get("/v1/agents/bot", headers=headers)).status_code == 404

    async def test_duplicate_agent_id_is_409(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        await register(client, headers)
        response = await _post(
            client,
            headers,
            {"agent_id": "shop-bot-001", "public_key": IndependentAgent().public_key},
        )
        assert response.status_code == 409
        assert response.json()["error"] == "Agent already exists"

    async def test_one_key_cannot_serve_two_agents(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        agent = IndependentAgent()
        await register(client, headers, agent)
        response = await _post(client, headers, {"agent_id": "twin", "public_key": agent.jwk})
        assert response.status_code == 409
        assert response.json()["error"] == "Key already registered"

    @pytest.mark.parametrize("agent_id", ["", "has space", "new\nline", "-leading", "x" * 129])
    async def test_agent_id_must_be_a_single_token(
        self, client: httpx.AsyncClient, headers: dict[str, str], agent_id: str
    ) -> None:
        response = await _post(
            client, headers, {"agent_id": agent_id, "public_key": IndependentAgent().public_key}
        )
        assert response.status_code == 400
        body = response.json()
        assert body["error"] == "Invalid request"
        assert body["details"][0]["field"] == "agent_id"

    async def test_agents_are_per_project_and_environment(
        self, client: httpx.AsyncClient, headers: dict[str, str], keys: Keys
    ) -> None:
        agent = IndependentAgent()
        await register(client, headers, agent)
        for other in (keys.other_test, keys.live):
            assert (
                await client.get("/v1/agents/shop-bot-001", headers=api(other))
            ).status_code == 404
            # The same id and key are free to register elsewhere.
            await register(client, api(other), agent)


class TestList:
    async def test_pages_in_agent_id_order_without_deleted_agents(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        for agent_id in ("c-bot", "a-bot", "b-bot", "d-bot"):
            await register(client, headers, agent_id=agent_id)
        await client.delete("/v1/agents/d-bot", headers=headers)
        first = (await client.get("/v1/agents?limit=2", headers=headers)).json()
        assert [a["agent_id"] for a in first["data"]] == ["a-bot", "b-bot"]
        assert first["has_more"] is True
        second = (
            await client.get(f"/v1/agents?limit=2&cursor={first['next_cursor']}", headers=headers)
        ).json()
        assert [a["agent_id"] for a in second["data"]] == ["c-bot"]
        assert second["has_more"] is False
        assert second["next_cursor"] is None


class TestDelete:
    async def test_delete_revokes_every_key_and_is_idempotent(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        await register(client, headers)
        deleted = await client.delete("/v1/agents/shop-bot-001", headers=headers)
        assert deleted.status_code == 200
        body = deleted.json()
        assert body["status"] == "deleted"
        assert body["deleted_at"] is not None
        assert {k["status"] for k in body["keys"]} == {"revoked"}
        again = await client.delete("/v1/agents/shop-bot-001", headers=headers)
        assert again.json()["deleted_at"] == body["deleted_at"]
        shown = (await client.get("/v1/agents/shop-bot-001", headers=headers)).json()
        assert shown["status"] == "deleted"

    async def test_deleted_agent_id_is_never_reused(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        await register(client, headers)
        await client.delete("/v1/agents/shop-bot-001", headers=headers)
        response = await _post(
            client,
            headers,
            {"agent_id": "shop-bot-001", "public_key": IndependentAgent().public_key},
        )
        assert response.status_code == 409

    async def test_unknown_agent_is_404(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.delete("/v1/agents/ghost", headers=headers)
        assert response.status_code == 404
        assert response.json() == {
            "error": "Agent not found",
            "message": "No agent 'ghost' is registered in this project",
        }


class TestRotate:
    async def test_new_key_revokes_the_previous_by_default(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        old, new = IndependentAgent(), IndependentAgent()
        await register(client, headers, old)
        response = await client.post(
            "/v1/agents/shop-bot-001/keys", json={"public_key": new.public_key}, headers=headers
        )
        assert response.status_code == 201
        keys = {k["kid"]: k["status"] for k in response.json()["keys"]}
        assert keys == {old.kid: "revoked", new.kid: "active"}

    async def test_overlap_keeps_the_previous_key_active(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        old, new = IndependentAgent(), IndependentAgent()
        await register(client, headers, old)
        response = await client.post(
            "/v1/agents/shop-bot-001/keys",
            json={"public_key": new.jwk, "revoke_previous": False},
            headers=headers,
        )
        assert {k["status"] for k in response.json()["keys"]} == {"active"}

    async def test_revoked_key_cannot_come_back(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        old = IndependentAgent()
        await register(client, headers, old)
        await client.post(
            "/v1/agents/shop-bot-001/keys",
            json={"public_key": IndependentAgent().public_key},
            headers=headers,
        )
        response = await client.post(
            "/v1/agents/shop-bot-001/keys", json={"public_key": old.public_key}, headers=headers
        )
        assert response.status_code == 409
        assert "revoked" in response.json()["message"]

    async def test_keys_of_a_deleted_agent_cannot_be_added(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        await register(client, headers)
        await client.delete("/v1/agents/shop-bot-001", headers=headers)
        response = await client.post(
            "/v1/agents/shop-bot-001/keys",
            json={"public_key": IndependentAgent().public_key},
            headers=headers,
        )
        assert response.status_code == 404


class TestRevokeKey:
    async def test_revokes_one_key_once(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        agent = IndependentAgent()
        await register(client, headers, agent)
        url = f"/v1/agents/shop-bot-001/keys/{agent.kid}"
        first = await client.delete(url, headers=headers)
        assert first.status_code == 200
        assert first.json()["keys"][0]["status"] == "revoked"
        second = await client.delete(url, headers=headers)
        assert second.status_code == 409
        assert second.json()["error"] == "Key already revoked"

    async def test_unknown_kid_is_404(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        await register(client, headers)
        response = await client.delete("/v1/agents/shop-bot-001/keys/nope", headers=headers)
        assert response.status_code == 404
        assert response.json()["error"] == "Key not found"
