"""Every webhook answer matches the schema the app's own /openapi.json documents for it."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select

from tests.fixtures.receiver import Receiver, run_receiver
from tests.fixtures.tenancy import Keys, make_keys
from tests.fixtures.verifications import verified_proof
from vouch_server.app import create_app
from vouch_server.models import WebhookDelivery
from vouch_server.webhooks.delivery import DeliveryWorker


# -- local stand-in for tests/fixtures/openapi.py::assert_documented (not there yet) -------------
def _strict(spec: dict[str, Any]) -> dict[str, Any]:
    """The document with every model closed: a key the handler sends but the model does not
    name fails too, so the models must describe the answers exactly."""
    spec = copy.deepcopy(spec)
    for schema in spec["components"]["schemas"].values():
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    return spec


def assert_documented(
    spec: dict[str, Any], method: str, path_template: str, status: int, body: Any
) -> None:
    """``body`` is valid against the schema ``spec`` documents for that operation's answer."""
    answer = spec["paths"][path_template][method.lower()]["responses"][str(status)]
    schema = answer["content"]["application/json"]["schema"]
    document = _strict(spec)
    registry: Registry[Any] = Registry().with_resource(
        "urn:openapi", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    target = {"$ref": "urn:openapi" + schema["$ref"]} if "$ref" in schema else schema
    validator = Draft202012Validator(target, registry=registry)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, f"{method.upper()} {path_template} {status}: {errors}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with run_receiver(status=500) as r:
        yield r


@pytest.fixture
async def hook_app(settings_factory: Any) -> AsyncIterator[FastAPI]:
    app = create_app(
        settings_factory(
            allow_private_targets=True, webhook_worker_enabled=False, webhook_retry_schedule="0"
        )
    )
    await app.state.vouch.limiter.reset()
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def hc(hook_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=hook_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
        yield c


async def test_every_webhook_answer_is_documented(
    hc: httpx.AsyncClient, hook_app: FastAPI, receiver: Receiver
) -> None:
    runtime = hook_app.state.vouch
    keys: Keys = await make_keys(runtime)
    h = keys.test_headers
    spec = (await hc.get("/openapi.json")).json()

    async def call(method: str, template: str, status: int, path: str, **kw: Any) -> Any:
        response = await hc.request(method, path, headers=h, **kw)
        assert response.status_code == status, response.text
        body = response.json()
        assert_documented(spec, method, template, status, body)
        return body

    base = "/api/v1/webhook-endpoints"
    created = await call(
        "post", base, 201, base, json={"url": receiver.url, "description": None, "events": []}
    )
    assert "secret" in created
    one = f"{base}/{{endpoint_id}}"
    path = f"{base}/{created['id']}"
    await call("get", base, 200, base)
    fetched = await call("get", one, 200, path)
    assert "secret" not in fetched
    await call(
        "patch", one, 200, path, json={"description": "ops", "events": ["verification.completed"]}
    )
    rotated = await call("post", f"{one}/rotate-secret", 200, f"{path}/rotate-secret")
    assert rotated["previous_secret_expires_at"] is not None
    await call("post", f"{base}/callback-secret/rotate", 200, f"{base}/callback-secret/rotate")
    await call("post", f"{base}/callback-secret/rotate", 200, f"{base}/callback-secret/rotate")

    deliveries = "/api/v1/webhook-deliveries"
    empty = await call("get", "/api/v1/webhook-deliveries/stats", 200, f"{deliveries}/stats")
    assert empty["total"] == 0
    await verified_proof(hc, h)
    await verified_proof(hc, h)
    pending = await call("get", deliveries, 200, f"{deliveries}?limit=1")
    assert pending["pagination"]["hasMore"] is True and pending["data"][0]["status"] == "pending"
    async with DeliveryWorker(runtime) as worker:
        while await worker.run_once():
            pass
    async with runtime.db.session() as session:
        rows = list((await session.scalars(select(WebhookDelivery))).all())
    assert rows and all(r.status == "failed" for r in rows)
    listed = await call("get", deliveries, 200, f"{deliveries}?status=failed")
    assert listed["data"][0]["response_status"] == 500
    one_delivery = f"{deliveries}/{{delivery_id}}"
    detail = await call("get", one_delivery, 200, f"{deliveries}/{rows[0].id}")
    assert detail["request"]["payload"] is not None
    await call("get", f"{deliveries}/stats", 200, f"{deliveries}/stats")
    retried = await call("post", f"{one_delivery}/retry", 200, f"{deliveries}/{rows[0].id}/retry")
    assert retried["delivery"]["status"] == "pending"


async def test_the_check_fails_on_an_answer_outside_its_schema(
    hc: httpx.AsyncClient, hook_app: FastAPI, receiver: Receiver
) -> None:
    keys = await make_keys(hook_app.state.vouch)
    spec = (await hc.get("/openapi.json")).json()
    response = await hc.post(
        "/api/v1/webhook-endpoints", json={"url": receiver.url}, headers=keys.test_headers
    )
    body = response.json()
    assert_documented(spec, "post", "/api/v1/webhook-endpoints", 201, body)
    for broken in (
        {k: v for k, v in body.items() if k != "secret"},
        {**body, "enabled": "yes"},
        {**body, "undocumented": 1},
    ):
        with pytest.raises(AssertionError):
            assert_documented(spec, "post", "/api/v1/webhook-endpoints", 201, broken)
