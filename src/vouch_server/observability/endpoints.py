"""``GET /metrics``: the Prometheus text exposition of this process's metrics.

Off unless configured: without ``VOUCH_METRICS_ENABLED`` or ``VOUCH_METRICS_TOKEN`` the route
answers 404 like any unknown path. With a token, a scrape must present it as
``Authorization: Bearer <token>`` (compared in constant time); a wrong or missing one is 401 and
counts against the per-address limit on failed credentials, like a wrong API key.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from vouch_server.deps import RuntimeDep, Session, client_ip
from vouch_server.errors import NotFound, RateLimited, Unauthorized

router = APIRouter(include_in_schema=False)


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


@router.get("/metrics")
async def metrics(request: Request, runtime: RuntimeDep, session: Session) -> Response:
    settings = runtime.settings
    if not (settings.metrics_enabled or settings.metrics_token):
        raise NotFound("Route not found")
    if settings.metrics_token:
        given = _bearer(request)
        if given is None or not hmac.compare_digest(
            given.encode(), settings.metrics_token.encode()
        ):
            state = await runtime.limiter.hit(
                settings.rate_limit_auth_failures, "authfail", client_ip(request)
            )
            if not state.allowed:
                raise RateLimited(state.retry_after)
            raise Unauthorized(
                "A valid metrics token is required", headers={"WWW-Authenticate": "Bearer"}
            )
    await runtime.metrics.refresh_from_database(session)
    return Response(
        runtime.metrics.exposition(),
        media_type=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )
