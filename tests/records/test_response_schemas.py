"""Every JSON answer of the records surface (``/v2/{resource}…``), from real flows, checked
against the schema the app itself documents in ``/openapi.json``.

``tests/fixtures/openapi.py`` (a shared ``assert_documented``) did not exist when this was
written, so a small local one is used.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.fixtures.tenancy import Keys
from tests.records.factories import add_proof, body, created, make_signer, status_policy
from vouch_client.records import KeyPair

SPEC_URI = "urn:vouch:openapi"


def assert_documented(
    spec: dict[str, Any],
    method: str,
    path: str,
    status: int,
    body: Any,
    media: str = "application/json",
) -> None:
    """``body`` matches the schema ``spec`` documents for ``method path`` answering ``status``."""
    assert media in spec["paths"][path][method]["responses"][str(status)]["content"]
    pointer = "/".join(
        part.replace("~", "~0").replace("/", "~1")
        for part in ("paths", path, method, "responses", str(status), "content", media, "schema")
    )
    resource = Resource.from_contents(spec, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    schema = {"$ref": f"{SPEC_URI}#/{quote(pointer, safe='/~')}"}
    jsonschema.Draft202012Validator(schema, registry=registry).validate(body)


@pytest.fixture
async def spec(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


class TestRecordAnswers:
    async def test_builtin_and_app_records_match_their_schemas(
        self, client: httpx.AsyncClient, keys: Keys, spec: dict[str, Any]
    ) -> None:
        headers = keys.test_headers
        owner = KeyPair.generate()
        signer = await client.post(
            "/v2/signers",
            json=body({"handle": "owner", "public": owner.public, "format": "ed25519-raw"}),
            headers=headers,
        )
        assert signer.status_code == 201, signer.text
        assert_documented(spec, "post", "/v2/{resource}", 201, signer.json())

        circle = await created(
            client, headers, "circles", {"handle": "board", "signers": ["owner"]}
        )
        assert_documented(spec, "post", "/v2/{resource}", 201, circle)
        policy = await created(
            client,
            headers,
            "policies",
            status_policy(
                "approvals", [{"status": "active"}, {"status": "created"}], record="records"
            ),
        )
        assert_documented(spec, "post", "/v2/{resource}", 201, policy)

        data = {"handle": "doc", "name": "Acme", "amount": 12.5, "tags": ["a"]}
        record = await created(client, headers, "records", data, owner)
        assert_documented(spec, "post", "/v2/{resource}", 201, record)

        # A status change: the record gains meta.statusProof.
        signed = await add_proof(client, headers, "records", record, owner, {"status": "active"})
        assert signed.status_code == 200, signed.text
        assert "statusProof" in signed.json()["meta"]
        assert_documented(spec, "post", "/v2/{resource}/{record_id}/proofs", 200, signed.json())

        update = {**data, "amount": 13, "parent": record["hash"]}
        updated = await client.put("/v2/records/doc", json=body(update, owner), headers=headers)
        assert updated.status_code == 200, updated.text
        assert_documented(spec, "put", "/v2/{resource}/{record_id}", 200, updated.json())

        for resource, id_ in (("records", "doc"), ("signers", "system"), ("signers", "owner")):
            one = await client.get(f"/v2/{resource}/{id_}", headers=headers)
            assert one.status_code == 200, one.text
            assert_documented(spec, "get", "/v2/{resource}/{record_id}", 200, one.json())

        changes = await client.get("/v2/records/doc/changes", headers=headers)
        assert [v["meta"]["version"] for v in changes.json()["data"]] == [1, 2]
        assert_documented(spec, "get", "/v2/{resource}/{record_id}/changes", 200, changes.json())

        for resource in ("records", "signers", "circles", "policies"):
            page = await client.get(f"/v2/{resource}", params={"limit": 1}, headers=headers)
            assert page.status_code == 200, page.text
            assert len(page.json()["data"]) == 1
            assert_documented(spec, "get", "/v2/{resource}", 200, page.json())

    async def test_a_record_without_a_handle_matches(
        self, client: httpx.AsyncClient, keys: Keys, spec: dict[str, Any]
    ) -> None:
        owner = await make_signer(client, keys.test_headers, "owner")
        record = await created(client, keys.test_headers, "records", {"n": [1, {"x": None}]}, owner)
        assert_documented(spec, "post", "/v2/{resource}", 201, record)

    async def test_a_wrong_body_is_caught(self, spec: dict[str, Any]) -> None:
        # The check can fail: an envelope whose meta lacks its proofs does not pass.
        wrong = {"luid": "$rec.x", "hash": "0" * 64, "data": {}, "meta": {"status": "created"}}
        with pytest.raises(jsonschema.ValidationError):
            assert_documented(spec, "get", "/v2/{resource}/{record_id}", 200, wrong)
