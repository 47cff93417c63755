"""Rate limits (threat model §6 "Brute Force", §9 "Denial of Service") on the ``limits`` library.

Moving-window counters live in memory for a single process, or in Redis (``VOUCH_REDIS_URL``) so
that every process of a fleet shares them. Each hit returns what the ``X-RateLimit-*`` headers say.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from vouch_server.config import Settings


@dataclass(frozen=True)
class RateState:
    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # Unix seconds
    window: int = 60  # seconds

    @property
    def retry_after(self) -> int:
        return max(1, min(self.window, math.ceil(self.reset_at - time.time())))

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
        }


class RateLimiter:
    def __init__(
        self, settings: Settings, *, on_refused: Callable[[str], None] | None = None
    ) -> None:
        self.enabled = settings.rate_limit_enabled
        # Told the scope (the first identity part: "ip", "key", "probe", …) of each refusal.
        self.on_refused = on_refused
        self._storage: Storage
        if settings.redis_url:
            url = settings.redis_url
            scheme, _, rest = url.partition("://")
            storage = storage_from_string(f"async+{scheme}://{rest}", implementation="redispy")
            assert isinstance(storage, Storage)
            self._storage = storage
        else:
            self._storage = MemoryStorage()
        self._strategy = MovingWindowRateLimiter(self._storage)
        self._items: dict[str, RateLimitItem] = {}

    def _item(self, rule: str) -> RateLimitItem:
        item = self._items.get(rule)
        if item is None:
            item = self._items[rule] = parse(rule)
        return item

    async def hit(self, rule: str, *identity: str) -> RateState:
        item = self._item(rule)
        if not self.enabled:
            expiry = item.get_expiry()
            return RateState(True, item.amount, item.amount, int(time.time()) + expiry, expiry)
        allowed = await self._strategy.hit(item, *identity)
        if not allowed and self.on_refused is not None and identity:
            self.on_refused(identity[0])
        stats = await self._strategy.get_window_stats(item, *identity)
        return RateState(
            allowed,
            item.amount,
            max(0, stats.remaining),
            math.ceil(stats.reset_time),
            item.get_expiry(),
        )

    async def _stop_expiry_timer(self) -> None:
        # The in-memory storage prunes expired entries in a background task; one still running
        # while the storage is reset dies on a KeyError ("Task exception was never retrieved"),
        # and one left behind outlives the limiter. Stop it (it ends quietly when cancelled).
        timer = getattr(self._storage, "timer", None)
        if isinstance(timer, asyncio.Task) and timer is not asyncio.current_task():
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await timer

    async def exhausted(self, rule: str, *identity: str) -> bool:
        """True when ``identity`` has no hits left in the current window (does not count a hit)."""
        if not self.enabled:
            return False
        return not await self._strategy.test(self._item(rule), *identity)

    async def reset(self) -> None:
        await self._stop_expiry_timer()
        await self._storage.reset()

    async def close(self) -> None:
        await self._stop_expiry_timer()
        # limits keeps its redis-py client on the storage's bridge and offers no close of its own.
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        aclose = getattr(client, "aclose", None)
        if aclose is not None:
            await aclose()
