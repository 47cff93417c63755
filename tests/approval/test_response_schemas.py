"""Every /api/v1/hitl and /api/v1/confirmations answer matches the schema the app's own
/openapi.json documents for it (the two event streams are text/event-stream and have none)."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.approval.standins import (
    CHAT_ID,
    PHONE,
    callback_key_of,
    post_telegram,
    tg_message,
    tg_press,
)
from tests.fixtures import proof_sdk
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


TELEGRAM = {"type": "telegram", "config": {"chat_id": str(CHAT_ID)}}
WHATSAPP = {"type": "whatsapp", "config": {"phone_number": PHONE}}
WEB = {"type": "web"}
HITL = "/api/v1/hitl"
ONE = HITL + "/{hitl_id}"
CONF = "/api/v1/confirmations"
CONF_ONE = CONF + "/{confirmation_id}"


@pytest.fixture(scope="module")
def crypto(tmp_path_factory: pytest.TempPathFactory) -> Any:
    proof_sdk.load(tmp_path_factory.mktemp("response_schemas_sdk"))
    import proof_sdk.crypto as module  # type: ignore[import-not-found]

    return module


@pytest.fixture(scope="module")
def key_pair(crypto: Any) -> tuple[str, str]:
    return crypto.generate_key_pair()  # type: ignore[no-any-return]


async def test_every_hitl_and_confirmation_answer_is_documented(
    dc: httpx.AsyncClient, dkeys: Keys, crypto: Any, key_pair: tuple[str, str]
) -> None:
    spec = (await dc.get("/openapi.json")).json()
    live, test = dkeys.live_headers, dkeys.test_headers

    async def call(
        method: str, template: str, status: int, path: str, headers: dict[str, str], **kw: Any
    ) -> Any:
        response = await dc.request(method, path, headers=headers, **kw)
        assert response.status_code == status, response.text
        body = response.json()
        assert_documented(spec, method, template, status, body)
        return body

    # A live config waits for its recipient's consent.
    body = {"name": "Deploys", "channels": [TELEGRAM]}
    hitl = await call("post", HITL, 201, HITL, live, json=body)
    assert hitl["status"] == "pending" and hitl["keypair"] is None
    path = f"{HITL}/{hitl['id']}"
    asked = await call("post", ONE + "/authorize", 200, f"{path}/authorize", live)
    [entry] = asked["authorizations"]
    assert entry["created"] is True and entry["authorization_url"]
    again = await call("post", ONE + "/authorize", 200, f"{path}/authorize", live)
    assert again["authorizations"][0]["created"] is False
    token = entry["authorization_url"].split("start=auth_", 1)[1]
    assert (await post_telegram(dc, tg_message(f"/start auth_{token}"))).status_code == 200
    key = await callback_key_of(dc, entry["authorization_id"])
    assert (await post_telegram(dc, tg_press(f"ca:{key}"))).status_code == 200

    # End-to-end encryption keys, the owner's and an approver's.
    public_pem, private_pem = key_pair
    wrapped = crypto.encrypt_private_key(
        private_pem, "correct horse battery staple 42", public_pem, hitl["id"], hitl["user_id"]
    )
    upload = {
        "public_key": public_pem,
        "encrypted_private_key": json.dumps(wrapped),
        "kdf_salt": wrapped["salt"],
    }
    await call("put", ONE + "/keys", 200, f"{path}/keys", live, json=upload)
    await call("get", ONE + "/keys", 200, f"{path}/keys", live)
    shown = await call("get", ONE, 200, path, live)
    assert shown["status"] == "active" and shown["keypair"] and shown["activated_at"]
    enrolled = await call(
        "put",
        ONE + "/approver-keys/{authorization_id}",
        200,
        f"{path}/approver-keys/{entry['authorization_id']}",
        live,
        json={"public_key": public_pem},
    )
    assert enrolled["hitl_id"] == hitl["id"]
    keys_listed = await call("get", ONE + "/approver-keys", 200, f"{path}/approver-keys", live)
    assert keys_listed["approver_keys"] == {entry["authorization_id"]: public_pem}
    await call("delete", ONE + "/keys", 200, f"{path}/keys", live)

    # A confirmation sent over Telegram under the consent.
    sent = await call("post", CONF, 201, CONF, live, json={"hitl_id": hitl["id"], "message": "Go?"})
    assert sent["channels"][0]["authorization_id"] == entry["authorization_id"]
    waited = await call("get", CONF_ONE, 200, f"{CONF}/{sent['id']}?wait=1", live)
    assert waited["status"] == "pending" and waited["response"] is None
    link = await call(
        "post", CONF_ONE + "/approval-link", 200, f"{CONF}/{sent['id']}/approval-link", live
    )
    assert link["single_use"] is True

    # Another live config, finalized; then changed and archived.
    other = await call("post", HITL, 201, HITL, live, json={"name": "Pay", "channels": [WHATSAPP]})
    finalized = await call("post", ONE + "/finalize", 200, f"{HITL}/{other['id']}/finalize", live)
    assert finalized["authorizations"][0]["channel"] == "whatsapp"
    await call("patch", ONE, 200, f"{HITL}/{other['id']}", live, json={"timeout_seconds": 600})
    archived = await call("delete", ONE, 200, f"{HITL}/{other['id']}", live)
    assert archived["archived_at"]
    page = await call("get", HITL, 200, f"{HITL}?limit=1", live)
    assert page["pagination"]["nextPage"] == 2 and page["limits"]["max_configs"] is None

    # Test mode: a web channel, decided by test-respond.
    web = await call("post", HITL, 201, HITL, test, json={"name": "Web", "channels": [WEB]})
    created = await call(
        "post", CONF, 201, CONF, test, json={"hitl_id": web["id"], "message": "Ok?"}
    )
    assert created["approval_url"] and created["channels"][0]["status"] == "link"
    decided = await call(
        "post",
        CONF_ONE + "/test-respond",
        200,
        f"{CONF}/{created['id']}/test-respond",
        test,
        json={"action": "approve", "text": "fine"},
    )
    assert decided["response"]["action"] == "approve" and decided["proof_token"]
    await call("get", CONF_ONE, 200, f"{CONF}/{created['id']}", test)
    await call("post", CONF, 201, CONF, test, json={"hitl_id": web["id"], "message": "More?"})
    listed = await call("get", CONF, 200, f"{CONF}?limit=1", test)
    assert listed["pagination"]["hasMore"] is True

    # Telegram chat-id discovery.
    discovery = HITL + "/chat-id-discovery"
    started = await call("post", discovery, 201, discovery, test)
    pending = await call(
        "get", discovery + "/{token}", 200, f"{discovery}/{started['token']}", test
    )
    assert pending["status"] == "pending"
    start = tg_message(f"/start chat_{started['token']}")
    assert (await post_telegram(dc, start)).status_code == 200
    done = await call("get", discovery + "/{token}", 200, f"{discovery}/{started['token']}", test)
    assert done["status"] == "completed" and done["chat_id"] == str(CHAT_ID)


async def test_the_check_fails_on_an_answer_outside_its_schema(
    dc: httpx.AsyncClient, dkeys: Keys
) -> None:
    spec = (await dc.get("/openapi.json")).json()
    response = await dc.post(
        HITL, json={"name": "Web", "channels": [WEB]}, headers=dkeys.test_headers
    )
    body = response.json()
    assert_documented(spec, "post", HITL, 201, body)
    for broken in (
        {k: v for k, v in body.items() if k != "keypair"},
        {**body, "status": "paused"},
        {**body, "channels": [{"type": "web", "config": {"url": 1}}]},
        {**body, "channels": [{"type": "pager", "config": {}}]},
    ):
        with pytest.raises(AssertionError):
            assert_documented(spec, "post", HITL, 201, broken)
