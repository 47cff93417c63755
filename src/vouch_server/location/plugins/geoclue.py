"""``geoclue``: a position from GeoClue2, the Linux location service (plugin-geoclue's stamps).

Signals ``{source: "geoclue2", accuracyMeters, altitudeMeters?, platform: "linux"}``.
Consistent when ``accuracyMeters > 0``, the platform is Linux (GeoClue2 exists nowhere else) and
the coordinates are in range. Within radius uses the reported accuracy, 50 m when absent.
"""

from __future__ import annotations

from vouch_server.location.plugins import common
from vouch_server.location.plugins.base import Json
from vouch_server.location.plugins.registry import register

DEFAULT_ACCURACY_M = 50.0


class GeocluePlugin(common.SignedReadingPlugin):
    name = "geoclue"
    description = "GeoClue2 system location on Linux (secp256k1-signed stamps)"
    default_accuracy_m = DEFAULT_ACCURACY_M

    def check_signals(self, signals: Json, details: Json) -> tuple[bool, Json]:
        consistent = common.require_accuracy(signals, details)
        platform = signals.get("platform")
        if platform != "linux":
            details["invalidPlatform"] = True
            consistent = False
        return consistent, {"platform": platform}


plugin = register(GeocluePlugin())
