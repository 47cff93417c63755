"""The server's Minka hash, digest and proof verification, against Minka's own vectors."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.records.factories import vectors
from vouch_server.records.canonical import (
    UnsafeValue,
    check_json_safe,
    proof_digest,
    record_hash,
    stable_stringify,
)
from vouch_server.records.signatures import ProofInput, ProofRejected, sign_proof, verify_proof

RECORDS = vectors()["records"]
PROOFS = [(r, p) for r in RECORDS for p in r["proofs"]]


def as_input(proof: dict[str, Any]) -> ProofInput:
    return ProofInput(
        proof["method"], proof["public"], proof["digest"], proof["result"], proof["custom"]
    )


class TestMinkaVectors:
    def test_vectors_file_is_the_shared_reference_copy(self) -> None:
        assert {r["name"] for r in RECORDS} == {"access policy", "signer"}
        assert sum(len(r["proofs"]) for r in RECORDS) == 3

    @pytest.mark.parametrize("record", RECORDS, ids=lambda r: r["name"])
    def test_record_hash_is_the_vector_hash(self, record: dict[str, Any]) -> None:
        assert record_hash(record["data"]) == record["hash"]

    @pytest.mark.parametrize(("record", "proof"), PROOFS, ids=lambda v: v.get("name", ""))
    def test_proof_digest_is_the_vector_digest(
        self, record: dict[str, Any], proof: dict[str, Any]
    ) -> None:
        assert proof_digest(record["hash"], proof["custom"]) == proof["digest"]

    @pytest.mark.parametrize(("record", "proof"), PROOFS, ids=lambda v: v.get("name", ""))
    def test_vector_signature_verifies(self, record: dict[str, Any], proof: dict[str, Any]) -> None:
        verify_proof(as_input(proof), record["hash"])

    def test_vector_proof_does_not_verify_over_the_other_records_hash(self) -> None:
        policy, signer = RECORDS
        with pytest.raises(ProofRejected, match="digest"):
            verify_proof(as_input(signer["proofs"][0]), policy["hash"])

    def test_vector_proof_with_altered_custom_is_rejected(self) -> None:
        record = RECORDS[1]
        proof = {**record["proofs"][0], "custom": {"status": "blocked"}}
        with pytest.raises(ProofRejected):
            verify_proof(as_input(proof), record["hash"])


class TestStableStringify:
    def test_sorts_keys_recursively_without_whitespace(self) -> None:
        value = {"b": [{"z": 1, "a": None}], "a": {"d": True, "c": "x"}}
        assert stable_stringify(value) == '{"a":{"c":"x","d":true},"b":[{"a":null,"z":1}]}'

    @pytest.mark.parametrize(
        ("number", "text"),
        [(1.0, "1"), (1e21, "1e+21"), (1e16, "10000000000000000"), (1e-7, "1e-7"), (0.1, "0.1")],
    )
    def test_writes_numbers_as_javascript_does(self, number: float, text: str) -> None:
        assert stable_stringify(number) == text

    def test_accepts_the_largest_safe_integer(self) -> None:
        assert stable_stringify({"n": 2**53 - 1}) == '{"n":9007199254740991}'

    @pytest.mark.parametrize("number", [2**53, -(2**53), 10**30])
    def test_refuses_integers_beyond_two_to_the_53_minus_one(self, number: int) -> None:
        with pytest.raises(UnsafeValue, match="2\\^53"):
            record_hash({"amount": number})

    def test_names_the_path_of_the_unsafe_value(self) -> None:
        with pytest.raises(UnsafeValue) as info:
            check_json_safe({"claims": [{"amount": 2**60}]})
        assert info.value.path == "data.claims[0].amount"

    def test_refuses_nan(self) -> None:
        with pytest.raises(UnsafeValue):
            check_json_safe({"x": float("nan")})


class TestSignProof:
    def test_signed_proof_verifies_over_its_hash(self) -> None:
        key = Ed25519PrivateKey.generate()
        proof = sign_proof(key, "ab" * 32, {"status": "approved", "moment": "2026-01-01"})
        verify_proof(proof, "ab" * 32)

    def test_proof_over_another_hash_is_rejected(self) -> None:
        proof = sign_proof(Ed25519PrivateKey.generate(), "ab" * 32, {})
        with pytest.raises(ProofRejected, match="current hash"):
            verify_proof(proof, "cd" * 32)

    def test_digest_matching_but_signature_by_another_key_is_rejected(self) -> None:
        proof = sign_proof(Ed25519PrivateKey.generate(), "ab" * 32, {})
        other = sign_proof(Ed25519PrivateKey.generate(), "ab" * 32, {})
        forged = ProofInput(proof.method, other.public, proof.digest, proof.result, proof.custom)
        with pytest.raises(ProofRejected, match="does not verify"):
            verify_proof(forged, "ab" * 32)

    def test_unknown_method_is_rejected(self) -> None:
        proof = sign_proof(Ed25519PrivateKey.generate(), "ab" * 32, {})
        other = ProofInput("ed25519", proof.public, proof.digest, proof.result, proof.custom)
        with pytest.raises(ProofRejected, match="method"):
            verify_proof(other, "ab" * 32)

    def test_malformed_public_key_is_rejected(self) -> None:
        proof = sign_proof(Ed25519PrivateKey.generate(), "ab" * 32, {})
        other = ProofInput(proof.method, "not base64!", proof.digest, proof.result, proof.custom)
        with pytest.raises(ProofRejected, match="malformed"):
            verify_proof(other, "ab" * 32)
