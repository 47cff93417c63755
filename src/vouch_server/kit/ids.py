"""Object ids.

proof.holdings' wire format uses MongoDB ObjectIds (24 lowercase hex characters) for every object,
and integrators validate ids with that pattern. vouch keeps the shape: 4 bytes of big-endian Unix
seconds (so ids sort roughly by creation time, as ObjectIds do) followed by 8 random bytes from the
operating system's CSPRNG (so ids are unguessable, unlike ObjectId's counter).
"""

from __future__ import annotations

import re
import secrets
import time

OBJECT_ID_RE = re.compile(r"^[0-9a-f]{24}$")


def new_object_id(now: float | None = None) -> str:
    seconds = int(time.time() if now is None else now) & 0xFFFFFFFF
    return seconds.to_bytes(4, "big").hex() + secrets.token_hex(8)


def is_object_id(value: str) -> bool:
    return bool(OBJECT_ID_RE.fullmatch(value))
