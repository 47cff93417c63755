"""``gpsd``: a GNSS fix read from gpsd (plugin-gpsd's stamps).

Signals ``{source: "gpsd", accuracyMeters, mode, altitudeMeters?, speedMs?}``. Consistent when
``accuracyMeters > 0``, ``mode`` is a 2D or 3D fix (NMEA/gpsd ``mode`` 2 or 3) and the
coordinates are in range. Within radius uses the reported accuracy, 10 m when absent.
"""

from __future__ import annotations

from vouch.location.plugins import common
from vouch.location.plugins.base import Json, StampEvaluation, StampVerification
from vouch.location.plugins.registry import register

DEFAULT_ACCURACY_M = 10.0


class GpsdPlugin:
    name = "gpsd"
    version = "0.1.0"
    environments: tuple[str, ...] = ("node", "server")
    description = "GNSS fix from gpsd (secp256k1-signed stamps)"

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
        mode = signals.get("mode")
        if isinstance(mode, bool) or mode not in (2, 3):
            details["invalidFixMode"] = True
            consistent = False
        consistent = common.coordinates_in_range(stamp, details) and consistent
        if consistent:
            details["signalChecks"] = {
                "mode": mode,
                "accuracyMeters": accuracy,
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


plugin = register(GpsdPlugin())
