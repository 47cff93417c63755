"""What the transports add around the tools: the bearer gate on ``/mcp``, public mode, and the
stdio-only agent key tool."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.mcp.conftest import VOUCH, ClientFactory, Live, http_client, stdio_client
from tests.mcp.test_tools import PHONE, ok, text_of
from vouch_server.mcp.server import offered
from vouch_server.mcp.tools import TOOLS

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


class TestBearerGate:
    async def test_no_key_reaches_the_public_server(self, live: Live) -> None:
        response = await live.http.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
        assert response.status_code == 200, response.text
        assert "Public mode" in response.text

    @pytest.mark.parametrize("authorization", ["Bearer", "Basic dXNlcjpwYXNz"])
    async def test_an_authorization_without_a_bearer_token_is_401(
        self, live: Live, authorization: str
    ) -> None:
        headers = {**MCP_HEADERS, "Authorization": authorization}
        response = await live.http.post("/mcp", json=INITIALIZE, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer ")
        assert response.json()["error"]["code"] == "invalid_api_key"

    async def test_an_unknown_key_is_401_invalid_token(self, live: Live) -> None:
        headers = {**MCP_HEADERS, "Authorization": "Bearer pk_test_" + "x" * 32}
        response = await live.http.post("/mcp", json=INITIALIZE, headers=headers)
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]

    async def test_a_valid_key_reaches_the_mcp_server(self, live: Live) -> None:
        headers = {**MCP_HEADERS, "Authorization": f"Bearer {live.keys.test}"}
        response = await live.http.post("/mcp", json=INITIALIZE, headers=headers)
        assert response.status_code == 200, response.text
        assert "vouch" in response.text

    async def test_the_edge_body_limit_applies(self, live: Live) -> None:
        headers = {**MCP_HEADERS, "Authorization": f"Bearer {live.keys.test}"}
        big = {**INITIALIZE, "params": {**INITIALIZE["params"], "pad": "x" * 20_000}}
        response = await live.http.post("/mcp", json=big, headers=headers)
        assert response.status_code == 413

    async def test_a_tool_call_acts_as_the_callers_project(self, live: Live) -> None:
        async with http_client(live, live.keys.test) as client:
            created = await ok(
                client,
                "create_verification",
                {"type": "phone", "channel": "telegram", "identifier": PHONE},
            )
        async with http_client(live, live.keys.other_test) as other:
            result = await other.call_tool("get_verification", {"verification_id": created["id"]})
        assert result.is_error and "[not_found]" in text_of(result)


class TestPublicMode:
    async def test_without_a_key_only_keyless_tools_are_offered_and_they_work(
        self, live: Live, connect: ClientFactory
    ) -> None:
        headers = {"Authorization": f"Bearer {live.keys.test}"}
        created = await live.http.post(
            "/api/v1/verifications",
            json={"type": "phone", "channel": "telegram", "identifier": PHONE},
            headers=headers,
        )
        verified = await live.http.post(
            f"/api/v1/verifications/{created.json()['id']}/test-verify", headers=headers
        )
        token = verified.json()["proof_token"]
        transport = "stdio" if connect is stdio_client else "http"
        async with connect(live, None) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"verify_proof_offline", "get_jwks", "list_location_plugins"} <= names
            assert names == {s.name for s in offered(public=True, transport=transport)}
            assert all(spec.public for spec in TOOLS if spec.name in names)
            offline = await ok(
                client, "verify_proof_offline", {"proof_token": token, "allow_test": True}
            )
            assert offline["valid"] is True, offline
            jwks = await ok(client, "get_jwks", {"environment": "test"})
            assert jwks["keys"]
            plugins = await ok(client, "list_location_plugins")
            assert plugins
            health = await ok(client, "get_health")
            assert health["status"] == "healthy"
            refused = await client.call_tool("get_verification", {"verification_id": "x"})
            assert refused.is_error


class TestAgentKeyFile:
    async def test_register_challenge_prove_with_a_key_file_and_verify(
        self, live: Live, tmp_path: Path
    ) -> None:
        key_file = tmp_path / "agent.jwk"
        made = subprocess.run(
            [VOUCH, "agents", "keygen", "--out", str(key_file)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        public_key = json.loads(made.stdout)["public_key"]
        async with stdio_client(live, live.keys.test) as client:
            await ok(client, "register_agent", {"agent_id": "deploy-bot", "public_key": public_key})
            challenge = await ok(
                client,
                "create_agent_challenge",
                {"agent_id": "deploy-bot", "action": "deploy", "context": {"version": "2.1"}},
            )
            proof = await ok(
                client,
                "prove_agent_challenge",
                {"key_file": str(key_file), "challenge": challenge},
            )
            verdict = await ok(client, "verify_agent_proof", proof)
            assert verdict["verified"] is True, verdict
            bad = await client.call_tool(
                "prove_agent_challenge",
                {"key_file": str(tmp_path / "missing.jwk"), "challenge": challenge},
            )
            assert bad.is_error and "[invalid_key_file]" in text_of(bad)
