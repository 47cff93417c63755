"""Phone verifications that are not tied to one channel up front.

``verification_groups`` / ``verification_group_members``: a multi-channel verification
(proof.holdings ``POST /api/v1/verifications/multi-channel``, ids ``vg_…``): one phone offered
over 1–4 channels at once, each channel an ordinary row in ``verifications``; the first to
complete wins the group.

``phone_sessions``: a phone-first session (proof.holdings ``POST /api/v1/sessions``, ids
``sess_…``): the person's number is not known when it starts; it is learnt from the provider's
authenticated message that carries the session's code, and the completed session points at the
ordinary verification (and proof) minted for that number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vouch_server.models.base import Base, UTCDateTime


class VerificationGroup(Base):
    __tablename__ = "verification_groups"
    __table_args__ = (
        Index("ix_verification_groups_scope_created", "project_id", "environment", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # vg_<24 hex>
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment: Mapped[str] = mapped_column(String(4))  # "test" | "live"
    type: Mapped[str] = mapped_column(String(20))  # "phone"
    identifier: Mapped[str] = mapped_column(String(500))  # normalized (E.164)
    status: Mapped[str] = mapped_column(String(10))  # pending | verified | expired
    winning_verification_id: Mapped[str | None] = mapped_column(
        ForeignKey("verifications.id", ondelete="SET NULL")
    )
    winning_channel: Mapped[str | None] = mapped_column(String(30))
    external_user_id: Mapped[str | None] = mapped_column(String(255))
    client_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VerificationGroupMember(Base):
    """One channel of a group: the verification behind it (a verification is in one group)."""

    __tablename__ = "verification_group_members"
    __table_args__ = (Index("ix_verification_group_members_group", "group_id", "position"),)

    verification_id: Mapped[str] = mapped_column(
        ForeignKey("verifications.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(ForeignKey("verification_groups.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # the channel's index in the request
    channel: Mapped[str] = mapped_column(String(30))


class PhoneSession(Base):
    __tablename__ = "phone_sessions"
    __table_args__ = (
        Index("ix_phone_sessions_code", "code_digest"),
        Index("ix_phone_sessions_telegram_user", "telegram_bot", "telegram_user_id"),
        Index("ix_phone_sessions_scope_created", "project_id", "environment", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # sess_<24 hex>
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment: Mapped[str] = mapped_column(String(4))
    channel: Mapped[str] = mapped_column(String(30))  # telegram | whatsapp | sms
    status: Mapped[str] = mapped_column(String(10))  # pending | verified | expired
    # HMAC of the code the person sends (``kit.codes.code_digest``); the code itself is not kept.
    code_digest: Mapped[str] = mapped_column(String(64))
    # Telegram: the user who opened the deep link; only that user's own contact completes it.
    telegram_bot: Mapped[str | None] = mapped_column(String(32))
    telegram_user_id: Mapped[str | None] = mapped_column(String(32))
    # Learnt from the provider on completion, never from the API caller.
    phone_number: Mapped[str | None] = mapped_column(String(32))
    verification_id: Mapped[str | None] = mapped_column(
        ForeignKey("verifications.id", ondelete="SET NULL")
    )
    client_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
