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

import hmac
from typing import Any, TypeGuard

from eth_account import Account
from eth_account.messages import encode_defunct

from vouch.location import canonical, geo
from vouch.location.plugins.base import Json, StampEvaluation, StampVerification


def unsigned_message(stamp: Json) -> str:
    """The text a stamp's signers signed: the stamp minus ``signatures``, keys sorted."""
    return canonical.stringify(
        {k: v for k, v in stamp.items() if k != "signatures"}, sort_keys=True
    )


def recover_personal_sign(message: str | bytes, signature_hex: str) -> str | None:
    """EIP-191 (version 0x45) signer of ``message``, or None for a malformed signature."""
    signable = (
        encode_defunct(primitive=message)
        if isinstance(message, bytes)
        else encode_defunct(text=message)
    )
    try:
        return str(Account.recover_message(signable, signature=signature_hex))
    except Exception:
        return None


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


def check_secp256k1(signature: Json, message: str, details: Json) -> bool:
    signer = signature.get("signer") or {}
    recovered = recover_personal_sign(message, str(signature.get("value", "")))
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
    message = unsigned_message(stamp)
    for signature in signatures:
        algorithm = signature.get("algorithm")
        if algorithm != "secp256k1":
            details["signatureError"] = (
                f"Unsupported algorithm '{algorithm}' — only secp256k1 is verified"
            )
            return False
        if not check_secp256k1(signature, message, details):
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
        claim_location = claim.get("location")
        if stamp_point is not None and isinstance(claim_location, dict):
            extended = geo.point_to_geometry_m(stamp_point[0], stamp_point[1], claim_location)
            if extended is not None:
                details["extensions"] = {
                    "geometryDistance": {
                        "distanceMeters": extended,
                        "withinRadius": extended <= effective_radius,
                        "claimGeometry": claim_location.get("type"),
                        "method": "great-circle distance from the stamp point to the claim "
                        "geometry (0 inside a polygon), R = 6371000 m",
                    }
                }

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
