"""Tables of the HITL config lifecycle (``vouch_server.approval``).

- ``hitl_keypairs``: a HITL config's end-to-end encryption keypair, as the owner's client made it
  (proof.holdings' envelope: RSA-4096 public key, the private key wrapped under a password the
  server never receives). vouch stores and hands back what it was given; it cannot decrypt any
  of it.
- ``hitl_approver_keys``: public keys of enrolled approvers (one per authorization), so a client
  can wrap a message's content key for each of them (envelope v2).
- ``chat_id_discoveries``: a deep link to the Telegram bot that tells the caller the chat id of
  whoever opens it. Only the SHA-256 of the link's token is stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vouch_server.models.base import Base, UTCDateTime


class HitlKeypair(Base):
    __tablename__ = "hitl_keypairs"

    hitl_id: Mapped[str] = mapped_column(
        ForeignKey("hitl_configs.id", ondelete="CASCADE"), primary_key=True
    )
    public_key: Mapped[str] = mapped_column(Text)  # PEM (SPKI)
    kid: Mapped[str] = mapped_column(String(64))  # hex SHA-256 of the DER public key
    encrypted_private_key: Mapped[str] = mapped_column(Text)  # opaque to the server
    kdf_salt: Mapped[str] = mapped_column(String(200))
    wrapped_dek: Mapped[str | None] = mapped_column(Text)
    dek_iv: Mapped[str | None] = mapped_column(String(200))
    dek_tag: Mapped[str | None] = mapped_column(String(200))
    backup_wrapped_dek: Mapped[str | None] = mapped_column(Text)
    backup_dek_iv: Mapped[str | None] = mapped_column(String(200))
    backup_dek_tag: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HitlApproverKey(Base):
    __tablename__ = "hitl_approver_keys"

    hitl_id: Mapped[str] = mapped_column(
        ForeignKey("hitl_configs.id", ondelete="CASCADE"), primary_key=True
    )
    authorization_id: Mapped[str] = mapped_column(
        ForeignKey("authorizations.id", ondelete="CASCADE"), primary_key=True
    )
    public_key: Mapped[str] = mapped_column(Text)
    kid: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChatIdDiscovery(Base):
    __tablename__ = "chat_id_discoveries"
    __table_args__ = (Index("ix_chat_id_discoveries_expiry", "expires_at"),)

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment: Mapped[str] = mapped_column(String(4))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10))  # pending | completed
    bot: Mapped[str | None] = mapped_column(String(64))  # which bot's chat the id belongs to
    chat_id: Mapped[str | None] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
