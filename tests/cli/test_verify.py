"""``vouch verify``: real proofs minted by the app, checked by the command against saved files
(JWKS, Token Status List) or a server, and every failure reported in one line."""

from __future__ import annotations

import base64
import json
import re
import socket
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from click.testing import Result
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import live_proof, verified_proof
from vouch_server.cli.main import app
from vouch_server.kit.clock import utcnow
from vouch_server.runtime import Runtime

runner = CliRunner()
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def verify(*args: str) -> Result:
    return runner.invoke(app, ["verify", *args])


def assert_one_line_failure(result: Result, code: int, *needles: str) -> str:
    """Non-zero exit, a single stderr line, no traceback; returns that line."""
    assert result.exit_code == code, result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    line = result.stderr.strip()
    assert line and "\n" not in line, result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in line, line
    return line


def status_uri(token: str) -> str:
    uri: str = jwt.decode(token, options={"verify_signature": False})["status"]["status_list"][
        "uri"
    ]
    return uri


async def save(client: httpx.AsyncClient, url: str, path: Path) -> Path:
    response = await client.get(httpx.URL(url).path)
    assert response.status_code == 200, response.text
    path.write_bytes(response.content)
    return path


@dataclass(frozen=True)
class Issued:
    """A live proof and everything an offline verifier needs, saved to files."""

    proof_id: str
    token: str
    jwks: Path
    status_list: Path
    test_token: str
    test_jwks: Path
    test_status_list: Path


@pytest.fixture
async def issued(client: httpx.AsyncClient, runtime: Runtime, keys: Keys, tmp_path: Path) -> Issued:
    live = await live_proof(client, runtime, keys.live_headers)
    test = await verified_proof(client, keys.test_headers)
    return Issued(
        proof_id=live["id"],
        token=live["proof_token"],
        jwks=await save(client, "/.well-known/jwks.json", tmp_path / "jwks.json"),
        status_list=await save(client, status_uri(live["proof_token"]), tmp_path / "live.jwt"),
        test_token=test["proof_token"],
        test_jwks=await save(client, "/.well-known/jwks-test.json", tmp_path / "jwks-test.json"),
        test_status_list=await save(client, status_uri(test["proof_token"]), tmp_path / "test.jwt"),
    )


def _tampered(token: str, **changes: Any) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TestOfflineFromSavedFiles:
    async def test_live_proof_verifies_from_jwks_and_status_list_files(
        self, issued: Issued
    ) -> None:
        result = verify(
            issued.token, "--jwks", str(issued.jwks), "--status-list", str(issued.status_list)
        )
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("valid proof issued by https://vouch.test")
        assert issued.proof_id in result.stdout

    async def test_nothing_is_fetched_from_the_network(
        self, issued: Issued, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def no_network(*_args: object) -> httpx.Response:
            raise AssertionError("an offline check made a request")

        monkeypatch.setattr(httpx.HTTPTransport, "handle_request", no_network)
        result = verify(
            issued.token, "--jwks", str(issued.jwks), "--status-list", str(issued.status_list)
        )
        assert result.exit_code == 0, result.output

    async def test_json_result_has_iso_times(self, issued: Issued) -> None:
        result = verify(
            issued.token,
            "--jwks",
            str(issued.jwks),
            "--status-list",
            str(issued.status_list),
            "--json",
        )
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["valid"] is True and data["test"] is False
        assert data["issuer"] == "https://vouch.test"
        assert data["subject"] == issued.proof_id
        assert data["revocation_checked"] is True
        assert ISO.match(data["issued_at"]) and ISO.match(data["expires_at"])
        assert data["claims"]["sub"] == issued.proof_id

    async def test_revoked_proof_is_reported_from_a_saved_status_list(
        self, issued: Issued, client: httpx.AsyncClient, keys: Keys, tmp_path: Path
    ) -> None:
        response = await client.post(
            f"/api/v1/proofs/{issued.proof_id}/revoke", headers=keys.live_headers, json={}
        )
        assert response.status_code == 200, response.text
        after = await save(client, status_uri(issued.token), tmp_path / "after.jwt")
        result = verify(issued.token, "--jwks", str(issued.jwks), "--status-list", str(after))
        assert_one_line_failure(result, 1, "invalid (revoked)")
        as_json = verify(
            issued.token, "--jwks", str(issued.jwks), "--status-list", str(after), "--json"
        )
        assert as_json.exit_code == 1
        assert json.loads(as_json.stdout) == {
            "valid": False,
            "status": "invalid",
            "reason": "revoked",
            "message": "the proof has been revoked",
        }

    async def test_without_a_status_list_it_says_what_to_save(self, issued: Issued) -> None:
        line = assert_one_line_failure(
            verify(issued.token, "--jwks", str(issued.jwks)), 2, "status_unavailable"
        )
        assert status_uri(issued.token) in line and "--status-list" in line

    async def test_no_revocation_skips_the_status_list(self, issued: Issued) -> None:
        result = verify(issued.token, "--jwks", str(issued.jwks), "--no-revocation")
        assert result.exit_code == 0, result.output
        assert "revocation not checked" in result.stdout

    async def test_status_list_of_another_list_is_refused(self, issued: Issued) -> None:
        assert_one_line_failure(
            verify(
                issued.token,
                "--jwks",
                str(issued.jwks),
                "--status-list",
                str(issued.test_status_list),
            ),
            2,
            "status_list_file",
            "this proof's slot is in",
        )

    async def test_status_list_file_that_is_not_a_list_is_refused(
        self, issued: Issued, tmp_path: Path
    ) -> None:
        bogus = tmp_path / "bogus.jwt"
        bogus.write_text('{"revoked": []}')
        assert_one_line_failure(
            verify(issued.token, "--jwks", str(issued.jwks), "--status-list", str(bogus)),
            2,
            "is not a Token Status List",
        )


class TestBadTokens:
    async def test_tampered_token_has_an_invalid_signature(self, issued: Issued) -> None:
        forged = _tampered(issued.token, sub="someone-else")
        assert_one_line_failure(
            verify(forged, "--jwks", str(issued.jwks), "--status-list", str(issued.status_list)),
            1,
            "invalid (invalid_signature)",
        )

    async def test_expired_token_is_reported_expired(
        self, issued: Issued, runtime: Runtime
    ) -> None:
        # Signed by the server's key, within the key's window (±300 s), and a minute past exp.
        async with runtime.db.session() as session:
            minted = await runtime.tokens.mint(
                session,
                environment="live",
                sub="expired-proof",
                type="phone",
                lifetime=timedelta(seconds=60),
                claims={},
                now=utcnow() - timedelta(seconds=120),
            )
        assert_one_line_failure(
            verify(minted.token, "--jwks", str(issued.jwks), "--no-revocation"),
            1,
            "invalid (expired)",
        )

    def test_text_that_is_not_a_token_is_malformed(self) -> None:
        assert_one_line_failure(verify("not-a-token"), 1, "invalid (malformed)")

    async def test_test_proof_is_refused_without_test_and_accepted_with_it(
        self, issued: Issued
    ) -> None:
        files = ["--jwks", str(issued.test_jwks), "--status-list", str(issued.test_status_list)]
        assert_one_line_failure(
            verify(issued.test_token, *files), 1, "invalid (test_proof)", "Pass --test"
        )
        ok = verify(issued.test_token, *files, "--test")
        assert ok.exit_code == 0, ok.output
        assert ok.stdout.startswith("valid TEST proof")

    async def test_test_proof_against_the_live_key_set_is_named_a_test_proof(
        self, issued: Issued
    ) -> None:
        assert_one_line_failure(
            verify(issued.test_token, "--jwks", str(issued.jwks), "--no-revocation"),
            1,
            "test_proof",
        )

    async def test_live_proof_is_refused_by_a_test_check(self, issued: Issued) -> None:
        assert_one_line_failure(
            verify(issued.token, "--jwks", str(issued.jwks), "--no-revocation", "--test"),
            1,
            "live_proof",
        )


class TestBadKeySources:
    async def test_missing_jwks_file(self, issued: Issued, tmp_path: Path) -> None:
        assert_one_line_failure(
            verify(issued.token, "--jwks", str(tmp_path / "nowhere.json")),
            2,
            "error (jwks_file)",
            "No such file",
        )

    @pytest.mark.parametrize("content", ["not json", '{"kty": "RSA"}', "[]"])
    async def test_file_that_is_not_a_jwks(
        self, issued: Issued, tmp_path: Path, content: str
    ) -> None:
        path = tmp_path / "bad.json"
        path.write_text(content)
        assert_one_line_failure(verify(issued.token, "--jwks", str(path)), 2, "error (jwks_file)")

    async def test_another_servers_key_under_the_same_kid(
        self, issued: Issued, tmp_path: Path
    ) -> None:
        kid = jwt.get_unverified_header(issued.token)["kid"]
        public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
        path = tmp_path / "other.json"
        path.write_text(json.dumps({"keys": [{**jwk, "kid": kid, "alg": "RS256", "use": "sig"}]}))
        assert_one_line_failure(
            verify(issued.token, "--jwks", str(path), "--no-revocation"),
            1,
            "invalid (invalid_signature)",
        )

    async def test_key_set_without_the_tokens_key(self, issued: Issued) -> None:
        assert_one_line_failure(
            verify(issued.token, "--jwks", str(issued.test_jwks), "--no-revocation"),
            1,
            "invalid (unknown_key)",
        )

    async def test_unreachable_server(self, issued: Issued) -> None:
        base = f"http://127.0.0.1:{_free_port()}"
        line = assert_one_line_failure(
            verify(issued.token, "--url", base), 2, "unknown (jwks_unavailable)"
        )
        assert f"{base}/.well-known/jwks.json" in line
        as_json = verify(issued.token, "--url", base, "--json")
        assert as_json.exit_code == 2
        assert json.loads(as_json.stdout)["reason"] == "jwks_unavailable"

    async def test_url_that_is_not_a_url(self, issued: Issued) -> None:
        assert_one_line_failure(verify(issued.token, "--url", "vouch.test"), 2, "bad_url")

    async def test_issuer_that_is_not_a_url_needs_url_or_jwks(self, issued: Issued) -> None:
        forged = _tampered(issued.token, iss="proof.holdings")
        assert_one_line_failure(verify(forged), 2, "no_issuer_url", "--url")


class TestIssuerThatIsNotAUrl:
    """``VOUCH_ISSUER=proof.holdings``: the token's iss names no server."""

    @pytest.fixture
    def settings(self, settings_factory: Any) -> Any:
        return settings_factory(issuer="proof.holdings")

    async def test_it_verifies_offline_from_saved_files(self, issued: Issued) -> None:
        result = verify(
            issued.token,
            "--jwks",
            str(issued.jwks),
            "--status-list",
            str(issued.status_list),
            "--json",
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["issuer"] == "proof.holdings"

    async def test_without_url_or_jwks_it_says_what_to_pass(self, issued: Issued) -> None:
        assert_one_line_failure(verify(issued.token), 2, "no_issuer_url", "--url")
