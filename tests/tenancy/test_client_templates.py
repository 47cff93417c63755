"""``vouch_client``'s ``client.templates`` against the real app (ASGI transport, async) and the
sync ``Client`` over the same app through a live uvicorn: put → get → list → preview / render →
delete back to the default, and errors as the SDK's exceptions with the server's code. The
templates list is not paged (one template per channel and message type)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from tests.fixtures.tenancy import Keys, make_keys
from tests.fixtures.typed_dicts import assert_satisfies
from vouch_client import (
    AsyncClient,
    BadRequest,
    Client,
    NotFound,
    RetryPolicy,
    Template,
    TemplateList,
    TemplateRendering,
)
from vouch_server.app import create_app


@pytest.fixture
async def sdk(app: FastAPI, keys: Keys) -> AsyncIterator[AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with AsyncClient("https://vouch.test", api_key=keys.test, transport=transport) as c:
        yield c


async def test_template_round_trip(sdk: AsyncClient) -> None:
    default = await sdk.templates.get("sms", "verification_request")
    assert default["is_custom"] is False
    put = await sdk.templates.put("sms", "verification_request", "Your code: {{code}}")
    assert_satisfies(put, Template)
    assert put["is_custom"] is True and put["body"] == "Your code: {{code}}"
    assert (await sdk.templates.get("sms", "verification_request"))["id"] == put["id"]
    listed = await sdk.templates.list()
    assert [t["id"] for t in listed["templates"]] == [put["id"]]
    assert_satisfies(listed, TemplateList)
    assert "sms" in listed["channels"]
    defaults = await sdk.templates.defaults()
    assert len(defaults["templates"]) > 1
    preview = await sdk.templates.preview(
        "sms", "verification_request", body="Hi {{code}}", variables={"code": "123456"}
    )
    assert "Hi 123456" in str(preview["rendered"])
    rendered = await sdk.templates.render(
        "sms", "verification_request", variables={"code": "654321"}
    )
    assert_satisfies(rendered, TemplateRendering)
    assert rendered["is_custom"] is True and "Your code: 654321" in str(rendered["rendered"])
    deleted = await sdk.templates.delete("sms", "verification_request")
    assert deleted["deleted"] is True and deleted["template"]["is_custom"] is False
    with pytest.raises(NotFound):
        await sdk.templates.delete("sms", "verification_request")


async def test_bad_template_is_refused_with_the_servers_code(sdk: AsyncClient) -> None:
    with pytest.raises(BadRequest) as caught:
        await sdk.templates.put("telegram", "verification_request", "ok", subject="email only")
    assert caught.value.status_code == 400 and caught.value.code == "validation_error"
    with pytest.raises(NotFound) as unknown:
        await sdk.templates.put("pigeon", "verification_request", "x")
    assert unknown.value.code == "not_found"
    assert (await sdk.templates.list())["templates"] == []


async def test_sync_client_against_a_live_server(app: FastAPI, keys: Keys) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_config=None))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    def run() -> tuple[str, bool]:
        with Client(url, api_key=keys.test) as vouch:
            put = vouch.templates.put("telegram", "verification_success", "Done, {{code}}")
            back = vouch.templates.delete("telegram", "verification_success")
            return put["body"], back["template"]["is_custom"]

    try:
        body, custom = await asyncio.to_thread(run)
    finally:
        server.should_exit = True
        await task
        sock.close()
    assert body == "Done, {{code}}" and custom is False


async def test_sync_client_retries_a_real_429_after_retry_after(settings_factory: Any) -> None:
    app = create_app(settings_factory(rate_limit_api="2/minute"))
    await app.state.vouch.limiter.reset()
    loop = asyncio.get_running_loop()
    async with app.router.lifespan_context(app):
        keys = await make_keys(app.state.vouch)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_config=None))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        delays: list[float] = []

        def sleep(seconds: float) -> None:
            delays.append(seconds)
            # The server's window has passed: clear it on the server's own loop.
            asyncio.run_coroutine_threadsafe(app.state.vouch.limiter.reset(), loop).result()

        def run() -> list[str]:
            with Client(
                url, api_key=keys.test, retry=RetryPolicy(max_delay=120), sleep=sleep
            ) as vouch:
                return [vouch.templates.list()["channels"][0] for _ in range(3)]

        try:
            channels = await asyncio.to_thread(run)
        finally:
            server.should_exit = True
            await task
            sock.close()
    assert channels == ["telegram"] * 3
    assert len(delays) == 1 and 0 < delays[0] <= 60
