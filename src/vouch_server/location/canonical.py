"""JSON text exactly as JavaScript's ``JSON.stringify`` writes it (ECMA-262 §25.5.2).

Astral's stamps are signed over ``JSON.stringify`` of the stamp with its keys sorted, and its
``proofHash`` is the keccak-256 of ``JSON.stringify(proof)``. Python's ``json.dumps`` differs from
JavaScript in how it writes numbers (``5.0`` vs ``5``, ``1e-07`` vs ``1e-7``, ``1e+16`` vs
``10000000000000000``) and lone surrogates, so both texts are produced here:

* numbers by ECMA-262 §6.1.6.1.20 ``Number::toString`` from the shortest round-trip digits
  (which Python's ``repr`` yields, as JavaScript engines do); integers beyond 2^53 go through a
  double first, as ``JSON.parse`` would have read them;
* strings with JavaScript's escapes (``\\b \\t \\n \\f \\r``, other controls and lone
  surrogates as lowercase ``\\uXXXX``, everything else literal);
* no whitespace; object keys either sorted by UTF-16 code units (``sort_keys``, the stamp
  signing form) or in the order they were received (``JSON.stringify`` of the parsed body).

Most documents hold nothing on which the two languages differ: no integral or exponent-form
floats, no integers beyond 2^53, no array-index keys, no keys whose code-point order is not their
UTF-16 order, no lone surrogates. Those are written by the C encoder of ``json`` after one cheap
walk over their containers has shown it; everything else by the writer below.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from json.encoder import encode_basestring as _encode_basestring
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_SAFE_INTEGER = 2**53 - 1
MAX_DEPTH = 64
# Python's repr writes a finite float positionally, with the shortest round-trip digits as
# JavaScript does, exactly when 1e-4 <= |x| < 1e16; an integral one still gains ".0".
_REPR_POSITIONAL = (1e-4, 1e16)
_COMPACT = {
    sort_keys: json.JSONEncoder(
        ensure_ascii=False,
        allow_nan=False,
        check_circular=False,
        sort_keys=sort_keys,
        separators=(",", ":"),
    )
    for sort_keys in (False, True)
}
# Key sets already judged (the same few repeat across the stamps of a proof); only small ones
# are kept, and the whole map is dropped when full, so it stays a few hundred kilobytes.
_PLAIN_KEYS: dict[tuple[Any, ...], bool] = {}
_PLAIN_KEYS_MAX = 4096
_PLAIN_KEYS_WIDEST = 32


class JsonTooDeep(ValueError):
    pass


def js_number(value: float | int) -> str:
    """``Number::toString(value)`` for a finite double (non-finite numbers serialize as null)."""
    if isinstance(value, int):
        if -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER:
            return str(value)
        value = float(value)
    if not math.isfinite(value):
        return "null"
    if value == 0:
        return "0"  # -0 too
    text = repr(value)
    sign = ""
    if text[0] == "-":
        sign, text = "-", text[1:]
    mantissa, _, exp_text = text.partition("e")
    exponent = int(exp_text) if exp_text else 0
    int_part, _, frac_part = mantissa.partition(".")
    all_digits = (int_part + frac_part).lstrip("0")
    # value = int(all_digits) × 10^(exponent − len(frac_part)); as ECMA-262 writes it,
    # value = d × 10^(n − k) with k the digit count of d (no trailing zeros).
    n = len(all_digits) + exponent - len(frac_part)
    digits = all_digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        exp_out = ("+" if e >= 0 else "-") + str(abs(e))
        body = (digits if k == 1 else digits[0] + "." + digits[1:]) + "e" + exp_out
    return sign + body


def js_string(value: str) -> str:
    # json already escapes as JavaScript does except for lone surrogates, which Python writes
    # raw and JavaScript (well-formed JSON.stringify, ES2019) escapes.
    text: str = _encode_basestring(value)
    if value.isascii():
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _utf16_key(key: str) -> list[int]:
    encoded = key.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(encoded[i : i + 2], "big") for i in range(0, len(encoded), 2)]


def _is_array_index(key: str) -> bool:
    return (
        key.isascii() and key.isdigit() and (key == "0" or key[0] != "0") and (int(key) < 2**32 - 1)
    )


def _property_order(keys: list[str], sort_keys: bool) -> list[str]:
    """The order JavaScript enumerates an object's keys (ECMA-262 §10.1.11.1
    OrdinaryOwnPropertyKeys): array indices ascending, then the other keys in creation order —
    for a ``sort_keys`` object, created in ``Array.prototype.sort`` order (UTF-16 code units)."""
    indices = sorted((k for k in keys if _is_array_index(k)), key=int)
    others = [k for k in keys if not _is_array_index(k)]
    if sort_keys:
        others.sort(key=_utf16_key)
    return indices + others


def stringify(value: Any, *, sort_keys: bool = False) -> str:
    """``JSON.stringify(value)`` (with every object's keys sorted when ``sort_keys``)."""
    if _written_alike(value, sort_keys):
        text: str = _COMPACT[sort_keys].encode(value)
        if text.isascii() or _SURROGATE.search(text) is None:
            return text
    parts: list[str] = []
    _write(value, parts, sort_keys, 0)
    return "".join(parts)


def _plain_keys(obj: dict[Any, Any], sort_keys: bool) -> bool:
    """Whether json writes ``obj``'s keys in JavaScript's order: string keys, none an array
    index, and (sorted) none at or above U+D800, where code-point order and UTF-16 code-unit
    order part."""
    if len(obj) > _PLAIN_KEYS_WIDEST:
        return _judge_keys(obj, sort_keys)
    cache_key = (sort_keys, *obj)
    known = _PLAIN_KEYS.get(cache_key)
    if known is None:
        known = _judge_keys(obj, sort_keys)
        if len(_PLAIN_KEYS) >= _PLAIN_KEYS_MAX:
            _PLAIN_KEYS.clear()
        _PLAIN_KEYS[cache_key] = known
    return known


def _judge_keys(keys: Iterable[Any], sort_keys: bool) -> bool:
    for key in keys:
        if type(key) is not str or _is_array_index(key):
            return False
        if sort_keys and key and max(key) >= "\ud800":
            return False
    return True


def _plain_float(value: float) -> bool:
    low, high = _REPR_POSITIONAL
    return low <= abs(value) < high and not value.is_integer()


def _plain_scalar(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER)
    return kind is float and _plain_float(value)


def _written_alike(value: Any, sort_keys: bool) -> bool:
    """Whether ``json``'s compact encoder writes ``value`` as ``JSON.stringify`` does, lone
    surrogates aside (the caller looks for them in the text). Exact ``dict``/``list``/scalar
    types only, and nothing nested deeper than ``MAX_DEPTH``, which ``_write`` refuses.

    (``_plain_scalar`` written out in the loop: this walk is on every proof's path, twice.)"""
    if type(value) is not dict and type(value) is not list:
        return _plain_scalar(value)
    low, high = _REPR_POSITIONAL
    level: list[Any] = [value]
    depth = 0
    while level:
        if depth == MAX_DEPTH and any(level):
            return False  # a value below this level is too deep
        below: list[Any] = []
        push = below.append
        for item in level:
            children: Any = item
            if type(item) is dict:
                if not _plain_keys(item, sort_keys):
                    return False
                children = item.values()
            for child in children:
                kind = type(child)
                if kind is str:
                    continue
                if kind is dict or kind is list:
                    push(child)
                elif kind is float:
                    if not low <= abs(child) < high or child.is_integer():
                        return False
                elif kind is int:
                    if not -_MAX_SAFE_INTEGER <= child <= _MAX_SAFE_INTEGER:
                        return False
                elif kind is not bool and child is not None:
                    return False
        level = below
        depth += 1
    return True


def _write(value: Any, out: list[str], sort_keys: bool, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise JsonTooDeep("JSON nested too deeply")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int | float):
        out.append(js_number(value))
    elif isinstance(value, str):
        out.append(js_string(value))
    elif isinstance(value, dict):
        keys = _property_order(list(value), sort_keys)
        out.append("{")
        for index, key in enumerate(keys):
            if index:
                out.append(",")
            out.append(js_string(str(key)))
            out.append(":")
            _write(value[key], out, sort_keys, depth + 1)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out, sort_keys, depth + 1)
        out.append("]")
    else:
        raise TypeError(f"not JSON: {type(value).__name__}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse(text: bytes | str) -> Any:
    """Strict JSON (RFC 8259): no NaN/Infinity, nesting at most ``MAX_DEPTH``."""
    value = json.loads(text, parse_constant=_reject_constant)
    _check_depth(value)
    return value


def _check_depth(value: Any) -> None:
    # Level by level over the containers only: a value deeper than MAX_DEPTH exists exactly
    # when some container at MAX_DEPTH is not empty.
    level = [value] if type(value) is dict or type(value) is list else []
    for _ in range(MAX_DEPTH):
        if not level:
            return
        below: list[Any] = []
        for item in level:
            for child in item.values() if type(item) is dict else item:
                if type(child) is dict or type(child) is list:
                    below.append(child)
        level = below
    if any(level):
        raise JsonTooDeep("JSON nested too deeply")


def may_hold_lone_surrogate(raw: bytes) -> bool:
    """False when ``parse(raw)`` cannot hold a lone surrogate: ASCII with no NUL byte is read as
    UTF-8 (RFC 8259 §8.1), so a surrogate could only come from a ``\\u`` escape."""
    return not raw.isascii() or b"\x00" in raw or b"\\u" in raw
