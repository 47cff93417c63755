"""What the ``/api/v1/verifications`` operations answer, for the OpenAPI document.

These models describe the dicts the handlers build (``schemas.render_verification`` and the
challenge of each method); they are never used to validate or re-serialise an answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

VerificationStatusOut = Literal["pending", "verified", "failed", "expired", "revoked"]


class ProofRef(BaseModel):
    token: str = Field(description="The signed proof (a JWT).")
    expires_at: str = Field(description="When the proof stops being valid.")


class VerificationChallengeOut(BaseModel):
    """What the person is asked to do; which fields appear depends on the method."""

    expires_at: str = Field(description="When the challenge lapses.")
    instruction: str | None = Field(default=None, description="What to tell the person.")
    code: str | None = Field(default=None, description="The code (never for a live mailed code).")
    deep_link: str | None = Field(default=None, description="A link that starts the step.")
    send_to: str | None = Field(default=None, description="Where the person sends the code.")
    sms_dids: dict[str, str] | None = Field(default=None, description="SMS number per region.")
    email_prefix: str | None = Field(default=None, description="Domain mailbox used.")
    record_type: str | None = None
    record_name: str | None = None
    record_value: str | None = None
    file_path: str | None = None
    file_content: str | None = None
    file_url: str | None = None
    provider: str | None = Field(default=None, description="OAuth provider.")
    message: str | None = Field(default=None, description="The message a wallet signs.")
    nonce: str | None = None
    magic_link: str | None = Field(default=None, description="Test mode: the mailed link.")


class VerificationOut(BaseModel):
    id: str
    status: VerificationStatusOut
    type: str = Field(description="Asset type.")
    channel: str
    identifier: str = Field(description="The normalized asset being verified.")
    attempts: int
    max_attempts: int
    created_at: str
    updated_at: str
    challenge_expires_at: str
    test_mode: bool
    external_user_id: str | None = None
    client_metadata: dict[str, Any] | None = None
    callback_url: str | None = None
    failure_reason: str | None = Field(default=None, description="Why it failed or expired.")
    verified_at: str | None = None
    proof_token: str | None = None
    proof_expires_at: str | None = None
    proof: ProofRef | None = None
    revoked_at: str | None = None
    revoked_reason: str | None = None


class VerificationCreatedOut(VerificationOut):
    challenge: VerificationChallengeOut
    deep_link: str | None = Field(default=None, description="The challenge's link, repeated.")


class VerificationCheckOut(BaseModel):
    verified: bool
    reason: str | None = Field(default=None, description="Why not yet (machine code).")
    message: str | None = None


class VerificationCheckedOut(VerificationOut):
    check: VerificationCheckOut


class EmailDeliveryOut(BaseModel):
    channel: Literal["email"]
    to: str
    status: str = Field(description="The delivery's status.")


class VerificationResentOut(VerificationOut):
    delivery: EmailDeliveryOut
    challenge: VerificationChallengeOut | None = Field(
        default=None, description="Test mode only: the code and link the mail carries."
    )


class VerificationsPaginationOut(BaseModel):
    page: int
    limit: int
    total: int
    hasMore: bool
    totalIsCapped: bool | None = None
    nextCursor: str | None = None
    nextPage: int | None = None
    total_pages: int | None = None


class VerificationListOut(BaseModel):
    data: list[VerificationOut]
    pagination: VerificationsPaginationOut
