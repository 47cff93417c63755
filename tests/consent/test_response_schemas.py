"""Every /api/v1/authorizations answer matches the schema the app's own /openapi.json documents
for it (the CSV export is text/csv and has none)."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.approval.standins import CHAT_ID, EMAIL, PHONE
from tests.fixtures.tenancy import Keys


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


BASE = "/api/v1/authorizations"
ONE = BASE + "/{authorization_id}"


async def test_every_authorization_answer_is_documented(dc: httpx.AsyncClient, dkeys: Keys) -> None:
    spec = (await dc.get("/openapi.json")).json()

    async def call(
        method: str, template: str, status: int, path: str, headers: dict[str, str], **kw: Any
    ) -> Any:
        response = await dc.request(method, path, headers=headers, **kw)
        assert response.status_code == status, response.text
        body = response.json()
        assert_documented(spec, method, template, status, body)
        return body

    test, live = dkeys.test_headers, dkeys.live_headers
    telegram = await call(
        "post", BASE, 201, BASE, live, json={"channel": "telegram", "recipient": CHAT_ID}
    )
    assert telegram["deep_link"] and telegram["authorization_url"]
    email = await call("post", BASE, 201, BASE, test, json={"channel": "email", "recipient": EMAIL})
    allow = await call(
        "post", BASE, 201, BASE, test, json={"channel": "whatsapp", "recipient": PHONE}
    )
    assert allow["phone"] == PHONE
    deny = await call(
        "post", BASE, 201, BASE, test, json={"channel": "sms", "phone": PHONE, "scope": "deploys"}
    )

    allowed = await call(
        "post",
        ONE + "/test-respond",
        200,
        f"{BASE}/{allow['id']}/test-respond",
        test,
        json={"action": "allow"},
    )
    assert allowed["proof_token"] and allowed["authorized_at"]
    denied = await call(
        "post",
        ONE + "/test-respond",
        200,
        f"{BASE}/{deny['id']}/test-respond",
        test,
        json={"action": "deny"},
    )
    assert denied["denied_at"]
    revoked = await call("delete", ONE, 200, f"{BASE}/{allow['id']}", test, json={"reason": "done"})
    assert revoked["revoked_by"] == "api" and revoked["revocation_reason"] == "done"
    for row in (telegram, email, allow, deny):
        headers = live if row is telegram else test
        await call("get", ONE, 200, f"{BASE}/{row['id']}", headers)

    page = await call("get", BASE, 200, f"{BASE}?limit=1", test)
    assert page["pagination"]["hasMore"] is True and page["pagination"]["nextPage"] == 2
    await call("get", BASE, 200, f"{BASE}?page=2&limit=2", test)
    exported = await call("get", BASE + "/export", 200, f"{BASE}/export", test)
    assert exported["count"] == 3 and exported["truncated"] is False
    csv = await dc.get(f"{BASE}/export?format=csv", headers=test)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")


async def test_the_check_fails_on_an_answer_outside_its_schema(
    dc: httpx.AsyncClient, dkeys: Keys
) -> None:
    spec = (await dc.get("/openapi.json")).json()
    response = await dc.post(
        BASE, json={"channel": "telegram", "recipient": CHAT_ID}, headers=dkeys.test_headers
    )
    body = response.json()
    assert_documented(spec, "post", BASE, 201, body)
    for broken in (
        {k: v for k, v in body.items() if k != "recipient_hash"},
        {**body, "status": "approved"},
        {**body, "channel": "pager"},
        {**body, "surprise": True},
    ):
        with pytest.raises(AssertionError):
            assert_documented(spec, "post", BASE, 201, broken)
