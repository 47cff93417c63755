"""``vouch_client``'s ``client.templates`` against the real app (ASGI transport, async) and the
sync ``Client`` over the same app through a live uvicorn: put → get → list → preview / render →
delete back to the default, and errors as the SDK's exceptions with the server's code. The
templates list is not paged (one template per channel and message type)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from tests.fixtures.tenancy import Keys
from vouch_client import AsyncClient, BadRequest, Client, NotFound


@pytest.fixture
async def sdk(app: FastAPI, keys: Keys) -> AsyncIterator[AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with AsyncClient("https://vouch.test", api_key=keys.test, transport=transport) as c:
        yield c


async def test_template_round_trip(sdk: AsyncClient) -> None:
    default = await sdk.templates.get("sms", "verification_request")
    assert default["is_custom"] is False
    put = await sdk.templates.put("sms", "verification_request", "Your code: {{code}}")
    assert put["is_custom"] is True and put["body"] == "Your code: {{code}}"
    assert (await sdk.templates.get("sms", "verification_request"))["id"] == put["id"]
    listed = await sdk.templates.list()
    assert [t["id"] for t in listed["templates"]] == [put["id"]]
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
