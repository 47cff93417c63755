"""``witnesschain``: infrastructure proof of location by network-latency challenges
(WitnessChain watchtowers; plugin-witnesschain's stamps).

A challenger (watchtower) measures the prover's round-trip times and signs the challenge
result — a JSON ``message`` stating the challenge id, the prover's claimed coordinates and the
outcome — with ``personal_sign`` (EIP-191). The stamp carries it either whole, as
``signals.challengeResult {id, challenger, claims, result, message, signature, …}``, or
flattened as ``signals.challengeId / challenger / challengeMessage / challengeSignature``, next
to ``challengeSucceeded``, ``consolidatedResult {KnowLoc, KnowLocUncertainty, …}`` and
``knowLocUncertaintyKm``.

The stamp's own signatures are checked the way plugin-witnesschain makes them: its ``sign``
(``src/index.ts``) signs ``JSON.stringify(stamp)`` — the keys in the order the plugin created
them, *not* sorted as the sensor plugins' ``canonicalize`` does — and its ``verify``
(``src/verify.ts``, copied into Astral's service as ``plugins/witnesschain/verify.ts``) checks
EIP-191 over ``JSON.stringify`` of the stamp without ``signatures``. So the text verified here is
the stamp as received, in the order received, written as ``JSON.stringify`` writes it
(``canonical.stringify``); a sorted-key rewrite of a signed stamp is a different text and fails.

Signatures are valid when those stamp signatures verify *and* the challenge message recovers to
the challenger's address: the challenger's signature is the evidence, the stamp signature only
wraps it (Astral's service accepts a stamp with no challenge signature; vouch does not — see
docs/location.md). Signals are consistent when that signed message is about this stamp (its id,
coordinates and outcome equal the stamp's) and the fields have their types.

Evaluation follows the plugin's own ``evaluate.ts``: haversine in its ``asin`` form, within
radius = distance ≤ claim radius + ``knowLocUncertaintyKm`` × 1000 (50 km when absent), and its
own temporal overlap — the overlapping duration over the *shorter* of the stamp's and the
claim's durations (0 when they only touch or either is an instant).
"""

from __future__ import annotations

import json
import math
from typing import Any, TypeGuard

from vouch_server.location import canonical, geo
from vouch_server.location.plugins import common
from vouch_server.location.plugins.base import Json, StampEvaluation, StampVerification
from vouch_server.location.plugins.registry import register

DEFAULT_UNCERTAINTY_KM = 50.0
IP_SOURCES = ("ipapi.co", "ipregistry", "maxmind")  # the consolidated result's IP geolocators
COORDINATE_TOLERANCE_DEG = 1e-7  # ≈ 1 cm: the same coordinates, written by another serializer


def _challenge(signals: Json) -> tuple[Json, str | None, str | None, str | None]:
    """(result object, signed message, signature, challenger address)."""
    result = signals.get("challengeResult")
    if isinstance(result, dict):
        return (
            result,
            _str(result.get("message")),
            _str(result.get("signature")),
            _str(result.get("challenger")) or _str(signals.get("challenger")),
        )
    return (
        {},
        _str(signals.get("challengeMessage")),
        _str(signals.get("challengeSignature")),
        _str(signals.get("challenger")),
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _non_negative(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def uncertainty_km(signals: Json) -> float:
    """``knowLocUncertaintyKm``, 50 km when absent (plugin-witnesschain ``evaluate.ts``: ``?? 50``;
    a value that is not a number also counts as absent, and is reported by ``verify``)."""
    value = signals.get("knowLocUncertaintyKm")
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return DEFAULT_UNCERTAINTY_KM


def unsigned_message(stamp: Json) -> str:
    """What plugin-witnesschain signs: ``JSON.stringify`` of the stamp without ``signatures``,
    keys in the order they were written (``src/index.ts`` ``sign``, ``src/verify.ts``)."""
    return canonical.stringify({k: v for k, v in stamp.items() if k != "signatures"})


def check_stamp_signatures(stamp: Json, details: Json) -> bool:
    """Every stamp signature is secp256k1 EIP-191 over ``unsigned_message`` and recovers to its
    signer."""
    signatures = stamp.get("signatures") or []
    if not signatures:
        details["noSignatures"] = True
        return False
    message_hash = common.personal_sign_hash(unsigned_message(stamp))
    for signature in signatures:
        algorithm = signature.get("algorithm")
        if algorithm != "secp256k1":
            details["signatureError"] = (
                f"Unsupported algorithm '{algorithm}' — only secp256k1 is verified"
            )
            return False
        if not common.check_secp256k1(signature, message_hash, details):
            return False
    details["signatureCount"] = len(signatures)
    return True


def check_structure(stamp: Json, details: Json) -> bool:
    """plugin-witnesschain's structure rule: Location Protocol 0.2, this plugin, a location and
    a temporal footprint (the API schema has already required the other stamp fields)."""
    valid = True
    if stamp.get("lpVersion") != "0.2":
        valid = False
        details["lpVersionError"] = f"Expected '0.2', got '{stamp.get('lpVersion')}'"
    if stamp.get("plugin") != WitnessChainPlugin.name:
        valid = False
        details["pluginMismatch"] = f"Expected 'witnesschain', got '{stamp.get('plugin')}'"
    if not stamp.get("location") or not stamp.get("temporalFootprint"):
        valid = False
        details["missingFields"] = True
    return valid


def _rad(degrees: float) -> float:
    return degrees * math.pi / 180  # evaluate.ts: (deg * Math.PI) / 180


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """plugin-witnesschain's haversine (``evaluate.ts``): the ``asin`` form, R = 6 371 000 m,
    called with the stamp first — the same operations in the same order, so the same double."""
    d_lat = _rad(lat2 - lat1)
    d_lon = _rad(lon2 - lon1)
    a = (
        math.sin(d_lat / 2) ** 2
        + math.cos(_rad(lat1)) * math.cos(_rad(lat2)) * math.sin(d_lon / 2) ** 2
    )
    return 2 * geo.EARTH_RADIUS_M * math.asin(math.sqrt(a))


def temporal_overlap(a_start: float, a_end: float, b_start: float, b_end: float) -> float:
    """plugin-witnesschain's ``temporalOverlap(a, b)``: the overlapping duration over the shorter
    of the two durations; 0 when the windows are disjoint or only touch, or either is an
    instant. (The generic rule divides by the claim's duration instead.)"""
    overlap_start = max(a_start, b_start)
    overlap_end = min(a_end, b_end)
    if overlap_end <= overlap_start:
        return 0.0
    shorter = min(a_end - a_start, b_end - b_start)
    return (overlap_end - overlap_start) / shorter if shorter > 0 else 0.0


class WitnessChainPlugin:
    name = "witnesschain"
    version = "0.1.0"
    environments: tuple[str, ...] = ("server",)
    description = (
        "WitnessChain network-latency challenges; the challenger's EIP-191 signature is verified"
    )

    def verify(self, stamp: Json) -> StampVerification:
        details: Json = {}
        signals = stamp.get("signals") or {}
        structure = check_structure(stamp, details)
        result, message, signature, challenger = _challenge(signals)
        if not result and (
            signals.get("challengeId") is None or signals.get("challengeSucceeded") is None
        ):
            structure = False
            details["missingChallengeData"] = True

        signatures = check_stamp_signatures(stamp, details)
        if message is None or signature is None or challenger is None:
            signatures = False
            details["missingChallengeSignature"] = True
        else:
            recovered = common.recover_personal_sign(message, signature)
            if recovered is None:
                signatures = False
                details["challengeSignatureError"] = "Challenge signature is not recoverable"
            elif not common.same_address(recovered, challenger):
                signatures = False
                details["challengeSignatureMismatch"] = {
                    "expected": challenger,
                    "recovered": recovered,
                }
            else:
                details["challengeSignerVerified"] = True
                details["recoveredAddress"] = recovered

        consistent = common.coordinates_in_range(stamp, details)
        if message is not None:
            consistent = self._bound_to_stamp(stamp, signals, result, message, details) and (
                consistent
            )
        consistent = self._typed(signals, details) and consistent
        if signals.get("challengeSucceeded") is False or (
            isinstance(result.get("result"), dict)
            and result["result"].get("challenge_succeeded") is False
        ):
            details["challengeFailed"] = True
        return StampVerification(signatures, structure, consistent, details)

    @staticmethod
    def _bound_to_stamp(
        stamp: Json, signals: Json, result: Json, message: str, details: Json
    ) -> bool:
        """The challenger signed a statement about *this* stamp: same id, place and outcome."""
        try:
            signed = json.loads(message)
        except ValueError:
            signed = None
        if not isinstance(signed, dict):
            details["challengeMessageError"] = "The signed challenge message is not a JSON object"
            return False
        consistent = True
        claims = signed.get("claims")
        point = geo.point_of(stamp.get("location"))
        if not isinstance(claims, dict) or point is None:
            details["challengeMessageError"] = "The signed challenge states no coordinates"
            return False
        try:
            lat, lon = float(claims["latitude"]), float(claims["longitude"])
        except (KeyError, TypeError, ValueError):
            details["challengeMessageError"] = "The signed challenge states no coordinates"
            return False
        if not (
            math.isclose(lon, point[0], abs_tol=COORDINATE_TOLERANCE_DEG)
            and math.isclose(lat, point[1], abs_tol=COORDINATE_TOLERANCE_DEG)
        ):
            details["challengeLocationMismatch"] = {"signed": [lon, lat], "stamp": list(point)}
            consistent = False
        challenge_id = signals.get("challengeId", result.get("id"))
        if challenge_id is not None and signed.get("id") != challenge_id:
            details["challengeIdMismatch"] = {"signed": signed.get("id"), "stamp": challenge_id}
            consistent = False
        signed_result = signed.get("result")
        succeeded = signals.get("challengeSucceeded")
        if (
            isinstance(signed_result, dict)
            and isinstance(succeeded, bool)
            and signed_result.get("challenge_succeeded") is not succeeded
        ):
            details["challengeOutcomeMismatch"] = True
            consistent = False
        return consistent

    @staticmethod
    def _typed(signals: Json, details: Json) -> bool:
        consistent = True
        succeeded = signals.get("challengeSucceeded")
        if succeeded is not None and not isinstance(succeeded, bool):
            details["invalidChallengeSucceeded"] = True
            consistent = False
        uncertainty = signals.get("knowLocUncertaintyKm")
        if uncertainty is not None and not _non_negative(uncertainty):
            details["invalidKnowLocUncertaintyKm"] = True
            consistent = False
        consolidated = signals.get("consolidatedResult")
        if consolidated is not None and (
            not isinstance(consolidated, dict) or not isinstance(consolidated.get("KnowLoc"), bool)
        ):
            details["invalidConsolidatedResult"] = "KnowLoc must be boolean"
            consistent = False
        return consistent

    def evaluate(self, stamp: Json, claim: Json) -> StampEvaluation:
        """plugin-witnesschain's ``evaluateWitnessChainStamp`` measurements and details."""
        signals = stamp.get("signals") or {}
        details: Json = {}
        footprint, window = stamp["temporalFootprint"], claim["time"]
        overlap = temporal_overlap(
            footprint["start"], footprint["end"], window["start"], window["end"]
        )
        km = uncertainty_km(signals)
        effective_radius = float(claim["radius"]) + km * 1000
        stamp_point = geo.point_of(stamp.get("location"))
        claim_point = geo.point_of(claim.get("location"))
        distance: float | None = None
        if stamp_point is not None and claim_point is not None:
            distance = haversine_m(stamp_point[1], stamp_point[0], claim_point[1], claim_point[0])
            details["distanceMeters"] = geo.js_round(distance)
        else:
            details["distanceNote"] = "Complex geometry — no point-to-point distance"
            extensions = common.geometry_distance_extension(
                stamp_point, claim.get("location"), effective_radius
            )
            if extensions is not None:
                details["extensions"] = extensions
        details["effectiveRadiusMeters"] = effective_radius
        details["knowLocUncertaintyKm"] = km
        details["temporalOverlap"] = overlap
        consolidated = signals.get("consolidatedResult")
        if isinstance(consolidated, dict):
            present = [consolidated[k] for k in IP_SOURCES if k in consolidated]
            if present:
                details["ipSourcesAgreed"] = sum(1 for v in present if v is True)
                details["ipSourcesTotal"] = len(present)
            details["knowLocVerified"] = consolidated.get("KnowLoc") is True
            details["challengeVerified"] = consolidated.get("verified") is True
        if signals.get("challengeSucceeded") is False:
            details["challengeFailed"] = True
        within = distance is not None and distance <= effective_radius
        return StampEvaluation(distance, overlap, within, details)


plugin = register(WitnessChainPlugin())
