"""``wifi-mls``: Wi-Fi access points resolved to a position (plugin-wifi-mls's stamps).

Signals ``{source: "wifi", accuracyMeters, apCount}``. Consistent when ``accuracyMeters > 0``,
at least one access point was seen (``apCount`` a positive integer) and the coordinates are in
range. Within radius uses the reported accuracy, 100 m when absent.
"""

from __future__ import annotations

from vouch_server.location.plugins import common
from vouch_server.location.plugins.base import Json, StampEvaluation
from vouch_server.location.plugins.registry import register

DEFAULT_ACCURACY_M = 100.0


class WifiMlsPlugin(common.SignedReadingPlugin):
    name = "wifi-mls"
    description = "Wi-Fi access point scan with location-service geolocation (secp256k1-signed)"
    default_accuracy_m = DEFAULT_ACCURACY_M

    def check_signals(self, signals: Json, details: Json) -> tuple[bool, Json]:
        consistent = common.require_accuracy(signals, details)
        ap_count = signals.get("apCount")
        if not common.positive_number(ap_count) or float(ap_count) != int(ap_count):
            details["invalidApCount"] = True
            consistent = False
        return consistent, {"apCount": ap_count}

    def evaluate(self, stamp: Json, claim: Json) -> StampEvaluation:
        result = super().evaluate(stamp, claim)
        ap_count = (stamp.get("signals") or {}).get("apCount")
        result.details["apCount"] = ap_count if common.positive_number(ap_count) else 0
        return result


plugin = register(WifiMlsPlugin())
