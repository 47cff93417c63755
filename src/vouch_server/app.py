"""``create_app(settings)``: every surface of vouch, mounted in one place.

URL map
  GET  /                                        a short HTML page: what this is, where the keys are
  GET  /health                                   public
  GET  /metrics                                  Prometheus metrics, off unless configured
  GET  /.well-known/jwks.json                    live keys, public (Cache-Control: 24 h)
  GET  /.well-known/jwks-test.json               test keys only, public
  GET  /statuslists/{live|test}/{n}              Token Status Lists (application/statuslist+jwt)
  GET  /api/v1                                   public API info
  *    /api/v1/verifications…                    Proof of Control (control/endpoints.py)
  *    /api/v1/proofs…                           validate, status, revoke, revocation list
  *    /api/v1/webhook-endpoints…, /api/v1/webhook-deliveries…   webhooks (webhooks/endpoints.py)
  GET  /api/v1/verifications/{id}/events         live status (Server-Sent Events)
  *    /api/v1/templates…, /api/v1/channels/{channel}/credentials   templates, BYOC (tenancy/)
  *    /api/v1/authorizations…                   Proof of Delegation (consent/)
  *    /api/v1/hitl…, /api/v1/confirmations…     Proof of Action (approval/)
  GET  /approve/{token}                          hosted approval page (web/)
  POST /inbound/telegram, /inbound/whatsapp, /inbound/twilio/sms   provider webhooks (channels/)
  POST /inbound/email; GET/POST /verify/{id}/email   inbound mail (DKIM), email magic links
  *    /v1/verify/…, /v1/agents…                 agent proofs (agents/endpoints.py)
  *    /v2/{resource}…                           signed records (records/endpoints.py)
  *    /verify/v0/…                              location proofs (location/endpoints.py)
  *    /mcp                                      MCP tools, Streamable HTTP, API key as bearer (mcp/http.py)
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response
from sqlalchemy import text
from starlette.types import Scope

from vouch_server import __version__
from vouch_server.agents.endpoints import router as agents_router
from vouch_server.approval import links as approval_links
from vouch_server.approval.endpoints import router as approval_router
from vouch_server.channels import email_endpoints
from vouch_server.channels import endpoints as channel_endpoints
from vouch_server.channels.email_endpoints import router as email_router
from vouch_server.channels.endpoints import router as inbound_router
from vouch_server.config import Settings
from vouch_server.consent.endpoints import router as consent_router
from vouch_server.control import service as control_service
from vouch_server.control.domain_b2b import router as domain_b2b_router
from vouch_server.control.endpoints import router as verifications_router
from vouch_server.control.oauth_endpoints import router as oauth_router
from vouch_server.deps import PublicCaller, RuntimeDep, Session
from vouch_server.http import (
    BodyLimit,
    EdgeMiddleware,
    ProbeGuard,
    install_error_handlers,
    install_log_redaction,
    parse_trusted_proxies,
    scope_presented_key,
)
from vouch_server.kit.clock import isoformat_ms, utcnow
from vouch_server.location.endpoints import router as location_router
from vouch_server.mcp import http as mcp_http
from vouch_server.multichannel.endpoints import router as multichannel_router
from vouch_server.observability.endpoints import router as metrics_router
from vouch_server.observability.middleware import ObserveRequests
from vouch_server.observability.tracing import install_tracing
from vouch_server.openapi import documented
from vouch_server.openapi import install as install_openapi
from vouch_server.profiles import pages as profile_pages
from vouch_server.profiles.endpoints import public_router as public_profiles_router
from vouch_server.profiles.endpoints import router as profiles_router
from vouch_server.proofs.endpoints import router as proofs_router
from vouch_server.proofs.endpoints import status_list_router, validate_route
from vouch_server.proofs.fast_path import ValidateFastPath
from vouch_server.public_responses import ApiInfoOut, HealthOut
from vouch_server.records.endpoints import router as records_router
from vouch_server.records.signed_errors import SignMinkaErrors
from vouch_server.requests import service as requests_service
from vouch_server.requests.endpoints import router as requests_router
from vouch_server.runtime import Runtime
from vouch_server.sessions.endpoints import router as sessions_router
from vouch_server.signing.responses import SigningJwksOut
from vouch_server.tenancy.endpoints import router as tenancy_router
from vouch_server.tenancy.service import authenticate
from vouch_server.web.endpoints import router as web_router
from vouch_server.web.landing import router as landing_router
from vouch_server.web.verification_page import router as verification_page_router
from vouch_server.web.verify_page import router as verify_page_router
from vouch_server.webhooks.delivery import DeliveryWorker
from vouch_server.webhooks.endpoints import router as webhooks_router

log = logging.getLogger("vouch")


async def _sweeper(runtime: Runtime) -> None:
    """Background upkeep: expire verifications whose challenge ran out, and re-check those whose
    method looks for proof by itself (DNS records, HTTP files)."""
    interval = runtime.settings.expiry_sweep_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            async with runtime.db.session() as session:
                expired = await control_service.sweep_expired(session, runtime)
            if expired:
                log.info("expired %d verifications", len(expired))
            async with runtime.db.session() as session:
                completed = await control_service.recheck_pending(session, runtime)
            if completed:
                log.info("background checks completed %d verifications", completed)
            async with runtime.db.session() as session:
                await requests_service.sweep_expired(session, runtime)
        except Exception:
            log.exception("background sweep failed; will retry")


def _no_native_telemetry() -> dict[str, Any]:
    """FastAPI's own OpenTelemetry layer (``FastAPI(telemetry=…)``, recent releases) turns on by
    itself once any global tracer provider exists, and records the raw path and query string,
    where approval links, magic-link tokens and OAuth codes travel, plus exception messages.
    vouch's spans come from ``observability/otel.py`` instead, so it is kept off; releases
    without the option have nothing to turn off."""
    if "telemetry" not in inspect.signature(FastAPI).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    tracer_provider: Any = None,
) -> FastAPI:
    """The app for ``settings``. ``tracer_provider`` (an OpenTelemetry SDK ``TracerProvider``)
    takes the place of the process-wide one when ``VOUCH_OTEL_ENABLED`` is set."""
    settings = settings or (runtime.settings if runtime else Settings())
    runtime = runtime or Runtime.build(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with runtime.db.session() as session:
            await runtime.keyring.ensure_key(session)
        tasks = []
        if settings.expiry_sweep_seconds > 0:
            tasks.append(asyncio.create_task(_sweeper(runtime)))
        if settings.webhook_worker_enabled:
            tasks.append(asyncio.create_task(DeliveryWorker(runtime).run_forever()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await runtime.close()

    app = FastAPI(
        title="vouch",
        version=__version__,
        description="Signed, offline-verifiable proofs of control, consent, approval and more.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        **_no_native_telemetry(),
    )
    app.state.vouch = runtime
    install_error_handlers(app)
    # Approval links, magic-link tokens and OAuth codes are capabilities: never in a log line.
    install_log_redaction("uvicorn.access", "uvicorn.error", "vouch", "vouch.http")
    parse_trusted_proxies(settings.trusted_proxies)  # a bad VOUCH_TRUSTED_PROXIES fails at start

    async def key_is_valid(key: str) -> bool:
        async with runtime.db.session() as session:
            return await authenticate(session, key) is not None

    async def api_key_gate(scope: Scope) -> bool:
        key = scope_presented_key(scope)
        return key is not None and await key_is_valid(key)

    async def approval_link_gate(scope: Scope) -> bool:
        token = scope.get("path", "").removeprefix("/approve/").partition("/")[0]
        return approval_links.is_signed_and_current(runtime, token)

    async def inbound_email_gate(scope: Scope) -> bool:
        return email_endpoints.body_gate(settings, scope)

    async def provider_gate(scope: Scope) -> bool:
        return await channel_endpoints.body_gate(runtime, scope)

    # Added first = innermost: inside every edge layer, in front of FastAPI's router.
    app.add_middleware(ValidateFastPath, runtime=runtime, route=validate_route)
    # Added last = outermost: the edge assigns the request id before the probe guard runs.
    app.add_middleware(
        ProbeGuard,
        limiter=runtime.limiter,
        rule=settings.rate_limit_probes,
        trust_forwarded_for=settings.trust_forwarded_for,
        trusted_proxies=settings.trusted_proxies,
        key_is_valid=key_is_valid,
    )
    app.add_middleware(
        EdgeMiddleware,
        default_limit=settings.body_limit_bytes,
        # The threat model's 10 KB holds for every caller until it is authenticated; each larger
        # limit below is granted by its gate from the request head, before the body is read past
        # 10 KB (docs/security.md, "Body size").
        limits={
            # Stamp bundles up to 1 MB (Astral's limit), for callers with an API key.
            "/verify/v0/": BodyLimit(1024 * 1024, api_key_gate),
            # Signed records carry their data and every proof appended to it.
            "/v2/": BodyLimit(256 * 1024, api_key_gate),
            # A form-encoded comment of 1,000 emoji outgrows 10 KB; the link is the credential.
            "/approve/": BodyLimit(32 * 1024, approval_link_gate),
            # Provider webhooks carry more than API calls: raw mail with DKIM headers, batched
            # WhatsApp notifications.
            "/inbound/email": BodyLimit(1024 * 1024, inbound_email_gate),
            "/inbound/": BodyLimit(64 * 1024, provider_gate),
        },
        hsts=settings.public_url.startswith("https://"),
    )
    # Errors on /v2/ carry the system signer's proof, as Minka's ledger signs them, whichever
    # layer answered (a route, the edge's body limit, the probe guard).
    app.add_middleware(SignMinkaErrors, runtime=runtime)
    # Outermost of all: what the edge and the probe guard answer themselves is counted too.
    app.add_middleware(
        ObserveRequests,
        metrics=runtime.metrics,
        trust_forwarded_for=settings.trust_forwarded_for,
        trusted_proxies=settings.trusted_proxies,
    )
    # Outside even that, and only when enabled: the span covers every layer, and the access-log
    # line is written inside it so that it carries the trace id.
    install_tracing(app, settings, tracer_provider=tracer_provider)

    @app.get("/health", tags=["public"], **documented(HealthOut))
    async def health(runtime: RuntimeDep, response: Response) -> dict[str, Any]:
        services = {"database": "down", "redis": "not_configured"}
        try:
            async with runtime.db.session() as session:
                await session.execute(text("SELECT 1"))
            services["database"] = "up"
        except Exception:
            log.warning("health: database check failed", exc_info=True)
        if settings.redis_url:
            services["redis"] = "up" if await _redis_up(settings.redis_url) else "down"
        healthy = services["database"] == "up" and services["redis"] != "down"
        if not healthy:
            response.status_code = 503
        return {
            "status": "healthy" if healthy else "unhealthy",
            "timestamp": isoformat_ms(utcnow()),
            "version": __version__,
            "services": services,
        }

    async def _jwks(session: Session, runtime: Runtime, environment: str) -> Response:
        body = await runtime.keyring.jwks_body(session, environment)
        return Response(
            body,
            media_type="application/json",
            headers={
                "Cache-Control": "public, max-age=86400",
                # Public keys: any origin may read them, so browser verifiers can too.
                "Access-Control-Allow-Origin": "*",
            },
        )

    @app.get("/.well-known/jwks.json", tags=["public"], **documented(SigningJwksOut))
    async def jwks(session: Session, runtime: RuntimeDep, _public: PublicCaller) -> Response:
        """Live keys only: proof keys and status-list keys, with their windows and tombstones."""
        return await _jwks(session, runtime, "live")

    @app.get("/.well-known/jwks-test.json", tags=["public"], **documented(SigningJwksOut))
    async def jwks_test(session: Session, runtime: RuntimeDep, _public: PublicCaller) -> Response:
        """Test keys only: what test-mode proofs are signed with. Never trust these in live."""
        return await _jwks(session, runtime, "test")

    # HEAD as its own route, out of the OpenAPI description: one route with both methods gives
    # both operations the same operationId. (The server sends the headers, never the body.)
    app.add_api_route("/.well-known/jwks.json", jwks, methods=["HEAD"], include_in_schema=False)
    app.add_api_route(
        "/.well-known/jwks-test.json", jwks_test, methods=["HEAD"], include_in_schema=False
    )

    @app.get("/api/v1", tags=["public"], **documented(ApiInfoOut))
    async def api_info() -> dict[str, str]:
        return {
            "name": "vouch API",
            "version": __version__,
            "description": "Proof of Control as a Service, self-hosted",
        }

    app.include_router(requests_router)  # before control's: /verifications/users is not an id
    app.include_router(multichannel_router)  # before control's, like requests_router
    app.include_router(domain_b2b_router)  # before control's: /verifications/domain is not an id
    app.include_router(verifications_router)
    app.include_router(sessions_router)
    app.include_router(oauth_router)
    app.include_router(inbound_router)
    app.include_router(email_router)
    app.include_router(proofs_router)
    app.include_router(status_list_router)
    app.include_router(webhooks_router)
    app.include_router(tenancy_router)
    app.include_router(consent_router)
    app.include_router(approval_router)
    app.include_router(web_router)
    app.include_router(verify_page_router)
    app.include_router(verification_page_router)
    app.include_router(profiles_router)
    app.include_router(public_profiles_router)
    app.include_router(profile_pages.router)
    app.include_router(agents_router)
    app.include_router(records_router)
    app.include_router(location_router)
    app.include_router(metrics_router)
    app.include_router(landing_router)
    app.include_router(mcp_http.router())
    install_openapi(app)  # /openapi.json rewritten, /api/openapi.json, /docs
    return app


async def _redis_up(url: str) -> bool:
    from redis.asyncio import Redis

    client: Any = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()
