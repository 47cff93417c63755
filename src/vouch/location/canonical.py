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
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_SAFE_INTEGER = 2**53 - 1
MAX_DEPTH = 64


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
    # json.dumps already escapes as JavaScript does except for lone surrogates, which Python
    # writes raw and JavaScript (well-formed JSON.stringify, ES2019) escapes.
    text = json.dumps(value, ensure_ascii=False)
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
    parts: list[str] = []
    _write(value, parts, sort_keys, 0)
    return "".join(parts)


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
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise JsonTooDeep("JSON nested too deeply")
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
