"""docs/mcp.md carries the generated tool table; every surface's error shape keeps its code."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.mcp.conftest import VOUCH
from vouch_server.app import create_app
from vouch_server.mcp.api import VouchToolError, parse_error, raise_for_response
from vouch_server.mcp.server import tools_markdown
from vouch_server.mcp.tools import TOOLS

DOC = Path(__file__).parents[2] / "docs" / "mcp.md"
BEGIN, END = "<!-- tools:begin -->\n", "<!-- tools:end -->"


RETIRED = "the per-profile template routes answer 410 endpoint_retired; templates have tools"
ALIAS = "an alias proof.holdings' SDK calls for a route that has a tool"


class TestToolTable:
    def test_docs_match_the_generated_table(self) -> None:
        text = DOC.read_text()
        table = text.split(BEGIN, 1)[1].split(END, 1)[0]
        assert table == tools_markdown(), "run: vouch mcp --list-tools, and paste into docs/mcp.md"

    def test_the_cli_prints_the_same_table(self) -> None:
        out = subprocess.run(
            [VOUCH, "mcp", "--list-tools"], capture_output=True, text=True, check=True, timeout=60
        ).stdout
        assert out == tools_markdown()
        assert all(f"`{spec.name}`" in out for spec in TOOLS)

    def test_every_operation_of_the_app_has_a_tool_and_every_tool_a_real_route(
        self, settings_factory: Any
    ) -> None:
        """A tool pointing at a path the app does not serve fails here, and so does an API
        operation no tool reaches (beyond the few listed with their reason)."""
        app = create_app(settings_factory())
        operations = {
            f"{method.upper()} {path}"
            for path, item in app.openapi()["paths"].items()
            for method in item
        }
        declared = {route for spec in TOOLS for route in spec.routes}
        assert declared - operations == set()
        without_a_tool = {
            "GET /api/v1": "the API's index page, for people",
            "GET /api/v1/me/profiles/{profile_id}/templates": RETIRED,
            "PUT /api/v1/me/profiles/{profile_id}/templates/{channel}/{message_type}": RETIRED,
            "DELETE /api/v1/me/profiles/{profile_id}/templates/{channel}/{message_type}": RETIRED,
            "POST /api/v1/me/profiles/{profile_id}/templates/preview": RETIRED,
            "GET /api/v1/profiles/me": ALIAS,
            "PUT /api/v1/profiles/me": ALIAS,
            "GET /api/v1/profiles/me/assets": ALIAS,
            "POST /api/v1/profiles/me/username": ALIAS,
            "PUT /api/v1/profiles/me/proofs": ALIAS,
            "PUT /api/v1/profiles/profiles/{profile_id}/proofs": ALIAS,
            "GET /api/v1/profiles/p/{profile_id}/avatar": "an image, not a tool's answer",
        }
        assert operations - declared == set(without_a_tool)
        assert [s.name for s in TOOLS if not s.routes] == ["prove_agent_challenge"]

    def test_tool_names_are_unique(self) -> None:
        names = [spec.name for spec in TOOLS]
        assert len(names) == len(set(names))


class TestErrorShapes:
    @pytest.mark.parametrize(
        ("status", "body", "code", "message"),
        [
            (
                404,
                {"error": {"code": "not_found", "message": "Verification not found"}},
                "not_found",
                "Verification not found",
            ),
            (401, {"error": "invalid_api_key", "message": "Bad key"}, "invalid_api_key", "Bad key"),
            (
                400,
                {"verified": False, "error": "invalid_proof", "reason": "bad signature"},
                "invalid_proof",
                "bad signature",
            ),
            (403, {"data": {"reason": "auth.forbidden", "detail": "No"}}, "auth.forbidden", "No"),
            (
                400,
                {
                    "type": "https://vouch.test/problems/invalid-input",
                    "title": "Invalid input",
                    "status": 400,
                    "detail": "stamp missing",
                },
                "invalid-input",
                "stamp missing",
            ),
            (502, None, "http_502", "Bad Gateway"),
        ],
    )
    def test_each_surface_shape_gives_its_code(
        self, status: int, body: object, code: str, message: str
    ) -> None:
        assert parse_error(status, body)[:2] == (code, message)

    def test_a_non_json_error_is_still_a_tool_error(self) -> None:
        response = httpx.Response(500, text="<html>oops</html>")
        with pytest.raises(VouchToolError) as caught:
            raise_for_response(response)
        assert caught.value.code == "http_500" and "oops" in str(caught.value)
