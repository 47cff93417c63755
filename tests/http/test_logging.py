"""Log lines: the access line per request, the request id on every line a request writes, and
no API key, bearer credential or capability token in any of them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.tenancy import Keys, make_keys
from vouch_server.app import create_app
from vouch_server.observability.logs import (
    JsonFormatter,
    RequestContext,
    TextFormatter,
    logging_config,
    redact_text,
)

handler_log = logging.getLogger("vouch.tests.handler")


@pytest.fixture
async def lapp(settings_factory: Any) -> AsyncIterator[FastAPI]:
    app = create_app(settings_factory())

    async def writes_a_line() -> dict[str, str]:
        # What any vouch code might write mid-request, secrets included by mistake.
        handler_log.warning(
            "handling with %s and Bearer abc.def, link %s",
            "pk_live_" + "A" * 32,
            "https://vouch.test/approve/lnk_1.999.sig",
        )
        return {"ok": "yes"}

    app.add_api_route("/_test/log", writes_a_line)
    await app.state.vouch.limiter.reset()
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def lc(lapp: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=lapp, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
        yield c


def _capture(formatter: logging.Formatter) -> Iterator[io.StringIO]:
    """vouch's handler (filter and formatter as ``logging_config`` sets them) on a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(RequestContext())
    root, access, tests = (
        logging.getLogger(),
        logging.getLogger("vouch.access"),
        logging.getLogger("vouch.tests"),
    )
    saved = access.level, tests.level
    root.addHandler(handler)
    access.setLevel(logging.INFO)
    tests.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        access.setLevel(saved[0])
        tests.setLevel(saved[1])


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    yield from _capture(JsonFormatter())


@pytest.fixture
def text_lines() -> Iterator[io.StringIO]:
    yield from _capture(TextFormatter())


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def access_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [r for r in records(stream) if r["logger"] == "vouch.access"]


class TestAccessLog:
    async def test_one_json_line_per_request_with_route_status_and_request_id(
        self, lc: httpx.AsyncClient, json_lines: io.StringIO, lapp: FastAPI
    ) -> None:
        keys = await make_keys(lapp.state.vouch)
        response = await lc.get("/api/v1/verifications/ver_nope", headers=keys.test_headers)
        assert response.status_code == 404
        [line] = access_lines(json_lines)
        assert line["request_id"] == response.headers["x-request-id"]
        assert line["method"] == "GET"
        assert line["route"] == "/api/v1/verifications/{verification_id}"
        assert line["path"] == "/api/v1/verifications/ver_nope"
        assert line["status"] == 404
        assert line["duration_ms"] >= 0
        assert line["client"] == "203.0.113.7"
        assert line["level"] == "info" and line["time"].endswith("Z")

    async def test_the_client_is_read_through_trusted_proxies(
        self, settings_factory: Any, json_lines: io.StringIO
    ) -> None:
        app = create_app(settings_factory(trust_forwarded_for=True))
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c,
        ):
            await c.get("/api/v1", headers={"X-Forwarded-For": "198.51.100.9"})
        assert access_lines(json_lines)[-1]["client"] == "198.51.100.9"

    async def test_an_approval_link_is_redacted_in_the_access_line(
        self, lc: httpx.AsyncClient, json_lines: io.StringIO
    ) -> None:
        await lc.get("/approve/lnk_secret.1999999999.c2lnbmF0dXJl?action=approve")
        await lc.get("/verify/ver_1/email?token=magic-secret-token")
        output = json_lines.getvalue()
        assert "lnk_secret" not in output and "c2lnbmF0dXJl" not in output
        assert "magic-secret-token" not in output
        first, second = access_lines(json_lines)
        assert first["path"] == "/approve/[redacted]?action=approve"
        assert first["route"] == "/approve/{token}"
        assert second["path"].endswith("token=[redacted]")

    async def test_api_keys_never_reach_the_log(
        self, lc: httpx.AsyncClient, json_lines: io.StringIO, lapp: FastAPI
    ) -> None:
        keys: Keys = await make_keys(lapp.state.vouch)
        await lc.get("/api/v1/verifications", headers=keys.test_headers)
        await lc.get("/api/v1/verifications", headers={"X-API-Key": keys.live})
        await lc.get("/api/v1/verifications", headers={"Authorization": "Bearer pk_test_wrong"})
        output = json_lines.getvalue()
        assert keys.test not in output and keys.live not in output
        assert "pk_test_wrong" not in output
        assert len(access_lines(json_lines)) == 3

    async def test_the_access_log_can_be_turned_off(
        self, lc: httpx.AsyncClient, json_lines: io.StringIO
    ) -> None:
        logging.getLogger("vouch.access").setLevel(logging.WARNING)
        await lc.get("/api/v1")
        assert access_lines(json_lines) == []


class TestRequestId:
    async def test_every_line_of_a_request_carries_its_id(
        self, lc: httpx.AsyncClient, json_lines: io.StringIO
    ) -> None:
        first = await lc.get("/_test/log")
        second = await lc.get("/_test/log")
        by_logger: dict[str, list[str]] = {}
        for record in records(json_lines):
            by_logger.setdefault(record["logger"], []).append(record.get("request_id", ""))
        ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
        assert by_logger["vouch.tests.handler"] == ids
        assert by_logger["vouch.access"] == ids

    async def test_secrets_written_by_handler_code_are_scrubbed(
        self, lc: httpx.AsyncClient, json_lines: io.StringIO
    ) -> None:
        await lc.get("/_test/log")
        [line] = [r for r in records(json_lines) if r["logger"] == "vouch.tests.handler"]
        assert "A" * 32 not in line["message"]
        assert "abc.def" not in line["message"]
        assert "lnk_1.999.sig" not in line["message"]
        assert "pk_live_[redacted]" in line["message"]
        assert "Bearer [redacted]" in line["message"]

    async def test_a_line_outside_any_request_has_no_request_id(
        self, lc: httpx.AsyncClient, json_lines: io.StringIO
    ) -> None:
        await lc.get("/api/v1")
        handler_log.warning("between requests")
        assert "request_id" not in records(json_lines)[-1]

    async def test_text_lines_carry_the_request_id_too(
        self, lc: httpx.AsyncClient, text_lines: io.StringIO
    ) -> None:
        response = await lc.get("/_test/log")
        lines = text_lines.getvalue().splitlines()
        rid = response.headers["x-request-id"]
        handler_line = next(line for line in lines if "vouch.tests.handler" in line)
        access_line = next(line for line in lines if "vouch.access" in line)
        assert f"[{rid}]" in handler_line and f"[{rid}]" in access_line
        assert '"GET /_test/log" 200' in access_line
        assert "pk_live_" + "A" * 32 not in text_lines.getvalue()


class TestRedactText:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("key pk_test_abcDEF123", "key pk_test_[redacted]"),
            ("Authorization: Bearer eyJhbGciOi.x.y", "Authorization: Bearer [redacted]"),
            ("secret whsec_c2VjcmV0", "secret whsec_[redacted]"),
            ("GET /approve/lnk.1.sig/deny", "GET /approve/[redacted]/deny"),
            ("/cb?code=abc&state=xyz&ok=1", "/cb?code=[redacted]&state=[redacted]&ok=1"),
            ("route /approve/{token}", "route /approve/{token}"),
            ("nothing secret here", "nothing secret here"),
        ],
    )
    def test_secrets_are_replaced_and_the_rest_kept(self, text: str, expected: str) -> None:
        assert redact_text(text) == expected


class TestLoggingConfig:
    def test_the_format_setting_picks_the_formatter(self, settings_factory: Any) -> None:
        json_config = logging_config(settings_factory(log_format="json"))
        text_config = logging_config(settings_factory())
        assert json_config["formatters"]["vouch"]["()"] is JsonFormatter
        assert text_config["formatters"]["vouch"]["()"] is TextFormatter
        assert json_config["handlers"]["stderr"]["filters"] == ["request_context"]
        # uvicorn's loggers write through the same handler; its access line gives way to ours.
        assert json_config["loggers"]["uvicorn.access"]["level"] == "WARNING"

    def test_the_access_log_setting_silences_vouch_access(self, settings_factory: Any) -> None:
        config = logging_config(settings_factory(access_log=False))
        assert config["loggers"]["vouch.access"]["level"] == "WARNING"
