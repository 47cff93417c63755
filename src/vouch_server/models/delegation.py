"""Tables of Proof of Delegation and Proof of Action (authorizations, HITL configs, confirmations).

- ``authorizations``: a person's consent to receive approval requests from a project over one
  channel (seed "Proof of Delegation").
- ``hitl_configs``: who is asked, over which channels, with which timeout.
- ``confirmations``: one approval request and (once decided) its one decision.
- ``confirmation_messages``: what was sent for a confirmation on each channel (provider message
  ids, so a reply can be matched and the message updated with the outcome).
- ``approval_links``: single-use signed links (the hosted approval page, email links, email
  consent); the token itself is never stored, only its id, expiry and whether it was used.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from vouch_server.models.base import Base, UTCDateTime


class Authorization(Base):
    __tablename__ = "authorizations"
    __table_args__ = (
        Index("ix_authorizations_scope_created", "project_id", "environment", "created_at"),
        Index("ix_authorizations_recipient", "channel", "recipient", "status"),
        Index("ix_authorizations_status_expiry", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment: Mapped[str] = mapped_column(String(4))
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(320))
    recipient_hash: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(64))
    business_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10))  # pending|active|denied|expired|revoked
    lifetime_seconds: Mapped[int] = mapped_column(Integer)
    # Opaque handles: the Telegram deep-link token (its SHA-256) and the buttons' key.
    start_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    callback_key: Mapped[str] = mapped_column(String(24), unique=True)
    prompt_message_id: Mapped[str | None] = mapped_column(String(128))
    # pending: until when the person may answer; active: until when the consent holds.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_hash: Mapped[str | None] = mapped_column(String(64))
    proof_token: Mapped[str | None] = mapped_column(Text)
    proof_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A revocation reason is free text (proof.holdings' SDK 1.2.0), up to 500 characters.
    revoked_reason: Mapped[str | None] = mapped_column(String(500))
    revoked_by: Mapped[str | None] = mapped_column(String(10))  # "api" | "recipient"
    # The HITL config (approval setup) the consent was asked for, when the caller named one.
    hitl_id: Mapped[str | None] = mapped_column(String(24))
    # Approval requests delivered on the strength of this consent, and the last one's time.
    confirmations_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HitlConfig(Base):
    __tablename__ = "hitl_configs"
    __table_args__ = (
        Index("ix_hitl_configs_scope_created", "project_id", "environment", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment: Mapped[str] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(String(100))
    channels: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    timeout_seconds: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))  # pending | active | archived
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Confirmation(Base):
    __tablename__ = "confirmations"
    __table_args__ = (
        Index("ix_confirmations_scope_created", "project_id", "environment", "created_at"),
        Index("ix_confirmations_status_expiry", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment: Mapped[str] = mapped_column(String(4))
    hitl_id: Mapped[str] = mapped_column(ForeignKey("hitl_configs.id"), index=True)
    message: Mapped[str] = mapped_column(Text)
    message_hash: Mapped[str] = mapped_column(String(64))
    # True when ``message`` is a client-made ciphertext envelope (HITL end-to-end encryption).
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(10))  # pending|approved|denied|expired
    timeout_seconds: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    proof_lifetime_seconds: Mapped[int] = mapped_column(Integer)
    callback_key: Mapped[str] = mapped_column(String(24), unique=True)
    # What the channels were told at creation: [{type, recipient?, status, error?}].
    channel_report: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    response_action: Mapped[str | None] = mapped_column(String(10))  # approve | deny
    response_text: Mapped[str | None] = mapped_column(Text)
    response_channel: Mapped[str | None] = mapped_column(String(20))
    decided_by_hash: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    proof_token: Mapped[str | None] = mapped_column(Text)
    proof_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConfirmationMessage(Base):
    __tablename__ = "confirmation_messages"
    __table_args__ = (
        Index("ix_confirmation_messages_provider", "channel", "recipient", "provider_message_id"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    confirmation_id: Mapped[str] = mapped_column(
        ForeignKey("confirmations.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(320))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(10))  # sent | failed | recorded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApprovalLink(Base):
    __tablename__ = "approval_links"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # web | email | consent
    subject_id: Mapped[str] = mapped_column(String(24), index=True)
    recipient: Mapped[str | None] = mapped_column(String(320))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
