"""``GET /metrics``: off unless configured, bearer-protected, route templates as labels, and the
counters fed from verifications, proofs, webhooks and rate limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.tenancy import Keys, make_keys
from tests.fixtures.verifications import create_verification, verified_proof
from vouch_server.app import create_app
from vouch_server.webhooks.delivery import DeliveryWorker

TOKEN = "metrics-token-for-tests"
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://vouch.test")


@pytest.fixture
async def mapp(settings_factory: Any) -> AsyncIterator[FastAPI]:
    app = create_app(
        settings_factory(
            metrics_token=TOKEN, allow_private_targets=True, webhook_worker_enabled=False
        )
    )
    await app.state.vouch.limiter.reset()
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def mc(mapp: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(mapp) as c:
        yield c


@pytest.fixture
async def mkeys(mapp: FastAPI) -> Keys:
    return await make_keys(mapp.state.vouch)


async def scrape(c: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, keyed by sample name and label set."""
    response = await c.get("/metrics", headers=SCRAPE)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def label_values(samples: dict[Any, float], name: str, label: str) -> set[str]:
    return {dict(key)[label] for (sample, key) in samples if sample == name and label in dict(key)}


class TestAccess:
    async def test_metrics_are_404_when_not_configured(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/metrics")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    async def test_enabled_without_a_token_is_open(self, settings_factory: Any) -> None:
        app = create_app(settings_factory(metrics_enabled=True))
        async with app.router.lifespan_context(app), _client(app) as c:
            response = await c.get("/metrics")
        assert response.status_code == 200
        assert "vouch_build_info" in response.text

    async def test_a_wrong_token_is_401(self, mc: httpx.AsyncClient) -> None:
        response = await mc.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "unauthorized"

    async def test_a_missing_token_is_401(self, mc: httpx.AsyncClient) -> None:
        assert (await mc.get("/metrics")).status_code == 401

    async def test_an_api_key_is_not_a_metrics_token(
        self, mc: httpx.AsyncClient, mkeys: Keys
    ) -> None:
        assert (await mc.get("/metrics", headers=mkeys.live_headers)).status_code == 401

    async def test_guessing_the_token_is_rate_limited(self, settings_factory: Any) -> None:
        app = create_app(settings_factory(metrics_token=TOKEN, rate_limit_auth_failures="2/minute"))
        async with app.router.lifespan_context(app), _client(app) as c:
            await app.state.vouch.limiter.reset()
            wrong = {"Authorization": "Bearer guess"}
            codes = [(await c.get("/metrics", headers=wrong)).status_code for _ in range(3)]
        assert codes == [401, 401, 429]

    async def test_the_metrics_route_is_not_in_the_openapi_description(
        self, mc: httpx.AsyncClient
    ) -> None:
        assert "/metrics" not in (await mc.get("/openapi.json")).json()["paths"]


class TestRequests:
    async def test_requests_are_counted_by_route_template_and_status(
        self, mc: httpx.AsyncClient, mkeys: Keys
    ) -> None:
        created = await create_verification(mc, mkeys.test_headers)
        got = await mc.get(f"/api/v1/verifications/{created['id']}", headers=mkeys.test_headers)
        assert got.status_code == 200
        missing = await mc.get("/api/v1/verifications/ver_missing", headers=mkeys.test_headers)
        assert missing.status_code == 404
        samples = await scrape(mc)
        name = "vouch_http_requests_total"
        route = "/api/v1/verifications/{verification_id}"
        assert value(samples, name, method="GET", route=route, status="200") == 1
        assert value(samples, name, method="GET", route=route, status="404") == 1
        assert value(samples, name, method="POST", route="/api/v1/verifications", status="201") == 1
        # No raw path, hence no id, ever becomes a label value.
        assert not any(created["id"] in r for r in label_values(samples, name, "route"))
        assert not any("ver_missing" in r for r in label_values(samples, name, "route"))

    async def test_a_capability_token_never_becomes_a_label(self, mc: httpx.AsyncClient) -> None:
        await mc.get("/approve/secret-capability-token")
        samples = await scrape(mc)
        routes = label_values(samples, "vouch_http_requests_total", "route")
        assert "/approve/{token}" in routes
        assert not any("secret-capability-token" in r for r in routes)

    async def test_unmatched_paths_share_one_label(self, mc: httpx.AsyncClient) -> None:
        for path in ("/nothing-here", "/nothing-either/123"):
            assert (await mc.get(path)).status_code == 404
        samples = await scrape(mc)
        name = "vouch_http_requests_total"
        assert value(samples, name, method="GET", route="unmatched", status="404") == 2
        assert not any("nothing" in r for r in label_values(samples, name, "route"))

    async def test_an_unknown_method_is_one_label_value(self, mc: httpx.AsyncClient) -> None:
        await mc.request("BREW", "/api/v1")
        samples = await scrape(mc)
        assert label_values(samples, "vouch_http_requests_total", "method") <= {
            "GET",
            "HEAD",
            "POST",
            "PUT",
            "PATCH",
            "DELETE",
            "OPTIONS",
            "other",
        }
        assert value(
            samples, "vouch_http_requests_total", method="other", route="/api/v1", status="405"
        )

    async def test_latency_is_a_histogram_per_route(self, mc: httpx.AsyncClient) -> None:
        for _ in range(3):
            assert (await mc.get("/api/v1")).status_code == 200
        samples = await scrape(mc)
        name = "vouch_http_request_duration_seconds"
        assert value(samples, f"{name}_count", method="GET", route="/api/v1") == 3
        assert value(samples, f"{name}_bucket", method="GET", route="/api/v1", le="+Inf") == 3
        assert value(samples, f"{name}_sum", method="GET", route="/api/v1") > 0

    async def test_what_the_edge_answers_itself_is_counted(self, mc: httpx.AsyncClient) -> None:
        response = await mc.post(
            "/api/v1/verifications",
            content=b"x" * 20_000,
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 413
        samples = await scrape(mc)
        assert value(
            samples, "vouch_http_requests_total", method="POST", route="unmatched", status="413"
        )


class TestOutcomes:
    async def test_verifications_and_proofs_are_counted_by_outcome(
        self, mc: httpx.AsyncClient, mkeys: Keys
    ) -> None:
        proof = await verified_proof(mc, mkeys.test_headers)
        revoked = await mc.post(
            f"/api/v1/proofs/{proof['id']}/revoke", json={}, headers=mkeys.test_headers
        )
        assert revoked.status_code == 200, revoked.text
        samples = await scrape(mc)
        labels = {"type": "phone", "environment": "test"}
        assert value(samples, "vouch_verifications_total", outcome="verified", **labels) == 1
        assert value(samples, "vouch_proofs_total", event="minted", **labels) == 1
        assert value(samples, "vouch_proofs_total", event="revoked", **labels) == 1

    async def test_a_failed_verification_is_counted(self, settings_factory: Any) -> None:
        app = create_app(settings_factory(metrics_token=TOKEN, max_attempts=1))
        async with app.router.lifespan_context(app), _client(app) as c:
            keys = await make_keys(app.state.vouch)
            created = await create_verification(
                c, keys.test_headers, type="email", channel="email", identifier="a@example.com"
            )
            wrong = "AAAAAA" if created["challenge"]["code"] != "AAAAAA" else "BBBBBB"
            failed = await c.post(
                f"/api/v1/verifications/{created['id']}/submit",
                json={"code": wrong},
                headers=keys.test_headers,
            )
            assert failed.json()["error"]["code"] == "max_attempts_exceeded"
            samples = await scrape(c)
        labels = {"type": "email", "environment": "test"}
        assert value(samples, "vouch_verifications_total", outcome="failed", **labels) == 1
        assert value(samples, "vouch_verifications_total", outcome="verified", **labels) == 0

    async def test_rate_limit_refusals_are_counted_by_scope(self, settings_factory: Any) -> None:
        app = create_app(settings_factory(metrics_enabled=True, rate_limit_public="1/minute"))
        async with app.router.lifespan_context(app), _client(app) as c:
            await app.state.vouch.limiter.reset()
            codes = [(await c.get("/.well-known/jwks.json")).status_code for _ in range(3)]
            text = (await c.get("/metrics")).text
        assert codes == [200, 429, 429]
        samples = {
            (s.name, frozenset(s.labels.items())): s.value
            for f in text_string_to_metric_families(text)
            for s in f.samples
        }
        assert value(samples, "vouch_rate_limit_refusals_total", scope="ip") == 2


class TestWebhookOutbox:
    async def test_outbox_depth_and_delivery_results(
        self, mapp: FastAPI, mc: httpx.AsyncClient, mkeys: Keys
    ) -> None:
        # Port 9 (discard) on loopback: nothing listens, so the attempt fails and is retried.
        registered = await mc.post(
            "/api/v1/webhook-endpoints",
            json={"url": "http://127.0.0.1:9/hook"},
            headers=mkeys.test_headers,
        )
        assert registered.status_code == 201, registered.text
        await verified_proof(mc, mkeys.test_headers)
        before = await scrape(mc)
        assert value(before, "vouch_webhook_outbox_pending") >= 1
        assert value(before, "vouch_webhook_outbox_due") >= 1
        async with DeliveryWorker(mapp.state.vouch) as worker:
            attempted = await worker.run_once()
        assert attempted >= 1
        after = await scrape(mc)
        assert value(after, "vouch_webhook_deliveries_total", result="retrying") == attempted
        assert value(after, "vouch_webhook_outbox_pending") == value(
            before, "vouch_webhook_outbox_pending"
        )
        assert value(after, "vouch_webhook_outbox_due") == 0
