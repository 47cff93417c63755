"""The delivery worker: claims due deliveries, signs and sends them, records the outcome.

Claiming is a lease: a row is taken with a conditional ``UPDATE … WHERE locked_until has passed``
(preceded on PostgreSQL by ``SELECT … FOR UPDATE SKIP LOCKED`` so concurrent workers skip each
other's rows instead of queueing on them), and the outcome is written only under the same lease.
Two workers therefore never send the same attempt; a worker that dies mid-attempt leaves a lease
that expires, and the attempt is made again (same event id, so receivers can de-duplicate).

Outcomes: 2xx delivered; 410 Gone fails the delivery and disables the endpoint; anything else
(other statuses, timeouts after 15 s, connection errors) is retried on the configured schedule
with ±20 % jitter until ``max_attempts``; a destination the SSRF guard refuses fails at once.

Every attempt resolves the endpoint's host afresh through the guard and connects to the addresses
it approved (``vouch_server.kit.urls.PinnedTransport``): a name that answers a public address to the
check and a private one a moment later still only reaches the public one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import or_, select, update

from vouch_server.kit.clock import truncate_ms, utcnow
from vouch_server.kit.urls import PinnedTransport, Resolver, UnsafeUrl, approve
from vouch_server.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from vouch_server.runtime import Runtime
from vouch_server.webhooks.signing import signature_headers

log = logging.getLogger("vouch.webhooks")

LEASE_SECONDS = 60
RESPONSE_BODY_LIMIT = 2000
_wakers: set[asyncio.Event] = set()


def wake() -> None:
    """Tell this process's workers that deliveries are due (after a commit)."""
    for event in list(_wakers):
        event.set()


@dataclass(frozen=True)
class Claim:
    id: str
    lease: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None = None
    body: str | None = None
    error: str | None = None
    permanent: bool = False


class DeliveryWorker:
    def __init__(
        self,
        runtime: Runtime,
        *,
        batch: int = 20,
        name: str = "worker",
        resolver: Resolver | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """``resolver`` answers the guard's look-ups (the system's by default); ``transport`` is
        the network below the pinned connection (a fresh ``httpx.AsyncHTTPTransport`` per attempt
        by default, so a TLS connection checked for one name never carries another's request)."""
        from vouch_server.webhooks.service import retry_schedule

        self.runtime = runtime
        self.batch = batch
        self.name = name
        self.schedule = retry_schedule(runtime)
        self.resolver = resolver
        self.transport = transport

    async def __aenter__(self) -> DeliveryWorker:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Nothing is held between attempts (each has its own pinned connection)."""

    async def run_forever(self) -> None:
        woken = asyncio.Event()
        _wakers.add(woken)
        try:
            while True:
                try:
                    handled = await self.run_once()
                except Exception:
                    log.exception("delivery round failed; retrying")
                    handled = 0
                if handled == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            woken.wait(), self.runtime.settings.webhook_poll_seconds
                        )
                    woken.clear()
        finally:
            _wakers.discard(woken)
            await self.close()

    async def run_once(self) -> int:
        claims = await self.claim()
        if claims:
            await asyncio.gather(*(self.deliver(claim) for claim in claims))
        return len(claims)

    async def claim(self) -> list[Claim]:
        now = utcnow()
        claims: list[Claim] = []
        async with self.runtime.db.session() as session:
            due = (
                select(WebhookDelivery.id)
                .where(
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.next_attempt_at <= now,
                    or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now),
                )
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(self.batch)
            )
            if not self.runtime.settings.is_sqlite:
                due = due.with_for_update(skip_locked=True)
            for delivery_id in (await session.scalars(due)).all():
                lease = secrets.token_hex(8)
                result = await session.execute(
                    update(WebhookDelivery)
                    .where(
                        WebhookDelivery.id == delivery_id,
                        WebhookDelivery.status == "pending",
                        or_(
                            WebhookDelivery.locked_until.is_(None),
                            WebhookDelivery.locked_until < now,
                        ),
                    )
                    .values(locked_until=now + timedelta(seconds=LEASE_SECONDS), lease=lease)
                    .execution_options(synchronize_session=False)
                )
                if getattr(result, "rowcount", 0) == 1:
                    claims.append(Claim(delivery_id, lease))
        return claims

    async def deliver(self, claim: Claim) -> None:
        from vouch_server.webhooks.service import signing_secrets

        async with self.runtime.db.session() as session:
            delivery = await session.get(WebhookDelivery, claim.id)
            if delivery is None or delivery.lease != claim.lease:
                return
            event = await session.get(WebhookEvent, delivery.event_id)
            endpoint = await session.get(WebhookEndpoint, delivery.endpoint_id)
            if event is None or endpoint is None:
                return
            url = delivery.url
            enabled = endpoint.enabled
            keys = signing_secrets(self.runtime, endpoint)
            payload = event.payload
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = signature_headers(keys, event.id, int(time.time()), body)
        if not enabled:
            outcome = Outcome(error="endpoint is disabled", permanent=True)
        else:
            outcome = await self._send(url, headers, body)
        await self._record(
            claim, delivery.attempts, delivery.max_attempts, endpoint.id, headers, outcome
        )

    async def _send(self, url: str, headers: dict[str, str], body: bytes) -> Outcome:
        settings = self.runtime.settings
        try:
            approved = await approve(
                url, allow_private=settings.allow_private_targets, resolver=self.resolver
            )
        except UnsafeUrl as exc:
            return Outcome(error=f"refused by the SSRF guard: {exc}", permanent=True)
        try:
            async with httpx.AsyncClient(
                transport=PinnedTransport(approved, self.transport),
                timeout=settings.webhook_timeout_seconds,
                follow_redirects=False,
                trust_env=False,  # an environment proxy would reach what the guard refused
            ) as client:
                response = await client.post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            timeout = self.runtime.settings.webhook_timeout_seconds
            return Outcome(error=f"timed out after {timeout:g} s")
        except httpx.HTTPError as exc:
            return Outcome(error=f"{type(exc).__name__}: {exc}"[:500])
        return Outcome(status_code=response.status_code, body=response.text[:RESPONSE_BODY_LIMIT])

    async def _record(
        self,
        claim: Claim,
        previous_attempts: int,
        max_attempts: int,
        endpoint_id: str,
        headers: dict[str, str],
        outcome: Outcome,
    ) -> None:
        now = truncate_ms(utcnow())
        attempts = previous_attempts + 1
        code = outcome.status_code
        next_at = None
        error = outcome.error
        if code is not None and 200 <= code < 300:
            status = "delivered"
        elif code == 410:
            status, error = "failed", "endpoint answered 410 Gone; endpoint disabled"
        elif outcome.permanent or attempts >= max_attempts:
            status = "failed"
        else:
            status = "pending"
            wait = self.schedule[min(attempts - 1, len(self.schedule) - 1)]
            next_at = now + timedelta(seconds=wait * random.uniform(0.8, 1.2))
        if code is not None and error is None and status != "delivered":
            error = f"endpoint answered {code}"
        async with self.runtime.db.session() as session:
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == claim.id, WebhookDelivery.lease == claim.lease)
                .values(
                    status=status,
                    attempts=attempts,
                    last_attempt_at=now,
                    next_attempt_at=next_at,
                    locked_until=None,
                    lease=None,
                    request_headers=headers,
                    response_status=code,
                    response_body=outcome.body,
                    error_message=error,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if code == 410:
                await session.execute(
                    update(WebhookEndpoint)
                    .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.kind == "endpoint")
                    .values(enabled=False, disabled_reason="410 Gone", updated_at=now)
                    .execution_options(synchronize_session=False)
                )
        self.runtime.metrics.webhook_deliveries.labels(
            "retrying" if status == "pending" else status
        ).inc()
        log.info("delivery %s: %s (attempt %d)", claim.id, status, attempts)
