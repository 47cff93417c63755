"""The authenticated-key cache: a request with a known key skips the ``api_keys`` lookup.

An entry is the ``Principal`` a key authenticated as, stored under the SHA-256 of the key (the
raw key is never kept) together with the revocation epoch read before the key was looked up.
Every revocation changes the epoch (``kit.epoch``), and every authentication reads the epoch
first, so an entry from before a revocation — made by this process, another server process or
the CLI — never matches again: a revoked key fails on its very next request.
The time to live and the size bound only keep the cache small and let other changes to a key's
row (there are none today) be seen within seconds; correctness does not rest on them.

One cache per database engine, so that two databases in one process (tests, tools) never share
entries.
"""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from vouch_server.tenancy.service import Principal  # noqa: F401 - named in KeyCache's base

TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000


T = TypeVar("T")


@dataclass(frozen=True)
class _Entry(Generic[T]):
    value: T
    epoch: int | None
    expires: float


class EpochCache(Generic[T]):
    """Values valid while the revocation epoch they were read under is current, bounded in
    number (least recently used first out) and in age."""

    def __init__(
        self,
        *,
        ttl: float = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry[T]] = OrderedDict()

    def get(self, key_hash: str, epoch: int | None) -> T | None:
        """The value cached for ``key_hash`` under ``epoch``, if still fresh."""
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        if entry.epoch != epoch or entry.expires <= self._clock():
            del self._entries[key_hash]
            return None
        self._entries.move_to_end(key_hash)
        return entry.value

    def put(self, key_hash: str, epoch: int | None, value: T) -> None:
        self._entries[key_hash] = _Entry(value, epoch, self._clock() + self.ttl)
        self._entries.move_to_end(key_hash)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def discard(self, key_hash: str) -> None:
        self._entries.pop(key_hash, None)

    def keys(self) -> list[str]:
        return list(self._entries)


class KeyCache(EpochCache["Principal"]):
    """Authenticated keys by the SHA-256 of the key."""


_CACHES: weakref.WeakKeyDictionary[Engine, KeyCache] = weakref.WeakKeyDictionary()


def cache_for(engine: Engine) -> KeyCache:
    cache = _CACHES.get(engine)
    if cache is None:
        cache = _CACHES[engine] = KeyCache()
    return cache
