"""The outermost ASGI layer: times each request, counts it by route template and status, and
writes its access-log line.

It sits outside ``EdgeMiddleware`` so that what the edge answers by itself (413, a probe's 404 or
403) is counted too; the request id is the edge's, read from the scope once the response starts.
The cost per request is two clock reads, one counter, one histogram observation and, when
``vouch.access`` is enabled, one log record.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vouch_server.http import REQUEST_ID, redact_target, scope_client_ip
from vouch_server.observability.metrics import UNMATCHED_ROUTE, Metrics

access_log = logging.getLogger("vouch.access")

# The method is the client's to choose; anything else is one label value, not one per spelling.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/approve/{token}``), never the path itself."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) and template else UNMATCHED_ROUTE


class ObserveRequests:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        trust_forwarded_for: bool = False,
        trusted_proxies: str = "127.0.0.1/8,::1",
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.trust_forwarded_for = trust_forwarded_for
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        outer = REQUEST_ID.set(None)
        try:
            await self.app(scope, receive, send_status)
        finally:
            self._observe(scope, status, time.perf_counter() - started)
        # Left set when the app raised, so the 500 handler's log line still names the request.
        REQUEST_ID.reset(outer)

    def _observe(self, scope: Scope, status: int, elapsed: float) -> None:
        method = scope.get("method", "")
        label = method if method in KNOWN_METHODS else "other"
        route = route_template(scope)
        self.metrics.requests.labels(label, route, str(status)).inc()
        self.metrics.latency.labels(label, route).observe(elapsed)
        if not access_log.isEnabledFor(logging.INFO):
            return
        query = scope.get("query_string", b"")
        target = scope.get("path", "") + ("?" + query.decode("latin-1") if query else "")
        target = redact_target(target)
        client = scope_client_ip(
            scope,
            trust_forwarded_for=self.trust_forwarded_for,
            trusted_proxies=self.trusted_proxies,
        )
        duration_ms = round(elapsed * 1000, 2)
        # Built directly rather than through ``access_log.info``: the caller's file and line,
        # which ``info`` looks up on the stack, would always be this one.
        record = access_log.makeRecord(
            access_log.name,
            logging.INFO,
            __file__,
            0,
            '%s "%s %s" %d %.1fms',
            (client, method, target, status, duration_ms),
            None,
            extra={
                "request_id": scope.get("state", {}).get("request_id"),
                "method": method,
                "path": target,
                "route": route,
                "status": status,
                "duration_ms": duration_ms,
                "client": client,
            },
        )
        access_log.handle(record)
