"""``make bench``: offline verification speed and API throughput, each against a baseline.

1. Offline verification: ``vouch_client.Verifier.verify`` (signature, exp, iss, type/channel and the
   revocation set, caches warm) against plain ``jwt.decode`` of the same token with the same key.
2. API throughput on SQLite: create → test-verify → validate flows per second, in-process through
   the whole ASGI stack, against ``GET /api/v1`` (the same stack with no database work).
3. Token Status Lists at scale (bench/status_list.py): 1,000,000 issued / 100,000 revoked.
4. Location proofs (bench/location.py): 50 stamps x 2 signatures against raw recoveries.
5. Over real HTTP (bench/http.py): ``vouch serve`` on SQLite and on PostgreSQL against a bare
   FastAPI+PyJWT server and the RS256 signing cost; two processes against one; list latency at
   1k and 100k rows; RSS. Skipped for PostgreSQL when none answers.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt

from vouch_client import Verifier
from vouch_server import db
from vouch_server.app import create_app
from vouch_server.config import Settings
from vouch_server.tenancy import service as tenancy

BASE = "https://bench.vouch"


def _paired_rates(
    a: Callable[[], Any], b: Callable[[], Any], slices: int = 15, calls: int = 200
) -> tuple[float, float]:
    """Calls per second of ``a`` and of ``b``, timed in alternating slices of ``calls`` calls
    and compared by their medians, so that load on a shared machine hits both alike (timing
    one after the other let a busy second swing the ratio by half)."""
    for fn in (a, b):
        for _ in range(calls):
            fn()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(slices):
        for fn, out in ((a, times[0]), (b, times[1])):
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            out.append(calls / (time.perf_counter() - start))
    return statistics.median(times[0]), statistics.median(times[1])


async def _arate(fn: Callable[[], Any], seconds: float = 3.0) -> float:
    rounds = []
    for _ in range(3):
        n = 0
        start = time.perf_counter()
        deadline = start + seconds / 3
        while time.perf_counter() < deadline:
            await fn()
            n += 1
        rounds.append(n / (time.perf_counter() - start))
    return statistics.median(rounds)


async def _statements_per_step(
    runtime: Any, client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, int]:
    """SQL statements the database receives for each step of one flow (BEGIN/COMMIT included
    where the driver sends them as statements), counted at the engine's cursor."""
    from sqlalchemy import event

    counted: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        counted.append(statement)

    engine = runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        steps: dict[str, int] = {}
        counted.clear()
        created = (await client.post("/api/v1/verifications", json=body, headers=headers)).json()
        steps["create"] = len(counted)
        counted.clear()
        done = (
            await client.post(f"/api/v1/verifications/{created['id']}/test-verify", headers=headers)
        ).json()
        steps["test_verify"] = len(counted)
        counted.clear()
        await client.post(
            "/api/v1/proofs/validate", json={"proof_token": done["proof_token"]}, headers=headers
        )
        steps["validate"] = len(counted)
        counted.clear()
        await client.get("/api/v1/verifications?limit=20", headers=headers)
        steps["list"] = len(counted)
        return steps
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def main() -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="vouch-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            database_url=None,
            public_url=BASE,
            secret_key="bench",
            expiry_sweep_seconds=0,
            rate_limit_enabled=False,
        )
        await db.upgrade_async(settings)
        app = create_app(settings)
        runtime = app.state.vouch
        async with app.router.lifespan_context(app):
            async with runtime.db.session() as session:
                project, _ = await tenancy.get_or_create_project(session, "bench")
                key = (await tenancy.create_api_key(session, project, mode="test")).key
            headers = {"Authorization": f"Bearer {key}"}
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
                body = {"type": "phone", "channel": "telegram", "identifier": "+37069199199"}

                async def flow() -> None:
                    created = (
                        await client.post("/api/v1/verifications", json=body, headers=headers)
                    ).json()
                    done = (
                        await client.post(
                            f"/api/v1/verifications/{created['id']}/test-verify", headers=headers
                        )
                    ).json()
                    checked = await client.post(
                        "/api/v1/proofs/validate",
                        json={"proof_token": done["proof_token"]},
                        headers=headers,
                    )
                    assert checked.json()["valid"] is True

                async def bare() -> None:
                    assert (await client.get("/api/v1")).status_code == 200

                for _ in range(20):  # warm up
                    await flow()
                results["statements"] = await _statements_per_step(runtime, client, headers, body)
                baseline = await _arate(bare)
                flows = await _arate(flow)
                results["api"] = {
                    "flows_per_second": round(flows, 1),
                    "baseline_requests_per_second": round(baseline, 1),
                    "flow_cost_in_bare_requests": round(baseline / flows, 2),
                }

                token = (
                    await client.post(
                        f"/api/v1/verifications/{(await client.post('/api/v1/verifications', json=body, headers=headers)).json()['id']}/test-verify",
                        headers=headers,
                    )
                ).json()["proof_token"]
                # A test key made the token: it verifies against the test key set only.
                jwks = (await client.get("/.well-known/jwks-test.json")).json()
                uri = jwt.decode(token, options={"verify_signature": False})["status"][
                    "status_list"
                ]["uri"]
                listed = (await client.get(uri.removeprefix(BASE))).content

    def serve(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/jwks-test.json"):
            return httpx.Response(200, json=jwks)
        return httpx.Response(200, content=listed)

    verifier = Verifier(
        BASE, test=True, http_client=httpx.Client(transport=httpx.MockTransport(serve))
    )
    verifier.verify(token, type="phone", channel="telegram")  # warm the caches
    proof_key = next(k for k in jwks["keys"] if k["kid"] == jwt.get_unverified_header(token)["kid"])
    pyjwk = jwt.PyJWK(proof_key)
    header_alg = proof_key["alg"]

    def plain() -> None:
        jwt.decode(token, pyjwk.key, algorithms=[header_alg], issuer=BASE)

    def sdk() -> None:
        verifier.verify(token, type="phone", channel="telegram")

    plain_rate, sdk_rate = _paired_rates(plain, sdk)
    results["offline_verification"] = {
        "alg": header_alg,
        "verifier_per_second": round(sdk_rate),
        "pyjwt_decode_per_second": round(plain_rate),
        "verifier_vs_pyjwt": round(sdk_rate / plain_rate, 3),
    }
    return results


if __name__ == "__main__":
    from bench import http, location
    from bench.status_list import status_list_figures

    figures = asyncio.run(main())
    figures["status_list"] = asyncio.run(status_list_figures())
    location_lines = location.run()
    figures["http"] = asyncio.run(http.figures())
    off = figures["offline_verification"]
    api = figures["api"]
    print("vouch benchmarks (one run; ratios are against a baseline from the same run)")
    print(
        f"  offline verification ({off['alg']}): Verifier {off['verifier_per_second']}/s vs "
        f"plain PyJWT decode {off['pyjwt_decode_per_second']}/s -> ratio {off['verifier_vs_pyjwt']}"
    )
    print(
        f"  API on SQLite: {api['flows_per_second']} create→test-verify→validate flows/s; "
        f"bare GET /api/v1 {api['baseline_requests_per_second']}/s -> one flow costs "
        f"{api['flow_cost_in_bare_requests']} bare requests"
    )
    st = figures["statements"]
    print(
        "  SQL statements per step (SQLite): " + ", ".join(f"{name} {n}" for name, n in st.items())
    )
    sl = figures["status_list"]
    print(
        f"  status list ({sl['issued']:,} issued, {sl['revoked']:,} revoked): "
        f"{sl['document_bytes']:,} bytes; server builds it uncached in "
        f"{sl['server_build_seconds']} s; cold verify_offline by proof.holdings' SDK "
        f"{sl['proof_sdk_cold_verify_seconds']} s, by vouch_client {sl['vouch_client_cold_verify_seconds']} s "
        f"({sl['cold_read_vs_nothing_revoked']}x an empty list); warm check at 1M revoked costs "
        f"{sl['warm_check_cost_1m_vs_0']}x the check at 0"
    )
    print("\n".join(location_lines))
    print("\n".join(http.lines(figures["http"])))
    print(json.dumps(figures))
