"""EAS attestations of a credibility vector (Ethereum Attestation Service, contracts v1.2.0).

The attestation data is Astral's 11-field verify schema, ABI-encoded (Solidity ABI spec,
``abi.encode``)::

    bytes32 proofHash, uint32 meanDistanceMeters, uint32 maxDistanceMeters,
    uint16 withinRadiusBp, uint16 meanOverlapBp, uint16 minOverlapBp, uint16 signaturesValidBp,
    uint16 structureValidBp, uint16 signalsConsistentBp, uint16 uniquePluginRatioBp,
    uint8 stampCount

with fractions in basis points, ``round(clamp(f, 0, 1) × 10000)``, and ``proofHash`` the
keccak-256 of the proof's JSON (``JSON.stringify(proof)`` of the proof as received and echoed).

Two signatures by vouch's attester key (secp256k1, see ``attester``):

* the **delegated attestation** (EAS ``attestByDelegation``): EIP-712 typed data in domain
  ``{name: "EAS", version: "1.2.0", chainId, verifyingContract: <EAS>}`` of
  ``Attest(bytes32 schema,address recipient,uint64 expirationTime,bool revocable,bytes32 refUID,
  bytes data,uint256 value,uint256 nonce,uint64 deadline)`` with no expiry, revocable, no
  reference, no value, the attester's on-chain nonce and a one-hour deadline — anyone may
  submit it on-chain, paying the gas, and the attestation is the attester's;
* the **off-chain attestation**, version 2 (EAS SDK ``Offchain``): EIP-712 in domain
  ``{name: "EAS Attestation", version, chainId, verifyingContract}`` of ``Attest(uint16 version,
  bytes32 schema,address recipient,uint64 time,uint64 expirationTime,bool revocable,
  bytes32 refUID,bytes data,bytes32 salt)``, with its UID as the SDK computes it — the form EAS
  tools (easscan, the SDK's ``verifyOffchainAttestationSignature``) verify.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from vouch_server.location import canonical
from vouch_server.location.geo import js_round

VERIFY_SCHEMA = (
    "bytes32 proofHash, uint32 meanDistanceMeters, uint32 maxDistanceMeters, "
    "uint16 withinRadiusBp, uint16 meanOverlapBp, uint16 minOverlapBp, "
    "uint16 signaturesValidBp, uint16 structureValidBp, uint16 signalsConsistentBp, "
    "uint16 uniquePluginRatioBp, uint8 stampCount"
)
VERIFY_FIELDS = [part.split() for part in VERIFY_SCHEMA.split(", ")]  # [[type, name], …]
ABI_TYPES = [t for t, _ in VERIFY_FIELDS]

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO_BYTES32 = "0x" + "00" * 32
DEADLINE_SECONDS = 3600
OFFCHAIN_VERSION = 2

ATTEST_TYPE = [
    {"name": "schema", "type": "bytes32"},
    {"name": "recipient", "type": "address"},
    {"name": "expirationTime", "type": "uint64"},
    {"name": "revocable", "type": "bool"},
    {"name": "refUID", "type": "bytes32"},
    {"name": "data", "type": "bytes"},
    {"name": "value", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint64"},
]
OFFCHAIN_ATTEST_TYPE = [
    {"name": "version", "type": "uint16"},
    {"name": "schema", "type": "bytes32"},
    {"name": "recipient", "type": "address"},
    {"name": "time", "type": "uint64"},
    {"name": "expirationTime", "type": "uint64"},
    {"name": "revocable", "type": "bool"},
    {"name": "refUID", "type": "bytes32"},
    {"name": "data", "type": "bytes"},
    {"name": "salt", "type": "bytes32"},
]
DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def hex0x(data: bytes) -> str:
    return "0x" + data.hex()


def schema_uid(
    schema: str = VERIFY_SCHEMA, resolver: str = ZERO_ADDRESS, revocable: bool = True
) -> str:
    """EAS SchemaRegistry UID: ``keccak256(abi.encodePacked(schema, resolver, revocable))``."""
    packed = schema.encode() + bytes.fromhex(resolver[2:]) + (b"\x01" if revocable else b"\x00")
    return hex0x(keccak(packed))


def basis_points(fraction: float) -> int:
    return js_round(max(0.0, min(1.0, float(fraction))) * 10000)


def proof_hash(raw_proof: Any) -> str:
    """keccak-256 of ``JSON.stringify(proof)``."""
    return hex0x(keccak(canonical.stringify(raw_proof).encode("utf-8")))


def attestation_values(
    proof_hash_hex: str, dimensions: dict[str, Any], stamp_count: int
) -> dict[str, Any]:
    spatial, temporal = dimensions["spatial"], dimensions["temporal"]
    validity, independence = dimensions["validity"], dimensions["independence"]
    return {
        "proofHash": proof_hash_hex,
        "meanDistanceMeters": js_round(spatial["meanDistanceMeters"]),
        "maxDistanceMeters": js_round(spatial["maxDistanceMeters"]),
        "withinRadiusBp": basis_points(spatial["withinRadiusFraction"]),
        "meanOverlapBp": basis_points(temporal["meanOverlap"]),
        "minOverlapBp": basis_points(temporal["minOverlap"]),
        "signaturesValidBp": basis_points(validity["signaturesValidFraction"]),
        "structureValidBp": basis_points(validity["structureValidFraction"]),
        "signalsConsistentBp": basis_points(validity["signalsConsistentFraction"]),
        "uniquePluginRatioBp": basis_points(independence["uniquePluginRatio"]),
        "stampCount": stamp_count,
    }


def encode_data(values: dict[str, Any]) -> bytes:
    args = [
        bytes.fromhex(values[name][2:]) if kind == "bytes32" else int(values[name])
        for kind, name in VERIFY_FIELDS
    ]
    return abi_encode(ABI_TYPES, args)


def decode_data(data: bytes) -> dict[str, Any]:
    decoded = abi_decode(ABI_TYPES, data)
    return {
        name: hex0x(value) if kind == "bytes32" else int(value)
        for (kind, name), value in zip(VERIFY_FIELDS, decoded, strict=True)
    }


def parse_contract_map(text: str | None) -> dict[int, str]:
    """``"84532=0x…,1=0x…"`` → {chain id: address}."""
    mapping: dict[int, str] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        chain, _, address = item.partition("=")
        mapping[int(chain.strip())] = to_checksum_address(address.strip())
    return mapping


def delegated_typed_data(
    *,
    chain_id: int,
    contract: str,
    version: str,
    schema: str,
    recipient: str,
    data: bytes,
    nonce: int,
    deadline: int,
) -> dict[str, Any]:
    return {
        "types": {"EIP712Domain": DOMAIN_TYPE, "Attest": ATTEST_TYPE},
        "primaryType": "Attest",
        "domain": {
            "name": "EAS",
            "version": version,
            "chainId": chain_id,
            "verifyingContract": to_checksum_address(contract),
        },
        "message": {
            "schema": schema,
            "recipient": to_checksum_address(recipient),
            "expirationTime": 0,
            "revocable": True,
            "refUID": ZERO_BYTES32,
            "data": hex0x(data),
            "value": 0,
            "nonce": nonce,
            "deadline": deadline,
        },
    }


def offchain_typed_data(
    *,
    chain_id: int,
    contract: str,
    version: str,
    schema: str,
    recipient: str,
    time: int,
    data: bytes,
    salt: bytes,
) -> dict[str, Any]:
    return {
        "types": {"EIP712Domain": DOMAIN_TYPE, "Attest": OFFCHAIN_ATTEST_TYPE},
        "primaryType": "Attest",
        "domain": {
            "name": "EAS Attestation",
            "version": version,
            "chainId": chain_id,
            "verifyingContract": to_checksum_address(contract),
        },
        "message": {
            "version": OFFCHAIN_VERSION,
            "schema": schema,
            "recipient": to_checksum_address(recipient),
            "time": time,
            "expirationTime": 0,
            "revocable": True,
            "refUID": ZERO_BYTES32,
            "data": hex0x(data),
            "salt": hex0x(salt),
        },
    }


def offchain_uid(message: dict[str, Any]) -> str:
    """EAS SDK ``Offchain.getOffchainUID`` for version 2: keccak-256 of
    ``solidityPacked([uint16, bytes, address, address, uint64, uint64, bool, bytes32, bytes,
    bytes32, uint32], [version, utf8(schema), recipient, 0x0, time, expirationTime, revocable,
    refUID, data, salt, 0])`` — the schema enters as the UTF-8 of its hex string, as the SDK
    writes it."""
    packed = b"".join(
        [
            int(message["version"]).to_bytes(2, "big"),
            str(message["schema"]).encode("utf-8"),
            bytes.fromhex(str(message["recipient"])[2:]),
            bytes(20),
            int(message["time"]).to_bytes(8, "big"),
            int(message["expirationTime"]).to_bytes(8, "big"),
            b"\x01" if message["revocable"] else b"\x00",
            bytes.fromhex(str(message["refUID"])[2:]),
            bytes.fromhex(str(message["data"])[2:]),
            bytes.fromhex(str(message["salt"])[2:]),
            (0).to_bytes(4, "big"),
        ]
    )
    return hex0x(keccak(packed))


def new_salt() -> bytes:
    return os.urandom(32)


@dataclass(frozen=True)
class SignatureParts:
    r: str
    s: str
    v: int

    @classmethod
    def of(cls, signature: bytes) -> SignatureParts:
        return cls(hex0x(signature[:32]), hex0x(signature[32:64]), signature[64])
