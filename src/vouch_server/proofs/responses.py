"""What the ``/api/v1/proofs`` operations answer, for the OpenAPI document (describes the dicts
of ``service.validate``, ``status``, ``revoke`` and ``revocation_list``; never validates them,
so ``/validate`` stays as fast as it was)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ValidatedVerificationOut(BaseModel):
    id: str
    type: str | None
    channel: str | None
    verified_at: str | None
    expires_at: str
    user_id: Any = Field(default=None, description="The proof's user_id claim, if any.")


class ValidatedProofOut(BaseModel):
    type: str | None
    channel: str | None
    identifier_hash: str | None
    verified_at: str | None
    expires_at: str
    issuer: str


class ProofValidationOut(BaseModel):
    """``valid: true`` with ``verification`` and ``proof``, or ``valid: false`` with a reason."""

    valid: bool
    verification: ValidatedVerificationOut | None = None
    proof: ValidatedProofOut | None = None
    reason: str | None = Field(default=None, description="Invalid only: machine code.")
    message: str | None = None
    error: str | None = Field(default=None, description="The message, repeated.")
    revoked_at: str | None = None
    revoked_reason: str | None = None


class ProofStatusOut(BaseModel):
    proof_id: str
    public_proof_id: str
    proof_type: str
    status: Literal["active", "revoked", "expired"]
    is_valid: bool
    is_revoked: bool
    revoked_at: str | None
    revoked_reason: str | None
    suspended_at: None = Field(description="Always null: vouch does not suspend proofs.")
    expires_at: str
    is_expired: bool
    verified_at: str
    type: str
    channel: str


class ProofRevokedOut(BaseModel):
    success: Literal[True]
    proof_id: str
    verification_id: str
    revoked_at: str
    reason: str


class RevokedEntryOut(BaseModel):
    proof_id: str
    revoked_at: str
    reason: str | None
    proof_type: str
    public_proof_id: str
    type: str


class RevocationListOut(BaseModel):
    revoked: list[RevokedEntryOut]
    issued_at: str
    generated_at: str
    count: int
    signature: str = Field(description="Signed digest of the entries and paging facts.")
    kid: str
    has_more: bool
    next_cursor: str | None
    since: str | None
