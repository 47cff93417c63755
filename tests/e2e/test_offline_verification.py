"""Offline verification end to end: tokens minted by the running app verify with only the
published JWKS — in Node.js with panva/jose (an implementation nobody on this project wrote) and
with ``vouch_client`` — and a revoked proof shows up in the signed list and fails the Verifier."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.tenancy import Keys, make_keys
from tests.fixtures.verifications import live_proof, verified_proof
from vouch_client import AsyncVerifier, ProofRevoked
from vouch_server.app import create_app

INTEROP = Path(__file__).parent / "interop"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(
    NODE is None or not (INTEROP / "node_modules" / "jose").exists(),
    reason="Node.js with jose not installed (make install runs npm ci when npm exists)",
)


def jose_verify(tmp_path: Path, jwks: dict[str, Any], token: str, issuer: str) -> dict[str, Any]:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(jwks))
    result = subprocess.run(
        [NODE or "node", str(INTEROP / "verify.mjs"), str(jwks_file), issuer],
        input=token,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@needs_node
class TestForeignJoseLibrary:
    @pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
    async def test_token_verifies_in_node_jose_with_only_the_jwks(
        self, settings_factory: Any, tmp_path: Path, alg: str
    ) -> None:
        settings = settings_factory(signing_alg=alg)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            runtime = app.state.vouch
            keys = await make_keys(runtime)
            async with _client(app) as client:
                proof = await live_proof(client, runtime, keys.live_headers)
                test_proof = await verified_proof(client, keys.test_headers)
                jwks = (await client.get("/.well-known/jwks.json")).json()
                test_jwks = (await client.get("/.well-known/jwks-test.json")).json()
        token = proof["proof_token"]
        result = jose_verify(tmp_path, jwks, token, settings.effective_issuer)
        assert result["ok"] is True, result
        assert result["header"]["alg"] == alg
        assert result["header"]["kid"] == _proof_kids(jwks)[0]
        assert result["payload"]["sub"] == proof["id"]
        assert result["payload"]["type"] == "phone"
        assert "test" not in result["payload"]

        # A test proof is signed by a key that only the test JWKS publishes: a verifier holding
        # the live keys cannot be talked into accepting it, and one holding the test keys sees
        # it say so.
        refused = jose_verify(tmp_path, jwks, test_proof["proof_token"], settings.effective_issuer)
        assert refused == {"ok": False, "error": "ERR_JWKS_NO_MATCHING_KEY"}
        in_test = jose_verify(
            tmp_path, test_jwks, test_proof["proof_token"], settings.effective_issuer
        )
        assert in_test["ok"] is True, in_test
        assert in_test["payload"]["test"] is True
        assert not set(_proof_kids(jwks)) & set(_proof_kids(test_jwks))

        header, payload, signature = token.split(".")
        forged_payload = payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB")
        forged = jose_verify(
            tmp_path, jwks, f"{header}.{forged_payload}.{signature}", settings.effective_issuer
        )
        assert forged["ok"] is False
        wrong_issuer = jose_verify(tmp_path, jwks, token, "https://someone-else.example")
        assert wrong_issuer["ok"] is False

    async def test_token_of_a_rotated_out_key_still_verifies(
        self, client: httpx.AsyncClient, keys: Keys, app: FastAPI, tmp_path: Path
    ) -> None:
        runtime = app.state.vouch
        old = await live_proof(client, runtime, keys.live_headers)
        async with runtime.db.session() as session:
            await runtime.keyring.rotate(session, immediate=True)
            await runtime.keyring.refresh(session, force=True)
        new = await live_proof(client, runtime, keys.live_headers)
        jwks = (await client.get("/.well-known/jwks.json")).json()
        assert len(_proof_kids(jwks)) == 2
        assert old["proof_token"] != new["proof_token"]
        issuer = runtime.settings.effective_issuer
        for proof in (old, new):
            assert jose_verify(tmp_path, jwks, proof["proof_token"], issuer)["ok"] is True

    async def test_status_list_token_decodes_in_node_jose(
        self, client: httpx.AsyncClient, keys: Keys, app: FastAPI, tmp_path: Path
    ) -> None:
        runtime = app.state.vouch
        kept = await live_proof(client, runtime, keys.live_headers)
        gone = await live_proof(client, runtime, keys.live_headers)
        revoke = await client.post(f"/api/v1/proofs/{gone['id']}/revoke", headers=keys.live_headers)
        assert revoke.status_code == 200
        refs = [_status_ref(p["proof_token"]) for p in (kept, gone)]
        assert refs[0]["uri"] == refs[1]["uri"] and refs[0]["idx"] != refs[1]["idx"]
        response = await client.get(refs[0]["uri"].removeprefix("https://vouch.test"))
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/statuslist+jwt"
        jwks = (await client.get("/.well-known/jwks.json")).json()
        jwks_file = tmp_path / "jwks.json"
        jwks_file.write_text(json.dumps(jwks))
        result = subprocess.run(
            [NODE or "node", str(INTEROP / "statuslist.mjs"), str(jwks_file)]
            + [str(r["idx"]) for r in refs],
            input=response.text,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        decoded = json.loads(result.stdout)
        assert decoded["ok"] is True, decoded
        assert decoded["header"]["typ"] == "statuslist+jwt"
        signer = next(k for k in jwks["keys"] if k["kid"] == decoded["header"]["kid"])
        assert signer["proof_purpose"] == "status-list"
        payload = decoded["payload"]
        assert payload["sub"] == refs[0]["uri"]
        assert payload["ttl"] == runtime.settings.status_list_ttl_seconds
        assert payload["exp"] > payload["iat"]
        assert payload["status_list"]["bits"] == 2
        assert decoded["slots"] == {str(refs[0]["idx"]): 0, str(refs[1]["idx"]): 1}
        assert decoded["size"] * 4 > max(r["idx"] for r in refs)


def _status_ref(token: str) -> dict[str, Any]:
    import jwt

    ref: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})["status"][
        "status_list"
    ]
    return ref


def _proof_kids(jwks: dict[str, Any]) -> list[str]:
    return [key["kid"] for key in jwks["keys"] if key.get("proof_purpose") == "proof"]


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://vouch.test")


class TestSdkVerifierAgainstTheApp:
    async def test_valid_then_revoked(
        self, client: httpx.AsyncClient, keys: Keys, app: FastAPI
    ) -> None:
        proof = await live_proof(client, app.state.vouch, keys.live_headers)
        token = proof["proof_token"]
        async with AsyncVerifier("https://vouch.test", http_client=_client(app)) as verifier:
            claims = await verifier.verify(token, type="phone", channel="telegram")
            assert claims.sub == proof["id"]

        revoke = await client.post(
            f"/api/v1/proofs/{proof['id']}/revoke",
            json={"reason": "fraud"},
            headers=keys.live_headers,
        )
        assert revoke.status_code == 200
        listed = (await client.get("/api/v1/proofs/revoked")).json()
        assert [e["proof_id"] for e in listed["revoked"]] == [claims.sub]

        async with AsyncVerifier("https://vouch.test", http_client=_client(app)) as verifier:
            with pytest.raises(ProofRevoked) as caught:
                await verifier.verify(token)
        assert caught.value.reason == "revoked"
