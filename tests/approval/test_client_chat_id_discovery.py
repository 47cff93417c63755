"""``client.hitl.watch_chat_id_discovery``: the SDK following a discovery's live stream on the
real server, until the person opens the link (through the Telegram stand-in) or it expires; the
sync ``Client`` over a live uvicorn on loopback, the async one over the ASGI transport."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select, update

from tests.approval.standins import CHAT_ID, post_telegram, tg_message
from tests.fixtures.tenancy import Keys
from vouch_client import AsyncClient, Client, NotFound, ServerSentEvent
from vouch_server.kit.clock import utcnow
from vouch_server.models.hitl import ChatIdDiscovery


@pytest.fixture
async def live_url(dapp: FastAPI) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(dapp, lifespan="off", log_config=None))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def _topic(app: FastAPI, token: str) -> str:
    digest = hashlib.sha256(token.encode()).hexdigest()
    async with app.state.vouch.db.session() as session:
        row = await session.scalar(
            select(ChatIdDiscovery).where(ChatIdDiscovery.token_hash == digest)
        )
    assert row is not None
    return f"chat-id-discovery:{row.id}"


async def _open_link_once_watched(app: FastAPI, dc: httpx.AsyncClient, token: str) -> None:
    """The person presses Start in Telegram, once the SDK is listening."""
    await asyncio.wait_for(
        app.state.vouch.bus.hub.wait_for_subscriber(await _topic(app, token)), 10
    )
    response = await post_telegram(dc, tg_message(f"/start chat_{token}"))
    assert response.status_code == 200


def _assert_completed(events: list[ServerSentEvent]) -> None:
    names = [e["event"] for e in events if e["event"] != "heartbeat"]
    assert names == ["connected", "status_changed"]
    assert events[0]["data"]["status"] == "pending"
    assert events[-1]["data"]["status"] == "completed"
    assert events[-1]["data"]["chat_id"] == str(CHAT_ID)


class TestAsyncWatch:
    async def test_events_until_the_link_is_opened(
        self, dapp: FastAPI, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        transport = httpx.ASGITransport(app=dapp)
        async with AsyncClient(
            "https://vouch.test", api_key=dkeys.test, transport=transport
        ) as sdk:
            token = (await sdk.hitl.start_chat_id_discovery())["token"]

            async def watch() -> list[ServerSentEvent]:
                return [e async for e in sdk.hitl.watch_chat_id_discovery(token)]

            watcher = asyncio.create_task(watch())
            await _open_link_once_watched(dapp, dc, token)
            events = await asyncio.wait_for(watcher, 10)
            _assert_completed(events)
            assert (await sdk.hitl.chat_id_discovery(token))["chat_id"] == str(CHAT_ID)

    async def test_an_expired_discovery_yields_its_state_and_stops(
        self, dapp: FastAPI, dkeys: Keys
    ) -> None:
        transport = httpx.ASGITransport(app=dapp)
        async with AsyncClient(
            "https://vouch.test", api_key=dkeys.test, transport=transport
        ) as sdk:
            token = (await sdk.hitl.start_chat_id_discovery())["token"]
            async with dapp.state.vouch.db.session() as session:
                await session.execute(
                    update(ChatIdDiscovery).values(expires_at=utcnow() - timedelta(seconds=1))
                )
                await session.commit()
            events = [e async for e in sdk.hitl.watch_chat_id_discovery(token)]
        assert [(e["event"], e["data"]["status"]) for e in events] == [("connected", "expired")]

    async def test_an_unknown_token_raises_the_server_error(
        self, dapp: FastAPI, dkeys: Keys
    ) -> None:
        transport = httpx.ASGITransport(app=dapp)
        async with AsyncClient(
            "https://vouch.test", api_key=dkeys.test, transport=transport
        ) as sdk:
            with pytest.raises(NotFound) as missing:
                [e async for e in sdk.hitl.watch_chat_id_discovery("no-such-token")]
        assert missing.value.status_code == 404


class TestSyncWatch:
    async def test_events_until_the_link_is_opened_over_a_live_server(
        self, live_url: str, dapp: FastAPI, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        with Client(live_url, api_key=dkeys.test) as sdk:
            token = (await asyncio.to_thread(sdk.hitl.start_chat_id_discovery))["token"]
            watcher = asyncio.create_task(
                asyncio.to_thread(lambda: list(sdk.hitl.watch_chat_id_discovery(token)))
            )
            await _open_link_once_watched(dapp, dc, token)
            events = await asyncio.wait_for(watcher, 10)
        _assert_completed(events)

    async def test_the_first_event_is_the_current_state_and_the_loop_can_be_left(
        self, live_url: str, dapp: FastAPI, dkeys: Keys
    ) -> None:
        with Client(live_url, api_key=dkeys.test) as sdk:
            token = (await asyncio.to_thread(sdk.hitl.start_chat_id_discovery))["token"]

            def first_event() -> ServerSentEvent:
                for event in sdk.hitl.watch_chat_id_discovery(token):
                    return event
                raise AssertionError("no event")

            first = await asyncio.to_thread(first_event)
            assert first["event"] == "connected" and first["data"]["status"] == "pending"
            again = await asyncio.to_thread(sdk.hitl.chat_id_discovery, token)
        assert again["status"] == "pending"
