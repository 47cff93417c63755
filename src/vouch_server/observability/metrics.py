"""Prometheus metrics, in the text exposition format (``prometheus-client``).

Each app has its own :class:`Metrics` and registry (never the process-wide default), so several
apps in one process — the test suite builds hundreds — count separately. Counters are bumped
from where things happen (a proof minted, a delivery recorded, a rate limit refusing); figures
that live in the database, such as the webhook outbox, are read when ``/metrics`` is scraped.

Labels hold bounded sets only: route templates (``/api/v1/verifications/{id}``), never a raw
path, so no id or capability token becomes a label value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from vouch_server import __version__

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

# Seconds; API calls are milliseconds, outbound checks (DNS, SMTP, OAuth) reach seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# A request that matched no route (unknown path, scanner probe) is counted under this label.
UNMATCHED_ROUTE = "unmatched"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "vouch_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "vouch_http_request_duration_seconds",
            "Time from request to the end of the response, by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.verifications = Counter(
            "vouch_verifications",
            "Verifications that reached a final state (verified, failed, expired)",
            ["type", "environment", "outcome"],
            registry=r,
        )
        self.proofs = Counter(
            "vouch_proofs",
            "Proof tokens minted and revoked, by proof type and environment",
            ["type", "environment", "event"],
            registry=r,
        )
        self.webhook_deliveries = Counter(
            "vouch_webhook_deliveries",
            "Webhook delivery attempts by this process, by result (delivered, retrying, failed)",
            ["result"],
            registry=r,
        )
        self.rate_limited = Counter(
            "vouch_rate_limit_refusals",
            "Requests refused by a rate limit, by the limit's scope (ip, key, authfail, probe, …)",
            ["scope"],
            registry=r,
        )
        self.outbox_pending = Gauge(
            "vouch_webhook_outbox_pending",
            "Webhook deliveries waiting for an attempt (read from the database at scrape time)",
            registry=r,
        )
        self.outbox_due = Gauge(
            "vouch_webhook_outbox_due",
            "Pending webhook deliveries whose next attempt is due now",
            registry=r,
        )
        self.outbox_oldest_due = Gauge(
            "vouch_webhook_outbox_oldest_due_seconds",
            "How long the longest-waiting due delivery has been due (0 when none is)",
            registry=r,
        )
        Gauge("vouch_build_info", "The running vouch version", ["version"], registry=r).labels(
            __version__
        ).set(1)

    # -- counting ------------------------------------------------------------------------------
    def rate_limit_refused(self, scope: str) -> None:
        self.rate_limited.labels(scope).inc()

    def on_commit(self, session: AsyncSession, metric: Counter) -> None:
        """Count ``metric`` (a labelled counter) once ``session`` commits; a rolled-back unit of
        work counts nothing, as it emits no webhook."""
        from vouch_server.database import after_commit

        async def count() -> None:
            metric.inc()

        after_commit(session, count)

    def verification_finished(
        self, session: AsyncSession, *, type: str, environment: str, outcome: str
    ) -> None:
        self.on_commit(session, self.verifications.labels(type, environment, outcome))

    def proof_event(
        self, session: AsyncSession, *, type: str, environment: str, event: str
    ) -> None:
        self.on_commit(session, self.proofs.labels(type, environment, event))

    # -- scraping ------------------------------------------------------------------------------
    async def refresh_from_database(self, session: AsyncSession) -> None:
        """Set the gauges whose truth is in the database (shared by every worker process)."""
        from sqlalchemy import func, select

        from vouch_server.kit.clock import utcnow
        from vouch_server.models import WebhookDelivery

        now = utcnow()
        pending = WebhookDelivery.status == "pending"
        total = await session.scalar(select(func.count()).where(pending))
        due_row = (
            await session.execute(
                select(func.count(), func.min(WebhookDelivery.next_attempt_at)).where(
                    pending, WebhookDelivery.next_attempt_at <= now
                )
            )
        ).one()
        self.outbox_pending.set(total or 0)
        self.outbox_due.set(due_row[0] or 0)
        oldest = due_row[1]
        if oldest is not None and oldest.tzinfo is None:
            from datetime import UTC

            oldest = oldest.replace(tzinfo=UTC)
        self.outbox_oldest_due.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
