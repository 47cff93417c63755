"""``ip-geolocation``: the position a geolocation database gives the caller's IP address
(plugin-ip-geolocation's stamps).

Signals ``{source: "ip-geolocation", accuracyMeters, ip, city?}``. Consistent when ``ip`` is an
IPv4 or IPv6 address, the reported accuracy (if any) is at least 1 km — a finer claim from an
IP address alone is implausible — and the coordinates are in range. Within radius uses the
reported accuracy, 25 000 m when absent. No VPN/proxy detection (as in Astral's MVP).
"""

from __future__ import annotations

import ipaddress

from vouch_server.location.plugins import common
from vouch_server.location.plugins.base import Json
from vouch_server.location.plugins.registry import register

DEFAULT_ACCURACY_M = 25_000.0
MIN_PLAUSIBLE_ACCURACY_M = 1_000


class IpGeolocationPlugin(common.SignedReadingPlugin):
    name = "ip-geolocation"
    environments: tuple[str, ...] = ("node", "server", "browser")
    description = "IP address geolocation (coarse; secp256k1-signed stamps)"
    default_accuracy_m = DEFAULT_ACCURACY_M

    def check_signals(self, signals: Json, details: Json) -> tuple[bool, Json]:
        consistent = True
        ip = signals.get("ip")
        try:
            ipaddress.ip_address(ip if isinstance(ip, str) else "")
        except ValueError:
            details["invalidIpFormat"] = ip
            consistent = False
        # Optional here, but a finer accuracy than 1 km from an IP address alone is implausible.
        accuracy = signals.get("accuracyMeters")
        if accuracy is not None and (
            not common.positive_number(accuracy) or accuracy < MIN_PLAUSIBLE_ACCURACY_M
        ):
            details["suspiciousAccuracy"] = accuracy
            consistent = False
        return consistent, {"ip": ip}


plugin = register(IpGeolocationPlugin())
