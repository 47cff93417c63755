"""``wifi-mls``: Wi-Fi access points resolved to a position (plugin-wifi-mls's stamps).

Signals ``{source: "wifi", accuracyMeters, apCount}``. Consistent when ``accuracyMeters > 0``,
at least one access point was seen (``apCount`` a positive integer) and the coordinates are in
range. Within radius uses the reported accuracy, 100 m when absent.
"""

from __future__ import annotations

from vouch.location.plugins import common
from vouch.location.plugins.base import Json, StampEvaluation, StampVerification
from vouch.location.plugins.registry import register

DEFAULT_ACCURACY_M = 100.0


class WifiMlsPlugin:
    name = "wifi-mls"
    version = "0.1.0"
    environments: tuple[str, ...] = ("node", "server")
    description = "Wi-Fi access point scan with location-service geolocation (secp256k1-signed)"

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
        ap_count = signals.get("apCount")
        if not common.positive_number(ap_count) or float(ap_count) != int(ap_count):
            details["invalidApCount"] = True
            consistent = False
        consistent = common.coordinates_in_range(stamp, details) and consistent
        if consistent:
            details["signalChecks"] = {
                "apCount": ap_count,
                "accuracyMeters": accuracy,
                "coordinatesValid": True,
            }
        return StampVerification(signatures, structure, consistent, details)

    def evaluate(self, stamp: Json, claim: Json) -> StampEvaluation:
        signals = stamp.get("signals") or {}
        accuracy = signals.get("accuracyMeters")
        result = common.evaluate(
            stamp,
            claim,
            float(accuracy) if common.positive_number(accuracy) else DEFAULT_ACCURACY_M,
        )
        ap_count = signals.get("apCount")
        result.details["apCount"] = ap_count if common.positive_number(ap_count) else 0
        return result


plugin = register(WifiMlsPlugin())
