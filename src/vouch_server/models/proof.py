"""Every proof token vouch has minted, whatever its family: what validation, status, revocation
and the revocation list read. The proof id is the token's ``sub``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from vouch_server.models.base import Base, UTCDateTime


class Proof(Base):
    __tablename__ = "proofs"
    __table_args__ = (
        Index("ix_proofs_revoked", "revoked_at", "id"),
        Index("ix_proofs_kid_expiry", "kid", "expires_at"),
        Index("ix_proofs_status_idx", "environment", "status_idx", unique=True),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment: Mapped[str] = mapped_column(String(4))
    family: Mapped[str] = mapped_column(String(20))  # "control", later "authorization", "agent", …
    type: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str | None] = mapped_column(String(30))
    jti: Mapped[str] = mapped_column(String(64), unique=True)
    kid: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    # The proof's slot in its environment's Token Status List (``status.status_list.idx`` is this
    # modulo the list size); None for proofs minted before status lists existed.
    status_idx: Mapped[int | None] = mapped_column(BigInteger)
