"""Every JSON answer of the location surface (``/verify/v0/…``), from real flows, checked
against the schema the app itself documents in ``/openapi.json``.

``tests/fixtures/openapi.py`` (a shared ``assert_documented``) did not exist when this was
written, so a small local one is used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import jsonschema
import pytest
from fastapi import FastAPI
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.fixtures.tenancy import Keys
from tests.location.factories import (
    ASTRAL_FIXTURES,
    fixture_proof,
    load_fixture,
    make_claim,
    make_stamp,
)
from tests.location.test_endpoints import RpcStandIn, client_for
from vouch_server.app import create_app

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


@pytest.fixture
def chain() -> Iterator[RpcStandIn]:
    with RpcStandIn(chain_id=84532, nonce=7) as stand_in:
        yield stand_in


@pytest.fixture
async def chain_app(settings_factory: Any, chain: RpcStandIn) -> AsyncIterator[FastAPI]:
    app = create_app(settings_factory(eas_rpc_url=chain.url))
    async with app.router.lifespan_context(app):
        await app.state.vouch.limiter.reset()
        yield app


class TestLocationAnswers:
    async def test_plugins_match(self, client: httpx.AsyncClient, spec: dict[str, Any]) -> None:
        response = await client.get("/verify/v0/plugins")
        assert response.json()["plugins"]
        assert_documented(spec, "get", "/verify/v0/plugins", 200, response.json())

    @pytest.mark.parametrize("name", ASTRAL_FIXTURES)
    async def test_stamp_checks_match(
        self, client: httpx.AsyncClient, spec: dict[str, Any], name: str
    ) -> None:
        stamp = load_fixture(name)
        valid = await client.post("/verify/v0/stamp", json={"stamp": stamp})
        assert valid.json()["valid"] is True, valid.text
        assert_documented(spec, "post", "/verify/v0/stamp", 200, valid.json())
        stamp["signals"]["accuracyMeters"] = 1
        tampered = await client.post("/verify/v0/stamp", json={"stamp": stamp})
        assert tampered.json()["valid"] is False
        assert_documented(spec, "post", "/verify/v0/stamp", 200, tampered.json())

    async def test_public_proof_matches(
        self, client: httpx.AsyncClient, spec: dict[str, Any]
    ) -> None:
        response = await client.post("/verify/v0/proof", json={"proof": fixture_proof()})
        assert response.status_code == 200, response.text
        assert "vouchProof" not in response.json()
        assert_documented(spec, "post", "/verify/v0/proof", 200, response.json())

    async def test_proof_without_distances_matches(
        self, client: httpx.AsyncClient, spec: dict[str, Any]
    ) -> None:
        # A polygon claim: no stamp has a distance (distanceMeters is null).
        ring = [[-74.0, 40.7], [-73.9, 40.7], [-73.9, 40.8], [-74.0, 40.8], [-74.0, 40.7]]
        claim = make_claim(location={"type": "Polygon", "coordinates": [ring]})
        proof = {"claim": claim, "stamps": [make_stamp("gpsd")]}
        response = await client.post("/verify/v0/proof", json={"proof": proof})
        assert response.status_code == 200, response.text
        assert response.json()["credibility"]["stampResults"][0]["distanceMeters"] is None
        assert_documented(spec, "post", "/verify/v0/proof", 200, response.json())

    async def test_keyed_proof_with_offchain_attestation_matches(
        self, client: httpx.AsyncClient, keys: Keys, spec: dict[str, Any]
    ) -> None:
        response = await client.post(
            "/verify/v0/proof",
            json={"proof": fixture_proof(), "options": {"chainId": 84532, "submitOnchain": True}},
            headers=keys.test_headers,
        )
        body = response.json()
        assert {"vouchProof", "attestation", "offchainAttestation", "warnings"} <= set(body)
        assert "delegatedAttestation" not in body
        assert_documented(spec, "post", "/verify/v0/proof", 200, body)

    async def test_delegated_attestation_matches(
        self, chain_app: FastAPI, spec: dict[str, Any]
    ) -> None:
        async with client_for(chain_app) as c:
            response = await c.post(
                "/verify/v0/proof", json={"proof": fixture_proof(), "options": {"chainId": 84532}}
            )
        body = response.json()
        assert body["delegatedAttestation"]["nonce"] == 7
        assert_documented(spec, "post", "/verify/v0/proof", 200, body)

    async def test_a_wrong_body_is_caught(self, spec: dict[str, Any]) -> None:
        # The check can fail: a vector without its dimensions does not pass.
        wrong = {"valid": True, "signaturesValid": True, "structureValid": "yes"}
        with pytest.raises(jsonschema.ValidationError):
            assert_documented(spec, "post", "/verify/v0/stamp", 200, wrong)
