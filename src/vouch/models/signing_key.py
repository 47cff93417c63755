"""Token signing keys. The private JWK is sealed with AES-256-GCM (see ``kit.secretbox``) so every
process sharing the database shares the keys, and a copy of the database alone cannot sign."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vouch.models.base import Base, UTCDateTime


class SigningKey(Base):
    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(String(10))
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    private_jwk_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Published from creation; signs from ``not_before`` until a newer key's ``not_before``.
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when a key must stop being trusted at once (compromise): unpublished immediately.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
