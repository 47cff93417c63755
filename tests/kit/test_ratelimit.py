"""Tests for vouch_server.kit.ratelimit: moving-window limits in memory and (when configured) Redis."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.services import REDIS_URL
from vouch_server.config import Settings
from vouch_server.kit.ratelimit import RateLimiter, RateState


def _storages() -> list[Any]:
    params: list[Any] = ["memory"]
    if REDIS_URL:
        params.append("redis")
    return params


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"data_dir": tmp_path, "secret_key": "test", "redis_url": None}
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(params=_storages())
async def limiter(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RateLimiter]:
    redis_url = REDIS_URL if request.param == "redis" else None
    rate_limiter = RateLimiter(_settings(tmp_path, redis_url=redis_url))
    await rate_limiter.reset()
    try:
        yield rate_limiter
    finally:
        await rate_limiter.reset()
        await rate_limiter.close()


class TestRateState:
    def test_headers(self) -> None:
        state = RateState(allowed=True, limit=10, remaining=7, reset_at=1_770_000_000)
        assert state.headers() == {
            "X-RateLimit-Limit": "10",
            "X-RateLimit-Remaining": "7",
            "X-RateLimit-Reset": "1770000000",
        }

    def test_retry_after_counts_seconds_until_reset(self) -> None:
        state = RateState(allowed=False, limit=1, remaining=0, reset_at=int(time.time()) + 30)
        assert 29 <= state.retry_after <= 30

    def test_retry_after_is_at_least_one_second(self) -> None:
        state = RateState(allowed=False, limit=1, remaining=0, reset_at=int(time.time()) - 100)
        assert state.retry_after == 1


class TestRateLimiterHit:
    async def test_the_hit_after_the_limit_is_refused(self, limiter: RateLimiter) -> None:
        states = [await limiter.hit("3/minute", "api", "key-1") for _ in range(4)]
        assert [s.allowed for s in states] == [True, True, True, False]

    async def test_remaining_counts_down_to_zero(self, limiter: RateLimiter) -> None:
        states = [await limiter.hit("3/minute", "api", "key-1") for _ in range(5)]
        assert [s.remaining for s in states] == [2, 1, 0, 0, 0]
        assert {s.limit for s in states} == {3}

    async def test_headers_describe_the_window(self, limiter: RateLimiter) -> None:
        before = int(time.time())
        headers = (await limiter.hit("5/minute", "api", "key-1")).headers()
        assert set(headers) == {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}
        assert headers["X-RateLimit-Limit"] == "5"
        assert headers["X-RateLimit-Remaining"] == "4"
        assert before + 59 <= int(headers["X-RateLimit-Reset"]) <= int(time.time()) + 61

    async def test_identities_are_counted_separately(self, limiter: RateLimiter) -> None:
        for _ in range(2):
            await limiter.hit("2/minute", "api", "key-1")
        assert not (await limiter.hit("2/minute", "api", "key-1")).allowed
        other = await limiter.hit("2/minute", "api", "key-2")
        assert other.allowed
        assert other.remaining == 1
        assert (await limiter.hit("2/minute", "public", "key-1")).allowed

    async def test_rules_are_counted_separately(self, limiter: RateLimiter) -> None:
        await limiter.hit("1/minute", "api", "key-1")
        assert not (await limiter.hit("1/minute", "api", "key-1")).allowed
        assert (await limiter.hit("2/minute", "api", "key-1")).allowed

    async def test_reset_forgets_every_counter(self, limiter: RateLimiter) -> None:
        await limiter.hit("1/minute", "api", "key-1")
        assert not (await limiter.hit("1/minute", "api", "key-1")).allowed
        await limiter.reset()
        assert (await limiter.hit("1/minute", "api", "key-1")).allowed


class TestRateLimiterDisabled:
    async def test_always_allows_with_full_remaining(self, tmp_path: Path) -> None:
        rate_limiter = RateLimiter(_settings(tmp_path, rate_limit_enabled=False))
        states = [await rate_limiter.hit("2/minute", "api", "key-1") for _ in range(10)]
        assert all(s.allowed for s in states)
        assert {s.remaining for s in states} == {2}
        assert {s.limit for s in states} == {2}
        assert all(s.reset_at >= int(time.time()) + 59 for s in states)
        await rate_limiter.close()

    async def test_enabled_is_the_default(self, tmp_path: Path) -> None:
        assert RateLimiter(_settings(tmp_path)).enabled


class TestRateLimiterStorage:
    def test_memory_without_redis_url(self, tmp_path: Path) -> None:
        rate_limiter = RateLimiter(_settings(tmp_path))
        assert type(rate_limiter._storage).__name__ == "MemoryStorage"

    @pytest.mark.skipif(not REDIS_URL, reason="needs VOUCH_TEST_REDIS_URL")
    async def test_redis_with_redis_url(self, tmp_path: Path) -> None:
        rate_limiter = RateLimiter(_settings(tmp_path, redis_url=REDIS_URL))
        try:
            assert "redis" in type(rate_limiter._storage).__name__.lower()
            assert await rate_limiter._storage.check()
        finally:
            await rate_limiter.close()

    @pytest.mark.skipif(not REDIS_URL, reason="needs VOUCH_TEST_REDIS_URL")
    async def test_redis_counters_are_shared_between_limiters(self, tmp_path: Path) -> None:
        first = RateLimiter(_settings(tmp_path, redis_url=REDIS_URL))
        second = RateLimiter(_settings(tmp_path, redis_url=REDIS_URL))
        try:
            await first.reset()
            assert (await first.hit("1/minute", "shared", "key-1")).allowed
            assert not (await second.hit("1/minute", "shared", "key-1")).allowed
        finally:
            await first.reset()
            await first.close()
            await second.close()
