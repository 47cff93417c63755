"""Verification requests: one ask for several assets (proof.holdings ``/api/v1/verification-requests``).

A request owns 1–10 asset slots. Each slot is backed, once its identifier is known, by an ordinary
row in ``verifications`` — the proof a slot carries is that verification's proof, minted by the
same code as for a single verification.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vouch_server.models.base import Base, UTCDateTime


class VerificationRequest(Base):
    __tablename__ = "verification_requests"
    __table_args__ = (
        Index("ix_verification_requests_scope_created", "project_id", "environment", "created_at"),
        Index("ix_verification_requests_reference", "project_id", "environment", "reference_id"),
        Index("ix_verification_requests_status_expiry", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment: Mapped[str] = mapped_column(String(4))  # "test" | "live"
    reference_id: Mapped[str | None] = mapped_column(String(255))
    # pending | partial | completed | expired | cancelled
    status: Mapped[str] = mapped_column(String(10))
    action_type: Mapped[str] = mapped_column(String(20))
    action_context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    client_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    partial_ok: Mapped[bool] = mapped_column(Boolean)
    validity_requirement: Mapped[str | None] = mapped_column(String(16))
    redirect_url: Mapped[str | None] = mapped_column(String(2048))
    callback_url: Mapped[str | None] = mapped_column(String(2048))
    public_profile_id: Mapped[str | None] = mapped_column(String(64))
    proof_expiry_days: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VerificationRequestAsset(Base):
    __tablename__ = "verification_request_assets"
    __table_args__ = (
        UniqueConstraint("request_id", "position"),
        Index("ix_verification_request_assets_verification", "verification_id", unique=True),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("verification_requests.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)  # the asset's index in the request, from 0
    type: Mapped[str] = mapped_column(String(20))
    # The normalized identifier the integrator fixed; None when the person provides it.
    identifier: Mapped[str | None] = mapped_column(String(500))
    channel: Mapped[str | None] = mapped_column(String(30))  # the preferred channel, as asked
    allowed_channels: Mapped[list[str]] = mapped_column(JSON)
    required: Mapped[bool] = mapped_column(Boolean)
    # pending | verified | failed | expired | revoked: the backing verification's outcome
    status: Mapped[str] = mapped_column(String(10))
    verification_id: Mapped[str | None] = mapped_column(
        ForeignKey("verifications.id", ondelete="SET NULL")
    )
    verified_identifier: Mapped[str | None] = mapped_column(String(500))
    verified_channel: Mapped[str | None] = mapped_column(String(30))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
