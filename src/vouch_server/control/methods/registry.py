"""The (type, channel) → method map."""

from __future__ import annotations

from vouch_server.control.methods.base import VerificationMethod

_REGISTRY: dict[tuple[str, str], VerificationMethod] = {}


_loaded = False


def register(method: VerificationMethod) -> VerificationMethod:
    _REGISTRY[(method.type, method.channel)] = method
    return method


def register_placeholder(method: VerificationMethod) -> VerificationMethod:
    """Register only if no real method has claimed the pair (modules may load in any order)."""
    return _REGISTRY.setdefault((method.type, method.channel), method)


def get_method(type_: str, channel: str) -> VerificationMethod:
    _ensure_loaded()
    return _REGISTRY[(type_, channel)]


def all_methods() -> dict[tuple[str, str], VerificationMethod]:
    _ensure_loaded()
    return dict(_REGISTRY)


# Modules that register methods. Real methods ``register``; the ``code`` module's stand-ins use
# ``register_placeholder``, so the result does not depend on which module is imported first.
METHOD_MODULES = ("code", "domain", "wallet", "oauth", "bot")


def _ensure_loaded() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import importlib

    for name in METHOD_MODULES:
        try:
            importlib.import_module(f"vouch_server.control.methods.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"vouch_server.control.methods.{name}":
                raise
