"""Token signing keys. The private JWK is sealed with AES-256-GCM (see ``kit.secretbox``) so every
process sharing the database shares the keys, and a copy of the database alone cannot sign."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vouch_server.models.base import Base, UTCDateTime


class SigningKey(Base):
    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(10))
    # ``live`` keys are published at /.well-known/jwks.json, ``test`` keys only at jwks-test.json:
    # a test token can never verify against the live key set.
    environment: Mapped[str] = mapped_column(String(4), server_default="live")
    # What the key may sign: ``proof`` tokens or ``status-list`` tokens (the JWKS ``proof_purpose``).
    purpose: Mapped[str] = mapped_column(String(16), server_default="proof")
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    private_jwk_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Published from creation; signs from ``not_before`` until a newer key's ``not_before``.
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    # End of the signing window, fixed at creation and only ever narrowed (to a successor's
    # ``not_before``): verifiers refuse a key set that widens a window they have seen.
    not_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when a key must stop being trusted at once (compromise): unpublished immediately.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StatusListCounter(Base):
    """Next Token Status List index, for SQLite (PostgreSQL draws from a sequence instead).

    Indexes are never reused: the counter only grows, whatever happens to the proofs."""

    __tablename__ = "status_list_counters"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_idx: Mapped[int] = mapped_column(BigInteger)
