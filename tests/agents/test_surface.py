"""The agent surface's edge: ZeroProof's error bodies for errors raised by shared code, and
ZeroProof's rate limits (100 requests a minute per key, bursts of 20 a second)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI

from tests.agents.factories import api
from tests.fixtures.tenancy import Keys, make_keys
from vouch_server.agents.errors import ProofFailed, render_agent_error
from vouch_server.app import create_app
from vouch_server.errors import RateLimited, VouchError
from vouch_server.http import SURFACE_RENDERERS, renderer_for


class TestRenderer:
    def test_is_registered_for_v1_only(self) -> None:
        assert renderer_for("/v1/verify/proof") is render_agent_error
        assert renderer_for("/v1/agents") is render_agent_error
        assert renderer_for("/api/v1/verifications") is not render_agent_error
        assert renderer_for("/v2/ledger") is not render_agent_error
        prefixes = [prefix for prefix, _ in SURFACE_RENDERERS]
        assert prefixes == sorted(prefixes, key=len, reverse=True)

    def test_proof_failure_body_is_exactly_the_seeds(self) -> None:
        body, media_type = render_agent_error(ProofFailed("Invalid proof format"), "req_1")
        assert body == {
            "verified": False,
            "error": "Proof verification failed",
            "reason": "Invalid proof format",
        }
        assert media_type == "application/json"

    def test_rate_limit_carries_retry_after(self) -> None:
        body, _ = render_agent_error(RateLimited(7), None)
        assert body == {
            "error": "Rate limit exceeded",
            "message": "Too many requests",
            "retry_after": 7,
        }

    def test_unknown_code_falls_back_to_the_status_phrase(self) -> None:
        body, _ = render_agent_error(VouchError("nope", code="teapot", status=418), None)
        assert body == {"error": "I'm a Teapot", "message": "nope"}


class TestSharedErrorsOnTheSurface:
    async def test_unknown_route_is_zeroproof_404(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await client.get("/v1/verify/nothing", headers=api(keys.test))
        assert response.status_code == 404
        assert response.json() == {"error": "Not found", "message": "Route not found"}

    async def test_wrong_method_is_zeroproof_405(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await client.get("/v1/verify/proof", headers=api(keys.test))
        assert response.status_code == 405
        assert response.json()["error"] == "Method not allowed"

    async def test_oversized_body_is_zeroproof_413(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        body = {"agent_id": "a", "action": "b", "context": {"x": "y" * 20_000}}
        response = await client.post("/v1/verify/challenge", json=body, headers=api(keys.test))
        assert response.status_code == 413
        assert response.json()["error"] == "Payload too large"

    async def test_malformed_json_is_400_invalid_request(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await client.post(
            "/v1/verify/proof",
            content=b"{not json",
            headers={**api(keys.test), "Content-Type": "application/json"},
        )
        assert response.status_code == 400
        assert response.json()["error"] == "Invalid request"

    async def test_bearer_auth_works_too(self, client: httpx.AsyncClient, keys: Keys) -> None:
        response = await client.get("/v1/agents", headers=keys.test_headers)
        assert response.status_code == 200

    async def test_other_surfaces_keep_their_envelope(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/verifications")
        assert response.json()["error"]["code"] == "unauthorized"


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://vouch.test")


class TestRateLimits:
    async def test_burst_beyond_twenty_a_second_is_429(self, settings_factory: Any) -> None:
        app = create_app(settings_factory())
        await app.state.vouch.limiter.reset()
        async with app.router.lifespan_context(app), _client(app) as client:
            keys = await make_keys(app.state.vouch)
            responses = await asyncio.gather(
                *(client.get("/v1/agents", headers=api(keys.test)) for _ in range(25))
            )
            other_key = await client.get("/v1/agents", headers=api(keys.live))
        codes = [r.status_code for r in responses]
        assert codes.count(200) == 20, codes
        limited = next(r for r in responses if r.status_code == 429)
        assert int(limited.headers["Retry-After"]) >= 1
        body = limited.json()
        assert body["error"] == "Rate limit exceeded"
        assert body["retry_after"] >= 1
        # Limits are per key.
        assert other_key.status_code == 200

    async def test_more_than_a_hundred_a_minute_is_429(self, settings_factory: Any) -> None:
        # Lift the burst and the server-wide API limit so that only the agent minute rule answers.
        app = create_app(
            settings_factory(agent_rate_limit_burst="1000/second", rate_limit_api="1000/minute")
        )
        await app.state.vouch.limiter.reset()
        async with app.router.lifespan_context(app), _client(app) as client:
            keys = await make_keys(app.state.vouch)
            codes = [
                (await client.get("/v1/agents", headers=api(keys.test))).status_code
                for _ in range(101)
            ]
            last = await client.get("/v1/agents", headers=api(keys.test))
        assert codes[:100] == [200] * 100
        assert codes[100] == 429
        assert last.headers["X-RateLimit-Limit"] == "100"
        assert last.json()["error"] == "Rate limit exceeded"

    async def test_headers_report_the_minute_window(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await client.get("/v1/agents", headers=api(keys.test))
        assert response.headers["X-RateLimit-Limit"] == "100"
        assert response.headers["X-RateLimit-Remaining"] == "99"
