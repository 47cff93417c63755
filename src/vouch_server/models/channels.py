"""Tables of the messaging channels: per-person links (Telegram), recorded/sent outbound
messages, message templates and a project's own provider credentials (BYOC)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from vouch_server.models.base import Base, UTCDateTime


class ChannelLink(Base):
    """What a messaging account told us: a Telegram user's own shared phone number and the
    verification its last code pointed at. Keyed by the bot that heard it."""

    __tablename__ = "channel_links"
    __table_args__ = (UniqueConstraint("bot", "provider", "external_user_id"),)

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    bot: Mapped[str] = mapped_column(String(64))  # "default" or a credential id
    provider: Mapped[str] = mapped_column(String(20))
    external_user_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    phone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verification_id: Mapped[str | None] = mapped_column(String(24))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboundMessage(Base):
    """Messages vouch sent, or — in test mode — recorded instead of sending."""

    __tablename__ = "outbound_messages"
    __table_args__ = (
        Index("ix_outbound_messages_scope", "project_id", "environment", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment: Mapped[str] = mapped_column(String(4))
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(320))
    message_type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10))  # recorded | sent | failed
    # Test mode keeps the rendered message so developers can see it; live mode keeps none
    # (it may carry a code).
    body: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    verification_id: Mapped[str | None] = mapped_column(String(24), index=True)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MessageTemplate(Base):
    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("project_id", "channel", "message_type"),)

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    message_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(String(200))
    button_text: Mapped[str | None] = mapped_column(String(50))
    button_url_template: Mapped[str | None] = mapped_column(String(500))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChannelCredential(Base):
    """A project's own provider account (bring your own channel), sealed at rest."""

    __tablename__ = "channel_credentials"
    __table_args__ = (UniqueConstraint("project_id", "channel"),)

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    sealed: Mapped[str] = mapped_column(Text)
    # Non-secret routing facts (a bot username, a phone number id) for lookups and display.
    public: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
