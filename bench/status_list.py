"""Issue 13 P4: Token Status Lists at scale.

With 1,000,000 issued live proofs of which 100,000 are revoked (rows in the server's SQLite
database, slots spread at random), measure:

- the size of the Status List Token ``GET /statuslists/live/0`` serves, and the time the server
  takes to build and sign it uncached;
- a cold read by proof.holdings' SDK (``verify_offline``: fetch the JWKS and the list, verify,
  inflate, read a slot) and by ``vouch_client.Verifier``, against the same SDK's read of a list
  with nothing revoked, measured in the same run;
- the cost of one revocation check with a warm list, at 0 and at 1,000,000 revoked slots.

Figures are printed, never asserted: the machine is shared.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from vouch_client import ProofRevoked, Verifier
from vouch_server import db
from vouch_server.app import create_app
from vouch_server.config import Settings
from vouch_server.signing import status_list
from vouch_server.tenancy import service as tenancy

BASE = "https://bench.vouch"
ISSUED = 1_000_000
REVOKED = 100_000
ROUNDS = 5


def _fill(database: Path, project_id: str, kid: str, revoked: set[int]) -> None:
    """1,000,000 proof rows through the stdlib driver (the ORM would take minutes)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    stamp = now.isoformat(sep=" ")
    later = (now + timedelta(days=90)).isoformat(sep=" ")
    rows = (
        (
            f"bench{i:019d}",
            project_id,
            "live",
            "control",
            "phone",
            "telegram",
            f"jti-{i}",
            kid,
            stamp,
            stamp,
            later,
            stamp if i in revoked else None,
            "fraud" if i in revoked else None,
            i,
        )
        for i in range(ISSUED)
    )
    with sqlite3.connect(database) as connection:
        columns = (
            "id, project_id, environment, family, type, channel, jti, kid, issued_at, "
            "verified_at, expires_at, revoked_at, revoked_reason, status_idx"
        )
        existing = {row[1] for row in connection.execute("PRAGMA table_info(proofs)")}
        needed = {c.strip() for c in columns.split(",")}
        extra = [
            (name, notnull, default)
            for _, name, _, notnull, default, _ in connection.execute("PRAGMA table_info(proofs)")
            if name not in needed and notnull and default is None
        ]
        assert needed <= existing, needed - existing
        # Columns the bench does not care about but the schema requires get a neutral value.
        names = columns + "".join(f", {name}" for name, _, _ in extra)
        filler = tuple("" for _ in extra)
        placeholders = ", ".join("?" for _ in range(len(needed) + len(extra)))
        connection.executemany(
            f"INSERT INTO proofs ({names}) VALUES ({placeholders})",
            (row + filler for row in rows),
        )
        connection.execute(
            "UPDATE status_list_counters SET next_idx = ? WHERE name = ?", (ISSUED, "proofs")
        )


async def _measure(fn: Any, rounds: int = ROUNDS) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def status_list_figures() -> dict[str, Any]:
    from tests.fixtures import proof_sdk  # the SDK loader the tests use (3.11 requoting)

    # The two measured tokens are minted first, so they hold slots 0 (valid) and 1 (revoked).
    rng = random.Random(13)
    target_valid, target_revoked = 0, 1
    revoked = {target_revoked, *rng.sample(range(2, ISSUED), REVOKED - 1)}
    with tempfile.TemporaryDirectory(prefix="vouch-bench-sl-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            database_url=None,
            public_url=BASE,
            issuer="proof.holdings",
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
                key = (await tenancy.create_api_key(session, project, mode="live")).key
                await runtime.keyring.ensure_key(session)
                signer = await runtime.keyring.active(session, "live", "proof")
                minted = [
                    await runtime.tokens.mint(
                        session,
                        environment="live",
                        sub=f"bench{i:019d}",
                        type="phone",
                        lifetime=timedelta(days=90),
                        claims={"channel": "telegram"},
                    )
                    for i in (target_valid, target_revoked)
                ]
            assert [m.status_idx for m in minted] == [target_valid, target_revoked]
            valid_token, revoked_token = (m.token for m in minted)
            database = Path(tmp) / "vouch.db"
            started = time.perf_counter()
            _fill(database, project.id, signer.kid, revoked)
            fill_seconds = time.perf_counter() - started

            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:

                async def build() -> None:
                    runtime.tokens.status_lists.invalidate()
                    response = await client.get("/statuslists/live/0")
                    assert response.status_code == 200

                build_seconds = await _measure(build)
                document = (await client.get("/statuslists/live/0")).content
                jwks = (await client.get("/.well-known/jwks.json")).content

                sdk = proof_sdk.load(Path(tmp) / "sdk")
                proof = sdk.Proof(key, base_url=BASE, max_retries=0)
                proof._http._client = httpx.AsyncClient(transport=transport, base_url=BASE)
                proof._http._public_client = httpx.AsyncClient(transport=transport)

                async def sdk_cold() -> None:
                    proof.proofs.refresh_jwks()  # drops its cached list and key set age
                    result = await proof.proofs.verify_offline(revoked_token)
                    assert result["reason"] == "revoked", result

                sdk_cold_seconds = await _measure(sdk_cold)
                valid = await proof.proofs.verify_offline(valid_token)
                assert valid["valid"] is True and valid["revocation_checked"] is True, valid
                await proof.close()

            empty = status_list.encode_list([])
            full = status_list.encode_list(
                (i, status_list.STATUS_INVALID) for i in range(ISSUED) if i != target_valid
            )

            async def sign_list(lst: str) -> bytes:
                issued = int(time.time())
                claims = {
                    "sub": f"{BASE}/statuslists/live/0",
                    "iat": issued,
                    "exp": issued + 600,
                    "ttl": 60,
                    "status_list": {"bits": 2, "lst": lst},
                }
                async with runtime.db.session() as session:
                    token = await runtime.tokens.sign_status_list(session, "live", claims)
                return token.encode()

            lists = {
                "served": document,
                "none": await sign_list(empty),
                "all": await sign_list(full),
            }

    def verifier_for(body: bytes) -> Verifier:
        def serve(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/jwks.json"):
                return httpx.Response(200, content=jwks)
            return httpx.Response(200, content=body)

        client = httpx.Client(transport=httpx.MockTransport(serve))
        return Verifier(BASE, issuer="proof.holdings", http_client=client)

    def cold_read(body: bytes) -> float:
        samples = []
        for _ in range(ROUNDS):
            verifier = verifier_for(body)
            start = time.perf_counter()
            verifier.verify(valid_token)
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    def check_rate(body: bytes) -> float:
        verifier = verifier_for(body)
        verifier.verify(valid_token)  # warm
        rounds = []
        for _ in range(3):
            n, start = 0, time.perf_counter()
            while time.perf_counter() - start < 0.7:
                verifier.verify(valid_token)
                n += 1
            rounds.append(n / (time.perf_counter() - start))
        return statistics.median(rounds)

    try:
        verifier_for(lists["served"]).verify(revoked_token)
    except ProofRevoked:
        pass
    else:
        raise AssertionError("the revoked proof verified")
    cold_none = cold_read(lists["none"])
    cold_served = cold_read(lists["served"])
    rate_none = check_rate(lists["none"])
    rate_all = check_rate(lists["all"])
    return {
        "issued": ISSUED,
        "revoked": REVOKED,
        "fill_seconds": round(fill_seconds, 1),
        "document_bytes": len(lists["served"]),
        "document_bytes_nothing_revoked": len(lists["none"]),
        "server_build_seconds": round(build_seconds, 3),
        "proof_sdk_cold_verify_seconds": round(sdk_cold_seconds, 3),
        "vouch_client_cold_verify_seconds": round(cold_served, 3),
        "vouch_client_cold_verify_seconds_nothing_revoked": round(cold_none, 3),
        "cold_read_vs_nothing_revoked": round(cold_served / cold_none, 2),
        "warm_checks_per_second_0_revoked": round(rate_none),
        "warm_checks_per_second_1m_revoked": round(rate_all),
        "warm_check_cost_1m_vs_0": round(rate_none / rate_all, 3),
    }


if __name__ == "__main__":
    print(asyncio.run(status_list_figures()))
