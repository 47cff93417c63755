"""Checks and measurements the plugins share (Astral's ``verify/plugins/geo-utils.ts``).

* Structure: Location Protocol v0.2, the plugin's own name, a GeoJSON Point location, the
  required metadata fields and at least one signature.
* Signatures: each stamp signature is EIP-191 ``personal_sign`` (secp256k1) over the stamp
  without ``signatures`` written as sorted-key compact ``JSON.stringify`` (``canonical``); the
  address recovered from it must equal the signer's. A stamp whose coordinates, signals or
  signer were changed after signing fails here.
* Evaluation: haversine distance between Point stamp and Point claim, temporal overlap, and
  "within radius" = distance ≤ claim radius + the stamp's accuracy.
"""

from __future__ import annotations

import binascii
import hmac
from functools import lru_cache
from typing import Any, TypeGuard

from coincurve import PublicKey
from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address

from vouch_server.location import canonical, geo
from vouch_server.location.plugins.base import Json, StampEvaluation, StampVerification


def unsigned_message(stamp: Json) -> str:
    """The text a stamp's signers signed: the stamp minus ``signatures``, keys sorted."""
    return canonical.stringify(
        {k: v for k, v in stamp.items() if k != "signatures"}, sort_keys=True
    )


# The order of the secp256k1 group: r and s must lie below it (SEC 1 §4.1.4).
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_EIP191_PREFIX = b"\x19Ethereum Signed Message:\n"


def personal_sign_hash(message: str | bytes) -> bytes:
    """EIP-191 version 0x45 (``personal_sign``): keccak-256 of
    ``"\\x19Ethereum Signed Message:\\n" + len(message) + message``, the message as UTF-8."""
    body = message if isinstance(message, bytes) else message.encode("utf-8")
    return bytes(keccak(_EIP191_PREFIX + str(len(body)).encode() + body))


def recoverable_signature(signature_hex: str) -> bytes | None:
    """The 65-byte ``r ‖ s ‖ recovery id`` of an Ethereum signature in hex, or None where
    eth-account refuses it: hex with or without ``0x`` (odd length padded on the left), 65 bytes,
    ``v`` one of 0, 1, 27, 28 or an EIP-155 ``35 + 2·chainId + id``, and r, s below the order."""
    digits = signature_hex[2:] if signature_hex.startswith(("0x", "0X")) else signature_hex
    if len(digits) % 2:
        digits = "0" + digits
    try:
        raw = binascii.unhexlify(digits)
    except ValueError:  # binascii.Error, and non-ASCII text
        return None
    if len(raw) != 65:
        return None
    v = raw[64]
    if v in (27, 28):
        v -= 27
    elif v >= 35:
        v = (v - 35) % 2
    elif v not in (0, 1):
        return None
    if (
        int.from_bytes(raw[:32], "big") >= SECP256K1_N
        or int.from_bytes(raw[32:64], "big") >= SECP256K1_N
    ):
        return None
    return raw[:64] + bytes((v,))


@lru_cache(maxsize=1024)
def _address_of(public_key: bytes) -> str:
    """EIP-55 address of an uncompressed public key (the signers of a proof repeat)."""
    return str(to_checksum_address(keccak(public_key[1:])[-20:]))


def recover_signer(message_hash: bytes, signature: bytes) -> str | None:
    """The address whose key made ``signature`` (from ``recoverable_signature``) over the hash,
    or None when no key did: one secp256k1 public-key recovery, done by libsecp256k1."""
    try:
        public_key = PublicKey.from_signature_and_message(signature, message_hash, hasher=None)
    except Exception:  # coincurve raises plain Exception for an unrecoverable signature
        return None
    return _address_of(public_key.format(compressed=False))


def recover_personal_sign(message: str | bytes, signature_hex: str) -> str | None:
    """EIP-191 (version 0x45) signer of ``message``, or None for a malformed signature."""
    return recover_personal_sign_hash(personal_sign_hash(message), signature_hex)


def recover_personal_sign_hash(message_hash: bytes, signature_hex: str) -> str | None:
    """``recover_personal_sign`` of a message whose ``personal_sign_hash`` is known."""
    signature = recoverable_signature(signature_hex)
    if signature is None:
        return None
    return recover_signer(message_hash, signature)


def same_address(a: str, b: str) -> bool:
    return hmac.compare_digest(a.lower().encode(), b.strip().lower().encode())


def check_base_structure(stamp: Json, expected_plugin: str, details: Json) -> bool:
    valid = True
    if stamp.get("lpVersion") != "0.2":
        valid = False
        details["lpVersionError"] = f"Expected '0.2', got '{stamp.get('lpVersion')}'"
    if stamp.get("plugin") != expected_plugin:
        valid = False
        details["pluginMismatch"] = f"Expected '{expected_plugin}', got '{stamp.get('plugin')}'"
    if geo.point_of(stamp.get("location")) is None:
        valid = False
        details["locationError"] = "Expected GeoJSON Point"
    for name, flag in (
        ("temporalFootprint", "missingTemporalFootprint"),
        ("locationType", "missingLocationType"),
        ("srs", "missingSrs"),
        ("pluginVersion", "missingPluginVersion"),
    ):
        if not stamp.get(name):
            valid = False
            details[flag] = True
    if not stamp.get("signatures"):
        valid = False
        details["missingSignatures"] = True
    details["structureChecks"] = {
        "hasLocation": bool(stamp.get("location")),
        "hasTemporalFootprint": bool(stamp.get("temporalFootprint")),
        "hasSignals": bool(stamp.get("signals")),
    }
    return valid


def check_secp256k1(signature: Json, message_hash: bytes, details: Json) -> bool:
    """``signature`` recovers to its signer over the message whose ``personal_sign_hash`` is
    ``message_hash`` (computed once for all the signatures of a stamp)."""
    signer = signature.get("signer") or {}
    recovered = recover_personal_sign_hash(message_hash, str(signature.get("value", "")))
    if recovered is None:
        details["stampSignatureError"] = "Signature is not a recoverable secp256k1 signature"
        return False
    expected = str(signer.get("value", ""))
    if not same_address(recovered, expected):
        details["stampSignatureMismatch"] = {"expected": expected, "recovered": recovered}
        return False
    return True


def check_signatures(stamp: Json, details: Json) -> bool:
    """Every signature must be secp256k1 and recover to its signer (Astral's rule)."""
    signatures = stamp.get("signatures") or []
    if not signatures:
        details["noSignatures"] = True
        return False
    # The signed text and its hash once per stamp, whatever the number of signatures.
    message_hash = personal_sign_hash(unsigned_message(stamp))
    for signature in signatures:
        algorithm = signature.get("algorithm")
        if algorithm != "secp256k1":
            details["signatureError"] = (
                f"Unsupported algorithm '{algorithm}' — only secp256k1 is verified"
            )
            return False
        if not check_secp256k1(signature, message_hash, details):
            return False
    details["signatureCount"] = len(signatures)
    return True


def coordinates_in_range(stamp: Json, details: Json) -> bool:
    point = geo.point_of(stamp.get("location"))
    if point is None:
        return True
    lon, lat = point
    valid = True
    if not -90 <= lat <= 90:
        details["invalidLatitude"] = True
        valid = False
    if not -180 <= lon <= 180:
        details["invalidLongitude"] = True
        valid = False
    return valid


def positive_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def geometry_distance_extension(
    stamp_point: tuple[float, float] | None, claim_location: Any, effective_radius: float
) -> Json | None:
    """vouch's ``extensions.geometryDistance`` for a Point stamp and a non-Point claim, which
    Astral gives no distance."""
    if stamp_point is None or not isinstance(claim_location, dict):
        return None
    extended = geo.point_to_geometry_m(stamp_point[0], stamp_point[1], claim_location)
    if extended is None:
        return None
    return {
        "geometryDistance": {
            "distanceMeters": extended,
            "withinRadius": extended <= effective_radius,
            "claimGeometry": claim_location.get("type"),
            "method": "great-circle distance from the stamp point to the claim "
            "geometry (0 inside a polygon), R = 6371000 m",
        }
    }


def evaluate(stamp: Json, claim: Json, accuracy_m: float) -> StampEvaluation:
    """Astral's measurements, plus vouch's distance to a non-Point claim as an extension."""
    details: Json = {}
    stamp_point = geo.point_of(stamp.get("location"))
    claim_point = geo.point_of(claim.get("location"))
    radius = float(claim["radius"])
    effective_radius = radius + accuracy_m

    distance: float | None = None
    if stamp_point is not None and claim_point is not None:
        distance = geo.haversine_m(claim_point[1], claim_point[0], stamp_point[1], stamp_point[0])
        details["distanceMeters"] = geo.js_round(distance)
    else:
        details["distanceNote"] = "Complex geometry — no point-to-point distance"
        extensions = geometry_distance_extension(
            stamp_point, claim.get("location"), effective_radius
        )
        if extensions is not None:
            details["extensions"] = extensions

    footprint = stamp["temporalFootprint"]
    window = claim["time"]
    overlap = geo.temporal_overlap(
        footprint["start"], footprint["end"], window["start"], window["end"]
    )
    if footprint["start"] <= window["start"] and footprint["end"] >= window["end"]:
        details["temporalNote"] = "Stamp fully covers claim timeframe"
    elif overlap > 0 or max(footprint["start"], window["start"]) <= min(
        footprint["end"], window["end"]
    ):
        details["temporalNote"] = f"Partial overlap: {geo.js_round(overlap * 100)}%"
    else:
        details["temporalNote"] = "No temporal overlap"

    within = distance is not None and distance <= effective_radius
    details["claimRadius"] = claim["radius"]
    details["stampAccuracy"] = accuracy_m
    details["effectiveRadius"] = effective_radius
    return StampEvaluation(distance, overlap, within, details)


def require_accuracy(signals: Json, details: Json) -> bool:
    """``accuracyMeters`` must be a positive number."""
    if positive_number(signals.get("accuracyMeters")):
        return True
    details["invalidAccuracy"] = True
    return False


class SignedReadingPlugin:
    """What the secp256k1-signed sensor plugins share (gpsd, geoclue, wifi-mls, ip-geolocation):
    structure, signatures, the plugin's own signal checks and coordinates in range; evaluated
    with the reported accuracy, or the plugin's default when absent."""

    name: str
    version = "0.1.0"
    environments: tuple[str, ...] = ("node", "server")
    description: str
    default_accuracy_m: float

    def check_signals(self, signals: Json, details: Json) -> tuple[bool, Json]:
        """Plugin-specific checks: (consistent, facts for ``signalChecks``)."""
        raise NotImplementedError

    def verify(self, stamp: Json) -> StampVerification:
        details: Json = {}
        structure = check_base_structure(stamp, self.name, details)
        signatures = check_signatures(stamp, details)
        signals = stamp.get("signals") or {}
        consistent, checks = self.check_signals(signals, details)
        consistent = coordinates_in_range(stamp, details) and consistent
        if consistent:
            details["signalChecks"] = {
                **checks,
                "accuracyMeters": signals.get("accuracyMeters"),
                "coordinatesValid": True,
            }
        return StampVerification(signatures, structure, consistent, details)

    def evaluate(self, stamp: Json, claim: Json) -> StampEvaluation:
        accuracy = (stamp.get("signals") or {}).get("accuracyMeters")
        return evaluate(
            stamp,
            claim,
            float(accuracy) if positive_number(accuracy) else self.default_accuracy_m,
        )
