"""A proof-of-control verification: an asset, its challenge, and (once verified) its proof."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vouch_server.models.base import Base, UTCDateTime


class Verification(Base):
    __tablename__ = "verifications"
    __table_args__ = (
        Index("ix_verifications_scope_created", "project_id", "environment", "created_at"),
        Index("ix_verifications_pending_expiry", "status", "challenge_expires_at"),
        Index("ix_verifications_code_digest", "code_digest"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment: Mapped[str] = mapped_column(String(4))  # "test" | "live"
    type: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(30))
    identifier: Mapped[str] = mapped_column(String(500))
    identifier_hash: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(10))
    code_digest: Mapped[str] = mapped_column(String(64))
    method_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    challenge_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    proof_lifetime_seconds: Mapped[int] = mapped_column(Integer)
    external_user_id: Mapped[str | None] = mapped_column(String(255), index=True)
    client_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    callback_url: Mapped[str | None] = mapped_column(String(2048))
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    proof_token: Mapped[str | None] = mapped_column(Text)
    proof_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
