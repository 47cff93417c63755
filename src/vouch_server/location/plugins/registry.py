"""The plugin name → plugin map (one module per plugin under ``location/plugins``)."""

from __future__ import annotations

from vouch_server.location.plugins.base import LocationPlugin

_REGISTRY: dict[str, LocationPlugin] = {}
_loaded = False


def register(plugin: LocationPlugin) -> LocationPlugin:
    _REGISTRY[plugin.name] = plugin
    return plugin


def get_plugin(name: str) -> LocationPlugin | None:
    _ensure_loaded()
    return _REGISTRY.get(name)


def all_plugins() -> list[LocationPlugin]:
    _ensure_loaded()
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        # Importing the modules registers the built-in plugins.
        from vouch_server.location.plugins import (  # noqa: F401
            geoclue,
            gpsd,
            ip_geolocation,
            proofmode,
            wifi_mls,
            witnesschain,
        )
