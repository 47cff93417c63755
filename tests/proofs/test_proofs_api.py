"""``/api/v1/proofs``: validate, status, revoke and the signed revocation list."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import update

from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import PHONE, verified_proof
from vouch_server.models import Proof
from vouch_server.runtime import Runtime

PUBLIC_KEY_ENCODINGS = ["spki-pem", "pkcs1-pem", "jwk-json"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def published_jwk(client: httpx.AsyncClient, kid: str) -> dict[str, Any]:
    """The public key a token names, from whichever JWKS publishes it: test-mode proofs are
    signed by the test key set (``jwks-test.json``), live ones by ``jwks.json``."""
    published: list[dict[str, Any]] = []
    for path in ("/.well-known/jwks.json", "/.well-known/jwks-test.json"):
        response = await client.get(path)
        if response.status_code == 404:  # a server without a separate test key set
            continue
        assert response.status_code == 200, (path, response.text)
        published += response.json()["keys"]
    [jwk] = [k for k in published if k["kid"] == kid]
    return jwk


def public_key_bytes(jwk: dict[str, Any], encoding: str) -> bytes:
    """The server's public key as a confused verifier might hold it."""
    if encoding == "jwk-json":  # compact, as the JWKS document serves it
        return json.dumps(jwk, separators=(",", ":")).encode()
    public = jwt.PyJWK(jwk).key
    assert isinstance(public, rsa.RSAPublicKey), "the default proof key is RS256"
    form = {
        "spki-pem": PublicFormat.SubjectPublicKeyInfo,
        "pkcs1-pem": PublicFormat.PKCS1,
    }[encoding]
    return public.public_bytes(Encoding.PEM, form)


async def validate(client: httpx.AsyncClient, keys: Keys, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/proofs/validate", json=body, headers=keys.test_headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


class TestValidate:
    async def test_identifier_is_checked_after_normalization(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        proof = await verified_proof(client, keys.test_headers)
        ok = await validate(
            client, keys, proof_token=proof["proof_token"], identifier="+370 691 99199"
        )
        assert ok["valid"] is True
        bad = await validate(
            client, keys, proof_token=proof["proof_token"], identifier="+447700900123"
        )
        assert bad == {
            "valid": False,
            "reason": "identifier_mismatch",
            "message": bad["message"],
            "error": bad["message"],
        }

    @pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
    async def test_malformed_tokens(
        self, client: httpx.AsyncClient, keys: Keys, token: str
    ) -> None:
        result = await validate(client, keys, proof_token=token)
        assert result["valid"] is False
        assert result["reason"] in {"malformed", "invalid_signature"}

    async def test_token_signed_by_a_stranger_with_our_kid_is_invalid(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        proof = await verified_proof(client, keys.test_headers)
        header = jwt.get_unverified_header(proof["proof_token"])
        claims = jwt.decode(proof["proof_token"], options={"verify_signature": False})
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": header["kid"]})
        result = await validate(client, keys, proof_token=forged)
        assert result["reason"] == "invalid_signature"

    @pytest.mark.parametrize("encoding", PUBLIC_KEY_ENCODINGS)
    async def test_hs256_with_the_public_key_as_secret_is_refused(
        self, client: httpx.AsyncClient, keys: Keys, encoding: str
    ) -> None:
        # The algorithm-confusion attack: a verifier that takes the alg from the header and keys
        # HMAC with "the key" it holds would accept an HS256 MAC made with the public key in the
        # form it stores it. The MAC is computed by hand (PyJWT refuses a PEM as HMAC secret).
        proof = await verified_proof(client, keys.test_headers)
        assert (await validate(client, keys, proof_token=proof["proof_token"]))["valid"] is True
        kid = jwt.get_unverified_header(proof["proof_token"])["kid"]
        jwk = await published_jwk(client, kid)
        secret = public_key_bytes(jwk, encoding)
        claims = jwt.decode(proof["proof_token"], options={"verify_signature": False})
        signing_input = f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': kid}).encode())}"
        signing_input += f".{_b64(json.dumps(claims).encode())}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        forged = f"{signing_input}.{_b64(mac)}"
        result = await validate(client, keys, proof_token=forged)
        assert result["valid"] is False and result["reason"] == "invalid_signature"

    async def test_missing_token_is_a_validation_error(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await client.post("/api/v1/proofs/validate", json={}, headers=keys.test_headers)
        assert response.status_code == 400
        assert response.json()["error"]["details"][0]["field"] == "proof_token"


class TestStatus:
    async def test_status_follows_revocation_and_expiry(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        proof = await verified_proof(client, keys.test_headers)
        url = f"/api/v1/proofs/{proof['id']}/status"
        assert (await client.get(url, headers=keys.test_headers)).json()["is_valid"] is True
        async with runtime.db.session() as session:
            await session.execute(
                update(Proof)
                .where(Proof.id == proof["id"])
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        body = (await client.get(url, headers=keys.test_headers)).json()
        assert (
            body["status"] == "expired" and body["is_expired"] is True and body["is_valid"] is False
        )

    async def test_other_environment_and_project_see_nothing(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        proof = await verified_proof(client, keys.test_headers)
        for key in (keys.live, keys.other_test):
            for method, path in (("GET", "status"), ("POST", "revoke")):
                response = await client.request(
                    method, f"/api/v1/proofs/{proof['id']}/{path}", headers=keys.auth(key)
                )
                assert response.status_code == 404, (key[:8], path)


class TestRevoke:
    async def test_revocation_is_final_and_reflected_everywhere(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        proof = await verified_proof(client, keys.test_headers)
        url = f"/api/v1/proofs/{proof['id']}/revoke"
        first = await client.post(
            url, json={"reason": "asset_transferred"}, headers=keys.test_headers
        )
        assert first.status_code == 200
        assert first.json()["reason"] == "asset_transferred"
        second = await client.post(url, json={"reason": "fraud"}, headers=keys.test_headers)
        assert second.status_code == 409
        assert second.json()["error"]["code"] == "already_revoked"
        assert second.json()["error"]["revoked_reason"] == "asset_transferred"
        verification = (
            await client.get(f"/api/v1/verifications/{proof['id']}", headers=keys.test_headers)
        ).json()
        assert verification["status"] == "revoked"
        assert verification["revoked_reason"] == "asset_transferred"
        status = (
            await client.get(f"/api/v1/proofs/{proof['id']}/status", headers=keys.test_headers)
        ).json()
        assert status["is_revoked"] is True and status["status"] == "revoked"

    async def test_default_reason_and_bad_reason(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        proof = await verified_proof(client, keys.test_headers)
        url = f"/api/v1/proofs/{proof['id']}/revoke"
        bad = await client.post(url, json={"reason": "because"}, headers=keys.test_headers)
        assert bad.status_code == 400
        assert bad.json()["error"]["details"][0]["code"] == "invalid_enum_value"
        ok = await client.post(url, headers=keys.test_headers)
        assert ok.status_code == 200 and ok.json()["reason"] == "user_request"

    async def test_unknown_proof_is_404(self, client: httpx.AsyncClient, keys: Keys) -> None:
        response = await client.post(
            "/api/v1/proofs/507f1f77bcf86cd799439011/revoke", headers=keys.test_headers
        )
        assert response.status_code == 404


class TestRevocationList:
    async def revoke_n(self, client: httpx.AsyncClient, keys: Keys, n: int) -> list[str]:
        ids = []
        for _ in range(n):
            proof = await verified_proof(client, keys.test_headers)
            await client.post(f"/api/v1/proofs/{proof['id']}/revoke", headers=keys.test_headers)
            ids.append(proof["id"])
        return ids

    async def test_list_is_public_signed_and_paginated(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        ids = await self.revoke_n(client, keys, 5)
        jwks = (await client.get("/.well-known/jwks.json")).json()
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
            body = (await client.get("/api/v1/proofs/revoked", params=params)).json()
            key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == body["kid"]))
            signed = jwt.decode(
                body["signature"], key, algorithms=["RS256"], issuer="https://vouch.test"
            )
            assert signed["type"] == "revocation_list"
            # The page signs a digest of its entries, not a second copy of them.
            assert "revoked" not in signed
            canonical = json.dumps(
                body["revoked"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
            )
            digest = hashlib.sha256(canonical.encode()).digest()
            assert signed["revoked_sha256"] == _b64(digest)
            assert signed["has_more"] == body["has_more"]
            assert {e["proof_type"] for e in body["revoked"]} == {"verification"}
            assert {e["type"] for e in body["revoked"]} == {"phone"}
            assert all(
                e["public_proof_id"] == f"ph_ctl_{e['proof_id']}" + sha256_8(e["proof_id"])
                for e in body["revoked"]
            )
            seen += [e["proof_id"] for e in body["revoked"]]
            pages += 1
            cursor = body["next_cursor"]
            if not body["has_more"]:
                break
        assert pages == 3
        assert sorted(seen) == sorted(ids) and len(seen) == 5

    async def test_since_returns_only_newer_entries(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        old, new = await self.revoke_n(client, keys, 2)
        async with runtime.db.session() as session:
            await session.execute(
                update(Proof)
                .where(Proof.id == old)
                .values(revoked_at=datetime.now(UTC) - timedelta(hours=2))
            )
        since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        body = (await client.get("/api/v1/proofs/revoked", params={"since": since})).json()
        assert [e["proof_id"] for e in body["revoked"]] == [new]

    @pytest.mark.parametrize("query", ["cursor=%%%", "limit=0", "limit=5000", "since=yesterday"])
    async def test_bad_query(self, client: httpx.AsyncClient, query: str) -> None:
        response = await client.get(f"/api/v1/proofs/revoked?{query}")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "validation_error"


class TestProofTokenClaims:
    async def test_claims_per_design(self, client: httpx.AsyncClient, keys: Keys) -> None:
        proof = await verified_proof(client, keys.test_headers, proof_expiry_days=7)
        claims = jwt.decode(proof["proof_token"], options={"verify_signature": False})
        assert claims["iss"] == "https://vouch.test"
        assert claims["exp"] - claims["iat"] == 7 * 86400
        assert claims["identifier_hash"] == __import__("hashlib").sha256(PHONE.encode()).hexdigest()
        assert set(claims) >= {
            "iss",
            "sub",
            "iat",
            "exp",
            "jti",
            "proof_schema_version",
            "type",
            "channel",
            "identifier_hash",
            "verified_at",
            "user_id",
        }
        assert PHONE not in str(claims)


def test_server_and_sdk_compute_the_same_page_digest() -> None:
    from vouch_client._verifier import revocation_entries_digest as sdk_digest
    from vouch_server.proofs.service import revocation_entries_digest as server_digest

    entries = [
        {"proof_id": "a" * 24, "revoked_at": "2026-01-01T00:00:00.000Z", "reason": "fraud"},
        {"proof_id": "b" * 24, "revoked_at": "2026-01-02T00:00:00.000Z", "reason": "über ✓"},
    ]
    assert server_digest(entries) == sdk_digest(entries)
    assert server_digest(entries) != server_digest(entries[:1])


def sha256_8(proof_id: str) -> str:
    return hashlib.sha256(proof_id.encode()).hexdigest()[:8]


class TestPublicHandles:
    async def test_status_and_revoke_accept_the_public_handle_and_nothing_like_it(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        proof = await verified_proof(client, keys.test_headers)
        status = await client.get(f"/api/v1/proofs/{proof['id']}/status", headers=keys.test_headers)
        body = status.json()
        handle = body["public_proof_id"]
        assert re.fullmatch(r"ph_ctl_[0-9a-f]{32}", handle), handle
        assert body["status"] == "active" and body["suspended_at"] is None
        assert body["proof_type"] == "verification"
        by_handle = await client.get(f"/api/v1/proofs/{handle}/status", headers=keys.test_headers)
        assert by_handle.status_code == 200 and by_handle.json()["proof_id"] == proof["id"]
        flipped = handle[:-1] + ("0" if handle[-1] != "0" else "1")
        for wrong in (
            flipped,  # a mistyped check
            handle.replace("ph_ctl_", "ph_cnf_"),  # a handle of another family
            handle.replace("ph_ctl_", "ph_dlg_"),  # a prefix vouch does not issue
            handle[:-2],
        ):
            missing = await client.get(f"/api/v1/proofs/{wrong}/status", headers=keys.test_headers)
            assert missing.status_code == 404, wrong
        elsewhere = await client.get(
            f"/api/v1/proofs/{handle}/status", headers=keys.auth(keys.other_test)
        )
        assert elsewhere.status_code == 404
        revoked = await client.post(
            f"/api/v1/proofs/{handle}/revoke", json={"reason": "fraud"}, headers=keys.test_headers
        )
        assert revoked.status_code == 200, revoked.text
        after = await client.get(f"/api/v1/proofs/{proof['id']}/status", headers=keys.test_headers)
        assert after.json()["status"] == "revoked"


class TestValidateFromTheCache:
    """``/validate`` answers from a per-process cache of each proof's facts while the
    revocation epoch is unchanged (``kit.epoch``); a revocation made anywhere ends it."""

    async def test_a_warm_validation_sends_no_sql_on_sqlite_and_only_the_epoch_on_postgres(
        self, client: httpx.AsyncClient, runtime: Runtime, keys: Keys
    ) -> None:
        from tests.tenancy.test_service import statements

        proof = await verified_proof(client, keys.test_headers)
        assert (await validate(client, keys, proof_token=proof["proof_token"]))["valid"] is True
        with statements(runtime) as sent:
            body = await validate(client, keys, proof_token=proof["proof_token"])
        assert body["valid"] is True
        # On PostgreSQL the epoch's one SELECT goes straight to asyncpg (kit.epoch
        # .current_epoch), past SQLAlchemy; on SQLite the epoch is a memory read.
        assert sent == []
        if runtime.db.engine.dialect.name != "sqlite":
            from vouch_server.kit.epoch import advance_epoch

            # It is read on every request: changed behind the caches' back (as a revocation on
            # another host changes it), the next validation goes back to the tables.
            async with runtime.db.session() as session:
                await advance_epoch(session)
            with statements(runtime) as again:
                body = await validate(client, keys, proof_token=proof["proof_token"])
            assert body["valid"] is True
            assert any("proofs" in s for s in again) and any("api_keys" in s for s in again), again

    async def test_revoked_by_another_server_process_is_revoked_on_the_next_validation(
        self, client: httpx.AsyncClient, runtime: Runtime, keys: Keys
    ) -> None:
        from vouch_server.app import create_app

        proof = await verified_proof(client, keys.test_headers)
        token = proof["proof_token"]
        for _ in range(2):  # the second answer comes from the cache
            assert (await validate(client, keys, proof_token=token))["valid"] is True
        # A second server on the same database: its own engine, caches and (on SQLite) its
        # own mapping of the shared epoch file.
        other = create_app(runtime.settings)
        async with other.router.lifespan_context(other):
            transport = httpx.ASGITransport(app=other)
            async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
                revoked = await c.post(
                    f"/api/v1/proofs/{proof['id']}/revoke", headers=keys.test_headers
                )
                assert revoked.status_code == 200, revoked.text
        body = await validate(client, keys, proof_token=token)
        assert body["valid"] is False and body["reason"] == "revoked", body

    async def test_a_revocation_in_a_transaction_that_rolls_back_changes_nothing(
        self, client: httpx.AsyncClient, runtime: Runtime, keys: Keys
    ) -> None:
        from vouch_server.proofs import service
        from vouch_server.tenancy.service import authenticate

        proof = await verified_proof(client, keys.test_headers)
        token = proof["proof_token"]
        assert (await validate(client, keys, proof_token=token))["valid"] is True

        class Abort(Exception):
            pass

        with pytest.raises(Abort):
            async with runtime.db.session() as session:
                principal = await authenticate(session, keys.test)
                assert principal is not None
                await service.revoke(session, runtime, principal, proof["id"], "fraud")
                raise Abort
        assert (await validate(client, keys, proof_token=token))["valid"] is True
