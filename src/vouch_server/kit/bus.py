"""Live events across processes: the fan-out behind Server-Sent Events.

Publishing is transactional: a message is sent only if the unit of work that produced it commits.
Three transports share one in-process hub that fans messages out to local subscribers:

- ``LocalBus``: one process; delivered after commit.
- ``RedisBus`` (``VOUCH_REDIS_URL``): ``PUBLISH`` after commit on one channel; every process
  subscribes once and fans out locally.
- ``PostgresBus`` (PostgreSQL without Redis): ``pg_notify`` inside the transaction — PostgreSQL
  itself delivers it only at commit (``NOTIFY`` semantics) — and one ``LISTEN`` connection per
  process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.config import Settings
from vouch_server.database import after_commit

log = logging.getLogger("vouch.bus")

CHANNEL = "vouch_events"
QUEUE_SIZE = 100


class Hub:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}
        self._joined: dict[str, asyncio.Event] = {}

    def deliver(self, channel: str, message: dict[str, Any]) -> None:
        for queue in list(self._subscribers.get(channel, ())):
            with contextlib.suppress(asyncio.QueueFull):  # a stuck reader loses messages, not us
                queue.put_nowait(message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers.setdefault(channel, set()).add(queue)
        joined = self._joined.pop(channel, None)
        if joined is not None:
            joined.set()
        try:
            yield queue
        finally:
            subscribers = self._subscribers.get(channel)
            if subscribers is not None:
                subscribers.discard(queue)
                if not subscribers:
                    del self._subscribers[channel]

    async def wait_for_subscriber(self, channel: str) -> None:
        """Return once something listens on ``channel`` here (a long poll, a stream)."""
        if channel in self._subscribers:
            return
        await self._joined.setdefault(channel, asyncio.Event()).wait()


class Bus:
    def __init__(self) -> None:
        self.hub = Hub()
        self._started = False
        self._lock = asyncio.Lock()

    async def publish(self, session: AsyncSession, channel: str, message: dict[str, Any]) -> None:
        async def send() -> None:
            self.hub.deliver(channel, message)

        after_commit(session, send)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        await self.start()
        async with self.hub.subscribe(channel) as queue:
            yield queue

    async def start(self) -> None:
        async with self._lock:
            if not self._started:
                await self._start()
                self._started = True

    async def _start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


LocalBus = Bus


def _envelope(channel: str, message: dict[str, Any]) -> str:
    return json.dumps({"channel": channel, "message": message}, separators=(",", ":"))


class RedisBus(Bus):
    def __init__(self, url: str) -> None:
        super().__init__()
        from redis.asyncio import Redis

        self._client: Any = Redis.from_url(url)
        self._task: asyncio.Task[None] | None = None

    async def publish(self, session: AsyncSession, channel: str, message: dict[str, Any]) -> None:
        body = _envelope(channel, message)

        async def send() -> None:
            await self._client.publish(CHANNEL, body)

        after_commit(session, send)

    async def _start(self) -> None:
        pubsub = self._client.pubsub()
        await pubsub.subscribe(CHANNEL)
        self._task = asyncio.create_task(self._listen(pubsub))

    async def _listen(self, pubsub: Any) -> None:
        try:
            async for raw in pubsub.listen():
                if raw.get("type") == "message":
                    self._dispatch(raw["data"])
        finally:
            await pubsub.aclose()

    def _dispatch(self, data: bytes | str) -> None:
        try:
            envelope = json.loads(data)
            self.hub.deliver(str(envelope["channel"]), dict(envelope["message"]))
        except (ValueError, KeyError, TypeError):
            log.warning("dropped a malformed bus message")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._client.aclose()


class PgNotifyBus(Bus):
    def __init__(self, database_url: str) -> None:
        super().__init__()
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._connection: Any = None

    async def publish(self, session: AsyncSession, channel: str, message: dict[str, Any]) -> None:
        # Delivered by PostgreSQL when (and only if) this transaction commits.
        await session.execute(select(func.pg_notify(CHANNEL, _envelope(channel, message))))

    async def _start(self) -> None:
        import asyncpg

        self._connection = await asyncpg.connect(self._dsn)
        await self._connection.add_listener(CHANNEL, self._on_notify)

    def _on_notify(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            envelope = json.loads(payload)
            self.hub.deliver(str(envelope["channel"]), dict(envelope["message"]))
        except (ValueError, KeyError, TypeError):
            log.warning("dropped a malformed bus message")

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()


def build_bus(settings: Settings) -> Bus:
    if settings.redis_url:
        return RedisBus(settings.redis_url)
    if not settings.is_sqlite:
        return PgNotifyBus(settings.effective_database_url)
    return LocalBus()
