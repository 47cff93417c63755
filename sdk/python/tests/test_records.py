"""``vouch_client.records``: Minka's stable stringify, hash, proof signing and record verification."""

from __future__ import annotations

import ast
import copy
import json
import pathlib
import struct
from random import Random
from typing import Any

import pytest

import vouch_client.records as records
from vouch_client.records import (
    KeyPair,
    RecordVerificationError,
    UnsafeNumber,
    proof_digest,
    record_hash,
    sign_proof,
    stable_stringify,
    verify_changes,
    verify_list,
    verify_proof,
    verify_record,
)

VECTORS = json.loads(
    (
        pathlib.Path(__file__).resolve().parents[3]
        / "tests"
        / "fixtures"
        / "minka_ledger_vectors.json"
    ).read_text()
)["records"]
PROOFS = [(r, p) for r in VECTORS for p in r["proofs"]]


class TestPublicSurface:
    def test_all_is_locked(self) -> None:
        assert records.__all__ == [
            "MAX_SAFE_INTEGER",
            "METHOD",
            "KeyPair",
            "RecordVerificationError",
            "UnsafeNumber",
            "proof_digest",
            "record_hash",
            "sha256_hex",
            "sign_proof",
            "stable_stringify",
            "verify_changes",
            "verify_list",
            "verify_proof",
            "verify_record",
        ]

    def test_does_not_import_the_server_package(self) -> None:
        tree = ast.parse(pathlib.Path(records.__file__).read_text())
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            (node.module or "").split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
        }
        assert "vouch" not in imported


class TestMinkaVectors:
    @pytest.mark.parametrize("record", VECTORS, ids=lambda r: r["name"])
    def test_hash_is_the_vector_hash(self, record: dict[str, Any]) -> None:
        assert record_hash(record["data"]) == record["hash"]

    @pytest.mark.parametrize(("record", "proof"), PROOFS)
    def test_digest_is_the_vector_digest_and_signature_verifies(
        self, record: dict[str, Any], proof: dict[str, Any]
    ) -> None:
        assert proof_digest(record["hash"], proof["custom"]) == proof["digest"]
        verify_proof(proof, record["hash"])

    @pytest.mark.parametrize("record", VECTORS, ids=lambda r: r["name"])
    def test_vector_record_verifies_as_a_whole(self, record: dict[str, Any]) -> None:
        verify_record(
            {"hash": record["hash"], "data": record["data"], "meta": {"proofs": record["proofs"]}}
        )


class TestStableStringify:
    @pytest.mark.parametrize(
        ("value", "text"),
        [
            (1.0, "1"),
            (-0.0, "0"),
            (0.1, "0.1"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1e-7, "1e-7"),
            (1.5e-6, "0.0000015"),
            (123.456, "123.456"),
            (-2.5e-10, "-2.5e-10"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (2**53 - 1, "9007199254740991"),
            (True, "true"),
            (None, "null"),
        ],
    )
    def test_writes_values_as_javascript_json_stringify(self, value: Any, text: str) -> None:
        assert stable_stringify(value) == text

    def test_sorts_keys_by_utf16_code_units(self) -> None:
        # U+1F600 is a surrogate pair (D83D…), which sorts before U+FFFF in UTF-16.
        value = {"\uffff": 1, "\U0001f600": 2, "b": 3, "a": 4, "é": 5}
        assert stable_stringify(value) == '{"a":4,"b":3,"é":5,"\U0001f600":2,"\uffff":1}'

    def test_escapes_strings_as_json_stringify(self) -> None:
        assert stable_stringify('q"\\\n\x01\u2028') == '"q\\"\\\\\\n\\u0001\u2028"'

    @pytest.mark.parametrize("value", [2**53, -(2**53), float("nan"), float("inf")])
    def test_refuses_numbers_json_cannot_carry_exactly(self, value: Any) -> None:
        with pytest.raises(UnsafeNumber):
            stable_stringify({"n": value})

    def test_agrees_with_rfc8785_on_random_doubles(self) -> None:
        rfc8785 = pytest.importorskip("rfc8785")
        rng = Random(8785)
        for _ in range(5000):
            (value,) = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))
            if value != value or value in (float("inf"), float("-inf")):
                continue
            assert stable_stringify(value) == rfc8785.dumps(value).decode()


class TestKeyPairAndSigning:
    def test_from_secret_restores_the_same_public_key(self) -> None:
        keys = KeyPair.generate()
        assert KeyPair.from_secret(keys.secret) == keys
        assert keys.format == "ed25519-raw"

    def test_signed_proof_has_minkas_shape_and_verifies(self) -> None:
        keys = KeyPair.generate()
        proof = sign_proof(
            keys, "ab" * 32, {"status": "approved", "moment": "2026-01-01T00:00:00.000Z"}
        )
        assert set(proof) == {"method", "public", "digest", "result", "custom"}
        assert proof["method"] == "ed25519-v2"
        assert proof["public"] == keys.public
        verify_proof(proof, "ab" * 32)

    @pytest.mark.parametrize(
        ("change", "reason"),
        [
            ({"custom": {"status": "rejected"}}, "digest-mismatch"),
            ({"method": "ed25519"}, "unsupported-method"),
            ({"public": KeyPair.generate().public}, "signature-invalid"),
            ({"result": "AAAA"}, "malformed"),
        ],
    )
    def test_altered_proof_is_rejected_with_a_reason(
        self, change: dict[str, Any], reason: str
    ) -> None:
        proof = {**sign_proof(KeyPair.generate(), "ab" * 32, {"status": "approved"}), **change}
        with pytest.raises(RecordVerificationError) as info:
            verify_proof(proof, "ab" * 32)
        assert info.value.reason == reason

    def test_proof_over_another_hash_is_rejected(self) -> None:
        proof = sign_proof(KeyPair.generate(), "ab" * 32)
        with pytest.raises(RecordVerificationError, match="does not sign"):
            verify_proof(proof, "cd" * 32)


SYSTEM = KeyPair.generate()
OWNER = KeyPair.generate()


def version(data: dict[str, Any], *signers: KeyPair) -> dict[str, Any]:
    hash_ = record_hash(data)
    proofs = [sign_proof(k, hash_, {"n": i}) for i, k in enumerate([*signers, SYSTEM])]
    return {"luid": "$rec.x", "hash": hash_, "data": data, "meta": {"proofs": proofs}}


def history(length: int = 3) -> list[dict[str, Any]]:
    out = [version({"handle": "doc", "v": 1}, OWNER)]
    for v in range(2, length + 1):
        out.append(version({"handle": "doc", "v": v, "parent": out[-1]["hash"]}, OWNER))
    return out


class TestVerifyRecord:
    def test_record_with_the_system_proof_verifies(self) -> None:
        verify_record(version({"a": 1}, OWNER), system_public=SYSTEM.public)

    def test_missing_system_proof_is_detected(self) -> None:
        record = version({"a": 1}, OWNER)
        record["meta"]["proofs"].pop()
        with pytest.raises(RecordVerificationError) as info:
            verify_record(record, system_public=SYSTEM.public)
        assert info.value.reason == "system-proof-missing"

    def test_altered_data_is_detected(self) -> None:
        record = version({"a": 1}, OWNER)
        record["data"]["a"] = 2
        with pytest.raises(RecordVerificationError) as info:
            verify_record(record)
        assert info.value.reason == "hash-mismatch"


class TestVerifyChanges:
    def test_intact_history_verifies(self) -> None:
        changes = history()
        verify_changes(
            {"data": changes}, system_public=SYSTEM.public, current_hash=changes[-1]["hash"]
        )

    def test_reordered_versions_break_the_chain(self) -> None:
        changes = history()
        changes[1], changes[2] = changes[2], changes[1]
        with pytest.raises(RecordVerificationError) as info:
            verify_changes(changes)
        assert (info.value.reason, info.value.index) == ("chain-broken", 1)

    def test_removed_middle_version_breaks_the_chain(self) -> None:
        changes = history()
        del changes[1]
        with pytest.raises(RecordVerificationError, match="previous version"):
            verify_changes(changes)

    def test_rewritten_version_resigned_by_an_attacker_breaks_the_chain(self) -> None:
        changes = history()
        forged = version(
            {"handle": "doc", "v": 99, "parent": changes[0]["hash"]}, KeyPair.generate()
        )
        forged["meta"]["proofs"] = forged["meta"]["proofs"][:1]  # no system key to sign with
        changes[1] = forged
        with pytest.raises(RecordVerificationError) as info:
            verify_changes(changes, system_public=SYSTEM.public)
        assert (info.value.reason, info.value.index) == ("system-proof-missing", 1)
        with pytest.raises(RecordVerificationError) as info:
            verify_changes(changes)
        assert (info.value.reason, info.value.index) == ("chain-broken", 2)

    def test_first_version_with_a_parent_is_refused(self) -> None:
        with pytest.raises(RecordVerificationError, match="first version"):
            verify_changes([version({"parent": "0" * 64})])

    def test_truncated_history_is_caught_by_the_current_hash(self) -> None:
        changes = history()
        with pytest.raises(RecordVerificationError, match="current hash"):
            verify_changes(changes[:2], current_hash=changes[-1]["hash"])

    def test_empty_history_is_refused(self) -> None:
        with pytest.raises(RecordVerificationError):
            verify_changes([])


class TestVerifyList:
    def _envelope(self) -> dict[str, Any]:
        items = [version({"a": 1}, OWNER)]
        hash_ = records.sha256_hex(stable_stringify(items))
        return {
            "hash": hash_,
            "data": items,
            "meta": {"proofs": [sign_proof(SYSTEM, hash_, {"moment": "m"})]},
        }

    def test_signed_list_verifies(self) -> None:
        verify_list(self._envelope(), system_public=SYSTEM.public)

    def test_altered_item_is_detected(self) -> None:
        envelope = self._envelope()
        altered = copy.deepcopy(envelope)
        altered["data"][0]["meta"]["status"] = "approved"
        with pytest.raises(RecordVerificationError) as info:
            verify_list(altered, system_public=SYSTEM.public)
        assert info.value.reason == "hash-mismatch"

    def test_list_signed_by_another_key_is_refused(self) -> None:
        with pytest.raises(RecordVerificationError) as info:
            verify_list(self._envelope(), system_public=OWNER.public)
        assert info.value.reason == "system-proof-missing"
