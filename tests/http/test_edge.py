"""The edge every surface shares: body limit, error envelope, security and rate-limit headers,
health (threat model §9, §13)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from tests.fixtures.tenancy import Keys, make_keys
from vouch_server.app import create_app
from vouch_server.models import Verification


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://vouch.test")


class TestBodyLimit:
    async def test_declared_oversized_body_is_413_in_the_envelope(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Any
    ) -> None:
        body = {
            "type": "phone",
            "channel": "sms",
            "identifier": "+37069199199",
            "client_metadata": {"x": "a" * 11_000},
        }
        response = await client.post("/api/v1/verifications", json=body, headers=keys.test_headers)
        assert response.status_code == 413
        error = response.json()["error"]
        assert error["code"] == "payload_too_large"
        assert error["request_id"].startswith("req_")
        async with runtime.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(Verification)) == 0

    async def test_streamed_oversized_body_without_length_is_413(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"type": "phone", "channel": "sms", "identifier": "+37069199199", "x": "'
            for _ in range(20):
                yield b"a" * 1000
            yield b'"}'

        response = await client.post(
            "/api/v1/verifications",
            content=chunks(),
            headers={**keys.test_headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "payload_too_large"

    async def test_body_just_under_the_limit_is_accepted(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        body = {
            "type": "phone",
            "channel": "sms",
            "identifier": "+37069199199",
            "client_metadata": {"x": "a" * 9_000},
        }
        response = await client.post("/api/v1/verifications", json=body, headers=keys.test_headers)
        assert response.status_code == 201


class TestErrorEnvelope:
    async def test_unknown_route_is_404_envelope(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/nothing-here")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    async def test_wrong_method_is_405_envelope(self, client: httpx.AsyncClient) -> None:
        response = await client.delete("/api/v1/proofs/revoked")
        assert response.status_code == 405
        assert response.json()["error"]["code"] == "method_not_allowed"

    async def test_malformed_json_is_a_validation_error(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await client.post(
            "/api/v1/verifications",
            content=b'{"type": "phone",',
            headers={**keys.test_headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert error["details"][0]["code"] == "invalid_json"

    async def test_missing_fields_are_listed(self, client: httpx.AsyncClient, keys: Keys) -> None:
        response = await client.post("/api/v1/verifications", json={}, headers=keys.test_headers)
        details = response.json()["error"]["details"]
        assert {d["field"] for d in details} == {"type", "channel", "identifier"}
        assert all(d["code"] == "invalid_type" and d["message"] == "Required" for d in details)

    async def test_unexpected_failure_is_500_without_trace(self, settings: Any) -> None:
        app = create_app(settings)

        @app.get("/api/v1/boom")
        async def boom() -> None:
            raise RuntimeError("secret internals /etc/passwd")

        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
                response = await c.get("/api/v1/boom")
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "internal_error"
        assert "secret" not in response.text and "Traceback" not in response.text

    async def test_invalid_key_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get(
            "/api/v1/verifications", headers={"Authorization": "Bearer pk_test_" + "x" * 32}
        )
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


class TestSecurityHeaders:
    @pytest.mark.parametrize("path", ["/health", "/.well-known/jwks.json", "/api/v1/nope"])
    async def test_every_response_carries_them(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-request-id"].startswith("req_")
        assert "max-age" in response.headers["strict-transport-security"]


class TestRateLimits:
    async def test_authenticated_responses_carry_rate_limit_headers(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        first = await client.get("/api/v1/verifications", headers=keys.test_headers)
        second = await client.get("/api/v1/verifications", headers=keys.test_headers)
        assert first.headers["x-ratelimit-limit"] == "100"
        assert (
            int(second.headers["x-ratelimit-remaining"])
            == int(first.headers["x-ratelimit-remaining"]) - 1
        )
        assert int(first.headers["x-ratelimit-reset"]) > 0

    async def test_limits_are_per_key(self, settings_factory: Any) -> None:
        app = create_app(settings_factory(rate_limit_api="2/minute"))
        async with app.router.lifespan_context(app):
            await app.state.vouch.limiter.reset()
            keys = await make_keys(app.state.vouch)
            async with _client(app) as c:
                for _ in range(2):
                    assert (
                        await c.get("/api/v1/verifications", headers=keys.test_headers)
                    ).status_code == 200
                assert (
                    await c.get("/api/v1/verifications", headers=keys.test_headers)
                ).status_code == 429
                assert (
                    await c.get("/api/v1/verifications", headers=keys.live_headers)
                ).status_code == 200

    async def test_public_endpoints_are_limited_per_ip(self, settings_factory: Any) -> None:
        app = create_app(settings_factory(rate_limit_public="2/minute"))
        async with app.router.lifespan_context(app):
            await app.state.vouch.limiter.reset()
            async with _client(app) as c:
                codes = [(await c.get("/.well-known/jwks.json")).status_code for _ in range(3)]
        assert codes == [200, 200, 429]

    async def test_a_cold_revocation_list_read_is_not_cut_by_the_public_limit(
        self, settings_factory: Any
    ) -> None:
        app = create_app(
            settings_factory(rate_limit_public="2/minute", rate_limit_revocation_list="5/minute")
        )
        async with app.router.lifespan_context(app):
            await app.state.vouch.limiter.reset()
            async with _client(app) as c:
                codes = [(await c.get("/api/v1/proofs/revoked")).status_code for _ in range(6)]
                # Its own limit leaves the public one untouched.
                jwks = (await c.get("/.well-known/jwks.json")).status_code
        assert codes == [200] * 5 + [429]
        assert jwks == 200

    async def test_failed_keys_are_limited_per_ip(self, settings_factory: Any) -> None:
        app = create_app(settings_factory(rate_limit_auth_failures="3/minute"))
        async with app.router.lifespan_context(app):
            await app.state.vouch.limiter.reset()
            async with _client(app) as c:
                codes = [
                    (
                        await c.get(
                            "/api/v1/verifications",
                            headers={"Authorization": f"Bearer pk_test_guess{i:027d}"},
                        )
                    ).status_code
                    for i in range(4)
                ]
        assert codes == [401, 401, 401, 429]


class TestHealth:
    async def test_healthy(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "healthy"
        assert body["services"]["database"] == "up"
        assert body["timestamp"].endswith("Z")

    async def test_database_down_is_503(self, settings_factory: Any, tmp_path: Any) -> None:
        # No background worker: it would hold a connection of the engine swapped out below.
        app = create_app(settings_factory(webhook_worker_enabled=False))
        async with app.router.lifespan_context(app):
            await app.state.vouch.db.dispose()
            app.state.vouch.db.engine = __import__(
                "sqlalchemy.ext.asyncio", fromlist=["create_async_engine"]
            ).create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
            app.state.vouch.db.sessionmaker.configure(bind=app.state.vouch.db.engine)
            async with _client(app) as c:
                response = await c.get("/health")
        assert response.status_code == 503
        assert response.json()["status"] == "unhealthy"
        assert response.json()["services"]["database"] == "down"


class TestProbeGuard:
    @pytest.mark.parametrize(
        "path",
        [
            "/.git/config",
            "/.env",
            "/wp-admin/",
            "/phpmyadmin/index.php",
            "/x/../../etc/passwd",
            "/backup.sql",
        ],
    )
    async def test_probes_get_404(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    async def test_repeat_prober_is_blocked_everywhere(self, settings_factory: Any) -> None:
        app = create_app(settings_factory(rate_limit_probes="3/hour"))
        async with app.router.lifespan_context(app):
            await app.state.vouch.limiter.reset()
            async with _client(app) as c:
                codes = [(await c.get("/.env")).status_code for _ in range(4)]
                health = await c.get("/health")
        assert codes == [404, 404, 404, 403]
        assert health.status_code == 403
        assert health.json()["error"]["code"] == "blocked"

    async def test_ordinary_paths_are_not_probes(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await client.get("/api/v1/verifications", headers=keys.test_headers)
        assert response.status_code == 200


class TestRevokedApiKey:
    async def test_revoked_key_stops_working_at_once(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Any
    ) -> None:
        from vouch_server.tenancy import service as tenancy

        assert (
            await client.get("/api/v1/verifications", headers=keys.test_headers)
        ).status_code == 200
        async with runtime.db.session() as session:
            assert await tenancy.revoke_api_key(session, keys.test[:12])
        response = await client.get("/api/v1/verifications", headers=keys.test_headers)
        assert response.status_code == 401
