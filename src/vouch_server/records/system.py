"""vouch's own ``system`` signer: the Ed25519 key that signs every record vouch stores and every
list it returns, so that clients can verify responses offline.

One key per server, shared by every process through the database. The 32-byte seed is sealed with
AES-256-GCM (``kit.secretbox``) under its own HKDF purpose, the key's name as associated data — the
same treatment as the token-signing keys. It is created on first use; when two processes race to
create it, the primary key lets one win and the other reads the winner's key.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.exc import IntegrityError

from vouch_server.kit.clock import utcnow
from vouch_server.kit.secretbox import SecretBox, derive_key
from vouch_server.models.records import RecordSignerKey
from vouch_server.records.signatures import ProofInput, public_of, sign_proof
from vouch_server.runtime import Runtime

NAME = "system"
PURPOSE = "record-signer-keys"
_CACHE = "records.system_signer"
_LOCK = "records.system_signer_lock"


@dataclass(frozen=True)
class SystemSigner:
    private_key: Ed25519PrivateKey
    public: str
    created_at: datetime

    def sign(self, record_hash: str, custom: dict[str, Any]) -> ProofInput:
        return sign_proof(self.private_key, record_hash, custom)

    @property
    def luid(self) -> str:
        digest = hashlib.sha256(self.public.encode()).digest()
        return "$sgn." + base64.urlsafe_b64encode(digest).decode()[:17]


def _box(runtime: Runtime) -> SecretBox:
    return SecretBox(derive_key(runtime.settings.master_key, PURPOSE))


async def system_signer(runtime: Runtime) -> SystemSigner:
    """The server's signer, loaded (or created) once per process.

    Uses its own short transaction: call it before the request's unit of work writes anything,
    so that on SQLite it never waits for a lock its own request holds.
    """
    cached = runtime.extras.get(_CACHE)
    if isinstance(cached, SystemSigner):
        return cached
    lock = runtime.extras.setdefault(_LOCK, asyncio.Lock())
    assert isinstance(lock, asyncio.Lock)
    async with lock:
        cached = runtime.extras.get(_CACHE)
        if isinstance(cached, SystemSigner):
            return cached
        row = await _load(runtime)
        if row is None:
            # Another process may create it first: then read theirs.
            with contextlib.suppress(IntegrityError):
                await _create(runtime)
            row = await _load(runtime)
        assert row is not None
        seed = _box(runtime).open(row.private_sealed, NAME.encode())
        private_key = Ed25519PrivateKey.from_private_bytes(seed)
        if public_of(private_key) != row.public:
            raise RuntimeError("the sealed system signer key does not match its public key")
        signer = SystemSigner(private_key, row.public, row.created_at)
        runtime.extras[_CACHE] = signer
        return signer


async def _load(runtime: Runtime) -> RecordSignerKey | None:
    async with runtime.db.session() as session:
        return await session.get(RecordSignerKey, NAME)


async def _create(runtime: Runtime) -> None:
    private_key = Ed25519PrivateKey.generate()
    seed = private_key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    async with runtime.db.session() as session:
        session.add(
            RecordSignerKey(
                name=NAME,
                public=public_of(private_key),
                private_sealed=_box(runtime).seal(seed, NAME.encode()),
                created_at=utcnow(),
            )
        )
        await session.flush()
