"""Tables of the agent-proof family (ZeroProof surface).

``agents``            an integrator's AI agents, per project and environment, by the integrator's id
``agent_keys``        each agent's Ed25519 public keys (rotation keeps the old rows, revoked)
``agent_challenges``  one challenge per (agent, action) request; its id is the ZeroProof session id
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vouch_server.models.base import Base, UTCDateTime


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (
        # Agent ids are never reused, not even after deletion: an old proof token naming an
        # agent id must not come to mean a different agent.
        UniqueConstraint("project_id", "environment", "agent_id", name="uq_agents_scope_agent_id"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment: Mapped[str] = mapped_column(String(4))  # "test" | "live"
    agent_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AgentKey(Base):
    __tablename__ = "agent_keys"
    __table_args__ = (
        # A key belongs to one agent, forever: a revoked key cannot come back under any agent.
        UniqueConstraint("project_id", "environment", "kid", name="uq_agent_keys_scope_kid"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    agent_pk: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment: Mapped[str] = mapped_column(String(4))
    kid: Mapped[str] = mapped_column(String(64))  # RFC 7638 JWK thumbprint, base64url
    public_key: Mapped[str] = mapped_column(String(64))  # raw 32-byte key, base64url
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The key's own signature of the Web Bot Auth key directory (agents/httpsig.py).
    directory_signature_params: Mapped[str | None] = mapped_column(String(512))
    directory_signature: Mapped[str | None] = mapped_column(String(128))
    directory_signature_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AgentChallenge(Base):
    __tablename__ = "agent_challenges"
    __table_args__ = (
        Index("ix_agent_challenges_scope_created", "project_id", "environment", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)  # "ch_" + 16 alphanumerics
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment: Mapped[str] = mapped_column(String(4))
    agent_pk: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(128))
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    context_sha256: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10))  # pending | verified | failed | expired
    method: Mapped[str | None] = mapped_column(String(30))
    key_kid: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The minted proof's id (the token's ``sub``): an ObjectId, like every vouch proof id.
    proof_id: Mapped[str | None] = mapped_column(String(24), unique=True)
    proof_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
