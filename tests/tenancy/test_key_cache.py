"""``tenancy.key_cache.KeyCache``: entries bound to an epoch, a time to live and a size."""

from __future__ import annotations

from vouch_server.tenancy.key_cache import KeyCache
from vouch_server.tenancy.service import Principal

ALICE = Principal(project_id="prj_a", environment="test", api_key_id="key_a")
BOB = Principal(project_id="prj_b", environment="live", api_key_id="key_b")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class TestKeyCache:
    def test_entry_is_found_under_its_epoch(self) -> None:
        cache = KeyCache()
        cache.put("h1", 7, ALICE)
        assert cache.get("h1", 7) == ALICE

    def test_entry_from_another_epoch_is_dropped(self) -> None:
        cache = KeyCache()
        cache.put("h1", 7, ALICE)
        assert cache.get("h1", 8) is None
        assert cache.get("h1", 7) is None  # dropped, not merely skipped

    def test_entry_expires_after_its_time_to_live(self) -> None:
        clock = FakeClock()
        cache = KeyCache(ttl=5, clock=clock)
        cache.put("h1", 1, ALICE)
        clock.now += 4.9
        assert cache.get("h1", 1) == ALICE
        clock.now += 0.2
        assert cache.get("h1", 1) is None

    def test_least_recently_used_entry_is_evicted_beyond_the_bound(self) -> None:
        cache = KeyCache(max_entries=2)
        cache.put("h1", 1, ALICE)
        cache.put("h2", 1, BOB)
        assert cache.get("h1", 1) == ALICE  # h2 is now the least recently used
        cache.put("h3", 1, BOB)
        assert cache.keys() == ["h1", "h3"]

    def test_discard_forgets_an_entry(self) -> None:
        cache = KeyCache()
        cache.put("h1", 1, ALICE)
        cache.discard("h1")
        cache.discard("absent")
        assert cache.get("h1", 1) is None
