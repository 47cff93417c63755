"""``witnesschain``: infrastructure proof of location by network-latency challenges
(WitnessChain watchtowers; plugin-witnesschain's stamps).

A challenger (watchtower) measures the prover's round-trip times and signs the challenge
result — a JSON ``message`` stating the challenge id, the prover's claimed coordinates and the
outcome — with ``personal_sign`` (EIP-191). The stamp carries it either whole, as
``signals.challengeResult {id, challenger, claims, result, message, signature, …}``, or
flattened as ``signals.challengeId / challenger / challengeMessage / challengeSignature``, next
to ``challengeSucceeded``, ``consolidatedResult {KnowLoc, KnowLocUncertainty, …}`` and
``knowLocUncertaintyKm``.

Signatures are valid when the stamp's own signatures verify *and* the challenge message
recovers to the challenger's address: the challenger's signature is the evidence, the stamp
signature only wraps it. Signals are consistent when that signed message is about this stamp
(its id, coordinates and outcome equal the stamp's) and the fields have their types. Within
radius uses ``knowLocUncertaintyKm`` (km → m), 50 km when absent.
"""

from __future__ import annotations

import json
import math
from typing import Any, TypeGuard

from vouch_server.location import geo
from vouch_server.location.plugins import common
from vouch_server.location.plugins.base import Json, StampEvaluation, StampVerification
from vouch_server.location.plugins.registry import register

DEFAULT_UNCERTAINTY_KM = 50.0
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
    """``knowLocUncertaintyKm``, else the consolidated result's ``KnowLocUncertainty``, else
    50 km."""
    value = signals.get("knowLocUncertaintyKm")
    if not _non_negative(value):
        consolidated = signals.get("consolidatedResult")
        value = consolidated.get("KnowLocUncertainty") if isinstance(consolidated, dict) else None
    return float(value) if _non_negative(value) else DEFAULT_UNCERTAINTY_KM


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
        structure = common.check_base_structure(stamp, self.name, details)
        result, message, signature, challenger = _challenge(signals)
        if not result and (
            signals.get("challengeId") is None or signals.get("challengeSucceeded") is None
        ):
            structure = False
            details["missingChallengeData"] = True

        signatures = common.check_signatures(stamp, details)
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
        km = uncertainty_km(stamp.get("signals") or {})
        result = common.evaluate(stamp, claim, km * 1000)
        result.details["knowLocUncertaintyKm"] = km
        return result


plugin = register(WitnessChainPlugin())
