"""Live status over Server-Sent Events, against a real ``vouch serve`` process.

On PostgreSQL the change is made by *this* test process while the stream is served by the
server process, so the message has to cross processes (Redis pub/sub, or PostgreSQL
LISTEN/NOTIFY when Redis is not configured)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_SECRET
from tests.fixtures.tenancy import Keys, make_keys
from vouch_server.config import Settings
from vouch_server.control import service as control
from vouch_server.runtime import Runtime
from vouch_server.tenancy.service import Principal

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(settings: Settings, **extra_env: str) -> Iterator[str]:
    with serve_process(settings, **extra_env) as (base, _proc):
        yield base


@contextmanager
def serve_process(
    settings: Settings, **extra_env: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCH_")}
    env.update(
        VOUCH_DATA_DIR=str(settings.data_dir),
        VOUCH_SECRET_KEY=TEST_SECRET,
        VOUCH_PUBLIC_URL="https://vouch.test",
        VOUCH_SSE_HEARTBEAT_SECONDS="0.3",
        **extra_env,
    )
    if settings.database_url:
        env["VOUCH_DATABASE_URL"] = settings.database_url
    if settings.redis_url:
        env["VOUCH_REDIS_URL"] = settings.redis_url
    log = open(settings.data_dir / f"serve-{port}.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "vouch_server.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("server did not start")
        yield base, proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


async def read_events(lines: AsyncIterator[str], count: int) -> list[tuple[str, dict[str, Any]]]:
    """Up to ``count`` events from one line iterator kept for the whole stream (closing the
    iterator would close the stream)."""
    return await asyncio.wait_for(_read_events(lines, count), 45)


async def _read_events(lines: AsyncIterator[str], count: int) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    name = None
    async for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name is not None:
            events.append((name, json.loads(line[6:])))
            name = None
            if len(events) >= count:
                break
    return events


async def _keys(settings: Settings) -> Keys:
    runtime = Runtime.build(settings)
    try:
        return await make_keys(runtime)
    finally:
        await runtime.close()


async def _complete_here(settings: Settings, keys: Keys, verification_id: str) -> None:
    """Complete the verification from this process (not the server's)."""
    runtime = Runtime.build(settings)
    try:
        async with runtime.db.session() as session:
            principal = Principal(keys.project_id, "test", "test")
            await control.test_verify(session, runtime, principal, verification_id)
    finally:
        await runtime.close()


def _variants(backend: str) -> list[str]:
    return ["redis", "notify"] if backend == "postgres" else ["local"]


class TestLiveStatus:
    async def test_stream_sees_the_change(self, settings_factory: Any, backend: str) -> None:
        for variant in _variants(backend):
            settings = (
                settings_factory(redis_url=None) if variant == "notify" else settings_factory()
            )
            if variant == "redis" and not settings.redis_url:
                continue
            keys = await _keys(settings)
            with serve(settings) as base:
                async with httpx.AsyncClient(base_url=base, timeout=30) as c:
                    created = (
                        await c.post(
                            "/api/v1/verifications",
                            json={"type": "phone", "channel": "sms", "identifier": "+37069199199"},
                            headers=keys.test_headers,
                        )
                    ).json()
                    url = f"/api/v1/verifications/{created['id']}/events"
                    async with c.stream("GET", url, headers=keys.test_headers) as response:
                        assert response.headers["content-type"].startswith("text/event-stream")
                        lines = response.aiter_lines()
                        first = await read_events(lines, 1)
                        assert first == [("connected", {"id": created["id"], "status": "pending"})]
                        if variant == "local":
                            await c.post(
                                f"/api/v1/verifications/{created['id']}/test-verify",
                                headers=keys.test_headers,
                            )
                        else:
                            await _complete_here(settings, keys, created["id"])
                        rest = await read_events(lines, 3)
                    changes = [e for e in rest if e[0] == "status_changed"]
                    assert changes and changes[0][1]["status"] == "verified", (variant, rest)

    async def test_heartbeat_and_stream_cap(self, settings_factory: Any) -> None:
        settings = settings_factory()
        keys = await _keys(settings)
        with serve(settings, VOUCH_SSE_MAX_STREAMS_PER_PROJECT="1") as base:
            async with httpx.AsyncClient(base_url=base, timeout=30) as c:
                created = (
                    await c.post(
                        "/api/v1/verifications",
                        json={"type": "phone", "channel": "sms", "identifier": "+37069199199"},
                        headers=keys.test_headers,
                    )
                ).json()
                url = f"/api/v1/verifications/{created['id']}/events"
                async with c.stream("GET", url, headers=keys.test_headers) as response:
                    lines = response.aiter_lines()
                    events = await read_events(lines, 2)
                    assert [e[0] for e in events] == ["connected", "heartbeat"]
                    second = await asyncio.wait_for(c.get(url, headers=keys.test_headers), 10)
                    assert second.status_code == 429
                    assert second.json()["error"]["code"] == "too_many_streams"
                missing = await c.get(
                    "/api/v1/verifications/507f1f77bcf86cd799439011/events",
                    headers=keys.test_headers,
                )
                assert missing.status_code == 404
