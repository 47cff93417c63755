"""The CredibilityVector: per-stamp results aggregated into four dimensions, never a score.

Astral's formulas (``verify/assessment.ts``), so that the same proof gives the same numbers:

* spatial — mean and max of the stamps' distances that exist, each ``Math.round``-ed and
  clamped to uint32; 4 294 967 295 for both when no stamp has a distance (a non-Point stamp or
  claim); ``withinRadiusFraction`` over *all* stamps (0 when none has a distance);
* temporal — mean and min overlap, and the fraction of stamps whose overlap is 1;
* validity — the fraction of stamps passing each check;
* independence — unique plugins over stamps, plugin names in first-seen order, and spatial
  agreement: the share of the larger of "within radius" / "outside" among the stamps.

Sums run left to right as JavaScript's ``reduce`` does (Python 3.12's ``sum`` compensates).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vouch_server.location.geo import js_round
from vouch_server.location.plugins.base import StampEvaluation, StampVerification

MAX_UINT32 = 4_294_967_295
EVALUATION_MODE = "local"


@dataclass(frozen=True)
class StampResult:
    stamp_index: int
    plugin: str
    verification: StampVerification
    evaluation: StampEvaluation

    def to_json(self) -> dict[str, Any]:
        return {
            "stampIndex": self.stamp_index,
            "plugin": self.plugin,
            "signaturesValid": self.verification.signatures_valid,
            "structureValid": self.verification.structure_valid,
            "signalsConsistent": self.verification.signals_consistent,
            # JSON.stringify writes Astral's Infinity ("no distance") as null.
            "distanceMeters": self.evaluation.distance_meters,
            "temporalOverlap": self.evaluation.temporal_overlap,
            "withinRadius": self.evaluation.within_radius,
            "details": {
                "verification": self.verification.details,
                "evaluation": self.evaluation.details,
            },
        }


def _sum(values: list[float]) -> float:
    total = 0.0
    for value in values:
        total += value
    return total


def _clamp_distance(meters: float) -> int:
    return js_round(min(meters, MAX_UINT32))


def dimensions(results: list[StampResult]) -> dict[str, Any]:
    count = len(results)
    if count == 0:
        return {
            "spatial": {
                "meanDistanceMeters": MAX_UINT32,
                "maxDistanceMeters": MAX_UINT32,
                "withinRadiusFraction": 0,
            },
            "temporal": {"meanOverlap": 0, "minOverlap": 0, "fullyOverlappingFraction": 0},
            "validity": {
                "signaturesValidFraction": 0,
                "structureValidFraction": 0,
                "signalsConsistentFraction": 0,
            },
            "independence": {"uniquePluginRatio": 0, "spatialAgreement": 0, "pluginNames": []},
        }

    distances = [
        r.evaluation.distance_meters for r in results if r.evaluation.distance_meters is not None
    ]
    within = sum(1 for r in results if r.evaluation.within_radius)
    if distances:
        spatial: dict[str, Any] = {
            "meanDistanceMeters": _clamp_distance(_sum(distances) / len(distances)),
            "maxDistanceMeters": _clamp_distance(max(distances)),
            "withinRadiusFraction": within / count,
        }
    else:
        spatial = {
            "meanDistanceMeters": MAX_UINT32,
            "maxDistanceMeters": MAX_UINT32,
            "withinRadiusFraction": 0,
        }

    overlaps = [r.evaluation.temporal_overlap for r in results]
    temporal = {
        "meanOverlap": _sum(overlaps) / count,
        "minOverlap": min(overlaps),
        "fullyOverlappingFraction": sum(1 for o in overlaps if o >= 1.0) / count,
    }
    validity = {
        "signaturesValidFraction": sum(1 for r in results if r.verification.signatures_valid)
        / count,
        "structureValidFraction": sum(1 for r in results if r.verification.structure_valid) / count,
        "signalsConsistentFraction": sum(1 for r in results if r.verification.signals_consistent)
        / count,
    }
    names = list(dict.fromkeys(r.plugin for r in results))
    independence = {
        "uniquePluginRatio": len(names) / count,
        "spatialAgreement": max(within, count - within) / count,
        "pluginNames": names,
    }
    return {
        "spatial": spatial,
        "temporal": temporal,
        "validity": validity,
        "independence": independence,
    }


def credibility_vector(results: list[StampResult], evaluated_at: int) -> dict[str, Any]:
    return {
        "dimensions": dimensions(results),
        "stampResults": [r.to_json() for r in results],
        "meta": {
            "stampCount": len(results),
            "evaluatedAt": evaluated_at,
            "evaluationMode": EVALUATION_MODE,
        },
    }
