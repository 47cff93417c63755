"""``geoclue``: a position from GeoClue2, the Linux location service (plugin-geoclue's stamps).

Signals ``{source: "geoclue2", accuracyMeters, altitudeMeters?, platform: "linux"}``.
Consistent when ``accuracyMeters > 0``, the platform is Linux (GeoClue2 exists nowhere else) and
the coordinates are in range. Within radius uses the reported accuracy, 50 m when absent.
"""

from __future__ import annotations

from vouch.location.plugins import common
from vouch.location.plugins.base import Json, StampEvaluation, StampVerification
from vouch.location.plugins.registry import register

DEFAULT_ACCURACY_M = 50.0


class GeocluePlugin:
    name = "geoclue"
    version = "0.1.0"
    environments: tuple[str, ...] = ("node", "server")
    description = "GeoClue2 system location on Linux (secp256k1-signed stamps)"

    def verify(self, stamp: Json) -> StampVerification:
        details: Json = {}
        structure = common.check_base_structure(stamp, self.name, details)
        signatures = common.check_signatures(stamp, details)
        signals = stamp.get("signals") or {}
        consistent = True
        accuracy = signals.get("accuracyMeters")
        if not common.positive_number(accuracy):
            details["invalidAccuracy"] = True
            consistent = False
        platform = signals.get("platform")
        if platform != "linux":
            details["invalidPlatform"] = True
            consistent = False
        consistent = common.coordinates_in_range(stamp, details) and consistent
        if consistent:
            details["signalChecks"] = {
                "accuracyMeters": accuracy,
                "platform": platform,
                "coordinatesValid": True,
            }
        return StampVerification(signatures, structure, consistent, details)

    def evaluate(self, stamp: Json, claim: Json) -> StampEvaluation:
        accuracy = (stamp.get("signals") or {}).get("accuracyMeters")
        return common.evaluate(
            stamp,
            claim,
            float(accuracy) if common.positive_number(accuracy) else DEFAULT_ACCURACY_M,
        )


plugin = register(GeocluePlugin())
