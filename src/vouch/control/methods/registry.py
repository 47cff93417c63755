"""The (type, channel) → method map."""

from __future__ import annotations

from vouch.control.methods.base import VerificationMethod

_REGISTRY: dict[tuple[str, str], VerificationMethod] = {}


def register(method: VerificationMethod) -> VerificationMethod:
    _REGISTRY[(method.type, method.channel)] = method
    return method


def get_method(type_: str, channel: str) -> VerificationMethod:
    _ensure_loaded()
    return _REGISTRY[(type_, channel)]


def all_methods() -> dict[tuple[str, str], VerificationMethod]:
    _ensure_loaded()
    return dict(_REGISTRY)


# Modules that register methods, in order: a later module's registration replaces an earlier
# one for the same (type, channel), so specific methods override the ``code`` placeholders.
METHOD_MODULES = ("code", "domain", "wallet", "oauth", "bot")


def _ensure_loaded() -> None:
    if _REGISTRY:
        return
    import importlib

    for name in METHOD_MODULES:
        try:
            importlib.import_module(f"vouch.control.methods.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"vouch.control.methods.{name}":
                raise
