"""Fixtures for the vouch-client tests (helpers live in sdk_fakes.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from sdk_fakes import ISSUER, Clock, FakeVouch, SigningKey, cached_key

from vouch_client import AsyncVerifier, Verifier


@pytest.fixture
def rsa_key() -> SigningKey:
    return cached_key("RS256", "rsa-1")


@pytest.fixture
def ec_key() -> SigningKey:
    return cached_key("ES256", "ec-1")


@pytest.fixture
def ed_key() -> SigningKey:
    return cached_key("EdDSA", "ed-1")


@pytest.fixture
def other_rsa_key() -> SigningKey:
    """A key the server does not publish."""
    return cached_key("RS256", "rsa-other")


@pytest.fixture(params=["RS256", "ES256", "EdDSA"])
def any_key(request: pytest.FixtureRequest) -> SigningKey:
    alg = request.param
    return cached_key(alg, {"RS256": "rsa-1", "ES256": "ec-1", "EdDSA": "ed-1"}[alg])


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(clock: Clock, rsa_key: SigningKey, ec_key: SigningKey, ed_key: SigningKey) -> FakeVouch:
    return FakeVouch(clock=clock, keys=[rsa_key, ec_key, ed_key], list_key=rsa_key)


@pytest.fixture
def http_client(server: FakeVouch) -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.MockTransport(server.handler)) as client:
        yield client


@pytest.fixture
def make_verifier(http_client: httpx.Client, clock: Clock) -> Callable[..., Any]:
    def factory(**kwargs: Any) -> Verifier:
        kwargs.setdefault("http_client", http_client)
        kwargs.setdefault("clock", clock)
        return Verifier(ISSUER, **kwargs)

    return factory


@pytest.fixture
async def async_http_client(server: FakeVouch) -> AsyncIterator[httpx.AsyncClient]:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # yield like real I/O so concurrent callers interleave
        return server.handler(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        yield client


@pytest.fixture
def make_async_verifier(async_http_client: httpx.AsyncClient, clock: Clock) -> Callable[..., Any]:
    def factory(**kwargs: Any) -> AsyncVerifier:
        kwargs.setdefault("http_client", async_http_client)
        kwargs.setdefault("clock", clock)
        return AsyncVerifier(ISSUER, **kwargs)

    return factory
