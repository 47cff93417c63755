"""Structured outputs of the MCP tools (each tool's ``outputSchema``).

The fields a model reasons with are named and typed; everything else vouch answers passes
through unchanged (``extra="allow"``), so a newer server's extra fields are never lost.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Result(_Open):
    """vouch's JSON response, as the API returned it."""


class Page(_Open):
    """One page of a list: ``data`` and, where the endpoint pages, ``pagination``."""

    data: list[dict[str, Any]] = Field(description="The items on this page.")
    pagination: dict[str, Any] | None = Field(
        default=None, description="hasMore, total, page, limit and nextPage when there is more."
    )


class Verification(_Open):
    """A Proof of Control verification."""

    id: str
    status: str = Field(description="pending, verified, failed, expired or revoked.")
    type: str | None = None
    channel: str | None = None
    identifier: str | None = None
    test_mode: bool | None = None
    verified_at: str | None = None
    proof_token: str | None = Field(
        default=None, description="The signed proof (a JWT), once verified."
    )
    challenge: dict[str, Any] | None = Field(
        default=None, description="Only on create: what the person must do (code, deep link…)."
    )


class VerificationWait(Verification):
    timed_out: bool = Field(description="True when the wait ended with the verification pending.")
    waited_seconds: float


class ProofValidation(_Open):
    """The server's answer about a proof token."""

    valid: bool
    reason: str | None = Field(default=None, description="Why not, when valid is false.")
    message: str | None = None


class OfflineVerification(_Open):
    """The result of checking a proof token locally against the issuer's published keys."""

    valid: bool
    reason: str | None = Field(
        default=None,
        description="Why not, when valid is false: invalid_signature, expired, revoked, "
        "environment_mismatch, unknown_key, status_unavailable, jwks_unavailable, …",
    )
    message: str | None = None
    test: bool = Field(description="True for a test-mode proof, which is never evidence.")
    claims: dict[str, Any] | None = Field(
        default=None, description="Every claim of the token, when valid."
    )
    jwks_url: str


class Confirmation(_Open):
    """A human-in-the-loop confirmation (Proof of Action)."""

    id: str
    status: str = Field(description="pending, approved, denied or expired.")
    hitl_id: str | None = None
    message: str | None = None
    expires_at: str | None = None
    test_mode: bool | None = None
    response: dict[str, Any] | None = Field(
        default=None, description="The decision: action (approve|deny), text, channel, time."
    )
    proof_token: str | None = Field(
        default=None, description="The signed proof of the decision (a JWT), once decided."
    )
    approval_url: str | None = None


class ConfirmationWait(Confirmation):
    timed_out: bool = Field(description="True when the wait ended with no decision yet.")
    approved: bool = Field(description="True only when a human approved.")
    waited_seconds: float


class AgentProof(_Open):
    """The body to send to verify_agent_proof."""

    challenge_id: str
    proof: str = Field(description="Ed25519 signature, hex.")
