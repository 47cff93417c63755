"""Real answers of the verification, request, session, multi-channel, verified-user and proof
operations match the schemas the app's own ``/openapi.json`` documents for them."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures.openapi import assert_documented, load_spec
from tests.fixtures.tenancy import Keys

V = "/api/v1/verifications"
R = "/api/v1/verification-requests"


async def call(
    client: httpx.AsyncClient,
    spec: dict[str, Any],
    method: str,
    template: str,
    status: int,
    headers: dict[str, str],
    json: Any = None,
    **params: str,
) -> dict[str, Any]:
    url = template.format(**params)
    response = await client.request(method, url, headers=headers, json=json)
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert_documented(spec, method, template, status, body)
    return body


class TestVerificationAndProofAnswers:
    async def test_create_verify_read_validate_and_revoke_match_their_schemas(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        spec = await load_spec(client)
        h = keys.test_headers
        created = await call(
            client,
            spec,
            "POST",
            V,
            201,
            h,
            {
                "type": "email",
                "channel": "email",
                "identifier": "a@example.com",
                "external_user_id": "user-1",
                "client_metadata": {"k": "v"},
            },
        )
        vid = created["id"]
        resent = await call(
            client, spec, "POST", V + "/{verification_id}/resend", 200, h, verification_id=vid
        )
        assert resent["delivery"]["channel"] == "email"
        done = await call(
            client, spec, "POST", V + "/{verification_id}/test-verify", 200, h, verification_id=vid
        )
        await call(client, spec, "GET", V + "/{verification_id}", 200, h, verification_id=vid)
        listed = await call(client, spec, "GET", V, 200, h)
        assert listed["data"]
        users = await call(client, spec, "GET", V + "/users", 200, h)
        assert users["data"][0]["external_user_id"] == "user-1"
        await call(
            client, spec, "GET", V + "/users/{external_user_id}", 200, h, external_user_id="user-1"
        )
        valid = await call(
            client,
            spec,
            "POST",
            "/api/v1/proofs/validate",
            200,
            h,
            {"proof_token": done["proof_token"]},
        )
        assert valid["valid"] is True
        invalid = await call(
            client, spec, "POST", "/api/v1/proofs/validate", 200, h, {"proof_token": "not-a-token"}
        )
        assert invalid["valid"] is False
        await call(client, spec, "GET", "/api/v1/proofs/{proof_id}/status", 200, h, proof_id=vid)
        await call(
            client,
            spec,
            "POST",
            "/api/v1/proofs/{proof_id}/revoke",
            200,
            h,
            {"reason": "user_request"},
            proof_id=vid,
        )
        revoked = await call(
            client,
            spec,
            "POST",
            "/api/v1/proofs/validate",
            200,
            h,
            {"proof_token": done["proof_token"]},
        )
        assert revoked["reason"] == "revoked"
        await call(client, spec, "GET", V + "/{verification_id}", 200, h, verification_id=vid)


class TestRequestAnswers:
    async def test_request_lifecycle_matches_its_schemas(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        spec = await load_spec(client)
        h = keys.test_headers
        created = await call(
            client,
            spec,
            "POST",
            R,
            201,
            h,
            {
                "reference_id": "order-1",
                "action_context": {"title": "Pay"},
                "assets": [
                    {"type": "email", "identifier": "b@example.com"},
                    {"type": "phone", "required": False},
                ],
            },
        )
        rid = created["id"]
        await call(
            client,
            spec,
            "POST",
            R + "/{request_id}/assets/{index}/test-verify",
            200,
            h,
            request_id=rid,
            index="0",
        )
        await call(client, spec, "GET", R + "/{request_id}", 200, h, request_id=rid)
        await call(client, spec, "GET", R, 200, h)
        await call(
            client, spec, "GET", R + "/by-reference/{reference_id}", 200, h, reference_id="order-1"
        )
        proofs = await call(client, spec, "GET", R + "/{request_id}/proofs", 200, h, request_id=rid)
        assert proofs["proofs"]
        other = await call(
            client,
            spec,
            "POST",
            R,
            201,
            h,
            {"assets": [{"type": "email", "identifier": "c@example.com"}]},
        )
        await call(client, spec, "DELETE", R + "/{request_id}", 200, h, request_id=other["id"])


class TestSessionAndGroupAnswers:
    async def test_session_and_multi_channel_match_their_schemas(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        spec = await load_spec(client)
        h = keys.test_headers
        s = await call(client, spec, "POST", "/api/v1/sessions", 201, h, {"channel": "telegram"})
        await call(client, spec, "GET", "/api/v1/sessions/{session_id}", 200, h, session_id=s["id"])
        g = await call(
            client,
            spec,
            "POST",
            V + "/multi-channel",
            201,
            h,
            {"identifier": "+370 691 99199", "channels": ["telegram"]},
        )
        await call(
            client,
            spec,
            "GET",
            V + "/multi-channel/{group_id}/status",
            200,
            h,
            group_id=g["group_id"],
        )


class TestAssertDocumented:
    async def test_an_answer_outside_the_schema_fails(self, client: httpx.AsyncClient) -> None:
        spec = await load_spec(client)
        try:
            assert_documented(spec, "GET", "/api/v1/sessions/{session_id}", 200, {"id": 1})
        except AssertionError as exc:
            assert "session_id" in str(exc)
        else:
            raise AssertionError("a wrong answer was accepted")


class TestPublicAnswers:
    async def test_health_and_api_index_match_their_schemas(
        self, client: httpx.AsyncClient
    ) -> None:
        spec = await load_spec(client)
        health = await call(client, spec, "GET", "/health", 200, {})
        assert health["status"] == "healthy"
        await call(client, spec, "GET", "/api/v1", 200, {})
