"""What the ``/api/v1/verification-requests`` and ``/api/v1/verifications/users`` operations
answer, for the OpenAPI document (describes ``service.render_request``, ``render_summary``,
``render_proofs`` and ``render_user``; never validates them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

RequestStatusOut = Literal["pending", "partial", "completed", "expired", "cancelled"]
ActionTypeOut = Literal["verification", "2fa", "login", "custom", "confirmation", "authorization"]


class RequestComputedStateOut(BaseModel):
    state: RequestStatusOut
    is_terminal: bool
    is_expired: bool
    remaining_required: int = Field(description="Required assets not yet verified.")
    pending_assets: int
    expires_in_seconds: int = Field(description="0 once the request is closed.")


class RequestProgressOut(BaseModel):
    verified: int
    total: int
    required: int
    required_verified: int


class RequestAssetOut(BaseModel):
    index: int
    type: str
    identifier: str | None = Field(description="null when the person provides it.")
    channel: str | None
    allowed_channels: list[str]
    required: bool
    status: str = Field(description="The asset's verification outcome.")
    verification_id: str | None
    user_provided: bool
    current_channel: str | None = None
    verified_identifier: str | None = None
    verified_channel: str | None = None
    verified_at: str | None = None
    proof_token: str | None = None
    proof_expires_at: str | None = None


class RequestActionContextOut(BaseModel):
    title: str | None = None
    description: str | None = None
    amount: float | None = None
    currency: str | None = None
    entity: str | None = None


class VerificationRequestOut(BaseModel):
    id: str
    reference_id: str | None = None
    status: RequestStatusOut
    computed_state: RequestComputedStateOut
    assets: list[RequestAssetOut]
    action_type: ActionTypeOut
    action_context: RequestActionContextOut | None
    partial_ok: bool
    validity_requirement: str | None
    verification_url: str = Field(description="The hosted page to send the person to.")
    redirect_url: str | None
    callback_url: str | None
    progress: RequestProgressOut
    test_mode: bool
    public_profile_id: str | None = None
    proof_expiry_days: int | None = None
    client_metadata: dict[str, Any] | None = None
    expires_at: str
    created_at: str
    updated_at: str
    completed_at: str | None = None
    cancelled_at: str | None = None


class VerificationRequestSummaryOut(BaseModel):
    id: str
    reference_id: str | None = None
    status: RequestStatusOut
    computed_state: RequestComputedStateOut
    action_type: ActionTypeOut
    asset_count: int
    progress: RequestProgressOut
    test_mode: bool
    expires_at: str
    created_at: str
    updated_at: str
    completed_at: str | None = None
    cancelled_at: str | None = None


class RequestsPaginationOut(BaseModel):
    page: int
    limit: int
    total: int
    total_pages: int
    hasMore: bool
    totalIsCapped: bool | None = None
    nextCursor: str | None = None
    nextPage: int | None = None


class VerificationRequestListOut(BaseModel):
    data: list[VerificationRequestSummaryOut]
    pagination: RequestsPaginationOut


class VerificationRequestCancelledOut(BaseModel):
    id: str
    success: Literal[True]
    status: RequestStatusOut
    message: str
    cancelled_at: str


class RequestAssetProofOut(BaseModel):
    asset_index: int
    type: str
    identifier: str | None
    channel: str | None
    verification_id: str
    verified_at: str | None
    proof_token: str
    proof_expires_at: str | None


class VerificationRequestProofsOut(BaseModel):
    request_id: str
    status: RequestStatusOut
    proofs: list[RequestAssetProofOut]


class VerifiedUserVerificationOut(BaseModel):
    id: str
    type: str
    channel: str
    identifier: str = Field(description="Masked: enough to recognise, not to contact.")
    verified_at: str | None
    status: str | None = Field(default=None, description="Detail view only.")
    has_proof: bool | None = Field(default=None, description="Detail view only.")
    proof_expires_at: str | None = None


class VerifiedUserOut(BaseModel):
    external_user_id: str
    verification_count: int
    types_verified: list[str]
    verifications: list[VerifiedUserVerificationOut]
    first_verified_at: str | None
    last_verified_at: str | None


class VerifiedUserListOut(BaseModel):
    data: list[VerifiedUserOut]
    pagination: RequestsPaginationOut
