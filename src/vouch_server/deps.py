"""Request dependencies, named so that a route's signature says who may call it.

``Session``      a unit of work committed before the response is sent (``scope="function"``).
``ApiCaller``    any valid key, test or live; applies the per-key rate limit.
``TestCaller``   test keys only (``test_mode_required`` otherwise).
``PublicCaller`` no key; applies the per-IP rate limit of public endpoints.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.errors import RateLimited, TestModeRequired, Unauthorized
from vouch_server.http import scope_client_ip, scope_presented_key
from vouch_server.openapi import authenticates_key
from vouch_server.runtime import Runtime
from vouch_server.tenancy.service import Principal, authenticate


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.vouch
    return runtime


async def _runtime(request: Request) -> Runtime:
    # A coroutine on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, a
    # thread hand-off on every request for one attribute read.
    return runtime_of(request)


RuntimeDep = Annotated[Runtime, Depends(_runtime)]


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with runtime_of(request).db.session() as session:
        yield session


Session = Annotated[AsyncSession, Depends(_session, scope="function")]


def client_ip(request: Request) -> str:
    settings = runtime_of(request).settings
    return scope_client_ip(
        request.scope,
        trust_forwarded_for=settings.trust_forwarded_for,
        trusted_proxies=settings.trusted_proxies,
    )


def presented_key(request: Request) -> str | None:
    return scope_presented_key(request.scope)


async def _rate_limit(request: Request, rule: str, *identity: str) -> None:
    state = await runtime_of(request).limiter.hit(rule, *identity)
    request.state.rate_limit = state
    if not state.allowed:
        raise RateLimited(state.retry_after)


@authenticates_key
async def _api_caller(request: Request, session: Session) -> Principal:
    runtime = runtime_of(request)
    key = presented_key(request)
    if not key:
        raise Unauthorized()
    principal = await authenticate(session, key)
    if principal is None:
        # Failed keys are limited per IP, so keys cannot be guessed at line rate.
        await _rate_limit(
            request, runtime.settings.rate_limit_auth_failures, "authfail", client_ip(request)
        )
        raise Unauthorized("Invalid API key")
    await _rate_limit(request, runtime.settings.rate_limit_api, "key", principal.api_key_id)
    request.state.principal = principal
    return principal


async def _test_caller(principal: Annotated[Principal, Depends(_api_caller)]) -> Principal:
    if not principal.is_test:
        raise TestModeRequired()
    return principal


async def _public_caller(request: Request) -> None:
    await _rate_limit(
        request, runtime_of(request).settings.rate_limit_public, "ip", client_ip(request)
    )


async def _revocation_list_reader(request: Request) -> None:
    rule = runtime_of(request).settings.rate_limit_revocation_list
    await _rate_limit(request, rule, "revocations", client_ip(request))


ApiCaller = Annotated[Principal, Depends(_api_caller)]
TestCaller = Annotated[Principal, Depends(_test_caller)]
PublicCaller = Annotated[None, Depends(_public_caller)]
RevocationListReader = Annotated[None, Depends(_revocation_list_reader)]
