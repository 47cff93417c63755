"""The SDK README's "Call the API" example, run as written against a live vouch: only the URL
and the key are swapped for this server's. A renamed method, a wrong channel or a changed
response field in the example fails here."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.fixtures.tenancy import make_keys
from vouch_server.app import create_app

README = Path(__file__).parents[2] / "sdk" / "python" / "README.md"


def example(heading: str) -> str:
    section = README.read_text().split(f"## {heading}\n", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, f"no python block under {heading!r}"
    return match.group(1)


async def test_the_call_the_api_example_runs_against_a_live_server(settings_factory: Any) -> None:
    code = example("Call the API")
    assert 'Client("https://vouch.example.com", api_key="pk_test_…")' in code
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
            runnable = code.replace("https://vouch.example.com", url).replace(
                "pk_test_…", keys.test
            )
            scope: dict[str, Any] = {}
            await asyncio.to_thread(exec, compile(runnable, str(README), "exec"), scope)
        finally:
            server.should_exit = True
            await task
            sock.close()
    assert scope["result"]["valid"] is True
    assert scope["page"]["data"][0]["id"] == scope["v"]["id"]


FAMILIES = [
    "Webhooks",
    "Human approvals (HITL)",
    "Authorizations",
    "Templates",
    "Agents",
    "Records",
]


@dataclass
class Live:
    url: str
    key: str

    def run(self, heading: str) -> dict[str, Any]:
        code = example(heading)
        assert 'Client("https://vouch.example.com", api_key="pk_test_…")' in code
        runnable = code.replace("https://vouch.example.com", self.url).replace(
            "pk_test_…", self.key
        )
        scope: dict[str, Any] = {}
        exec(compile(runnable, f"{README}: {heading}", "exec"), scope)  # noqa: S102
        return scope


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
            yield Live(url, keys.test)
        finally:
            server.should_exit = True
            await task
            sock.close()


async def test_every_family_example_runs_against_a_live_server(live: Live) -> None:
    scopes = {}
    for heading in FAMILIES:
        scopes[heading] = await asyncio.to_thread(live.run, heading)
    assert scopes["Webhooks"]["stats"]["total"] >= 0
    assert scopes["Webhooks"]["secret"]
    hitl = scopes["Human approvals (HITL)"]
    assert hitl["decided"]["status"] == "approved"
    assert hitl["names"] == ["Production deploys"]
    assert hitl["state"] == "pending"
    consent = scopes["Authorizations"]
    assert consent["active"] == [consent["consent"]["id"]]
    assert consent["audit"]["count"] == 1
    templates = scopes["Templates"]
    assert "Code 123456" in str(templates["draft"]["rendered"])
    assert "Your Acme code: 123456" in str(templates["sent"]["rendered"])
    assert scopes["Agents"]["ids"] == ["shop-bot-001"]
    records = scopes["Records"]
    assert records["handles"] == ["vendor-42"]
    assert len(records["history"]["data"]) == 1
