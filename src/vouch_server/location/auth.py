"""Who is calling ``/verify/v0/…``: an API key is optional, as on Astral's hosted verifier.

* No key — the public tier: verification works, limited per client IP by
  ``VOUCH_LOCATION_RATE_LIMIT_PUBLIC`` (lower than keyed traffic), and no proof token is minted
  (a token is recorded under a project; an anonymous caller has none).
* A key in ``X-API-Key`` or ``Authorization: Bearer`` — it must be valid (401 ``unauthorized``
  otherwise, with failed keys limited per IP as everywhere in vouch); the caller is limited per
  key by ``VOUCH_LOCATION_RATE_LIMIT_API`` and its proofs are minted under its project.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from vouch_server.deps import Session, client_ip, runtime_of
from vouch_server.errors import RateLimited
from vouch_server.location.problems import LocationProblem
from vouch_server.tenancy.service import Principal, authenticate


class UnauthorizedProblem(LocationProblem):
    code, status = "unauthorized", 401


def _presented_key(request: Request) -> str | None:
    """The key the caller presents, ``""`` for a malformed presentation, None for none."""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, value = authorization.partition(" ")
        return value.strip() if scheme.lower() == "bearer" else ""
    header = request.headers.get("x-api-key")
    return header.strip() if header is not None else None


async def _limit(request: Request, rule: str, *identity: str) -> None:
    state = await runtime_of(request).limiter.hit(rule, *identity)
    request.state.rate_limit = state
    if not state.allowed:
        raise RateLimited(state.retry_after, instance=request.url.path)


async def _location_caller(request: Request, session: Session) -> Principal | None:
    settings = runtime_of(request).settings
    key = _presented_key(request)
    if key is None:
        await _limit(
            request, settings.location_rate_limit_public, "location-ip", client_ip(request)
        )
        return None
    principal = await authenticate(session, key) if key else None
    if principal is None:
        await _limit(request, settings.rate_limit_auth_failures, "authfail", client_ip(request))
        raise UnauthorizedProblem("Invalid or missing API key", instance=request.url.path)
    await _limit(request, settings.location_rate_limit_api, "location-key", principal.api_key_id)
    request.state.principal = principal
    return principal


LocationCaller = Annotated[Principal | None, Depends(_location_caller)]
