"""The edge cannot be turned against users (issue 12): forged ``X-Forwarded-For`` bans nobody
else, key holders pass a ban on their address, ``/v2`` handles are not probes, bad JSON gets the
surface's own 400, and capability tokens never reach the logs."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.tenancy import Keys, make_keys
from tests.location.factories import fixture_proof
from vouch_server.app import create_app
from vouch_server.http import (
    MAX_JSON_DEPTH,
    is_probe,
    json_input_problem,
    redact_target,
    scope_client_ip,
)

PROXY = "10.0.0.2"
ATTACKER = "198.51.100.9"
VICTIM = "203.0.113.7"


def _client(app: FastAPI, peer: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="https://vouch.test")


def _scope(peer: str, *forwarded: str) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"type": "http", "client": (peer, 1234), "headers": headers}


class TestScopeClientIp:
    def test_forwarded_for_is_ignored_unless_trusted(self) -> None:
        scope = _scope(PROXY, VICTIM)
        assert scope_client_ip(scope, trust_forwarded_for=False, trusted_proxies=PROXY) == PROXY

    def test_forwarded_for_from_a_peer_that_is_no_proxy_is_ignored(self) -> None:
        scope = _scope(ATTACKER, VICTIM)
        assert scope_client_ip(scope, trust_forwarded_for=True, trusted_proxies=PROXY) == ATTACKER

    def test_the_client_is_the_rightmost_untrusted_hop(self) -> None:
        # The attacker wrote VICTIM; the proxy appended the address it really saw.
        scope = _scope(PROXY, f"{VICTIM}, {ATTACKER}")
        assert scope_client_ip(scope, trust_forwarded_for=True, trusted_proxies=PROXY) == ATTACKER

    def test_a_chain_of_trusted_proxies_is_walked_through(self) -> None:
        scope = _scope(PROXY, f"{VICTIM}, {ATTACKER}", "10.0.5.1")
        trusted = "10.0.0.0/16"
        assert scope_client_ip(scope, trust_forwarded_for=True, trusted_proxies=trusted) == ATTACKER

    def test_garbage_in_the_header_does_not_become_the_address(self) -> None:
        scope = _scope(PROXY, "not-an-ip")
        assert scope_client_ip(scope, trust_forwarded_for=True, trusted_proxies=PROXY) == PROXY

    def test_ipv6_networks_are_understood(self) -> None:
        scope = _scope("2001:db8::1", f"{VICTIM}, 2001:db8:ffff::9")
        got = scope_client_ip(scope, trust_forwarded_for=True, trusted_proxies="2001:db8::/32")
        assert got == VICTIM


class TestForgedForwardedFor:
    async def test_forging_the_victims_address_bans_only_the_forger(
        self, settings_factory: Any
    ) -> None:
        app = create_app(
            settings_factory(
                rate_limit_probes="3/hour", trust_forwarded_for=True, trusted_proxies=PROXY
            )
        )
        async with app.router.lifespan_context(app):
            await app.state.vouch.limiter.reset()
            async with _client(app, peer=PROXY) as via_proxy, _client(app, peer=VICTIM) as direct:
                forged = {"X-Forwarded-For": f"{VICTIM}, {ATTACKER}"}
                codes = [
                    (await via_proxy.get("/.env", headers=forged)).status_code for _ in range(4)
                ]
                attacker = await via_proxy.get("/health", headers={"X-Forwarded-For": ATTACKER})
                victim = await via_proxy.get("/health", headers={"X-Forwarded-For": VICTIM})
                # Straight to vouch, bypassing the proxy: the header is not believed at all.
                bypass = [
                    (await direct.get("/.env", headers={"X-Forwarded-For": ATTACKER})).status_code
                    for _ in range(4)
                ]
                attacker_after = await via_proxy.get(
                    "/health", headers={"X-Forwarded-For": ATTACKER}
                )
        assert codes == [404, 404, 404, 403]
        assert attacker.status_code == 403
        assert victim.status_code == 200
        # The direct prober was charged to its own address (VICTIM here), not to ATTACKER's.
        assert bypass == [404, 404, 404, 403]
        assert attacker_after.status_code == 403

    async def test_public_rate_limits_use_the_same_address(self, settings_factory: Any) -> None:
        app = create_app(
            settings_factory(
                rate_limit_public="2/minute", trust_forwarded_for=True, trusted_proxies=PROXY
            )
        )
        async with app.router.lifespan_context(app):
            await app.state.vouch.limiter.reset()
            async with _client(app, peer=PROXY) as c:
                forged = {"X-Forwarded-For": f"{VICTIM}, {ATTACKER}"}
                codes = [
                    (await c.get("/.well-known/jwks.json", headers=forged)).status_code
                    for _ in range(3)
                ]
                victim = await c.get("/.well-known/jwks.json", headers={"X-Forwarded-For": VICTIM})
        assert codes == [200, 200, 429]
        assert victim.status_code == 200


class TestBanSparesKeyHolders:
    async def _banned(self, settings_factory: Any) -> FastAPI:
        app = create_app(settings_factory(rate_limit_probes="2/hour"))
        await app.state.vouch.limiter.reset()
        return app

    async def test_a_valid_key_passes_a_ban_on_its_address(self, settings_factory: Any) -> None:
        app = await self._banned(settings_factory)
        async with app.router.lifespan_context(app):
            keys = await make_keys(app.state.vouch)
            async with _client(app) as c:
                for _ in range(3):
                    await c.get("/.env")
                anonymous = await c.get("/api/v1/verifications")
                bearer = await c.get("/api/v1/verifications", headers=keys.live_headers)
                x_api_key = await c.get("/verify/v0/plugins", headers={"X-API-Key": keys.test})
                records = await c.get("/v2/records", headers=keys.test_headers)
                probe = await c.get("/.env", headers=keys.test_headers)
        assert anonymous.status_code == 403
        assert anonymous.json()["error"]["code"] == "blocked"
        assert bearer.status_code == 200
        assert x_api_key.status_code == 200
        assert records.status_code == 200
        # A key holder's probe is still not served, but it is not told it is banned either.
        assert probe.status_code == 404

    async def test_an_invalid_or_revoked_key_does_not(self, settings_factory: Any) -> None:
        from vouch_server.tenancy import service as tenancy

        app = await self._banned(settings_factory)
        async with app.router.lifespan_context(app):
            keys = await make_keys(app.state.vouch)
            async with app.state.vouch.db.session() as session:
                assert await tenancy.revoke_api_key(session, keys.live[:12])
            async with _client(app) as c:
                for _ in range(3):
                    await c.get("/.env")
                guessed = await c.get(
                    "/api/v1/verifications", headers={"Authorization": "Bearer pk_test_" + "x" * 32}
                )
                revoked = await c.get("/api/v1/verifications", headers=keys.live_headers)
        assert guessed.status_code == 403
        assert revoked.status_code == 403


class TestProbePatternsOnV2:
    HANDLES = [
        "admin",
        "wp-admin",
        ".env",
        ".git",
        "backup.sql",
        "index.php",
        "phpmyadmin",
        "server-status",
        "deploy.sh",
        "a..b",
        "%2e%2e",
    ]

    async def test_legitimate_handles_are_never_probes(self, settings_factory: Any) -> None:
        app = create_app(settings_factory(rate_limit_probes="2/hour"))
        async with app.router.lifespan_context(app):
            await app.state.vouch.limiter.reset()
            keys = await make_keys(app.state.vouch)
            async with _client(app) as c:
                for handle in self.HANDLES:
                    created = await c.post(
                        "/v2/records", json={"data": {"handle": handle}}, headers=keys.test_headers
                    )
                    assert created.status_code == 201, (handle, created.text)
                    for _ in range(3):
                        url = "/v2/records/" + quote(handle, safe="")
                        got = await c.get(url, headers=keys.test_headers)
                        assert got.status_code == 200, (handle, got.text)
                        assert got.json()["data"]["handle"] == handle
                # Nothing was counted against the address.
                assert (await c.get("/health")).status_code == 200

    def test_resource_names_that_look_like_scanner_paths_are_not_probes(self) -> None:
        assert not is_probe("/v2/wp-admin/backup.sql", "/v2/wp-admin/backup.sql")
        assert not is_probe("/v2/etc/passwd", "/v2/etc/passwd")

    def test_a_literal_dot_segment_on_v2_still_is(self) -> None:
        assert is_probe("/v2/records/../../etc/passwd", "/v2/records/../../etc/passwd")
        assert is_probe("/v2/..", "/v2/..")

    def test_the_other_surfaces_keep_the_full_pattern(self) -> None:
        assert is_probe("/api/v1/.env", "/api/v1/.env")
        assert is_probe("/wp-admin/", "/wp-admin/")


class TestJsonInputProblem:
    def test_the_documented_depth_is_accepted_and_one_more_is_not(self) -> None:
        assert MAX_JSON_DEPTH == 64
        assert json_input_problem(json.loads("[" * 64 + "]" * 64)) is None
        assert json_input_problem(json.loads("[" * 65 + "]" * 65)) is not None
        assert json_input_problem(json.loads('{"a":' * 65 + "1" + "}" * 65)) is not None

    def test_lone_surrogates_are_refused_in_values_and_names(self) -> None:
        assert json_input_problem(json.loads('["\\ud800"]')) is not None
        assert json_input_problem(json.loads('{"\\udfff": 1}')) is not None
        # A proper pair is one character (U+1F600), which is fine.
        assert json_input_problem(json.loads('["\\ud83d\\ude00"]')) is None


def _minka(response: httpx.Response, reason: str = "api.body-malformed") -> None:
    assert response.status_code == 400, response.text
    payload = response.json()
    assert set(payload) == {"data", "hash", "meta"} and payload["data"]["reason"] == reason


def _problem(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "https://astral.global/errors/invalid-input"


class TestBadJsonGetsTheSurfaces400:
    async def test_deep_nesting_on_v2(self, client: httpx.AsyncClient, keys: Keys) -> None:
        deep = b"[" * 260 + b"]" * 260
        headers = {**keys.test_headers, "Content-Type": "application/json"}
        for raw in (b'{"data": {"x": ' + deep + b"}}", deep):
            _minka(await client.post("/v2/records", content=raw, headers=headers))
        put = await client.put(
            "/v2/records/x", content=b'{"data": {"x": ' + deep + b"}}", headers=headers
        )
        _minka(put)

    async def test_lone_surrogate_on_v2(self, client: httpx.AsyncClient, keys: Keys) -> None:
        headers = {**keys.test_headers, "Content-Type": "application/json"}
        raw = b'{"data": {"handle": "\\ud800"}}'
        _minka(await client.post("/v2/records", content=raw, headers=headers))

    async def test_an_unauthenticated_bad_body_on_v2_is_still_401(
        self, client: httpx.AsyncClient
    ) -> None:
        raw = b'{"data": {"handle": "\\ud800"}}'
        response = await client.post(
            "/v2/records", content=raw, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 401

    async def test_the_check_does_not_charge_the_key_twice(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        first = await client.post("/v2/records", json={"data": {}}, headers=keys.test_headers)
        second = await client.post("/v2/records", json={"data": {}}, headers=keys.test_headers)
        assert (
            int(first.headers["x-ratelimit-remaining"])
            == int(second.headers["x-ratelimit-remaining"]) + 1
        )

    async def test_lone_surrogate_inside_a_location_proof(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        proof = fixture_proof()
        proof["stamps"][0]["signals"]["source"] = "\ud800"
        raw = json.dumps({"proof": proof}).encode()
        headers = {"Content-Type": "application/json", "X-API-Key": keys.test}
        _problem(await client.post("/verify/v0/proof", content=raw, headers=headers))
        stamp = {"stamp": proof["stamps"][0]}
        _problem(
            await client.post(
                "/verify/v0/stamp", content=json.dumps(stamp).encode(), headers=headers
            )
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestCapabilitiesStayOutOfLogs:
    TARGETS = [
        "/approve/apv_SECRET1cap",
        "/verify/ver_123/email?token=SECRET2cap",
        "/oauth/callback/github?state=SECRET3cap&code=SECRET4cap",
        "/inbound/whatsapp?hub.mode=subscribe&hub.verify_token=SECRET5cap&hub.challenge=1",
    ]

    @pytest.mark.parametrize("target", TARGETS)
    def test_redact_target(self, target: str) -> None:
        redacted = redact_target(target)
        assert "SECRET" not in redacted
        assert "[redacted]" in redacted
        assert redacted.split("?")[0].split("/")[1] == target.split("?")[0].split("/")[1]

    def test_other_query_values_are_kept(self) -> None:
        assert redact_target("/v2/records?limit=5&index=2") == "/v2/records?limit=5&index=2"
        assert redact_target("/approve/") == "/approve/"

    async def test_uvicorns_access_log_carries_no_capability(
        self, app: FastAPI, caplog: pytest.LogCaptureFixture
    ) -> None:
        import uvicorn

        port = _free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, lifespan="off", log_config=None, access_log=True
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        try:
            with caplog.at_level(logging.INFO):
                for _ in range(100):
                    if server.started:
                        break
                    await asyncio.sleep(0.02)
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
                    for target in self.TARGETS:
                        await c.get(target)
        finally:
            server.should_exit = True
            await task
        access = [r for r in caplog.records if r.name == "uvicorn.access"]
        assert len(access) == len(self.TARGETS)
        # The test's own HTTP client logs what it sent; the server's records are what matter.
        text = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
        assert "SECRET" not in text
        assert text.count("[redacted]") >= len(self.TARGETS)

    async def test_the_unhandled_error_log_carries_no_capability(
        self, settings: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        app = create_app(settings)

        @app.get("/approve/{token}/boom")
        async def boom(token: str) -> None:
            raise RuntimeError("boom")

        app.router.routes.insert(0, app.router.routes.pop())
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
                with caplog.at_level(logging.ERROR, logger="vouch.http"):
                    response = await c.get("/approve/apv_SECRETcap/boom")
        assert response.status_code == 500
        assert any(r.name == "vouch.http" for r in caplog.records)
        assert "SECRET" not in "\n".join(r.getMessage() for r in caplog.records)


class TestNulInTheRequestLine:
    """schemathesis found GET /api/v1/authorizations?…=%00 answered 500 on PostgreSQL (which
    refuses U+0000 in text); the edge now refuses a NUL in the path or query before any route."""

    @pytest.mark.parametrize(
        "url",
        [
            "/api/v1/authorizations?recipient=%00",
            "/api/v1/verifications?external_user_id=a%00b",
            "/api/v1/webhook-deliveries?event_type=%00",
            "/api/v1/verifications/ver%00x",
        ],
    )
    async def test_refused_with_the_envelope(
        self, client: httpx.AsyncClient, keys: Keys, url: str
    ) -> None:
        response = await client.get(url, headers=keys.test_headers)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "bad_request"
        assert response.headers["x-request-id"].startswith("req_")

    async def test_each_surface_answers_in_its_own_format(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await client.get("/v2/records?handle=%00", headers=keys.test_headers)
        assert response.status_code == 400
        assert set(response.json()) == {"data", "hash", "meta"}

    async def test_a_percent_that_is_not_a_nul_still_passes(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await client.get(
            "/api/v1/verifications?external_user_id=a%250b", headers=keys.test_headers
        )
        assert response.status_code == 200
