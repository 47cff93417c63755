"""``gpsd``: a GNSS fix read from gpsd (plugin-gpsd's stamps).

Signals ``{source: "gpsd", accuracyMeters, mode, altitudeMeters?, speedMs?}``. Consistent when
``accuracyMeters > 0``, ``mode`` is a 2D or 3D fix (NMEA/gpsd ``mode`` 2 or 3) and the
coordinates are in range. Within radius uses the reported accuracy, 10 m when absent.
"""

from __future__ import annotations

from vouch_server.location.plugins import common
from vouch_server.location.plugins.base import Json
from vouch_server.location.plugins.registry import register

DEFAULT_ACCURACY_M = 10.0


class GpsdPlugin(common.SignedReadingPlugin):
    name = "gpsd"
    description = "GNSS fix from gpsd (secp256k1-signed stamps)"
    default_accuracy_m = DEFAULT_ACCURACY_M

    def check_signals(self, signals: Json, details: Json) -> tuple[bool, Json]:
        consistent = common.require_accuracy(signals, details)
        mode = signals.get("mode")
        if isinstance(mode, bool) or mode not in (2, 3):
            details["invalidFixMode"] = True
            consistent = False
        return consistent, {"mode": mode}


plugin = register(GpsdPlugin())
