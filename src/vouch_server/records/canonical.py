"""Minka Ledger's record hash and proof digest.

``hash   = sha256_hex(stable_stringify(data))``
``digest = sha256_hex(hash + stable_stringify(custom))``

``stable_stringify`` is ``JSON.stringify`` with object keys sorted recursively and no whitespace,
which is byte for byte RFC 8785 (JSON Canonicalization Scheme): keys sorted by UTF-16 code units,
numbers written as ECMAScript ``Number.prototype.toString`` writes them (``1.0`` → ``1``,
``1e21`` → ``1e+21``), strings escaped as ``JSON.stringify`` escapes them. The ``rfc8785`` package
implements it. Numbers a JavaScript client would silently round — integers beyond 2^53 − 1 — and
values JSON cannot carry (NaN, infinities) are refused with the path of the offending value, so a
signer never signs something that another implementation would hash differently.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import rfc8785

MAX_SAFE_INTEGER = 2**53 - 1


class UnsafeValue(ValueError):
    """A value that cannot be hashed identically by every client; ``path`` says where it is."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def check_json_safe(value: Any, path: str = "data") -> None:
    """Raise ``UnsafeValue`` for anything ``stable_stringify`` must not be asked to write."""
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise UnsafeValue(
                path, "integers beyond 2^53 - 1 cannot be carried exactly by JSON; send a string"
            )
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnsafeValue(path, "NaN and infinities are not JSON numbers")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            check_json_safe(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise UnsafeValue(path, "object keys must be strings")
            check_json_safe(item, f"{path}.{key}")
        return
    raise UnsafeValue(path, f"{type(value).__name__} is not a JSON value")


def stable_stringify(value: Any) -> str:
    check_json_safe(value, "value")
    return rfc8785.dumps(value).decode("utf-8")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_hash(data: dict[str, Any]) -> str:
    return sha256_hex(stable_stringify(data))


def proof_digest(record_hash_hex: str, custom: dict[str, Any] | None) -> str:
    """Minka's ``createSignatureDigest``: a proof without ``custom`` (absent or ``null``) signs
    the hash followed by nothing; any object, ``{}`` included, is appended stable-stringified."""
    suffix = "" if custom is None else stable_stringify(custom)
    return sha256_hex(record_hash_hex + suffix)
