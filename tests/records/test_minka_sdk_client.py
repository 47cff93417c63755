"""Minka's own HTTP client, ``LedgerSdk`` from ``@minka/ledger-sdk`` 2.2.5 in Node.js, against a live
vouch with no header surgery: it authenticates with its signer JWT, reads, lists and creates
records, and with ``verifyResponseProofs`` keeps vouch's own error reasons because error bodies
are signed. Then the JWT's rules one by one, with tokens made here (PyJWT) as the SDK makes them."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.fixtures.tenancy import Keys, make_keys
from tests.records.factories import make_signer
from tests.records.test_minka_sdk import INTEROP, NODE, pytestmark  # noqa: F401
from tests.records.test_records_api import minka_error
from vouch_client.records import KeyPair, record_hash, sign_proof
from vouch_server.app import create_app
from vouch_server.records.auth import ledger_handle
from vouch_server.records.canonical import sha256_hex, stable_stringify


@dataclass
class Live:
    url: str
    keys: Keys
    http: httpx.AsyncClient
    signer: KeyPair
    ledger: str
    system_public: str


@pytest.fixture
async def live(settings_factory: Any) -> AsyncIterator[Live]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(settings_factory(public_url=url))
    await app.state.vouch.limiter.reset()
    async with app.router.lifespan_context(app):
        keys = await make_keys(app.state.vouch)
        server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_config=None))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            # A loaded CI machine can take longer than httpx's default 5 s to answer.
            async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=60) as http:
                signer = await make_signer(http, keys.test_headers, "sdk-user")
                system = await http.get("/v2/signers/system", headers=keys.test_headers)
                yield Live(
                    url,
                    keys,
                    http,
                    signer,
                    ledger_handle(keys.project_id, "test"),
                    system.json()["data"]["public"],
                )
        finally:
            server.should_exit = True
            await task
            sock.close()


async def run_sdk(job: dict[str, Any]) -> dict[str, Any]:
    """The Node process runs while this event loop keeps serving vouch."""
    process = await asyncio.create_subprocess_exec(
        NODE or "node",
        str(INTEROP / "sdk.mjs"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(json.dumps(job).encode()), 60)
    assert process.returncode == 0, err.decode()
    return json.loads(out)  # type: ignore[no-any-return]


async def test_ledger_sdk_runs_unchanged_against_vouch(live: Live) -> None:
    newcomer, stranger = KeyPair.generate(), KeyPair.generate()
    results = await run_sdk(
        {
            "server": f"{live.url}/v2",
            "ledger": live.ledger,
            "keyPair": live.signer.__dict__,
            "systemPublic": live.system_public,
            "read": "sdk-user",
            "create": {
                "handle": "sdk-newcomer",
                "keyPair": newcomer.__dict__,
                "stranger": stranger.__dict__,
            },
            "missing": "nobody-here",
        }
    )
    assert results["read"]["ok"], results["read"]
    assert results["read"]["data"]["data"]["public"] == live.signer.public
    assert results["create"]["ok"], results["create"]
    assert results["create"]["status"] == 201
    assert results["list"]["ok"], results["list"]
    handles = {r["data"]["handle"] for r in results["list"]["data"]["data"]}
    assert {"sdk-user", "sdk-newcomer"} <= handles
    # Signed errors: the SDK's verification passes and vouch's reason survives, with and without.
    for name in ("missing", "missingPlain"):
        assert results[name] == {
            "ok": False,
            "reason": "record.not-found",
            "detail": results[name]["detail"],
        }, results[name]
    # A key pair that is no signer of this ledger is refused, and the refusal is signed too.
    assert results["stranger"]["ok"] is False
    assert results["stranger"]["reason"] == "auth.unauthorized", results["stranger"]
    created = await live.http.get("/v2/signers/sdk-newcomer", headers=live.keys.test_headers)
    assert created.json()["data"]["public"] == newcomer.public


# -- the token's rules, one by one -----------------------------------------------------------
def token(
    live: Live,
    method: str,
    path: str,
    body: Any = None,
    *,
    keys: KeyPair | None = None,
    ledger_header: bool = True,
    **claims: Any,
) -> tuple[str, dict[str, str]]:
    """A JWT made the way ``BaseClient.buildJwt`` makes one, with claims to override."""
    keys = keys or live.signer
    now = int(time.time())
    url = live.url + path
    headers = {"x-ledger": live.ledger} if ledger_header else None
    hsh = sha256_hex(
        stable_stringify({"method": method, "url": url, "body": body or None, "headers": headers})
    ) + (":x-ledger" if ledger_header else "")
    payload = {
        "iat": now,
        "exp": now + 60,
        "iss": "tests",
        "aud": live.ledger,
        "sub": keys.public,
        "hsh": hsh,
        **claims,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(keys.secret))
    encoded = jwt.encode(payload, private, algorithm="EdDSA", headers={"kid": keys.public})
    sent = {"Authorization": f"Bearer {encoded}"}
    if ledger_header:
        sent["X-Ledger"] = live.ledger
    return encoded, sent


def new_signer_body(handle: str) -> tuple[KeyPair, dict[str, Any]]:
    keys = KeyPair.generate()
    data = {"handle": handle, "public": keys.public, "format": "ed25519-raw"}
    hash_ = record_hash(data)
    return keys, {"hash": hash_, "data": data, "meta": {"proofs": [sign_proof(keys, hash_)]}}


async def test_a_write_token_is_used_once(live: Live) -> None:
    _, body = new_signer_body("once")
    _, headers = token(live, "POST", "/v2/signers", body)
    first = await live.http.post("/v2/signers", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await live.http.post("/v2/signers", json=body, headers=headers)
    minka_error(again, 401, "auth.unauthorized")
    assert "already used" in again.json()["data"]["detail"]


async def test_a_jti_is_used_once_even_on_reads(live: Live) -> None:
    _, headers = token(live, "GET", "/v2/signers/sdk-user", jti="read-1")
    assert (await live.http.get("/v2/signers/sdk-user", headers=headers)).status_code == 200
    minka_error(
        await live.http.get("/v2/signers/sdk-user", headers=headers), 401, "auth.unauthorized"
    )
    # Without jti a read may be repeated until it expires: it is bound to its URL by hsh.
    _, plain = token(live, "GET", "/v2/signers/sdk-user")
    for _ in range(2):
        assert (await live.http.get("/v2/signers/sdk-user", headers=plain)).status_code == 200


# Times are offsets from the moment the test runs, not from collection: under xdist a test may
# run many minutes after it was collected, and an absolute "10 minutes ahead" would have passed.
@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"aud": "proj_someone_else.test"}, "signer"),
        ({"exp": -120}, "expired"),
        ({"iat": 600, "exp": 660}, "iat"),
        ({"exp": 7200}, "exp must follow iat"),
        ({"hsh": "0" * 64}, "hsh does not match"),
        ({"hsh": None}, "hsh"),
        ({"iss": None}, "iss"),
        ({"aud": "no-environment"}, "aud must be"),
    ],
    ids=["aud", "expired", "iat-ahead", "too-long", "hsh-wrong", "hsh-missing", "iss", "aud-shape"],
)
async def test_tokens_that_break_a_rule_are_refused(
    live: Live, change: dict[str, Any], detail: str
) -> None:
    now = int(time.time())
    claims = {k: now + v if k in ("iat", "exp") else v for k, v in change.items()}
    _, headers = token(live, "GET", "/v2/signers/sdk-user", **claims)
    if "aud" in change:
        headers.pop("X-Ledger")
    response = await live.http.get("/v2/signers/sdk-user", headers=headers)
    error = minka_error(response, 401, "auth.unauthorized")
    assert detail in error["detail"], error


async def test_the_token_covers_its_own_request_only(live: Live) -> None:
    _, headers = token(live, "GET", "/v2/signers/sdk-user")
    moved = await live.http.get("/v2/signers/system", headers=headers)
    assert "hsh" in minka_error(moved, 401, "auth.unauthorized")["detail"]
    _, body = new_signer_body("body-swap")
    _, other = new_signer_body("other-body")
    _, headers = token(live, "POST", "/v2/signers", body)
    swapped = await live.http.post("/v2/signers", json=other, headers=headers)
    assert "hsh" in minka_error(swapped, 401, "auth.unauthorized")["detail"]


async def test_ledger_header_and_audience_must_agree(live: Live) -> None:
    _, headers = token(live, "GET", "/v2/signers/sdk-user")
    headers["X-Ledger"] = ledger_handle(live.keys.project_id, "live")
    response = await live.http.get("/v2/signers/sdk-user", headers=headers)
    assert "X-Ledger" in minka_error(response, 401, "auth.unauthorized")["detail"]


async def test_a_test_ledger_signer_cannot_reach_the_live_ledger(live: Live) -> None:
    """The signer is registered in test mode only: a token for the live ledger finds no signer."""
    live_ledger = ledger_handle(live.keys.project_id, "live")
    _, headers = token(live, "GET", "/v2/signers/sdk-user", aud=live_ledger, ledger_header=False)
    response = await live.http.get("/v2/signers/sdk-user", headers=headers)
    assert "signer" in minka_error(response, 401, "auth.unauthorized")["detail"]


async def test_other_algorithms_are_refused(live: Live) -> None:
    encoded, _ = token(live, "GET", "/v2/signers/sdk-user")
    payload = jwt.decode(encoded, options={"verify_signature": False})
    forged = jwt.encode(
        payload, live.signer.public, algorithm="HS256", headers={"kid": live.signer.public}
    )
    response = await live.http.get(
        "/v2/signers/sdk-user",
        headers={"Authorization": f"Bearer {forged}", "X-Ledger": live.ledger},
    )
    assert "EdDSA" in minka_error(response, 401, "auth.unauthorized")["detail"]
