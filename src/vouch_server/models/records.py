"""Tables of the signed-records family (Minka Ledger surface).

``records``             the current version of each record: data, hash, status, labels, owners
``record_versions``     every version of a record's data, oldest first; each names its parent's hash
``record_proofs``       every proof ever accepted on a record, append-only, in arrival order
``record_labels``       one row per label a record carries now, so lists can filter on labels
``record_transitions``  each completed status change and the proof token minted for it
``record_signer_keys``  the server's own Ed25519 signer (``system``), sealed at rest
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vouch_server.models.base import Base, UTCDateTime


class Record(Base):
    __tablename__ = "records"
    __table_args__ = (
        # Handles name records within one resource of one project and environment.
        UniqueConstraint(
            "project_id", "environment", "resource", "handle", name="uq_records_scope_handle"
        ),
        # A public key is one signer: proofs are attributed to signers by their key.
        UniqueConstraint("project_id", "environment", "public", name="uq_records_scope_public"),
        Index("ix_records_scope_created", "project_id", "environment", "resource", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment: Mapped[str] = mapped_column(String(4))  # "test" | "live"
    resource: Mapped[str] = mapped_column(String(40))  # "signers", "policies", "records", …
    luid: Mapped[str] = mapped_column(String(32), unique=True)
    handle: Mapped[str | None] = mapped_column(String(255))
    public: Mapped[str | None] = mapped_column(String(64))  # signers only: data.public
    hash: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(64))
    labels: Mapped[list[str]] = mapped_column(JSON)
    owners: Mapped[list[str]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    # Number of proofs appended so far; bumping it is also how a writer locks the row.
    proof_count: Mapped[int] = mapped_column(Integer)
    # ``proof_count`` when the status last changed: only later proofs vote on the next change.
    status_seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RecordVersion(Base):
    __tablename__ = "record_versions"
    __table_args__ = (
        UniqueConstraint("record_id", "version", name="uq_record_versions_record_version"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RecordProof(Base):
    __tablename__ = "record_proofs"
    __table_args__ = (
        # Two writers can never give out the same place in a record's trail.
        UniqueConstraint("record_id", "seq", name="uq_record_proofs_record_seq"),
        Index("ix_record_proofs_record_hash", "record_id", "hash"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))  # the record hash the proof signs
    method: Mapped[str] = mapped_column(String(20))
    public: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(128))
    # None for a proof signed without ``custom`` (stored as JSON null).
    custom: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RecordLabel(Base):
    __tablename__ = "record_labels"
    __table_args__ = (Index("ix_record_labels_label", "label"),)

    record_id: Mapped[str] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True
    )
    label: Mapped[str] = mapped_column(String(255), primary_key=True)


class RecordTransition(Base):
    __tablename__ = "record_transitions"
    __table_args__ = (Index("ix_record_transitions_record", "record_id", "issued_at"),)

    id: Mapped[str] = mapped_column(String(24), primary_key=True)  # the proof token's ``sub``
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    hash: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str] = mapped_column(String(64))
    to_status: Mapped[str] = mapped_column(String(64))
    signers: Mapped[list[str]] = mapped_column(JSON)
    token: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class RecordSignerKey(Base):
    __tablename__ = "record_signer_keys"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)  # "system"
    public: Mapped[str] = mapped_column(String(64))  # raw 32-byte key, base64
    private_sealed: Mapped[str] = mapped_column(Text)  # the 32-byte seed, kit.secretbox
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RecordJwtUse(Base):
    """A Minka SDK bearer JWT that has been used (by ``jti``, or by the token's own digest for a
    write without one), kept until it expires so that it is accepted once (``records.auth``)."""

    __tablename__ = "record_jwt_uses"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
