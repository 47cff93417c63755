"""Public profiles (``vouch_server.profiles``): how a project presents itself on its public pages
(``/p/{profile_id}``, ``/@{username}``) and which of its verified assets it chooses to show there."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from vouch_server.models.base import Base, UTCDateTime


class Profile(Base):
    __tablename__ = "profiles"
    __table_args__ = (
        Index("ix_profiles_scope_created", "project_id", "environment", "created_at"),
        # One primary per project and environment: the marker is "1" on the primary and NULL on
        # every other profile, and NULLs never collide in a unique index (SQLite, PostgreSQL).
        Index("ix_profiles_primary", "project_id", "environment", "primary_marker", unique=True),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    # The public handle in /p/{profile_id}; the internal id is never accepted there.
    profile_id: Mapped[str] = mapped_column(String(16), unique=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment: Mapped[str] = mapped_column(String(4))  # "test" | "live"
    username: Mapped[str | None] = mapped_column(String(30), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    bio: Mapped[str | None] = mapped_column(String(500))
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    business_name: Mapped[str | None] = mapped_column(String(200))
    is_business: Mapped[bool] = mapped_column(Boolean, default=False)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    primary_marker: Mapped[str | None] = mapped_column(String(1))
    show_verification_dates: Mapped[bool] = mapped_column(Boolean, default=True)
    show_proof_channels: Mapped[bool] = mapped_column(Boolean, default=False)
    show_delegations: Mapped[bool] = mapped_column(Boolean, default=False)
    theme: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    custom_links: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # [{asset_id, is_visible, mask_level, display_order, label}]: the verifications to show.
    proofs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    email_theme: Mapped[str | None] = mapped_column(String(5))
    support_email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def is_primary(self) -> bool:
        return self.primary_marker is not None
