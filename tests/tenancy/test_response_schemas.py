"""Every /api/v1/templates… and /api/v1/channels/{channel}/credentials answer matches the schema
the app's own /openapi.json documents for it."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

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


T = "/api/v1/templates"
ONE = T + "/{channel}/{message_type}"
CREDS = "/api/v1/channels/{channel}/credentials"


async def test_every_template_and_credentials_answer_is_documented(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    spec = (await client.get("/openapi.json")).json()
    h = keys.test_headers

    async def call(method: str, template: str, path: str, **kw: Any) -> Any:
        response = await client.request(method, path, headers=h, **kw)
        assert response.status_code == 200, response.text
        body = response.json()
        assert_documented(spec, method, template, 200, body)
        return body

    empty = await call("get", T, T)
    assert empty["templates"] == [] and empty["variables"]
    defaults = await call("get", T + "/defaults", T + "/defaults")
    assert {t["is_custom"] for t in defaults["templates"]} == {False}
    default = await call("get", ONE, f"{T}/email/login_request")
    assert default["subject"] and "id" not in default
    own = await call(
        "put",
        ONE,
        f"{T}/email/login_request",
        json={
            "body": "Code {{ code }}",
            "subject": "Sign in to {{ business_name }}",
            "button_text": "Open",
            "button_url_template": "https://example.com/{{ code }}",
            "is_active": False,
        },
    )
    assert own["is_custom"] is True and own["version"] == 1
    await call("put", ONE, f"{T}/sms/welcome", json={"body": "Hi from {{ business_name }}"})
    await call("get", ONE, f"{T}/email/login_request")
    listed = await call("get", T, T)
    assert len(listed["templates"]) == 2
    preview = await call(
        "post",
        T + "/preview",
        T + "/preview",
        json={
            "channel": "email",
            "message_type": "login_request",
            "body": "{{ code }}",
            "subject": "Hi",
            "button_text": "Go",
            "button_url_template": "https://example.com/{{ code }}",
        },
    )
    assert preview["rendered"]["button_url"] == "https://example.com/X7K2M9"
    await call(
        "post", T + "/preview", T + "/preview", json={"channel": "sms", "message_type": "welcome"}
    )
    rendered = await call(
        "post",
        T + "/render",
        T + "/render",
        json={"channel": "sms", "message_type": "welcome", "variables": {"code": "1"}},
    )
    assert rendered["is_custom"] is True
    deleted = await call("delete", ONE, f"{T}/sms/welcome")
    assert deleted["template"]["is_custom"] is False

    nothing = await call("get", CREDS, "/api/v1/channels/sms/credentials")
    assert nothing == {"channel": "sms", "configured": False}
    bot = {
        "bot_token": "987654:project-own-bot-token",
        "bot_username": "acme_verify_bot",
        "webhook_secret": "acme-webhook-secret-0123456789",
    }
    stored = await call("put", CREDS, "/api/v1/channels/telegram/credentials", json=bot)
    assert stored["webhook_url"] and stored["public"] == {"bot_username": "acme_verify_bot"}
    await call("get", CREDS, "/api/v1/channels/telegram/credentials")
    whatsapp = {
        "phone_number": "+37069199199",
        "phone_number_id": "1234567890",
        "access_token": "EAAG-access-token-0123",
        "app_secret": "app-secret-0123",
        "verify_token": "verify-token-0123",
    }
    await call("put", CREDS, "/api/v1/channels/whatsapp/credentials", json=whatsapp)


async def test_the_check_fails_on_an_answer_outside_its_schema(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    spec = (await client.get("/openapi.json")).json()
    body = (
        await client.get(f"{T}/telegram/verification_request", headers=keys.test_headers)
    ).json()
    assert_documented(spec, "get", ONE, 200, body)
    for broken in (
        {k: v for k, v in body.items() if k != "body"},
        {**body, "channel": "fax"},
        {**body, "bot_token": "leaked"},
    ):
        with pytest.raises(AssertionError):
            assert_documented(spec, "get", ONE, 200, broken)
