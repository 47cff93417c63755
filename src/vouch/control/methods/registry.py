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


def _ensure_loaded() -> None:
    if not _REGISTRY:
        from vouch.control.methods import code  # noqa: F401  (registers the built-in methods)
