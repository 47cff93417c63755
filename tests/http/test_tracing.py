"""OpenTelemetry tracing (``VOUCH_OTEL_ENABLED``): one server span per request named after the
route template, the status and request id on it, no secret in it, the trace id on log lines,
and nothing at all when tracing is off or not installed.

Spans are read from the SDK's own in-memory exporter, through a real app over ASGI."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, format_span_id, format_trace_id

from tests.fixtures.tenancy import make_keys
from vouch_server.app import create_app
from vouch_server.observability.logs import JsonFormatter, RequestContext


class Traced:
    def __init__(self, app: FastAPI, exporter: InMemorySpanExporter) -> None:
        self.app, self.exporter = app, exporter

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def only_span(self) -> ReadableSpan:
        (span,) = self.spans()
        return span


def _traced_app(settings: Any) -> Traced:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(settings, tracer_provider=provider)

    async def boom() -> None:
        raise RuntimeError("failed with Bearer secret-in-error and pk_live_" + "E" * 32)

    app.add_api_route("/_test/boom", boom)
    return Traced(app, exporter)


@pytest.fixture
async def traced(settings_factory: Any) -> AsyncIterator[Traced]:
    t = _traced_app(settings_factory(otel_enabled=True))
    await t.app.state.vouch.limiter.reset()
    async with t.app.router.lifespan_context(t.app):
        yield t


@pytest.fixture
async def tc(traced: Traced) -> AsyncIterator[httpx.AsyncClient]:
    # The 500 of an unhandled error is answered, not raised into the test.
    transport = httpx.ASGITransport(app=traced.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
        yield c


def everything_in(span: ReadableSpan) -> str:
    """Every string a span would export: its name, attributes, events and their attributes."""
    parts = [span.name, *map(str, (span.attributes or {}).values())]
    for event in span.events:
        parts += [event.name, *map(str, (event.attributes or {}).values())]
    return "\n".join(parts)


class TestServerSpans:
    async def test_the_span_is_named_after_the_route_template(
        self, tc: httpx.AsyncClient, traced: Traced
    ) -> None:
        keys = await make_keys(traced.app.state.vouch)
        response = await tc.get("/api/v1/verifications/ver_doesnotexist", headers=keys.test_headers)
        assert response.status_code == 404
        span = traced.only_span()
        assert span.name == "GET /api/v1/verifications/{verification_id}"
        assert span.kind is SpanKind.SERVER
        attributes = dict(span.attributes or {})
        assert attributes["http.route"] == "/api/v1/verifications/{verification_id}"
        assert attributes["http.request.method"] == "GET"
        assert attributes["http.response.status_code"] == 404
        assert "ver_doesnotexist" not in everything_in(span)
        assert span.status.status_code is StatusCode.UNSET

    async def test_the_request_id_the_client_sees_is_on_the_span(
        self, tc: httpx.AsyncClient, traced: Traced
    ) -> None:
        response = await tc.get("/health")
        assert response.status_code == 200
        span = traced.only_span()
        assert span.name == "GET /health"
        assert (span.attributes or {})["vouch.request_id"] == response.headers["x-request-id"]
        assert (span.attributes or {})["http.response.status_code"] == 200

    async def test_an_unmatched_path_is_named_by_its_method_alone(
        self, tc: httpx.AsyncClient, traced: Traced
    ) -> None:
        await tc.get("/no/such/route/sk_live_" + "N" * 24)
        span = traced.only_span()
        assert span.name == "GET"
        assert "http.route" not in (span.attributes or {})
        assert "/no/such" not in everything_in(span)

    async def test_a_server_error_marks_the_span_and_its_message_is_scrubbed(
        self, tc: httpx.AsyncClient, traced: Traced
    ) -> None:
        response = await tc.get("/_test/boom")
        assert response.status_code == 500
        span = traced.only_span()
        assert span.name == "GET /_test/boom"
        assert span.status.status_code is StatusCode.ERROR
        (event,) = span.events
        assert event.name == "exception"
        assert (event.attributes or {})["exception.type"] == "RuntimeError"
        text = everything_in(span)
        assert "secret-in-error" not in text and "E" * 32 not in text

    async def test_an_incoming_traceparent_is_continued(
        self, tc: httpx.AsyncClient, traced: Traced
    ) -> None:
        trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
        await tc.get("/health", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})
        span = traced.only_span()
        assert format_trace_id(span.context.trace_id) == trace_id
        assert span.parent is not None and format_span_id(span.parent.span_id) == parent_id


class TestSecretsStayOut:
    async def test_no_key_token_or_capability_reaches_any_span(
        self, tc: httpx.AsyncClient, traced: Traced
    ) -> None:
        keys = await make_keys(traced.app.state.vouch)
        link_token = "lnk_secretlink.1999999999.c2lnbmF0dXJl"
        await tc.get(f"/approve/{link_token}?action=approve&token=query-capability")
        await tc.get("/verify/ver_1/email?token=magic-secret-token&code=123987")
        await tc.get("/api/v1/verifications?state=oauth-state-secret", headers=keys.test_headers)
        await tc.get("/api/v1/verifications", headers={"X-Api-Key": keys.live})
        await tc.get("/v1/verify/status/sess_1", headers={"X-Api-Key": keys.live})
        await tc.get("/api/v1/verifications", headers={"Authorization": "Bearer pk_test_wrong"})
        spans = traced.spans()
        assert len(spans) == 6
        exported = "\n".join(everything_in(span) for span in spans)
        for secret in (
            keys.test,
            keys.live,
            "pk_test_wrong",
            "secretlink",
            "c2lnbmF0dXJl",
            "query-capability",
            "magic-secret-token",
            "123987",
            "oauth-state-secret",
            "?",
        ):
            assert secret not in exported, secret
        assert spans[0].name == "GET /approve/{token}"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContext())
    root, access = logging.getLogger(), logging.getLogger("vouch.access")
    saved = access.level
    root.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        access.setLevel(saved)


class TestLogLines:
    async def test_the_access_line_carries_the_span_trace_id(
        self, tc: httpx.AsyncClient, traced: Traced, json_lines: io.StringIO
    ) -> None:
        response = await tc.get("/health")
        span = traced.only_span()
        lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
        (access,) = [line for line in lines if line["logger"] == "vouch.access"]
        assert access["trace_id"] == format_trace_id(span.context.trace_id)
        assert access["request_id"] == response.headers["x-request-id"]

    async def test_an_untraced_app_writes_no_trace_id(
        self, settings_factory: Any, json_lines: io.StringIO
    ) -> None:
        app = create_app(settings_factory())
        # Under its lifespan, so the database and Redis connections /health opens are closed.
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="https://vouch.test"
            ) as c,
        ):
            await c.get("/health")
        lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
        (access,) = [line for line in lines if line["logger"] == "vouch.access"]
        assert "trace_id" not in access and access["request_id"]


def middleware_classes(app: FastAPI) -> list[str]:
    return [m.cls.__name__ for m in app.user_middleware]  # type: ignore[attr-defined]


class TestOff:
    async def test_disabled_adds_no_middleware_and_records_nothing(
        self, settings_factory: Any
    ) -> None:
        traced = _traced_app(settings_factory())
        assert "TraceRequests" not in middleware_classes(traced.app)
        async with (
            traced.app.router.lifespan_context(traced.app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=traced.app), base_url="https://vouch.test"
            ) as c,
        ):
            assert (await c.get("/health")).status_code == 200
        assert traced.spans() == []

    def test_enabled_adds_one_outermost_layer(self, settings_factory: Any) -> None:
        traced = _traced_app(settings_factory(otel_enabled=True))
        assert middleware_classes(traced.app)[0] == "TraceRequests"
        assert middleware_classes(traced.app).count("TraceRequests") == 1

    def test_enabled_without_the_packages_says_so_and_adds_nothing(
        self,
        settings_factory: Any,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        # As if the ``otel`` extra were not installed: importing opentelemetry fails.
        monkeypatch.delitem(sys.modules, "vouch_server.observability.otel", raising=False)
        monkeypatch.setitem(sys.modules, "opentelemetry", None)
        with caplog.at_level(logging.WARNING, logger="vouch.tracing"):
            app = create_app(settings_factory(otel_enabled=True))
        assert "TraceRequests" not in middleware_classes(app)
        (warning,) = [r for r in caplog.records if r.name == "vouch.tracing"]
        assert "VOUCH_OTEL_ENABLED" in warning.getMessage()
        assert "vouch-server[otel]" in warning.getMessage()


# Run as ``vouch serve`` runs it: no injected provider, so vouch builds the process-wide one
# (here with the SDK's console exporter, which prints each finished span as JSON on stdout).
_PROCESS = """
import asyncio, httpx
from opentelemetry import trace
from vouch_server.app import create_app
from vouch_server.config import Settings

async def main():
    app = create_app(Settings())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://vouch.test") as c:
        await c.get("/health?token=query-secret")
        await c.get("/approve/lnk_secretlink.1999999999.c2lnbmF0dXJl")
    trace.get_tracer_provider().force_flush()

asyncio.run(main())
"""


def _console_spans(stdout: str) -> list[dict[str, Any]]:
    decoder, spans, at = json.JSONDecoder(), [], 0
    while (at := stdout.find("{", at)) != -1:
        span, at = decoder.raw_decode(stdout, at)
        spans.append(span)
    return spans


class TestProcessWideProvider:
    def test_one_span_per_request_and_fastapi_own_telemetry_stays_off(self, tmp_path: Path) -> None:
        """With a global provider set, FastAPI's native telemetry would add its own server span
        per request, holding the raw path (the approval token) and the query string."""
        env = {
            **os.environ,
            "VOUCH_DATA_DIR": str(tmp_path),
            "VOUCH_OTEL_ENABLED": "true",
            "OTEL_TRACES_EXPORTER": "console",
            "OTEL_SERVICE_NAME": "vouch-under-test",
        }
        done = subprocess.run(
            [sys.executable, "-c", _PROCESS],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        spans = _console_spans(done.stdout)
        assert sorted(span["name"] for span in spans) == ["GET /approve/{token}", "GET /health"]
        assert {span["resource"]["attributes"]["service.name"] for span in spans} == {
            "vouch-under-test"
        }
        assert "secretlink" not in done.stdout and "query-secret" not in done.stdout
