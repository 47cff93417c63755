"""Every JSON answer of the agent surface, the JWKS and the key directory, checked against the
schema the app itself documents in ``/openapi.json`` (real flows, real bodies).

``tests/fixtures/openapi.py`` (a shared ``assert_documented``) did not exist when this was
written, so a small local one is used.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.agents.factories import IndependentAgent, api, challenge, register, submit
from tests.agents.test_web_bot_auth import (
    B14_KID,
    body_of,
    deposit,
    directory_signature,
    register_b14,
    signed_request,
)
from tests.fixtures.tenancy import Keys

SPEC_URI = "urn:vouch:openapi"


def assert_documented(
    spec: dict[str, Any],
    method: str,
    path: str,
    status: int,
    body: Any,
    media: str = "application/json",
) -> None:
    """``body`` matches the schema ``spec`` documents for ``method path`` answering ``status``."""
    assert media in spec["paths"][path][method]["responses"][str(status)]["content"]
    pointer = "/".join(
        part.replace("~", "~0").replace("/", "~1")
        for part in ("paths", path, method, "responses", str(status), "content", media, "schema")
    )
    resource = Resource.from_contents(spec, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    schema = {"$ref": f"{SPEC_URI}#/{quote(pointer, safe='/~')}"}
    jsonschema.Draft202012Validator(schema, registry=registry).validate(body)


@pytest.fixture
async def spec(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


class TestAgentsAnswers:
    async def test_agent_lifecycle_answers_match_their_schemas(
        self, client: httpx.AsyncClient, keys: Keys, spec: dict[str, Any]
    ) -> None:
        headers = api(keys.test)
        agent = IndependentAgent()
        created = await client.post(
            "/v1/agents",
            json={"agent_id": "shop-bot-001", "name": "Shop bot", "public_key": agent.public_key},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        assert_documented(spec, "post", "/v1/agents", 201, created.json())

        listed = await client.get("/v1/agents", params={"limit": 1}, headers=headers)
        assert_documented(spec, "get", "/v1/agents", 200, listed.json())

        one = await client.get("/v1/agents/shop-bot-001", headers=headers)
        assert_documented(spec, "get", "/v1/agents/{agent_id}", 200, one.json())

        second = IndependentAgent()
        rotated = await client.post(
            "/v1/agents/shop-bot-001/keys",
            json={"public_key": second.jwk, "revoke_previous": False},
            headers=headers,
        )
        assert rotated.status_code == 201, rotated.text
        assert_documented(spec, "post", "/v1/agents/{agent_id}/keys", 201, rotated.json())

        revoked = await client.delete(f"/v1/agents/shop-bot-001/keys/{agent.kid}", headers=headers)
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["keys"][0]["revoked_at"] is not None
        assert_documented(spec, "delete", "/v1/agents/{agent_id}/keys/{kid}", 200, revoked.json())

        deleted = await client.delete("/v1/agents/shop-bot-001", headers=headers)
        assert deleted.json()["deleted_at"] is not None
        assert_documented(spec, "delete", "/v1/agents/{agent_id}", 200, deleted.json())

        page = await client.get("/v1/agents", headers=headers)
        assert page.json()["next_cursor"] is None
        assert_documented(spec, "get", "/v1/agents", 200, page.json())

    async def test_a_page_with_more_has_a_cursor_and_matches(
        self, client: httpx.AsyncClient, keys: Keys, spec: dict[str, Any]
    ) -> None:
        headers = api(keys.test)
        await register(client, headers, agent_id="bot-a")
        await register(client, headers, agent_id="bot-b")
        page = await client.get("/v1/agents", params={"limit": 1}, headers=headers)
        assert page.json()["has_more"] is True
        assert isinstance(page.json()["next_cursor"], str)
        assert_documented(spec, "get", "/v1/agents", 200, page.json())


class TestVerifyAnswers:
    async def test_challenge_proof_and_status_match_their_schemas(
        self, client: httpx.AsyncClient, keys: Keys, spec: dict[str, Any]
    ) -> None:
        headers = api(keys.test)
        agent = IndependentAgent()
        await register(client, headers, agent)
        pending = await challenge(client, headers, context={"cart": {"total": 42}})
        assert_documented(spec, "post", "/v1/verify/challenge", 200, pending)

        status = await client.get(f"/v1/verify/status/{pending['challenge_id']}", headers=headers)
        assert status.json()["status"] == "pending"
        assert_documented(spec, "get", "/v1/verify/status/{session_id}", 200, status.json())

        verified = await submit(client, headers, pending["challenge_id"], agent.prove(pending))
        assert verified.status_code == 200, verified.text
        assert_documented(spec, "post", "/v1/verify/proof", 200, verified.json())

        status = await client.get(f"/v1/verify/status/{pending['challenge_id']}", headers=headers)
        assert status.json()["status"] == "verified"
        assert_documented(spec, "get", "/v1/verify/status/{session_id}", 200, status.json())

    async def test_failed_session_status_matches(
        self, client: httpx.AsyncClient, keys: Keys, spec: dict[str, Any]
    ) -> None:
        headers = api(keys.test)
        await register(client, headers)
        pending = await challenge(client, headers)
        failed = await submit(
            client, headers, pending["challenge_id"], IndependentAgent().prove(pending)
        )
        assert failed.status_code == 400
        status = await client.get(f"/v1/verify/status/{pending['challenge_id']}", headers=headers)
        assert status.json()["failure_reason"]
        assert_documented(spec, "get", "/v1/verify/status/{session_id}", 200, status.json())

    async def test_web_bot_auth_request_matches(
        self, client: httpx.AsyncClient, keys: Keys, spec: dict[str, Any]
    ) -> None:
        headers = api(keys.test)
        await register_b14(client, headers)
        request = signed_request(components=("@authority", "@method", "@path"))
        verified = await client.post(
            "/v1/verify/http-signature", json=body_of(request), headers=headers
        )
        assert verified.status_code == 200, verified.text
        assert verified.json()["method"] == "web-bot-auth"
        assert_documented(spec, "post", "/v1/verify/http-signature", 200, verified.json())

    async def test_a_wrong_body_is_caught(self, spec: dict[str, Any]) -> None:
        # The check can fail: an answer missing a documented field does not pass.
        body = {"challenge_id": "ch_x", "nonce": "n", "expires_in": 300}
        with pytest.raises(jsonschema.ValidationError):
            assert_documented(spec, "post", "/v1/verify/challenge", 200, body)


class TestPublicKeySets:
    async def test_directory_with_a_listed_key_matches(
        self, client: httpx.AsyncClient, keys: Keys, spec: dict[str, Any]
    ) -> None:
        live = api(keys.live)
        await register_b14(client, live)
        deposited = await deposit(client, live, directory_signature())
        assert deposited.status_code == 200, deposited.text
        assert_documented(
            spec,
            "put",
            "/v1/agents/{agent_id}/keys/{kid}/directory-signature",
            200,
            deposited.json(),
        )
        path = "/.well-known/http-message-signatures-directory"
        directory = await client.get(path)
        assert [k["kid"] for k in directory.json()["keys"]] == [B14_KID]
        media = directory.headers["content-type"]
        assert_documented(spec, "get", path, 200, directory.json(), media=media)

    @pytest.mark.parametrize("path", ["/.well-known/jwks.json", "/.well-known/jwks-test.json"])
    async def test_jwks_matches(
        self, client: httpx.AsyncClient, keys: Keys, spec: dict[str, Any], path: str
    ) -> None:
        response = await client.get(path)
        assert response.status_code == 200
        assert response.json()["keys"], "the key ring publishes at least one key"
        assert_documented(spec, "get", path, 200, response.json())
