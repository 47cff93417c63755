"""Token Status Lists (draft-ietf-oauth-status-list, the version proof.holdings' SDK 1.2.0 reads).

Every proof token carries ``status: {status_list: {idx, uri}}`` (§6.1). ``idx`` is the proof's slot
in one list of ``LIST_SIZE`` slots; ``uri`` is that list on this server's own origin
(``{public_url}/statuslists/{environment}/{n}``), because verifiers only fetch a list from the
origin they are configured against.

A list is served as a Status List Token (§5.1): a JWT with header ``typ: statuslist+jwt``, signed
by the environment's ``status-list`` key (published with ``proof_purpose: "status-list"``), whose
claims are ``sub`` (the list's own uri), ``iat``, ``exp``, ``ttl`` and
``status_list: {bits: 2, lst}``. ``lst`` is the byte array — slot ``i`` in bits
``2*(i%4)..2*(i%4)+1`` of byte ``i//4`` (§4.1, least significant first) — compressed with DEFLATE
in the ZLIB data format (RFC 1950/1951) and base64url-encoded without padding. Slot values (§7.1):
``0`` valid, ``1`` invalid (revoked), ``2`` suspended.

Indexes come from a PostgreSQL sequence (drawn outside the transaction: concurrent issuers on many
processes never collide nor wait) or, on SQLite, a counter row. Neither ever hands out an index
twice, so a revoked slot can never come to describe another proof.
"""

from __future__ import annotations

import base64
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.config import Settings
from vouch_server.kit.clock import utcnow
from vouch_server.models import Proof
from vouch_server.signing.keys import STATUS_LIST_TOKEN_LIFETIME

BITS = 2
LIST_SIZE = 1 << 20  # slots per list: 256 KiB before compression
STATUS_VALID = 0
STATUS_INVALID = 1
STATUS_SUSPENDED = 2
MEDIA_TYPE = "application/statuslist+jwt"
TOKEN_TYPE = "statuslist+jwt"  # noqa: S105 - a media type, not a secret
COUNTER = "proofs"


async def allocate_index(session: AsyncSession) -> int:
    """A fresh, never reused status index."""
    if session.get_bind().dialect.name == "postgresql":
        drawn = await session.scalar(text("SELECT nextval('proof_status_idx')"))
        return int(drawn)
    # SQLite has one writer at a time: the UPDATE takes the write lock, so the read-increment is
    # atomic across connections and processes.
    statement = text(
        "UPDATE status_list_counters SET next_idx = next_idx + 1 WHERE name = :name "
        "RETURNING next_idx - 1"
    )
    value = await session.scalar(statement, {"name": COUNTER})
    if value is None:
        await session.execute(
            text("INSERT OR IGNORE INTO status_list_counters (name, next_idx) VALUES (:name, 0)"),
            {"name": COUNTER},
        )
        value = await session.scalar(statement, {"name": COUNTER})
    return int(value)


def list_uri(settings: Settings, environment: str, list_no: int) -> str:
    return f"{settings.public_url}/statuslists/{environment}/{list_no}"


def reference(settings: Settings, environment: str, index: int) -> dict[str, Any]:
    """The ``status`` claim of the token holding global index ``index``."""
    return {
        "status_list": {
            "idx": index % LIST_SIZE,
            "uri": list_uri(settings, environment, index // LIST_SIZE),
        }
    }


def encode_list(statuses: Iterable[tuple[int, int]], size: int = LIST_SIZE) -> str:
    """``lst`` for (slot, status) pairs; every other slot is valid (§4.1)."""
    per_byte = 8 // BITS
    data = bytearray(size // per_byte)
    for slot, status in statuses:
        data[slot // per_byte] |= status << ((slot % per_byte) * BITS)
    compressed = zlib.compress(bytes(data), 9)
    return base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


def decode_list(lst: str) -> bytes:
    return zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))


def read_slot(data: bytes, slot: int) -> int | None:
    per_byte = 8 // BITS
    if slot < 0 or slot // per_byte >= len(data):
        return None
    return (data[slot // per_byte] >> ((slot % per_byte) * BITS)) & ((1 << BITS) - 1)


@dataclass
class _Cached:
    token: bytes
    built_at: float


class StatusLists:
    """Builds, signs and caches each list. A process rebuilds a list at most every half ``ttl``;
    a revocation made by this process drops its cached copy at once."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._cache: dict[tuple[str, int], _Cached] = {}

    @property
    def ttl(self) -> int:
        return self._settings.status_list_ttl_seconds

    def invalidate(self, environment: str | None = None) -> None:
        if environment is None:
            self._cache.clear()
        else:
            for key in [k for k in self._cache if k[0] == environment]:
                del self._cache[key]

    async def statuses(
        self, session: AsyncSession, environment: str, list_no: int
    ) -> list[tuple[int, int]]:
        low = list_no * LIST_SIZE
        rows = await session.execute(
            select(Proof.status_idx).where(
                Proof.revoked_at.is_not(None),
                Proof.environment == environment,
                Proof.status_idx >= low,
                Proof.status_idx < low + LIST_SIZE,
            )
        )
        return [(int(idx) - low, STATUS_INVALID) for (idx,) in rows if idx is not None]

    async def token(
        self, session: AsyncSession, tokens: Any, environment: str, list_no: int
    ) -> bytes:
        key = (environment, list_no)
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached is not None and now - cached.built_at < self.ttl / 2:
            return cached.token
        lst = encode_list(await self.statuses(session, environment, list_no))
        issued = int(utcnow().timestamp())
        claims = {
            "sub": list_uri(self._settings, environment, list_no),
            "iat": issued,
            "exp": issued + int(STATUS_LIST_TOKEN_LIFETIME.total_seconds()),
            "ttl": self.ttl,
            "status_list": {"bits": BITS, "lst": lst},
        }
        signed = await tokens.sign_status_list(session, environment, claims)
        self._cache[key] = _Cached(signed.encode(), now)
        return self._cache[key].token
