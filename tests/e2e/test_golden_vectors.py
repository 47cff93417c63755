"""proof.holdings' golden vectors (``reference/proof-holdings/test-vectors.json``, copied into
``tests/fixtures``) run against vouch: token claims, response shapes, error shapes, test mode,
verification types and the JWKS format. (Normalization and hash vectors: control/test_identifiers;
challenge format: kit/test_codes.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import create_verification, verified_proof
from vouch_server.control.catalog import CHALLENGE_TTL_SECONDS, CHANNELS_BY_TYPE
from vouch_server.kit.clock import parse_instant
from vouch_server.proofs import service as proofs
from vouch_server.runtime import Runtime

VECTORS = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "proof_holdings_test_vectors.json").read_text()
)


def by_description(section: str, text: str) -> dict[str, Any]:
    return next(v for v in VECTORS[section] if v["description"] == text)  # type: ignore[no-any-return]


def assert_shape(actual: Any, expected: Any, path: str = "$") -> None:
    """Every key of the vector is present with a value of the same JSON type (values are ids and
    instants of the vector's own run, so only constants are compared exactly by the callers)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{path}.{key} missing"
            assert_shape(actual[key], value, f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected array"
        if not expected:
            assert actual == [], f"{path}: expected an empty array, got {actual!r}"
            return
        # An empty array says nothing about its items' shape, so the caller must arrange at least
        # one item wherever the vector shows one.
        assert actual, f"{path}: empty array, so nothing is checked against the vector's item"
        for index, item in enumerate(actual):
            assert_shape(item, expected[0], f"{path}[{index}]")
    elif expected is None:
        assert actual is None, f"{path}: expected null"
    else:
        assert type(actual) is type(expected), f"{path}: {actual!r} is not like {expected!r}"
        if isinstance(expected, str) and expected.endswith("Z") and expected[4:5] == "-":
            assert len(actual) == len(expected) and actual.endswith("Z"), f"{path}: {actual}"


class TestAssertShape:
    """The shape check itself: each way it must refuse (it guards every response vector)."""

    VECTOR = {"revoked": [{"proof_id": "a", "revoked_at": "2026-02-04T10:00:00.000Z"}]}

    def test_matching_items_pass(self) -> None:
        item = {"proof_id": "b", "revoked_at": "2026-03-01T00:00:00.000Z", "extra": 1}
        assert_shape({"revoked": [item, item]}, self.VECTOR)

    @pytest.mark.parametrize(
        "actual",
        [
            {"revoked": []},
            {},
            {"revoked": {}},
            {"revoked": [{"proof_id": "b"}]},
            {"revoked": [{"proof_id": 7, "revoked_at": "2026-03-01T00:00:00.000Z"}]},
            {"revoked": [{"proof_id": "b", "revoked_at": "2026-03-01T00:00:00Z"}]},
        ],
        ids=["empty-array", "missing", "not-array", "item-missing-key", "wrong-type", "instant"],
    )
    def test_differences_fail(self, actual: dict[str, Any]) -> None:
        with pytest.raises(AssertionError):
            assert_shape(actual, self.VECTOR)

    def test_an_empty_vector_array_wants_an_empty_array(self) -> None:
        assert_shape({"keys": []}, {"keys": []})
        with pytest.raises(AssertionError):
            assert_shape({"keys": [1]}, {"keys": []})


def response_vector(text: str) -> dict[str, Any]:
    return by_description("api_response_vectors", text)["expected_response"]  # type: ignore[no-any-return]


class TestProofTokenVectors:
    @pytest.mark.parametrize(
        "vector", VECTORS["proof_token_vectors"], ids=lambda v: v["description"]
    )
    async def test_claims_match_the_vector(
        self, settings_factory: Any, vector: dict[str, Any]
    ) -> None:
        from vouch_server.runtime import Runtime as RuntimeCls

        runtime = RuntimeCls.build(settings_factory(issuer="proof.holdings"))
        given = vector["input"]
        verified_at = parse_instant(given["verified_at"])
        try:
            async with runtime.db.session() as session:
                minted = await runtime.tokens.mint(
                    session,
                    environment="live",
                    sub=given["verification_id"],
                    type=given["type"],
                    lifetime=timedelta(seconds=given["expires_in_seconds"]),
                    now=verified_at,
                    claims={
                        "channel": given["channel"],
                        "identifier_hash": __import__(
                            "vouch_server.control.identifiers", fromlist=["identifier_hash"]
                        ).identifier_hash(given["normalized_identifier"]),
                        "verified_at": given["verified_at"],
                        "user_id": given["user_id"],
                    },
                )
        finally:
            await runtime.close()
        claims = jwt.decode(minted.token, options={"verify_signature": False})
        for key, value in vector["expected_claims"].items():
            assert claims[key] == value, key
        assert claims["exp"] == claims["iat"] + given["expires_in_seconds"]
        assert claims["iat"] == int(verified_at.timestamp())
        assert claims["jti"]
        header = jwt.get_unverified_header(minted.token)
        expected_header = vector.get("expected_header", {"alg": "RS256", "typ": "JWT", "kid": ""})
        assert header["alg"] == expected_header["alg"] and header["typ"] == expected_header["typ"]
        assert header["kid"].startswith("vouch-")


class TestApiResponseVectors:
    async def test_create_response(self, client: httpx.AsyncClient, keys: Keys) -> None:
        vector = by_description("api_response_vectors", "Create verification - success response")
        response = await client.post(
            "/api/v1/verifications", json=vector["request"], headers=keys.test_headers
        )
        assert response.status_code == 201
        body = response.json()
        assert_shape(body, vector["expected_response"])
        assert body["type"] == "phone" and body["channel"] == "telegram"
        assert body["challenge"]["instruction"] == body["challenge"]["code"]

    async def test_get_pending_and_verified(self, client: httpx.AsyncClient, keys: Keys) -> None:
        created = await create_verification(client, keys.test_headers)
        pending = (
            await client.get(f"/api/v1/verifications/{created['id']}", headers=keys.test_headers)
        ).json()
        assert_shape(pending, response_vector("Get verification - pending status"))
        assert "challenge" not in pending
        await client.post(
            f"/api/v1/verifications/{created['id']}/test-verify", headers=keys.test_headers
        )
        verified = (
            await client.get(f"/api/v1/verifications/{created['id']}", headers=keys.test_headers)
        ).json()
        assert_shape(verified, response_vector("Get verification - verified status"))
        # verified_at keeps milliseconds (it never reads before created_at); the proof's expiry
        # is the token's exp = iat + lifetime, iat being verified_at floored to the second.
        verified_at = parse_instant(verified["verified_at"])
        expires_at = parse_instant(verified["proof_expires_at"])
        assert expires_at == verified_at.replace(microsecond=0) + timedelta(days=30)

    async def test_validate_valid(self, client: httpx.AsyncClient, keys: Keys) -> None:
        proof = await verified_proof(client, keys.test_headers)
        body = (
            await client.post(
                "/api/v1/proofs/validate",
                json={"proof_token": proof["proof_token"]},
                headers=keys.test_headers,
            )
        ).json()
        assert_shape(body, response_vector("Validate proof - valid response"))
        assert body["verification"]["id"] == proof["id"]
        assert body["verification"]["user_id"] == keys.project_id

    async def test_validate_expired(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        past = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
        async with runtime.db.session() as session:
            minted = await runtime.tokens.mint(
                session,
                environment="live",
                sub="0" * 24,
                type="phone",
                lifetime=timedelta(hours=1),
                now=past,
                claims={"channel": "sms"},
            )
        body = (
            await client.post(
                "/api/v1/proofs/validate",
                json={"proof_token": minted.token},
                headers=keys.test_headers,
            )
        ).json()
        assert body == {
            **response_vector("Validate proof - expired response"),
            "error": body["message"],
        }

    async def test_validate_revoked_and_revoke_and_status(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        proof = await verified_proof(client, keys.test_headers)
        status = (
            await client.get(f"/api/v1/proofs/{proof['id']}/status", headers=keys.test_headers)
        ).json()
        assert_shape(
            status,
            response_vector("Get proof status response")
            | {"revoked_at": None, "revoked_reason": None},
        )
        # SDK 1.2.0 says "active" where the Feb-2026 vector says "verified" (docs/proofs.md).
        assert status["status"] == "active" and status["is_valid"] is True
        revoke_vector = by_description("api_response_vectors", "Revoke proof - success response")
        revoked = (
            await client.post(
                f"/api/v1/proofs/{proof['id']}/revoke",
                json=revoke_vector["request"],
                headers=keys.test_headers,
            )
        ).json()
        assert_shape(revoked, revoke_vector["expected_response"])
        assert revoked["verification_id"] == proof["id"] and revoked["reason"] == "user_request"
        body = (
            await client.post(
                "/api/v1/proofs/validate",
                json={"proof_token": proof["proof_token"]},
                headers=keys.test_headers,
            )
        ).json()
        expected = response_vector("Validate proof - revoked response")
        assert_shape(body, expected)
        assert {k: body[k] for k in ("valid", "reason", "message", "revoked_reason")} == {
            k: expected[k] for k in ("valid", "reason", "message", "revoked_reason")
        }

    async def test_revocation_list(self, client: httpx.AsyncClient, keys: Keys) -> None:
        first = await verified_proof(client, keys.test_headers)
        second = await verified_proof(client, keys.test_headers)
        for proof, reason in ((first, "user_request"), (second, "fraud")):
            await client.post(
                f"/api/v1/proofs/{proof['id']}/revoke",
                json={"reason": reason},
                headers=keys.test_headers,
            )
        response = await client.get("/api/v1/proofs/revoked")
        body = response.json()
        assert_shape(body, response_vector("Revocation list response"))
        assert [e["proof_id"] for e in body["revoked"]] == [
            second["id"],
            first["id"],
        ]  # newest first
        assert body["count"] == 2
        assert "max-age=300" in response.headers["cache-control"]
        assert jwt.get_unverified_header(body["signature"])["kid"] == body["kid"]


class TestErrorVectors:
    def expected(self, text: str) -> tuple[int, dict[str, Any]]:
        vector = by_description("error_response_vectors", text)
        return vector["status_code"], vector["expected_response"]

    async def test_validation_error(self, client: httpx.AsyncClient, keys: Keys) -> None:
        status, expected = self.expected("Validation error")
        response = await client.post(
            "/api/v1/verifications",
            json={"type": "carrier-pigeon", "channel": "sms", "identifier": "+37069199199"},
            headers=keys.test_headers,
        )
        assert response.status_code == status
        error = response.json()["error"]
        assert error["code"] == expected["error"]["code"]
        assert error["message"] == expected["error"]["message"]
        assert error["details"] == expected["error"]["details"]

    async def test_invalid_channel_for_type(self, client: httpx.AsyncClient, keys: Keys) -> None:
        status, expected = self.expected("Invalid channel for type")
        response = await client.post(
            "/api/v1/verifications",
            json={"type": "phone", "channel": "email", "identifier": "+37069199199"},
            headers=keys.test_headers,
        )
        assert response.status_code == status
        error = response.json()["error"]
        assert {k: error[k] for k in ("code", "message")} == expected["error"]

    @pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic abc"}])
    async def test_missing_api_key(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        status, expected = self.expected("Unauthorized - missing API key")
        response = await client.get("/api/v1/verifications", headers=headers)
        assert response.status_code == status
        error = response.json()["error"]
        assert {k: error[k] for k in ("code", "message")} == expected["error"]

    async def test_not_found(self, client: httpx.AsyncClient, keys: Keys) -> None:
        status, expected = self.expected("Not found")
        response = await client.get(
            "/api/v1/verifications/507f1f77bcf86cd799439011", headers=keys.test_headers
        )
        assert response.status_code == status
        error = response.json()["error"]
        assert {k: error[k] for k in ("code", "message")} == expected["error"]

    async def test_rate_limited(self, settings_factory: Any) -> None:
        from tests.fixtures.tenancy import make_keys
        from vouch_server.app import create_app

        status, expected = self.expected("Rate limited")
        app = create_app(settings_factory(rate_limit_api="3/minute"))
        async with app.router.lifespan_context(app):
            await app.state.vouch.limiter.reset()
            keys = await make_keys(app.state.vouch)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
                codes = [
                    (await c.get("/api/v1/verifications", headers=keys.test_headers)).status_code
                    for _ in range(3)
                ]
                limited = await c.get("/api/v1/verifications", headers=keys.test_headers)
        assert codes == [200, 200, 200]
        assert limited.status_code == status
        error = limited.json()["error"]
        assert error["code"] == expected["error"]["code"]
        assert error["message"] == expected["error"]["message"]
        assert isinstance(error["retry_after"], int) and 0 < error["retry_after"] <= 60
        assert limited.headers["retry-after"] == str(error["retry_after"])
        assert limited.headers["x-ratelimit-remaining"] == "0"


class TestVerificationTypeVectors:
    @pytest.mark.parametrize("vector", VECTORS["verification_types"], ids=lambda v: v["type"])
    def test_ttl_and_channels(self, vector: dict[str, Any]) -> None:
        assert CHALLENGE_TTL_SECONDS[vector["type"]] == vector["ttl_seconds"]
        # The seed's table wins over the vector where they differ (viber is not a vouch channel;
        # domains also verify by email and auto). Every channel vouch offers must be in one of them.
        ours = set(CHANNELS_BY_TYPE[vector["type"]])
        theirs = set(vector["valid_channels"]) - {"viber"}
        assert theirs <= ours


class TestTestModeVectors:
    async def test_create_and_test_verify(self, client: httpx.AsyncClient, keys: Keys) -> None:
        modes = VECTORS["test_mode_vectors"]
        create = modes["create_test_verification"]
        response = await client.post(
            "/api/v1/verifications", json=create["request"]["body"], headers=keys.test_headers
        )
        assert response.status_code == create["expected_response"]["status_code"]
        body = response.json()
        for key, value in create["expected_response"]["body_contains"].items():
            assert body[key] == value
        verify = modes["test_verify_endpoint"]
        done = await client.post(
            f"/api/v1/verifications/{body['id']}/test-verify", headers=keys.test_headers
        )
        assert done.status_code == verify["expected_response"]["status_code"]
        contains = verify["expected_response"]["body_contains"]
        assert done.json()["status"] == contains["status"]
        assert done.json()["test_mode"] is contains["test_mode"]
        assert done.json()["proof_token"].startswith("eyJ")

    async def test_live_key_gets_403(self, client: httpx.AsyncClient, keys: Keys) -> None:
        vector = VECTORS["test_mode_vectors"]["test_verify_with_production_key"]
        created = await create_verification(client, keys.live_headers)
        response = await client.post(
            f"/api/v1/verifications/{created['id']}/test-verify", headers=keys.live_headers
        )
        assert response.status_code == vector["expected_response"]["status_code"]
        error = response.json()["error"]
        expected = vector["expected_response"]["body"]["error"]
        assert {k: error[k] for k in ("code", "message")} == expected


class TestJwksVector:
    async def test_jwks_format_and_caching(self, client: httpx.AsyncClient) -> None:
        vector = VECTORS["jwks_vector"]
        response = await client.get("/.well-known/jwks.json")
        assert response.headers["cache-control"] == "public, max-age=86400"
        body = response.json()
        assert_shape(body, vector["expected_response"])
        key = body["keys"][0]
        assert key["kty"] == "RSA" and key["e"] == "AQAB"
        assert key["use"] == "sig" and key["alg"] == "RS256"
        assert "d" not in key and "p" not in key


class TestRecordedProofIsTheRevocationId:
    async def test_proof_id_equals_sub(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        proof = await verified_proof(client, keys.test_headers)
        claims = jwt.decode(proof["proof_token"], options={"verify_signature": False})
        async with runtime.db.session() as session:
            result = await proofs.revoke(
                session,
                runtime,
                __import__("vouch_server.tenancy.service", fromlist=["Principal"]).Principal(
                    keys.project_id, "test", "k"
                ),
                claims["sub"],
                "other",
            )
        assert result["proof_id"] == claims["sub"] == proof["id"]
