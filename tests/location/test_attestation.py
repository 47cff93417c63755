"""``attestation``: Astral's verify schema, basis points, EAS UIDs and EIP-712 signatures."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

from tests.location.factories import OTHER_KEY, fixture_proof
from vouch_server.location import attestation as eas
from vouch_server.location.attester import Attester

DIMENSIONS = {
    "spatial": {
        "meanDistanceMeters": 408,
        "maxDistanceMeters": 1112,
        "withinRadiusFraction": 1 / 3,
    },
    "temporal": {"meanOverlap": 0.4375, "minOverlap": 0.0, "fullyOverlappingFraction": 0.25},
    "validity": {
        "signaturesValidFraction": 0.75,
        "structureValidFraction": 1,
        "signalsConsistentFraction": 0.5,
    },
    "independence": {"uniquePluginRatio": 2 / 3, "spatialAgreement": 1, "pluginNames": ["gpsd"]},
}
PROOF_HASH = "0x" + "ab" * 32


class TestSchema:
    def test_schema_string_is_astrals_eleven_fields(self) -> None:
        assert [name for _, name in eas.VERIFY_FIELDS] == [
            "proofHash",
            "meanDistanceMeters",
            "maxDistanceMeters",
            "withinRadiusBp",
            "meanOverlapBp",
            "minOverlapBp",
            "signaturesValidBp",
            "structureValidBp",
            "signalsConsistentBp",
            "uniquePluginRatioBp",
            "stampCount",
        ]
        assert eas.ABI_TYPES == ["bytes32", "uint32", "uint32"] + ["uint16"] * 7 + ["uint8"]

    def test_schema_uid_is_the_registry_hash(self) -> None:
        expected = keccak(eas.VERIFY_SCHEMA.encode() + bytes(20) + b"\x01")
        assert eas.schema_uid() == "0x" + expected.hex()


class TestBasisPoints:
    @pytest.mark.parametrize(
        ("fraction", "bp"),
        [
            (0, 0),
            (1, 10000),
            (1 / 3, 3333),
            (2 / 3, 6667),
            (0.4375, 4375),
            (0.00005, 1),
            (1.2, 10000),
            (-0.1, 0),
        ],
    )
    def test_rounds_the_clamped_fraction(self, fraction: float, bp: int) -> None:
        assert eas.basis_points(fraction) == bp


class TestEncoding:
    def test_values_encode_and_decode_to_the_vector(self) -> None:
        values = eas.attestation_values(PROOF_HASH, DIMENSIONS, stamp_count=4)
        assert values == {
            "proofHash": PROOF_HASH,
            "meanDistanceMeters": 408,
            "maxDistanceMeters": 1112,
            "withinRadiusBp": 3333,
            "meanOverlapBp": 4375,
            "minOverlapBp": 0,
            "signaturesValidBp": 7500,
            "structureValidBp": 10000,
            "signalsConsistentBp": 5000,
            "uniquePluginRatioBp": 6667,
            "stampCount": 4,
        }
        data = eas.encode_data(values)
        assert len(data) == 11 * 32  # every static ABI field takes one word
        assert eas.decode_data(data) == values
        assert data == encode(
            eas.ABI_TYPES,
            [bytes.fromhex("ab" * 32), 408, 1112, 3333, 4375, 0, 7500, 10000, 5000, 6667, 4],
        )

    def test_sentinel_distance_fits_uint32(self) -> None:
        dims = {
            **DIMENSIONS,
            "spatial": {**DIMENSIONS["spatial"], "meanDistanceMeters": 4_294_967_295},
        }
        values = eas.attestation_values(PROOF_HASH, dims, 1)
        assert eas.decode_data(eas.encode_data(values))["meanDistanceMeters"] == 2**32 - 1


class TestProofHash:
    def test_is_keccak_of_json_stringify_in_received_order(self) -> None:
        proof = {"stamps": [], "claim": {"radius": 100.0, "lpVersion": "0.2"}}
        expected = keccak(b'{"stamps":[],"claim":{"radius":100,"lpVersion":"0.2"}}')
        assert eas.proof_hash(proof) == "0x" + expected.hex()

    def test_any_change_changes_it(self) -> None:
        proof = fixture_proof()
        before = eas.proof_hash(proof)
        proof["claim"]["radius"] = 101
        assert eas.proof_hash(proof) != before


ATTESTER = Attester(Account.from_key(OTHER_KEY).address, bytes.fromhex(OTHER_KEY[2:]))
CONTRACT = "0x4200000000000000000000000000000000000021"


class TestDelegatedSignature:
    def typed(self, **overrides: object) -> dict[str, object]:
        args: dict[str, object] = {
            "chain_id": 84532,
            "contract": CONTRACT,
            "version": "1.2.0",
            "schema": eas.schema_uid(),
            "recipient": eas.ZERO_ADDRESS,
            "data": eas.encode_data(eas.attestation_values(PROOF_HASH, DIMENSIONS, 4)),
            "nonce": 7,
            "deadline": 4102448400,
        }
        args.update(overrides)
        return eas.delegated_typed_data(**args)  # type: ignore[arg-type]

    def test_recovers_to_the_attester(self) -> None:
        typed = self.typed()
        signature = ATTESTER.sign_typed_data(typed)
        assert len(signature) == 65 and signature[64] in (27, 28)
        recovered = Account.recover_message(
            encode_typed_data(full_message=typed), signature=signature
        )
        assert recovered == ATTESTER.address

    def test_domain_and_message_are_eas_attest_by_delegation(self) -> None:
        typed = self.typed()
        assert typed["domain"] == {
            "name": "EAS",
            "version": "1.2.0",
            "chainId": 84532,
            "verifyingContract": CONTRACT,
        }
        message = typed["message"]
        assert isinstance(message, dict)
        assert (message["expirationTime"], message["revocable"], message["value"]) == (0, True, 0)
        assert message["refUID"] == "0x" + "00" * 32

    @pytest.mark.parametrize("field", ["nonce", "chain_id", "deadline"])
    def test_signature_is_bound_to_nonce_chain_and_deadline(self, field: str) -> None:
        signature = ATTESTER.sign_typed_data(self.typed())
        changed = self.typed(**{field: 999})
        recovered = Account.recover_message(
            encode_typed_data(full_message=changed), signature=signature
        )
        assert recovered != ATTESTER.address


class TestOffchainAttestation:
    def typed(self) -> dict[str, object]:
        return eas.offchain_typed_data(
            chain_id=84532,
            contract=CONTRACT,
            version="1.2.0",
            schema=eas.schema_uid(),
            recipient=eas.ZERO_ADDRESS,
            time=4102444800,
            data=eas.encode_data(eas.attestation_values(PROOF_HASH, DIMENSIONS, 4)),
            salt=b"\x11" * 32,
        )

    def test_signature_recovers_to_the_attester(self) -> None:
        typed = self.typed()
        signature = ATTESTER.sign_typed_data(typed)
        recovered = Account.recover_message(
            encode_typed_data(full_message=typed), signature=signature
        )
        assert recovered == ATTESTER.address
        assert typed["domain"]["name"] == "EAS Attestation"  # type: ignore[index]
        assert typed["message"]["version"] == 2  # type: ignore[index]

    def test_uid_is_the_eas_sdk_version_2_uid(self) -> None:
        message = self.typed()["message"]
        assert isinstance(message, dict)
        packed = (
            (2).to_bytes(2, "big")
            + message["schema"].encode()
            + bytes(20)
            + bytes(20)
            + (4102444800).to_bytes(8, "big")
            + bytes(8)
            + b"\x01"
            + bytes(32)
            + bytes.fromhex(message["data"][2:])
            + b"\x11" * 32
            + bytes(4)
        )
        assert eas.offchain_uid(message) == "0x" + keccak(packed).hex()


class TestContractMap:
    def test_parses_chain_overrides(self) -> None:
        mapping = eas.parse_contract_map(
            "1=0xA1207F3BBa224E2c9c3c6D5aF63D0eb1582Ce587, 84532=" + CONTRACT
        )
        assert mapping == {1: "0xA1207F3BBa224E2c9c3c6D5aF63D0eb1582Ce587", 84532: CONTRACT}
        assert eas.parse_contract_map(None) == {}
