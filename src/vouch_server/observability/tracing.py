"""Optional OpenTelemetry tracing: one server span per HTTP request, off by default.

``VOUCH_OTEL_ENABLED=true`` turns it on, provided the ``otel`` extra is installed
(``pip install 'vouch-server[otel]'``); without the packages the server says so once in its log
and runs untraced. Off, nothing is added: no middleware, and ``opentelemetry`` is not imported.

This module imports no OpenTelemetry code itself, so that the log formatters can read
:data:`TRACE_ID` whether or not tracing is installed; the middleware lives in
:mod:`vouch_server.observability.otel`.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from vouch_server.config import Settings

log = logging.getLogger("vouch.tracing")

# The trace id (32 hex digits) of the request being handled, for log lines; ``None`` untraced.
TRACE_ID: ContextVar[str | None] = ContextVar("vouch_trace_id", default=None)


def install_tracing(app: FastAPI, settings: Settings, *, tracer_provider: Any = None) -> bool:
    """Add the tracing middleware to ``app`` as its outermost layer when tracing is enabled and
    importable; ``True`` when it was added. ``tracer_provider`` (an SDK ``TracerProvider``)
    replaces the process-wide one, for tests and embedding applications."""
    if not settings.otel_enabled:
        return False
    try:
        from vouch_server.observability.otel import TraceRequests, process_tracer_provider
    except ImportError as missing:
        log.warning(
            "VOUCH_OTEL_ENABLED is set but OpenTelemetry is not installed (%s); requests are "
            "not traced. Install it with: pip install 'vouch-server[otel]'",
            missing.name or missing,
        )
        return False
    app.add_middleware(TraceRequests, tracer_provider=tracer_provider or process_tracer_provider())
    return True
