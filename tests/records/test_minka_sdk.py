"""Minka's own client library (``@minka/ledger-sdk``, run in Node.js) against vouch's records:
proofs signed with and without ``custom`` are judged exactly as Minka's ``createSignatureDigest``
and ``verifySignature`` judge them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.tenancy import Keys
from tests.records.factories import created, fetch, make_signer
from tests.records.test_records_api import minka_error
from vouch_client.records import KeyPair, proof_digest, record_hash, verify_proof
from vouch_server.records import canonical

NODE = shutil.which("node")
INTEROP = Path(__file__).parent / "interop"
SDK = INTEROP / "node_modules" / "@minka" / "ledger-sdk"
pytestmark = pytest.mark.skipif(
    NODE is None or not SDK.exists(),
    reason="Node.js or @minka/ledger-sdk is not installed (make install runs npm ci)",
)


def minka(job: dict[str, Any]) -> dict[str, Any]:
    result = subprocess.run(
        [NODE or "node", str(INTEROP / "minka.mjs")],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def sdk_sign(hash_: str, keys: KeyPair, *custom: dict[str, Any] | None) -> dict[str, Any]:
    """``signHash(hash, keyPair)`` with no custom argument at all, or with the one given."""
    job: dict[str, Any] = {"op": "sign", "hash": hash_, "keyPair": keys.__dict__}
    if custom:
        job["custom"] = custom[0]
    return minka(job)["proof"]  # type: ignore[no-any-return]


HASH = "ab" * 32
SHAPES = {"absent": (), "null": (None,), "empty": ({},), "present": ({"status": "approved"},)}


class TestDigestRule:
    @pytest.mark.parametrize("shape", SHAPES)
    def test_server_and_client_compute_the_sdks_digest(self, shape: str) -> None:
        keys = KeyPair.generate()
        proof = sdk_sign(HASH, keys, *SHAPES[shape])
        custom = proof.get("custom")
        assert canonical.proof_digest(HASH, custom) == proof["digest"]
        assert proof_digest(HASH, custom) == proof["digest"]
        verify_proof(proof, HASH)

    def test_no_custom_signs_the_hash_alone_and_empty_custom_appends_braces(self) -> None:
        keys = KeyPair.generate()
        bare, empty = sdk_sign(HASH, keys), sdk_sign(HASH, keys, {})
        assert "custom" not in bare and empty["custom"] == {}
        assert bare["digest"] == canonical.sha256_hex(HASH)
        assert empty["digest"] == canonical.sha256_hex(HASH + "{}")

    def test_sdk_verifies_what_the_python_client_signs_without_custom(self) -> None:
        from vouch_client.records import sign_proof

        proof = sign_proof(KeyPair.generate(), HASH)
        assert "custom" not in proof
        assert minka({"op": "verify", "hash": HASH, "proof": proof})["valid"] is True


class TestOverHttp:
    @pytest.mark.parametrize("shape", SHAPES)
    async def test_record_created_with_an_sdk_proof_of_every_shape(
        self, client: httpx.AsyncClient, keys: Keys, shape: str
    ) -> None:
        h = keys.test_headers
        signer = KeyPair(**minka({"op": "keygen"})["keyPair"])
        await make_signer(client, h, f"sdk-{shape}", signer)
        data = {"handle": f"payout-{shape}", "amount": "10.00"}
        hash_ = minka({"op": "hash", "data": data})["hash"]
        assert hash_ == record_hash(data)
        proof = sdk_sign(hash_, signer, *SHAPES[shape])

        record = await _create(client, h, data, hash_, proof)

        stored = (await fetch(client, h, "records", record["luid"]))["meta"]["proofs"]
        mine = [p for p in stored if p["public"] == signer.public]
        assert mine == [proof]
        for each in stored:
            assert minka({"op": "verify", "hash": hash_, "proof": each})["valid"] is True

    async def test_proof_without_custom_over_the_braces_digest_is_refused(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        h = keys.test_headers
        signer = await make_signer(client, h, "braces")
        data = {"handle": "payout-braces"}
        proof = sdk_sign(record_hash(data), signer, {})
        del proof["custom"]  # the signature covers hash + "{}", the proof now claims hash alone
        response = await client.post(
            "/v2/records",
            json={"hash": record_hash(data), "data": data, "meta": {"proofs": [proof]}},
            headers=h,
        )
        error = minka_error(response, 400, "crypto.signature-invalid")
        assert error["detail"]
        listing = await client.get(
            "/v2/records", params={"data.handle": "payout-braces"}, headers=h
        )
        assert listing.json()["data"] == []

    @pytest.mark.parametrize("custom", [[], "status", 7, True])
    async def test_custom_that_is_not_an_object_is_malformed(
        self, client: httpx.AsyncClient, keys: Keys, custom: Any
    ) -> None:
        h = keys.test_headers
        signer = await make_signer(client, h, "shapes")
        data = {"handle": "payout-shape"}
        proof = {**sdk_sign(record_hash(data), signer), "custom": custom}
        response = await client.post(
            "/v2/records",
            json={"hash": record_hash(data), "data": data, "meta": {"proofs": [proof]}},
            headers=h,
        )
        minka_error(response, 400, "api.body-malformed")

    async def test_sdk_proof_without_custom_added_to_an_existing_record(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        h = keys.test_headers
        owner = await make_signer(client, h, "adder")
        record = await created(client, h, "records", {"handle": "doc-1"}, owner)
        proof = sdk_sign(record["hash"], owner)
        response = await client.post(f"/v2/records/{record['luid']}/proofs", json=proof, headers=h)
        assert response.status_code in (200, 201), response.text
        stored = (await fetch(client, h, "records", record["luid"]))["meta"]["proofs"]
        assert proof in stored


async def _create(
    client: httpx.AsyncClient, h: dict[str, str], data: dict[str, Any], hash_: str, proof: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v2/records", json={"hash": hash_, "data": data, "meta": {"proofs": [proof]}}, headers=h
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]
