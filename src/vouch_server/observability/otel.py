"""The OpenTelemetry side of tracing (imported only when ``VOUCH_OTEL_ENABLED`` is set).

:class:`TraceRequests` opens one ``SERVER`` span per HTTP request, continuing the caller's trace
when it sends a W3C ``traceparent``. The span is named after the route template
(``GET /api/v1/verifications/{id}``, the HTTP semantic conventions' ``{method} {http.route}``),
never the raw path, and carries only bounded, non-secret attributes: method, route template,
scheme, protocol version, status code and vouch's request id. The path, the query string and
every header other than the trace context stay out of it, since approval links, magic-link
tokens and OAuth codes travel there; an exception's message is scrubbed like a log line.

It is written against ``opentelemetry-api`` directly rather than through
``opentelemetry-instrumentation-asgi``, whose middleware records the full target and URL
(query strings included) before any hook could redact them.
"""

from __future__ import annotations

import logging
import os
import threading

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, format_trace_id
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vouch_server import __version__
from vouch_server.observability.logs import redact_text
from vouch_server.observability.metrics import UNMATCHED_ROUTE
from vouch_server.observability.middleware import KNOWN_METHODS, route_template
from vouch_server.observability.tracing import TRACE_ID

log = logging.getLogger("vouch.tracing")

# The only request headers a span reads: the W3C trace context and baggage propagators' own.
_PROPAGATION_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})

_built: TracerProvider | None = None
_built_lock = threading.Lock()


def _exporter() -> SpanExporter | None:
    """The exporter ``OTEL_TRACES_EXPORTER`` names (``otlp`` by default; ``console``, ``none``).
    The OTLP exporter reads ``OTEL_EXPORTER_OTLP_ENDPOINT`` and its siblings itself."""
    choice = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower()
    if choice == "none":
        return None
    if choice == "console":
        return ConsoleSpanExporter()
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        log.warning(
            "tracing is on but the OTLP exporter is not installed; spans are not exported. "
            "Install it with: pip install 'vouch-server[otel]'"
        )
        return None
    exporter: SpanExporter = OTLPSpanExporter()
    return exporter


def process_tracer_provider() -> TracerProvider:
    """The process-wide SDK tracer provider: the one already set (by ``opentelemetry-instrument``
    or an application embedding vouch), or else one built here, once, and set globally so that
    any other instrumentation in the process joins the same traces."""
    global _built
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    with _built_lock:
        if _built is None:
            # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read by Resource.create().
            resource = Resource.create({"service.version": __version__})
            if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
                resource = resource.merge(Resource({"service.name": "vouch"}))
            provider = TracerProvider(resource=resource)
            exporter = _exporter()
            if exporter is not None:
                provider.add_span_processor(BatchSpanProcessor(exporter))
            trace.set_tracer_provider(provider)
            _built = provider
        return _built


def _trace_context(scope: Scope) -> dict[str, str]:
    return {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in scope.get("headers", [])
        if name in _PROPAGATION_HEADERS
    }


class TraceRequests:
    """Outermost ASGI layer when tracing is on: the span covers what every other layer does,
    and the access-log line written inside it carries its trace id."""

    def __init__(self, app: ASGIApp, *, tracer_provider: trace.TracerProvider) -> None:
        self.app = app
        self.tracer = tracer_provider.get_tracer("vouch_server", __version__)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "")
        known = method in KNOWN_METHODS
        status = 500  # what the client gets if the app raises before answering

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with self.tracer.start_as_current_span(
            method if known else "HTTP",
            context=propagate.extract(_trace_context(scope)),
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": method if known else "_OTHER",
                "url.scheme": scope.get("scheme", "http"),
                "network.protocol.version": scope.get("http_version", "1.1"),
            },
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            context = span.get_span_context()
            token = TRACE_ID.set(format_trace_id(context.trace_id) if context.is_valid else None)
            try:
                await self.app(scope, receive, send_status)
            except Exception as error:
                span.add_event(
                    "exception",
                    {
                        "exception.type": type(error).__qualname__,
                        "exception.message": redact_text(str(error)),
                    },
                )
                raise
            finally:
                route = route_template(scope)
                if route != UNMATCHED_ROUTE:
                    span.set_attribute("http.route", route)
                    span.update_name(f"{method if known else 'HTTP'} {route}")
                span.set_attribute("http.response.status_code", status)
                request_id = scope.get("state", {}).get("request_id")
                if request_id:
                    span.set_attribute("vouch.request_id", request_id)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
            # Left set when the app raised, so the 500 handler's log line names the trace too.
            TRACE_ID.reset(token)
