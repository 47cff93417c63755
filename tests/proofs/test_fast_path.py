"""The validate fast path (``proofs.fast_path``): the route's own answers, from caches where they
are warm, and the route itself for everything else."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import verified_proof
from vouch_server.app import create_app
from vouch_server.kit.epoch import FreshReads
from vouch_server.proofs import service
from vouch_server.proofs.fast_path import parse_body
from vouch_server.runtime import Runtime
from vouch_server.tenancy import service as tenancy

PATH = "/api/v1/proofs/validate"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"proof_token": "a.b.c"}', ("a.b.c", None)),
        (b'{"proof_token": "a.b.c", "identifier": "+1", "extra": 1}', ("a.b.c", "+1")),
        (b'{"proof_token": "a.b.c", "identifier": null}', ("a.b.c", None)),
        (b"not json", None),
        (b"\xff\xfe", None),
        (b'["a.b.c"]', None),
        (b"{}", None),
        (b'{"proof_token": 1}', None),
        (b'{"proof_token": ""}', None),
        (b'{"proof_token": "' + b"a" * 8193 + b'"}', None),
        (b'{"proof_token": "x", "identifier": ""}', None),
        (b'{"proof_token": "x", "identifier": 5}', None),
        (b'{"proof_token": "x", "identifier": "' + b"i" * 501 + b'"}', None),
    ],
)
def test_parse_body_takes_only_what_the_route_model_accepts(
    raw: bytes, expected: tuple[str, str | None] | None
) -> None:
    assert parse_body(raw) == expected


async def _route_answer(runtime: Runtime, token: str, environment: str, **kw: Any) -> Any:
    async with runtime.db.session() as session:
        return await service.validate(session, runtime, token, environment=environment, **kw)


async def test_answers_are_the_routes_own(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    proof = await verified_proof(client, keys.test_headers)
    token = proof["proof_token"]
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    cases = [
        (keys.test_headers, {"proof_token": token}, "test", {}),
        (keys.test_headers, {"proof_token": token, "identifier": "+15550000000"}, "test", {}),
        (keys.test_headers, {"proof_token": tampered}, "test", {}),
        (keys.test_headers, {"proof_token": "not-a-jwt"}, "test", {}),
        (keys.live_headers, {"proof_token": token}, "live", {}),
    ]
    for headers, body, environment, _ in cases * 2:  # cold, then warm caches
        response = await client.post(PATH, json=body, headers=headers)
        assert response.status_code == 200, response.text
        expected = await _route_answer(
            runtime, body["proof_token"], environment, identifier=body.get("identifier")
        )
        assert response.json() == expected
        assert response.headers["x-request-id"].startswith("req_")
        assert response.headers["x-ratelimit-limit"] == "100"
        assert response.headers["x-content-type-options"] == "nosniff"
    assert response.json()["reason"] == "test_proof"
    counted = runtime.metrics.requests.labels("POST", PATH, "200")._value.get()
    assert counted == len(cases) * 2  # counted under the route's template, as the router would


async def test_everything_else_reaches_the_route(client: httpx.AsyncClient, keys: Keys) -> None:
    ok = {"proof_token": "a.b.c"}
    no_key = await client.post(PATH, json=ok)
    assert no_key.status_code == 401 and no_key.json()["error"]["code"] == "unauthorized"
    bad_key = await client.post(PATH, json=ok, headers=keys.auth("pk_test_" + "0" * 40))
    assert bad_key.status_code == 401 and bad_key.json()["error"]["message"] == "Invalid API key"
    for content in (b"{", b'{"proof_token": 3}', b'{"identifier": "x"}'):
        response = await client.post(
            PATH,
            content=content,
            headers={**keys.test_headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "validation_error"
    huge = await client.post(PATH, json={"proof_token": "a" * 20_000}, headers=keys.test_headers)
    assert huge.status_code == 413  # the edge's body limit still holds in front of it


async def test_a_revoked_key_fails_on_its_next_request(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    proof = await verified_proof(client, keys.test_headers)
    body = {"proof_token": proof["proof_token"]}
    for _ in range(2):  # the key and the proof are now cached
        assert (await client.post(PATH, json=body, headers=keys.test_headers)).json()["valid"]
    async with runtime.db.session() as session:
        assert await tenancy.revoke_api_key(session, keys.test[:12])
    response = await client.post(PATH, json=body, headers=keys.test_headers)
    assert response.status_code == 401, response.text


async def test_a_revoked_proof_is_revoked_on_the_next_request(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    proof = await verified_proof(client, keys.test_headers)
    body = {"proof_token": proof["proof_token"]}
    for _ in range(2):
        assert (await client.post(PATH, json=body, headers=keys.test_headers)).json()["valid"]
    revoked = await client.post(
        f"/api/v1/proofs/{proof['id']}/revoke", json={}, headers=keys.test_headers
    )
    assert revoked.status_code == 200, revoked.text
    answer = (await client.post(PATH, json=body, headers=keys.test_headers)).json()
    assert answer["valid"] is False and answer["reason"] == "revoked"


async def test_the_per_key_rate_limit_holds(settings_factory: Any) -> None:
    app: FastAPI = create_app(settings_factory(rate_limit_enabled=True, rate_limit_api="2/minute"))
    await app.state.vouch.limiter.reset()
    async with app.router.lifespan_context(app):
        async with app.state.vouch.db.session() as session:
            project, _ = await tenancy.get_or_create_project(session, "limited")
            key = (await tenancy.create_api_key(session, project, mode="test")).key
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
            headers = {"Authorization": f"Bearer {key}"}
            seen = [
                await c.post(PATH, json={"proof_token": "a.b.c"}, headers=headers) for _ in range(3)
            ]
        await app.state.vouch.limiter.reset()
    assert [r.status_code for r in seen] == [200, 200, 429]
    assert seen[1].headers["x-ratelimit-remaining"] == "0"
    assert seen[2].json()["error"]["code"] == "rate_limited"
    assert int(seen[2].headers["retry-after"]) >= 1


async def test_fresh_reads_never_answer_from_a_read_sent_before_the_caller_asked() -> None:
    sent: list[asyncio.Event] = []
    value = 0

    async def fetch() -> int:
        nonlocal value
        release = asyncio.Event()
        sent.append(release)
        await release.wait()
        value += 1
        return value

    reads = FreshReads(fetch)
    first = asyncio.create_task(reads.read())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert len(sent) == 1  # read 1 is in flight
    # Asked while read 1 was in flight: they share read 2, sent once read 1 is back.
    later = [asyncio.create_task(reads.read()) for _ in range(3)]
    await asyncio.sleep(0)
    assert len(sent) == 1
    sent[0].set()
    assert await first == 1
    while len(sent) < 2:
        await asyncio.sleep(0)
    sent[1].set()
    assert await asyncio.gather(*later) == [2, 2, 2]
    assert len(sent) == 2


async def test_fresh_reads_pass_a_failure_to_its_callers_only() -> None:
    calls = 0

    async def fetch() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database down")
        return 7

    reads = FreshReads(fetch)
    with pytest.raises(ConnectionError):
        await reads.read()
    assert await reads.read() == 7
