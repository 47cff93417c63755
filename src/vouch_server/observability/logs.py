"""Log lines: one JSON object per line (``VOUCH_LOG_FORMAT=json``) or plain text, each carrying
the id of the request it was written for, with secrets taken out.

The request id is the one ``EdgeMiddleware`` assigns and returns as ``X-Request-Id``; it reaches
every record written while the request is handled through the ``REQUEST_ID`` context variable,
so code that logs needs no extra argument.

Redaction happens twice. Request targets are rewritten where they are logged
(:func:`vouch_server.http.redact_target`, the access log below, uvicorn's own logger). And every record
that reaches vouch's handler has its message and traceback scrubbed of what is never meant to be
read back: API keys (``pk_live_…``), bearer credentials, webhook signing secrets (``whsec_…``),
approval links (``/approve/<token>``) and capability query parameters (``?token=``, ``?code=``).
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
from datetime import UTC, datetime
from typing import Any

from vouch_server.config import Settings
from vouch_server.http import REDACTED, REQUEST_ID
from vouch_server.observability.tracing import TRACE_ID

_CAPABILITY_PARAMS = r"token|code|state|hub\.verify_token|access_token"
# Each alternative keeps its named prefix and loses what follows it.
_SECRETS = re.compile(
    # A route template (``/approve/{token}``) is not a token and stays.
    r"(?P<approval>/approve/)(?!\{)[^/\s?#\"'<>]+"
    rf"|(?P<param>[?&;](?:{_CAPABILITY_PARAMS})=)[^&\s#\"'<>]+"
    r"|(?P<api_key>\b[ps]k_(?:live|test)_)[A-Za-z0-9]+"
    r"|(?P<bearer>\bBearer\s+)[^\s\"',]+"
    r"|(?P<webhook_secret>\bwhsec_)[A-Za-z0-9+/=_-]+",
    re.IGNORECASE,
)


def _keep_prefix(match: re.Match[str]) -> str:
    return (match.group(match.lastgroup or 0) or "") + REDACTED


def redact_text(text: str) -> str:
    """``text`` with API keys, bearer tokens, webhook secrets and capability tokens replaced."""
    return _SECRETS.sub(_keep_prefix, text)


class RequestContext(logging.Filter):
    """Handler filter: stamps each record with the current request id and scrubs its message.

    On the handler rather than on a logger, so that it sees the records of every logger below
    the root (``vouch_server.control.service`` as much as ``uvicorn.error``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        # Formatted once here; the formatter then reads the finished string.
        record.msg, record.args = redact_text(record.getMessage()), None
        return True


class TextFormatter(logging.Formatter):
    """``2026-02-04 10:00:00,000 INFO vouch.access [req_…]: …``; ``[-]`` outside a request."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get() or "-"
        return super().format(record)

    def formatException(self, ei: Any) -> str:
        return redact_text(super().formatException(ei))


# Attributes every LogRecord has; anything else on a record came in through ``extra=``.
_RECORD_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "trace_id",
    "taskName",
    "color_message",  # uvicorn's copy of the message with terminal colours
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ms), ``level``, ``logger``, ``message``,
    ``request_id`` when written during a request, ``trace_id`` when that request is traced
    (``VOUCH_OTEL_ENABLED``), the record's ``extra`` fields, and ``exc`` (the scrubbed
    traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC)
        doc: dict[str, Any] = {
            "time": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            doc["request_id"] = request_id
        trace_id = getattr(record, "trace_id", None) or TRACE_ID.get()
        if trace_id:
            doc["trace_id"] = trace_id
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                doc[key] = redact_text(value) if isinstance(value, str) else value
        if record.exc_info:
            doc["exc"] = redact_text(self.formatException(record.exc_info))
        elif record.exc_text:
            doc["exc"] = redact_text(record.exc_text)
        if record.stack_info:
            doc["stack"] = redact_text(record.stack_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


def logging_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` document: one stderr handler on the root logger in the
    chosen format, with uvicorn's loggers sent through it too. Passed to uvicorn as its
    ``log_config`` so that every worker process logs alike."""
    formatter = JsonFormatter if settings.log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": RequestContext}},
        "formatters": {"vouch": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "vouch",
                "filters": ["request_context"],
            }
        },
        "loggers": {
            # Through the root handler, in the same format. vouch writes its own access line
            # (``vouch.access``, with route, duration and request id), so uvicorn's is off.
            "uvicorn": {"level": "INFO", "handlers": [], "propagate": True},
            "uvicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
            "vouch.access": {"level": "INFO" if settings.access_log else "WARNING"},
        },
        "root": {"level": settings.log_level.upper(), "handlers": ["stderr"]},
    }


def configure_logging(settings: Settings) -> None:
    """Configure this process's logging (the CLI's ``serve`` and ``worker`` call it)."""
    logging.config.dictConfig(logging_config(settings))
