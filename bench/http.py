"""Issue 14's server figures over real HTTP: ``vouch serve`` processes on loopback, a load generator
in this process, and the server's own CPU time (``/proc/<pid>/stat``) per request, so the figure
does not depend on how busy the load generator keeps the other core.

- P2 ``POST /api/v1/proofs/validate`` against ``bench/bare.py`` (FastAPI on uvicorn doing a plain
  ``jwt.decode`` of the same token): ratio = baseline CPU per request / vouch CPU per request.
- P3 create → test-verify (a proof token minted) against the RS256 signing cost of one core
  (``cryptography``, a key of the server's size): ratio = one signature / one flow's server CPU.
- P5 two ``vouch serve`` processes on one PostgreSQL against one, the load split between them.
- list latency ``GET /api/v1/verifications?limit=20`` at 1,000 and 100,000 rows.
- the server's RSS idle and after the load.

Each run is bounded (a fixed number of requests, a timeout per server start). Figures are
printed, never asserted: the machine is shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
VOUCH = Path(sys.executable).with_name("vouch")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PG_ADMIN_URL = os.environ.get(
    "VOUCH_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
CONCURRENCY = 8
PHONE = {"type": "phone", "channel": "telegram", "identifier": "+37069199199"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (``vouch serve --workers`` forks)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pid: int) -> float:
    total = 0
    for p in _tree(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime (man 5 proc)
    return total / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    total = 0
    for p in _tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return round(total / 1024, 1)


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid


async def _wait(url: str, process: subprocess.Popen[bytes], path: str) -> None:
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server at {url} exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url + path)).status_code < 500:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"server at {url} did not answer within 90 s")


@contextlib.asynccontextmanager
async def _process(
    argv: list[str], env: dict[str, str], url: str, path: str
) -> AsyncIterator[Server]:
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, not awaited on
        argv,
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await _wait(url, process, path)
        yield Server(url, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _vouch_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {
        "VOUCH_DATA_DIR": str(data_dir),
        "VOUCH_SECRET_KEY": "bench-secret-key-bench-secret-key",
        "VOUCH_RATE_LIMIT_ENABLED": "false",
        "VOUCH_EXPIRY_SWEEP_SECONDS": "0",
        "VOUCH_LOG_LEVEL": "WARNING",
        "VOUCH_ACCESS_LOG": "false",
    }
    if database_url:
        env["VOUCH_DATABASE_URL"] = database_url
    return env


def _api_key(env: dict[str, str]) -> str:
    out = subprocess.run(
        [str(VOUCH), "apikeys", "create", "--project", "bench", "--create-project", "--json"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    return str(json.loads(out)["key"])


@contextlib.asynccontextmanager
async def vouch(data_dir: Path, database_url: str | None) -> AsyncIterator[Server]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**_vouch_env(data_dir, database_url), "VOUCH_PUBLIC_URL": url}
    argv = [str(VOUCH), "serve", "--port", str(port)]
    async with _process(argv, env, url, "/health") as server:
        yield server


async def load(
    n: int,
    request: Callable[[httpx.AsyncClient], Awaitable[Any]],
    *,
    concurrency: int = CONCURRENCY,
) -> dict[str, float]:
    """``n`` calls of ``request`` from ``concurrency`` workers; wall time and latencies."""
    latencies: list[float] = []
    remaining = n
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            await request(client)
            latencies.append(time.perf_counter() - started)

    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    latencies.sort()
    return {
        "per_second": round(n / wall, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 1),
    }


async def measured(
    servers: list[Server], n: int, request: Callable[[httpx.AsyncClient], Awaitable[Any]]
) -> dict[str, float]:
    """``load`` plus the servers' CPU milliseconds per call."""
    before = sum(cpu_seconds(s.pid) for s in servers)
    figures = await load(n, request)
    spent = sum(cpu_seconds(s.pid) for s in servers) - before
    figures["cpu_ms"] = round(1000 * spent / n, 3)
    return figures


def _check(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:200]}")
    body: dict[str, Any] = response.json()
    return body


def rs256_sign_ms(bits: int) -> float:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    message = secrets.token_bytes(400)
    for _ in range(20):
        key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(100):
            key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        rounds.append((time.perf_counter() - started) / 100)
    return 1000 * min(rounds)


async def _flows(server: Server, key: str, n: int) -> tuple[dict[str, float], list[str]]:
    headers = {"Authorization": f"Bearer {key}"}
    tokens: list[str] = []

    async def flow(client: httpx.AsyncClient) -> None:
        created = _check(
            await client.post(server.url + "/api/v1/verifications", json=PHONE, headers=headers)
        )
        done = _check(
            await client.post(
                f"{server.url}/api/v1/verifications/{created['id']}/test-verify", headers=headers
            )
        )
        tokens.append(done["proof_token"])

    await load(20, flow)  # warm up
    return await measured([server], n, flow), tokens


async def _validates(server: Server, key: str, tokens: list[str], n: int) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {key}"}
    i = 0

    async def validate(client: httpx.AsyncClient) -> None:
        nonlocal i
        i += 1
        body = {"proof_token": tokens[i % len(tokens)]}
        answer = _check(
            await client.post(server.url + "/api/v1/proofs/validate", json=body, headers=headers)
        )
        if answer.get("valid") is not True:
            raise RuntimeError(f"validate said {answer}")

    await load(50, validate)
    return await measured([server], n, validate)


async def _bare(
    jwks: dict[str, Any], issuer: str, tokens: list[str], n: int, tmp: Path
) -> dict[str, float]:
    path = tmp / "bench-jwks.json"
    path.write_text(json.dumps(jwks))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.bare:app",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    env = {"VOUCH_BENCH_JWKS": str(path), "VOUCH_BENCH_ISSUER": issuer}
    async with _process(argv, env, url, "/docs") as server:
        i = 0

        async def validate(client: httpx.AsyncClient) -> None:
            nonlocal i
            i += 1
            _check(
                await client.post(url + "/validate", json={"proof_token": tokens[i % len(tokens)]})
            )

        await load(50, validate)
        return await measured([server], n, validate)


async def _fill_verifications(database_url: str, rows: int, start: int = 0) -> None:
    """Copy the newest verification ``rows`` times into the past (bulk SQL; the API would take
    an hour for 100,000)."""
    from sqlalchemy import insert, select
    from sqlalchemy.ext.asyncio import create_async_engine

    from vouch_server.models.verification import Verification

    table = Verification.__table__
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            newest = select(table).order_by(table.c.created_at.desc()).limit(1)
            template = dict((await conn.execute(newest)).mappings().one())
            base = datetime.now(UTC) - timedelta(days=1)
            batch: list[dict[str, Any]] = []
            for i in range(start, start + rows):
                when = base - timedelta(seconds=i)
                batch.append(
                    {**template, "id": f"ver_bench{i:015d}", "created_at": when, "updated_at": when}
                )
                if len(batch) == 5000:
                    await conn.execute(insert(Verification), batch)
                    batch = []
            if batch:
                await conn.execute(insert(Verification), batch)
    finally:
        await engine.dispose()


async def _list_latency(server: Server, key: str) -> float:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient() as client:
        for _ in range(5):
            _check(await client.get(server.url + "/api/v1/verifications?limit=20", headers=headers))
        samples = []
        for _ in range(30):
            started = time.perf_counter()
            _check(await client.get(server.url + "/api/v1/verifications?limit=20", headers=headers))
            samples.append(time.perf_counter() - started)
    return round(1000 * statistics.median(samples), 1)


@contextlib.asynccontextmanager
async def _pg_database() -> AsyncIterator[str | None]:
    """A database of its own on the local PostgreSQL, dropped afterwards; None without one."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    name = f"vouch_bench_{os.getpid()}"
    admin = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:  # no PostgreSQL here: the PG figures are skipped
        await admin.dispose()
        yield None
        return
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def backend_figures(
    label: str, database_url: str | None, tmp: Path, *, flows: int, validates: int
) -> dict[str, Any]:
    data_dir = tmp / label
    data_dir.mkdir()
    env = _vouch_env(data_dir, database_url)
    figures: dict[str, Any] = {}
    async with vouch(data_dir, database_url) as server:
        key = _api_key(env)
        figures["rss_idle_mib"] = rss_mib(server.pid)
        figures["flows"], tokens = await _flows(server, key, flows)
        figures["validate"] = await _validates(server, key, tokens, validates)
        figures["rss_loaded_mib"] = rss_mib(server.pid)
        async with httpx.AsyncClient() as client:
            jwks = (await client.get(server.url + "/.well-known/jwks-test.json")).json()
        url = database_url or f"sqlite+aiosqlite:///{data_dir / 'vouch.db'}"
        filled = 1000 - flows - 20
        await _fill_verifications(url, filled)
        figures["list_ms_at_1k"] = await _list_latency(server, key)
        await _fill_verifications(url, 100_000 - 1000, start=filled)
        figures["list_ms_at_100k"] = await _list_latency(server, key)
    figures["bare_validate"] = await _bare(jwks, server.url, tokens, validates, tmp)
    return figures


async def scale_out(database_url: str, tmp: Path, n: int) -> dict[str, Any]:
    """P5: creates and validates per second through one process, then through two sharing the
    database, the load generator alternating between them."""
    data_dir = tmp / "p5"
    data_dir.mkdir()
    env = _vouch_env(data_dir, database_url)
    out: dict[str, Any] = {}
    async with contextlib.AsyncExitStack() as stack:
        first = await stack.enter_async_context(vouch(data_dir, database_url))
        key = _api_key(env)
        headers = {"Authorization": f"Bearer {key}"}
        tokens: list[str] = []
        servers = [first]

        async def create(client: httpx.AsyncClient) -> None:
            server = servers[len(tokens) % len(servers)]
            created = _check(
                await client.post(server.url + "/api/v1/verifications", json=PHONE, headers=headers)
            )
            tokens.append(created["id"])

        _, proof_tokens = await _flows(first, key, 40)

        async def validate(client: httpx.AsyncClient) -> None:
            server = servers[len(tokens) % len(servers)]
            tokens.append("")
            body = {"proof_token": proof_tokens[len(tokens) % len(proof_tokens)]}
            _check(
                await client.post(
                    server.url + "/api/v1/proofs/validate", json=body, headers=headers
                )
            )

        one_create = await load(n, create, concurrency=16)
        one_validate = await load(n, validate, concurrency=16)
        second = await stack.enter_async_context(vouch(data_dir, database_url))
        servers.append(second)
        await load(40, create, concurrency=16)
        two_create = await load(n, create, concurrency=16)
        two_validate = await load(n, validate, concurrency=16)
    out["creates"] = {"one": one_create["per_second"], "two": two_create["per_second"]}
    out["validates"] = {"one": one_validate["per_second"], "two": two_validate["per_second"]}
    out["creates"]["ratio"] = round(two_create["per_second"] / one_create["per_second"], 2)
    out["validates"]["ratio"] = round(two_validate["per_second"] / one_validate["per_second"], 2)
    return out


async def figures(flows: int = 400, validates: int = 2000) -> dict[str, Any]:
    results: dict[str, Any] = {"rs256_sign_ms": round(rs256_sign_ms(2048), 3)}
    with tempfile.TemporaryDirectory(prefix="vouch-bench-http-") as raw:
        tmp = Path(raw)
        results["sqlite"] = await backend_figures(
            "sqlite", None, tmp, flows=flows, validates=validates
        )
        async with _pg_database() as pg:
            if pg is not None:
                results["postgresql"] = await backend_figures(
                    "pg", pg, tmp, flows=flows // 2, validates=validates
                )
        async with _pg_database() as pg:
            if pg is not None:
                results["scale_out"] = await scale_out(pg, tmp, 600)
    return results


def lines(results: dict[str, Any]) -> Iterator[str]:
    sign = results["rs256_sign_ms"]
    for backend in ("sqlite", "postgresql"):
        if backend not in results:
            yield f"  HTTP {backend}: skipped (no server)"
            continue
        f = results[backend]
        v, b, fl = f["validate"], f["bare_validate"], f["flows"]
        yield (
            f"  P2 validate over HTTP ({backend}): {v['per_second']}/s, {v['cpu_ms']} ms server CPU each "
            f"(p99 {v['p99_ms']} ms) vs bare FastAPI+PyJWT {b['per_second']}/s, {b['cpu_ms']} ms -> ratio "
            f"{round(b['cpu_ms'] / v['cpu_ms'], 2)}"
        )
        yield (
            f"  P3 create→test-verify ({backend}): {fl['per_second']} flows/s, {fl['cpu_ms']} ms server CPU "
            f"each (p99 {fl['p99_ms']} ms) vs one RS256 signature {sign} ms -> "
            f"{round(100 * sign / fl['cpu_ms'], 1)} %"
        )
        yield (
            f"  list GET /api/v1/verifications ({backend}): {f['list_ms_at_1k']} ms at 1k rows, "
            f"{f['list_ms_at_100k']} ms at 100k -> {round(f['list_ms_at_100k'] / f['list_ms_at_1k'], 2)}x"
        )
        yield f"  RSS ({backend}): {f['rss_idle_mib']} MiB idle, {f['rss_loaded_mib']} MiB after the load"
    if "scale_out" in results:
        s = results["scale_out"]
        yield (
            f"  P5 two vouch serve on one PostgreSQL: creates {s['creates']['two']}/s vs one "
            f"{s['creates']['one']}/s -> {s['creates']['ratio']}x; validates {s['validates']['two']}/s vs "
            f"{s['validates']['one']}/s -> {s['validates']['ratio']}x (load generator on the same 2 cores)"
        )


if __name__ == "__main__":
    result = asyncio.run(figures())
    print("\n".join(lines(result)))
    print(json.dumps(result))
