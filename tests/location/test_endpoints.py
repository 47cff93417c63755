"""``/verify/v0/…`` over HTTP: the Astral surface end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak
from fastapi import FastAPI
from sqlalchemy import select

from tests.fixtures.tenancy import Keys, make_keys
from tests.location.factories import (
    ASTRAL_FIXTURES,
    fixture_proof,
    load_fixture,
    make_claim,
    make_stamp,
)
from vouch_server.app import create_app
from vouch_server.location import attestation as eas
from vouch_server.location import canonical
from vouch_server.models.location import LocationAttester

PROBLEM = "application/problem+json"
EAS_CONTRACT = "0x4200000000000000000000000000000000000021"


def client_for(app: FastAPI, *, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="https://vouch.test")


def assert_problem(
    response: httpx.Response, status: int, name: str, instance: str | None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["type"] == f"https://astral.global/errors/{name}"
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    if instance is not None:
        assert body["instance"] == instance
    else:
        assert body["instance"].startswith("urn:vouch:request:req_")
    return body  # type: ignore[no-any-return]


# -- a JSON-RPC stand-in for an EAS chain, on loopback -------------------------------------------
class RpcStandIn:
    def __init__(self, chain_id: int, nonce: int) -> None:
        self.chain_id = chain_id
        self.nonce = nonce
        self.calls: list[dict[str, Any]] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stand_in.calls.append(request)
                if request["method"] == "eth_chainId":
                    result: Any = hex(stand_in.chain_id)
                elif request["method"] == "eth_call":
                    result = "0x" + stand_in.nonce.to_bytes(32, "big").hex()
                else:
                    result = None
                body = json.dumps(
                    {"jsonrpc": "2.0", "id": request["id"], "result": result}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> RpcStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def rpc() -> Iterator[RpcStandIn]:
    with RpcStandIn(chain_id=84532, nonce=5) as stand_in:
        yield stand_in


@pytest.fixture
async def rpc_app(settings_factory: Any, rpc: RpcStandIn) -> AsyncIterator[FastAPI]:
    app = create_app(settings_factory(eas_rpc_url=rpc.url))
    async with app.router.lifespan_context(app):
        await app.state.vouch.limiter.reset()
        yield app


# -- POST /verify/v0/stamp -----------------------------------------------------------------------
class TestVerifyStamp:
    @pytest.mark.parametrize("name", ASTRAL_FIXTURES)
    async def test_fixture_is_valid(self, client: httpx.AsyncClient, name: str) -> None:
        response = await client.post("/verify/v0/stamp", json={"stamp": load_fixture(name)})
        assert response.status_code == 200
        body = response.json()
        assert {
            k: body[k] for k in ("valid", "signaturesValid", "structureValid", "signalsConsistent")
        } == {
            "valid": True,
            "signaturesValid": True,
            "structureValid": True,
            "signalsConsistent": True,
        }
        assert isinstance(body["details"], dict)

    async def test_fixture_sent_byte_for_byte_is_valid(self, client: httpx.AsyncClient) -> None:
        from tests.location.factories import FIXTURES

        raw = b'{"stamp": ' + (FIXTURES / "wifi-mls.json").read_bytes() + b"}"
        response = await client.post(
            "/verify/v0/stamp", content=raw, headers={"Content-Type": "application/json"}
        )
        assert response.json()["valid"] is True

    async def test_tampered_stamp_is_invalid(self, client: httpx.AsyncClient) -> None:
        stamp = load_fixture("gpsd")
        stamp["signals"]["mode"] = 2
        body = (await client.post("/verify/v0/stamp", json={"stamp": stamp})).json()
        assert body["valid"] is False
        assert body["signaturesValid"] is False
        assert body["structureValid"] is True

    async def test_unknown_plugin_is_not_implemented(self, client: httpx.AsyncClient) -> None:
        stamp = make_stamp("galileo-osnma")
        response = await client.post("/verify/v0/stamp", json={"stamp": stamp})
        body = assert_problem(response, 501, "not-implemented", "/verify/v0/stamp")
        assert "galileo-osnma" in body["detail"]

    async def test_stamp_without_signatures_fails_validation(
        self, client: httpx.AsyncClient
    ) -> None:
        stamp = load_fixture("gpsd")
        stamp["signatures"] = []
        response = await client.post("/verify/v0/stamp", json={"stamp": stamp})
        body = assert_problem(response, 400, "validation", "/verify/v0/stamp")
        assert body["errors"][0]["field"] == "stamp.signatures"

    async def test_missing_stamp_is_invalid_input(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/verify/v0/stamp", json={"proof": {}})
        assert_problem(response, 400, "invalid-input", "/verify/v0/stamp")


# -- POST /verify/v0/proof -----------------------------------------------------------------------
class TestVerifyProof:
    async def test_public_call_returns_the_vector_without_token_or_attestation(
        self, client: httpx.AsyncClient
    ) -> None:
        proof = fixture_proof()
        response = await client.post("/verify/v0/proof", json={"proof": proof})
        assert response.status_code == 200
        body = response.json()
        assert body["proof"] == proof
        assert body["evaluationMethod"] == "multifactor-v0"
        assert isinstance(body["evaluatedAt"], int)
        assert body["chainId"] is None
        assert body["credibility"]["meta"]["evaluationMode"] == "local"
        assert body["credibility"]["meta"]["stampCount"] == 4
        assert body["credibility"]["dimensions"]["validity"]["signaturesValidFraction"] == 1
        for absent in ("attestation", "delegatedAttestation", "vouchProof"):
            assert absent not in body

    async def test_keyed_call_mints_a_location_proof_token(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await client.post(
            "/verify/v0/proof", json={"proof": fixture_proof()}, headers={"X-API-Key": keys.test}
        )
        body = response.json()
        minted = body["vouchProof"]
        claims = jwt.decode(minted["token"], options={"verify_signature": False})
        assert claims["type"] == "location"
        assert claims["sub"] == minted["id"]
        assert claims["credibility"] == body["credibility"]["dimensions"]
        assert claims["stamp_count"] == 4
        assert claims["proof_hash"] == eas.proof_hash(body["proof"])
        assert claims["subject"] == fixture_proof()["claim"]["subject"]

        validated = await client.post(
            "/api/v1/proofs/validate",
            json={"proof_token": minted["token"]},
            headers=keys.test_headers,
        )
        assert validated.json()["valid"] is True
        assert validated.json()["proof"]["type"] == "location"

        revoked = await client.post(
            f"/api/v1/proofs/{minted['id']}/revoke", headers=keys.test_headers
        )
        assert revoked.status_code == 200
        validated = await client.post(
            "/api/v1/proofs/validate",
            json={"proof_token": minted["token"]},
            headers=keys.test_headers,
        )
        assert validated.json()["reason"] == "revoked"

    async def test_bearer_key_is_accepted(self, client: httpx.AsyncClient, keys: Keys) -> None:
        response = await client.post(
            "/verify/v0/proof", json={"proof": fixture_proof()}, headers=keys.live_headers
        )
        assert "vouchProof" in response.json()

    async def test_invalid_key_is_unauthorized_not_public(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/verify/v0/proof",
            json={"proof": fixture_proof()},
            headers={"X-API-Key": "pk_test_" + "x" * 32},
        )
        assert_problem(response, 401, "unauthorized", "/verify/v0/proof")

    async def test_malformed_authorization_is_unauthorized(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/verify/v0/proof",
            json={"proof": fixture_proof()},
            headers={"Authorization": "Basic eDp5"},
        )
        assert_problem(response, 401, "unauthorized", "/verify/v0/proof")

    async def test_chain_id_without_rpc_signs_offchain_and_says_why_there_is_no_delegation(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(
            "/verify/v0/proof", json={"proof": fixture_proof(), "options": {"chainId": 84532}}
        )
        body = response.json()
        assert body["chainId"] == 84532
        assert "delegatedAttestation" not in body
        assert any("VOUCH_EAS_RPC_URL" in w for w in body["warnings"])
        attestation = body["attestation"]
        assert attestation["schema"] == eas.schema_uid()
        assert attestation["revocable"] is True and attestation["expirationTime"] == 0
        assert attestation["time"] == body["evaluatedAt"]
        # The off-chain attestation verifies as the EAS SDK verifies it.
        sig = body["offchainAttestation"]["sig"]
        assert eas.offchain_uid(sig["message"]) == sig["uid"] == attestation["uid"]
        typed = {
            "types": {"EIP712Domain": eas.DOMAIN_TYPE, **sig["types"]},
            "primaryType": sig["primaryType"],
            "domain": sig["domain"],
            "message": sig["message"],
        }
        signature = bytes.fromhex(sig["signature"]["r"][2:] + sig["signature"]["s"][2:]) + bytes(
            [sig["signature"]["v"]]
        )
        recovered = Account.recover_message(
            encode_typed_data(full_message=typed), signature=signature
        )
        assert recovered == attestation["attester"] == body["offchainAttestation"]["signer"]
        assert sig["domain"]["verifyingContract"] == EAS_CONTRACT

    async def test_attestation_data_decodes_to_the_vector_and_hashes_the_proof(
        self, client: httpx.AsyncClient
    ) -> None:
        proof = fixture_proof()
        proof["stamps"][1]["signals"]["platform"] = "darwin"  # one stamp now fails two checks
        body = (
            await client.post("/verify/v0/proof", json={"proof": proof, "options": {"chainId": 1}})
        ).json()
        decoded = eas.decode_data(bytes.fromhex(body["attestation"]["data"][2:]))
        dims = body["credibility"]["dimensions"]
        assert decoded == {
            "proofHash": "0x" + keccak(canonical.stringify(body["proof"]).encode()).hex(),
            "meanDistanceMeters": dims["spatial"]["meanDistanceMeters"],
            "maxDistanceMeters": dims["spatial"]["maxDistanceMeters"],
            "withinRadiusBp": 10000,
            "meanOverlapBp": 10000,
            "minOverlapBp": 10000,
            "signaturesValidBp": 7500,
            "structureValidBp": 10000,
            "signalsConsistentBp": 7500,
            "uniquePluginRatioBp": 10000,
            "stampCount": 4,
        }
        assert body["attestationData"] == decoded

    async def test_delegated_attestation_recovers_to_the_attester(
        self, rpc_app: FastAPI, rpc: RpcStandIn
    ) -> None:
        async with client_for(rpc_app) as c:
            response = await c.post(
                "/verify/v0/proof",
                json={
                    "proof": fixture_proof(),
                    "options": {"chainId": 84532, "submitOnchain": False},
                },
            )
        body = response.json()
        assert "warnings" not in body
        delegated, attestation = body["delegatedAttestation"], body["attestation"]
        assert delegated["nonce"] == 5
        assert delegated["deadline"] == body["evaluatedAt"] + 3600
        assert delegated["attester"] == attestation["attester"]
        typed = eas.delegated_typed_data(
            chain_id=84532,
            contract=EAS_CONTRACT,
            version="1.2.0",
            schema=attestation["schema"],
            recipient=attestation["recipient"],
            data=bytes.fromhex(attestation["data"][2:]),
            nonce=delegated["nonce"],
            deadline=delegated["deadline"],
        )
        recovered = Account.recover_message(
            encode_typed_data(full_message=typed), signature=delegated["signature"]
        )
        assert recovered == delegated["attester"]
        decoded = eas.decode_data(bytes.fromhex(attestation["data"][2:]))
        assert decoded["withinRadiusBp"] == 10000 and decoded["stampCount"] == 4
        # The nonce was read from the EAS contract for this attester.
        call = next(c for c in rpc.calls if c["method"] == "eth_call")
        assert call["params"][0]["to"] == EAS_CONTRACT
        selector = keccak(text="getNonce(address)")[:4].hex()
        assert (
            call["params"][0]["data"]
            == "0x" + selector + "00" * 12 + delegated["attester"][2:].lower()
        )

    async def test_rpc_of_another_chain_gives_no_delegation(
        self, rpc_app: FastAPI, rpc: RpcStandIn
    ) -> None:
        async with client_for(rpc_app) as c:
            body = (
                await c.post(
                    "/verify/v0/proof", json={"proof": fixture_proof(), "options": {"chainId": 10}}
                )
            ).json()
        assert "delegatedAttestation" not in body
        assert any("serves chain 84532" in w for w in body["warnings"])

    async def test_schema_recipient_and_submit_onchain_options(
        self, client: httpx.AsyncClient
    ) -> None:
        schema = "0x" + "c" * 64
        recipient = "0x000000000000000000000000000000000000dEaD"
        body = (
            await client.post(
                "/verify/v0/proof",
                json={
                    "proof": fixture_proof(),
                    "options": {
                        "chainId": 84532,
                        "schema": schema,
                        "recipient": recipient,
                        "submitOnchain": True,
                    },
                },
            )
        ).json()
        assert body["attestation"]["schema"] == schema
        assert body["attestation"]["recipient"] == recipient
        assert any("does not submit" in w for w in body["warnings"])

    async def test_attester_key_is_generated_once_and_stored_sealed(
        self, client: httpx.AsyncClient, runtime: Any, settings: Any
    ) -> None:
        options = {"chainId": 84532}
        first = (
            await client.post(
                "/verify/v0/proof", json={"proof": fixture_proof(), "options": options}
            )
        ).json()
        second = (
            await client.post(
                "/verify/v0/proof", json={"proof": fixture_proof(), "options": options}
            )
        ).json()
        address = first["attestation"]["attester"]
        assert second["attestation"]["attester"] == address
        async with runtime.db.session() as session:
            rows = (await session.scalars(select(LocationAttester))).all()
        assert [r.address for r in rows] == [address]
        assert rows[0].private_key_sealed.startswith("v1.")
        # Another process on the same database signs as the same attester.
        other = create_app(settings)
        async with other.router.lifespan_context(other), client_for(other) as c:
            third = (
                await c.post(
                    "/verify/v0/proof", json={"proof": fixture_proof(), "options": options}
                )
            ).json()
        assert third["attestation"]["attester"] == address

    async def test_proof_is_echoed_and_hashed_as_sent(self, client: httpx.AsyncClient) -> None:
        proof = fixture_proof()
        proof["claim"] = dict(reversed(list(proof["claim"].items())))  # an unusual key order
        body = (
            await client.post("/verify/v0/proof", json={"proof": proof, "options": {"chainId": 1}})
        ).json()
        assert list(body["proof"]["claim"]) == list(proof["claim"])
        decoded = eas.decode_data(bytes.fromhex(body["attestation"]["data"][2:]))
        assert decoded["proofHash"] == "0x" + keccak(canonical.stringify(proof).encode()).hex()

    async def test_hashed_proof_is_echoed_as_the_text_that_was_hashed(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        # 5.0 is sent as Python writes it; JSON.stringify, which proofHash is taken over, writes 5.
        stamp = make_stamp(signals={"source": "gpsd", "accuracyMeters": 5.0, "mode": 3})
        proof = {"claim": make_claim(), "stamps": [stamp]}
        response = await client.post(
            "/verify/v0/proof", json={"proof": proof}, headers={"X-API-Key": keys.test}
        )
        assert response.status_code == 200, response.text
        text = response.text
        assert text.startswith('{"proof":')
        _, end = json.JSONDecoder().raw_decode(text, len('{"proof":'))
        echoed = text[len('{"proof":') : end]
        assert '"accuracyMeters":5,' in echoed
        claims = jwt.decode(
            response.json()["vouchProof"]["token"], options={"verify_signature": False}
        )
        assert claims["proof_hash"] == "0x" + keccak(echoed.encode()).hex()
        assert (
            response.json()["credibility"]["dimensions"]["validity"]["signaturesValidFraction"] == 1
        )

    async def test_number_beyond_double_range_is_echoed_as_json_stringify_writes_it(
        self, client: httpx.AsyncClient
    ) -> None:
        # 1e999 reads as Infinity, which JSON.stringify (so the signer) writes as null.
        stamp = make_stamp(
            signals={"source": "gpsd", "accuracyMeters": 5, "mode": 3, "raw": float("inf")}
        )
        content = json.dumps({"proof": {"claim": make_claim(), "stamps": [stamp]}})
        assert content.count("Infinity") == 1
        response = await client.post(
            "/verify/v0/proof",
            content=content.replace("Infinity", "1e999"),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["proof"]["stamps"][0]["signals"]["raw"] is None
        assert body["credibility"]["dimensions"]["validity"]["signaturesValidFraction"] == 1

    async def test_infinite_accuracy_is_answered_with_null_not_a_500(
        self, client: httpx.AsyncClient
    ) -> None:
        # Infinity is a positive number to Astral's check as to ours; its details hold it.
        stamp = make_stamp(signals={"source": "gpsd", "accuracyMeters": float("inf"), "mode": 3})
        content = json.dumps({"proof": {"claim": make_claim(), "stamps": [stamp]}})
        response = await client.post(
            "/verify/v0/proof",
            content=content.replace("Infinity", "1e999"),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text
        result = response.json()["credibility"]["stampResults"][0]
        assert result["signaturesValid"] is True
        assert result["details"]["evaluation"]["stampAccuracy"] is None


# -- GET /verify/v0/plugins ----------------------------------------------------------------------
class TestPlugins:
    async def test_lists_the_plugins(self, client: httpx.AsyncClient) -> None:
        body = (await client.get("/verify/v0/plugins")).json()
        names = [p["name"] for p in body["plugins"]]
        assert set(names) == {
            "gpsd",
            "geoclue",
            "wifi-mls",
            "ip-geolocation",
            "witnesschain",
            "proofmode",
        }
        for plugin in body["plugins"]:
            assert set(plugin) == {"name", "version", "environments", "description"}


# -- problem details -----------------------------------------------------------------------------
class TestBadInput:
    async def post_proof(self, client: httpx.AsyncClient, proof: Any) -> httpx.Response:
        return await client.post("/verify/v0/proof", json={"proof": proof})

    async def test_missing_radius_is_validation(self, client: httpx.AsyncClient) -> None:
        proof = fixture_proof()
        del proof["claim"]["radius"]
        body = assert_problem(
            await self.post_proof(client, proof), 400, "validation", "/verify/v0/proof"
        )
        assert body["errors"] == [
            {"field": "proof.claim.radius", "message": "Field required", "code": "missing"}
        ]

    @pytest.mark.parametrize("radius", [0, -5, "100", True])
    async def test_radius_must_be_a_positive_number(
        self, client: httpx.AsyncClient, radius: Any
    ) -> None:
        proof = fixture_proof()
        proof["claim"]["radius"] = radius
        assert_problem(await self.post_proof(client, proof), 400, "validation", "/verify/v0/proof")

    async def test_end_before_start_is_validation(self, client: httpx.AsyncClient) -> None:
        proof = fixture_proof()
        proof["claim"]["time"] = {"start": 4102444900, "end": 4102444800}
        body = assert_problem(
            await self.post_proof(client, proof), 400, "validation", "/verify/v0/proof"
        )
        assert body["errors"][0]["field"] == "proof.claim.time"

    async def test_stamp_footprint_end_before_start_is_validation(
        self, client: httpx.AsyncClient
    ) -> None:
        proof = fixture_proof()
        proof["stamps"][2]["temporalFootprint"]["end"] = 1
        body = assert_problem(
            await self.post_proof(client, proof), 400, "validation", "/verify/v0/proof"
        )
        assert body["errors"][0]["field"] == "proof.stamps[2].temporalFootprint"

    @pytest.mark.parametrize(
        ("coordinates", "message"),
        [
            ([-73.9857, 91], "latitude"),
            ([181, 40.7], "longitude"),
            ([1], "position"),
            (["1", 2], "number"),
        ],
    )
    async def test_out_of_range_coordinates_are_validation(
        self, client: httpx.AsyncClient, coordinates: list[Any], message: str
    ) -> None:
        proof = fixture_proof()
        proof["claim"]["location"] = {"type": "Point", "coordinates": coordinates}
        body = assert_problem(
            await self.post_proof(client, proof), 400, "validation", "/verify/v0/proof"
        )
        assert body["errors"][0]["field"] == "proof.claim.location.coordinates"
        assert message in body["errors"][0]["message"]

    async def test_polygon_coordinates_are_checked_too(self, client: httpx.AsyncClient) -> None:
        proof = fixture_proof()
        proof["claim"]["location"] = {
            "type": "Polygon",
            "coordinates": [[[0, 0], [1, 0], [1, 95], [0, 0]]],
        }
        assert_problem(await self.post_proof(client, proof), 400, "validation", "/verify/v0/proof")

    async def test_open_polygon_ring_is_validation(self, client: httpx.AsyncClient) -> None:
        proof = fixture_proof()
        proof["claim"]["location"] = {
            "type": "Polygon",
            "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]],
        }
        assert_problem(await self.post_proof(client, proof), 400, "validation", "/verify/v0/proof")

    async def test_unknown_geometry_type_is_validation(self, client: httpx.AsyncClient) -> None:
        proof = fixture_proof()
        proof["claim"]["location"] = {"type": "Circle", "coordinates": [0, 0]}
        assert_problem(await self.post_proof(client, proof), 400, "validation", "/verify/v0/proof")

    @pytest.mark.parametrize(
        ("field", "value"),
        [("lpVersion", "0.1"), ("srs", "not a uri"), ("subject", {"scheme": "", "value": "x"})],
    )
    async def test_claim_fields_follow_the_types(
        self, client: httpx.AsyncClient, field: str, value: Any
    ) -> None:
        proof = fixture_proof()
        proof["claim"][field] = value
        assert_problem(await self.post_proof(client, proof), 400, "validation", "/verify/v0/proof")

    async def test_no_stamps_is_validation(self, client: httpx.AsyncClient) -> None:
        proof = fixture_proof()
        proof["stamps"] = []
        assert_problem(await self.post_proof(client, proof), 400, "validation", "/verify/v0/proof")

    async def test_non_hex_signature_is_validation(self, client: httpx.AsyncClient) -> None:
        proof = fixture_proof()
        proof["stamps"][0]["signatures"][0]["value"] = "not-hex"
        assert_problem(await self.post_proof(client, proof), 400, "validation", "/verify/v0/proof")

    async def test_bad_options_are_validation(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/verify/v0/proof", json={"proof": fixture_proof(), "options": {"chainId": -1}}
        )
        assert_problem(response, 400, "validation", "/verify/v0/proof")

    async def test_unknown_plugin_is_not_implemented(self, client: httpx.AsyncClient) -> None:
        proof = fixture_proof()
        proof["stamps"].append(make_stamp("galileo-osnma"))
        body = assert_problem(
            await self.post_proof(client, proof), 501, "not-implemented", "/verify/v0/proof"
        )
        assert body["detail"] == "Plugin 'galileo-osnma' is not yet implemented"

    @pytest.mark.parametrize(
        "body",
        [
            b"{not json",
            b"[1, 2]",
            b'{"proof": []}',
            b'{"proof": {"stamps": []}}',
            b'{"proof": {"claim": {}, "stamps": {}}}',
            b'{"x": NaN}',
        ],
    )
    async def test_malformed_request_is_invalid_input(
        self, client: httpx.AsyncClient, body: bytes
    ) -> None:
        response = await client.post(
            "/verify/v0/proof", content=body, headers={"Content-Type": "application/json"}
        )
        assert_problem(response, 400, "invalid-input", "/verify/v0/proof")

    async def test_two_megabyte_body_is_413(self, client: httpx.AsyncClient) -> None:
        proof = fixture_proof()
        proof["stamps"][0]["signals"]["padding"] = "a" * (2 * 1024 * 1024)
        response = await self.post_proof(client, proof)
        body = assert_problem(response, 413, "payload-too-large", None)
        assert "1048576" in body["detail"]

    async def test_two_megabyte_streamed_body_is_413(self, client: httpx.AsyncClient) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"proof": {"claim": {}, "stamps": [], "x": "'
            for _ in range(2 * 1024):
                yield b"a" * 1024
            yield b'"}}'

        response = await client.post(
            "/verify/v0/proof", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert_problem(response, 413, "payload-too-large", None)

    async def test_body_under_one_megabyte_is_accepted_with_a_key(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        proof = fixture_proof()
        stamp = copy.deepcopy(proof["stamps"][0])
        stamp["signals"]["padding"] = "a" * 1_000_000  # the signature no longer matches: fine
        proof["stamps"][0] = stamp
        anonymous = await self.post_proof(client, proof)
        body = assert_problem(anonymous, 413, "payload-too-large", None)
        assert "10240" in body["detail"]  # the public tier keeps the threat model's 10 KB
        response = await client.post(
            "/verify/v0/proof", json={"proof": proof}, headers=keys.test_headers
        )
        assert response.status_code == 200
        assert (
            response.json()["credibility"]["dimensions"]["validity"]["signaturesValidFraction"]
            == 0.75
        )


class TestSharedErrorsAsProblems:
    async def test_unknown_path_is_404_problem(self, client: httpx.AsyncClient) -> None:
        assert_problem(await client.get("/verify/v0/nothing"), 404, "not-found", None)

    async def test_wrong_method_is_405_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/verify/v0/proof")
        assert_problem(response, 405, "method-not-allowed", None)
        assert "POST" in response.headers["allow"]

    async def test_other_surfaces_keep_their_envelope(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/nothing-here")
        assert response.json()["error"]["code"] == "not_found"

    async def test_unexpected_error_is_500_internal_without_internals(self, settings: Any) -> None:
        app = create_app(settings)

        @app.get("/verify/v0/boom")
        async def boom() -> None:
            raise RuntimeError("secret internals")

        async with (
            app.router.lifespan_context(app),
            client_for(app, raise_app_exceptions=False) as c,
        ):
            response = await c.get("/verify/v0/boom")
        body = assert_problem(response, 500, "internal", None)
        assert "secret" not in response.text
        assert body["detail"] == "An unexpected error occurred"


class TestRateLimits:
    async def test_public_tier_is_limited_per_ip_and_keys_are_not(
        self, settings_factory: Any
    ) -> None:
        app = create_app(
            settings_factory(
                location_rate_limit_public="2/minute", location_rate_limit_api="5/minute"
            )
        )
        async with app.router.lifespan_context(app):
            await app.state.vouch.limiter.reset()
            keys = await make_keys(app.state.vouch)
            async with client_for(app) as c:
                codes = [(await c.get("/verify/v0/plugins")).status_code for _ in range(3)]
                limited = await c.get("/verify/v0/plugins")
                keyed = await c.get("/verify/v0/plugins", headers={"X-API-Key": keys.test})
        assert codes == [200, 200, 429]
        body = assert_problem(limited, 429, "rate-limited", "/verify/v0/plugins")
        assert int(limited.headers["retry-after"]) >= 1
        assert body["retryAfter"] >= 1
        assert keyed.status_code == 200
        assert keyed.headers["x-ratelimit-limit"] == "5"

    async def test_keyed_tier_is_limited_per_key(self, settings_factory: Any) -> None:
        app = create_app(settings_factory(location_rate_limit_api="2/minute"))
        async with app.router.lifespan_context(app):
            await app.state.vouch.limiter.reset()
            keys = await make_keys(app.state.vouch)
            async with client_for(app) as c:
                codes = [
                    (
                        await c.get("/verify/v0/plugins", headers={"X-API-Key": keys.test})
                    ).status_code
                    for _ in range(3)
                ]
                other = await c.get("/verify/v0/plugins", headers={"X-API-Key": keys.live})
        assert codes == [200, 200, 429]
        assert other.status_code == 200


def test_claim_factory_is_valid_geojson() -> None:
    assert make_claim()["location"]["type"] == "Point"


class TestLimits:
    # Bodies this large need a key: anonymous callers keep the 10 KB limit (threat model §9).
    async def test_too_many_signatures_is_validation(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        stamp = load_fixture("gpsd")
        stamp["signatures"] = stamp["signatures"] * 8
        proof = {"claim": make_claim(), "stamps": [copy.deepcopy(stamp) for _ in range(13)]}
        response = await client.post(
            "/verify/v0/proof", json={"proof": proof}, headers=keys.test_headers
        )
        body = assert_problem(response, 400, "validation", "/verify/v0/proof")
        assert "at most 100 signatures" in body["detail"]

    async def test_too_many_stamps_is_validation(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        proof = {"claim": make_claim(), "stamps": [load_fixture("gpsd")] * 51}
        response = await client.post(
            "/verify/v0/proof", json={"proof": proof}, headers=keys.test_headers
        )
        assert_problem(response, 400, "validation", "/verify/v0/proof")
