"""Request bodies of the verification-request endpoints (proof.holdings
``CreateVerificationRequestBody``, ``RequestedAsset``, ``ActionContext``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vouch_server.control.catalog import AssetType, Channel

MAX_ASSETS = 10
DEFAULT_EXPIRES_IN = 24 * 60 * 60
MAX_EXPIRES_IN = 7 * 24 * 60 * 60


class ActionType(StrEnum):
    verification = "verification"
    two_fa = "2fa"
    login = "login"
    custom = "custom"
    confirmation = "confirmation"
    authorization = "authorization"


class RequestStatus(StrEnum):
    pending = "pending"
    partial = "partial"
    completed = "completed"
    expired = "expired"
    cancelled = "cancelled"


class ListStatus(StrEnum):
    """A list filter: a status, or ``active`` for one still open (pending or partial)."""

    pending = "pending"
    partial = "partial"
    completed = "completed"
    expired = "expired"
    cancelled = "cancelled"
    active = "active"


class ActionContext(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, min_length=1, max_length=500)
    amount: float | None = None
    currency: str | None = Field(default=None, min_length=1, max_length=10)
    entity: str | None = Field(default=None, min_length=1, max_length=200)


class RequestedAsset(BaseModel):
    # Unknown keys are ignored, as in every proof.holdings create body.
    model_config = ConfigDict(extra="ignore")

    type: AssetType
    # A fixed identifier, or None: the person provides it on the hosted page.
    identifier: str | None = Field(default=None, min_length=1, max_length=500)
    channel: Channel | None = None
    allowed_channels: list[Channel] = Field(default_factory=list, max_length=10)
    required: bool = True


class CreateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    assets: list[RequestedAsset] = Field(min_length=1, max_length=MAX_ASSETS)
    reference_id: str | None = Field(default=None, min_length=1, max_length=255)
    public_profile_id: str | None = Field(default=None, min_length=1, max_length=64)
    action_type: ActionType = ActionType.verification
    action_context: ActionContext | None = None
    validity_requirement: str | None = Field(default=None, pattern=r"^[1-9]\d{0,4}[hdwm]$")
    partial_ok: bool = False
    redirect_url: str | None = Field(default=None, min_length=1, max_length=2048)
    callback_url: str | None = Field(default=None, min_length=1, max_length=2048)
    expires_in: int = Field(default=DEFAULT_EXPIRES_IN, gt=0, le=MAX_EXPIRES_IN)
    proof_expiry_days: int | None = Field(default=None, ge=1, le=365)
    client_metadata: dict[str, Any] | None = None


class StartAsset(BaseModel):
    """What the person gives for one asset: the identifier (when the request left it open) and
    the channel (one of the asset's allowed channels)."""

    model_config = ConfigDict(extra="ignore")

    identifier: str | None = Field(default=None, min_length=1, max_length=500)
    channel: Channel | None = None


class AutoVerify(BaseModel):
    """``POST /api/v1/verify/request/{id}/assets/{i}/auto-verify``: complete the asset from a
    proof the person already holds; ``identifier`` picks which, for an asset the person
    identifies."""

    model_config = ConfigDict(extra="ignore")

    reuse_proof: Literal[True]
    identifier: str | None = Field(default=None, min_length=1, max_length=500)
