"""What ``/api/v1/hitl`` and ``/api/v1/confirmations`` answer, for the OpenAPI description.

Documentation only: the handlers send the dicts of ``schemas.render_hitl``,
``schemas.render_confirmation``, ``keys``, ``discovery`` and ``lifecycle`` as they are
(``vouch_server.openapi.documented``); these models say what those dicts hold, with
proof.holdings' field names.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ChannelKind = Literal["telegram", "whatsapp", "email", "web"]
ConfirmationStatusValue = Literal["pending", "approved", "denied", "expired"]


class HitlChannelConfigOut(BaseModel):
    """Where a channel reaches its approver (only the keys of the channel's kind are present)."""

    chat_id: str | None = Field(default=None, description="telegram")
    phone_number: str | None = Field(default=None, description="whatsapp, E.164")
    bsuid: str | None = Field(default=None, description="whatsapp business-scoped user id")
    address: str | None = Field(default=None, description="email")


class HitlChannelOut(BaseModel):
    type: ChannelKind
    config: HitlChannelConfigOut


class HitlKeypairSummaryOut(BaseModel):
    """The public half of a config's end-to-end encryption keypair."""

    public_key: str = Field(description="RSA public key, PEM (SPKI).")
    kid: str
    created_at: str
    updated_at: str


class HitlConfigOut(BaseModel):
    """An approval setup: who is asked, over which channels, within which timeout."""

    id: str
    user_id: str = Field(description="The owning project (also half of the key envelope's AAD).")
    name: str
    profile_id: None = Field(description="Always null in vouch.")
    circle_id: None = Field(description="Always null in vouch.")
    channels: list[HitlChannelOut]
    timeout_seconds: int
    status: Literal["pending", "active", "archived"]
    keypair: HitlKeypairSummaryOut | None
    encrypted: bool = Field(description="Messages must be ciphertext envelopes for the keypair.")
    environment: Literal["production", "test"]
    created_at: str
    updated_at: str
    test_mode: bool
    activated_at: str | None = Field(default=None, description="Present once active.")
    archived_at: str | None = Field(default=None, description="Present once archived.")


class HitlPaginationOut(BaseModel):
    hasMore: bool
    total: int
    page: int
    limit: int
    nextCursor: str | None = Field(default=None, description="Present when there is a next page.")
    nextPage: int | None = Field(default=None, description="Present when there is a next page.")


class HitlLimitsOut(BaseModel):
    """What a key may do with HITL configs."""

    max_channels: int
    min_timeout_seconds: int
    max_timeout_seconds: int
    default_timeout_seconds: int
    max_message_length: int
    max_encrypted_message_length: int
    max_configs: int | None = Field(description="null: no quota.")


class HitlConfigListOut(BaseModel):
    data: list[HitlConfigOut]
    pagination: HitlPaginationOut
    limits: HitlLimitsOut


class HitlConsentRequestOut(BaseModel):
    """The consent asked of (or already held by) one recipient of a config."""

    channel: str
    recipient: str
    authorization_id: str | None = Field(default=None, description="Absent when the ask failed.")
    status: str = Field(description="The authorization's status, or failed.")
    created: bool | None = Field(
        default=None, description="Whether a new authorization was created."
    )
    authorization_url: str | None = Field(
        default=None, description="Telegram: the bot link the person opens to consent."
    )
    error: str | None = Field(default=None, description="Why the ask failed.")
    code: str | None = Field(default=None, description="The failure's error code.")


class HitlAuthorizeOut(BaseModel):
    hitl_id: str
    authorizations: list[HitlConsentRequestOut]
    message: str = Field(description="A summary for people.")


class HitlFinalizedOut(HitlConfigOut):
    """The config after finalize, with the consent asked of each recipient."""

    authorizations: list[HitlConsentRequestOut]


class HitlKeysOut(BaseModel):
    """A config's encryption keypair; the private key is sealed by the client (opaque here)."""

    hitl_id: str
    public_key: str
    kid: str
    encrypted_private_key: str
    kdf_salt: str
    wrapped_dek: str | None
    dek_iv: str | None
    dek_tag: str | None
    backup_wrapped_dek: str | None
    backup_dek_iv: str | None
    backup_dek_tag: str | None
    created_at: str
    updated_at: str


class HitlKeysDeletedOut(BaseModel):
    hitl_id: str
    kid: str
    deleted: Literal[True]


class HitlApproverKeyOut(BaseModel):
    """One approver's public key (they decrypt messages addressed to them)."""

    authorization_id: str
    public_key: str
    kid: str
    created_at: str


class HitlApproverKeyEnrolledOut(HitlApproverKeyOut):
    hitl_id: str


class HitlApproverKeysOut(BaseModel):
    hitl_id: str
    data: list[HitlApproverKeyOut] = Field(description="Approvers whose consent still holds.")
    approver_keys: dict[str, str] = Field(description="authorization id → public key.")


class ChatIdDiscoveryCreatedOut(BaseModel):
    """A Telegram deep link that reports the chat id of whoever opens it."""

    token: str
    deep_link: str
    qr_code: str = Field(description="The deep link as a PNG QR code, a data: URL.")
    qr_text: str
    expires_in: int
    expires_at: str


class ChatIdDiscoveryOut(BaseModel):
    status: Literal["pending", "completed", "expired"]
    expires_at: str
    chat_id: str | None = Field(default=None, description="Present once completed.")
    completed_at: str | None = Field(default=None, description="Present once completed.")


class ConfirmationChannelReportOut(BaseModel):
    """How the request went out on one channel of the config."""

    type: ChannelKind
    status: str = Field(description="e.g. sent, recorded, link, failed, not_authorized.")
    chat_id: str | None = None
    phone_number: str | None = None
    bsuid: str | None = None
    address: str | None = None
    authorization_id: str | None = Field(default=None, description="The consent it was sent under.")
    error: str | None = None


class ConfirmationResponseOut(BaseModel):
    """The approver's answer."""

    action: str = Field(description="approve or deny.")
    text: str | None
    channel: str | None
    responded_at: str | None


class ConfirmationOut(BaseModel):
    """An approval request sent to a config's approvers."""

    id: str
    hitl_id: str
    status: ConfirmationStatusValue
    message: str = Field(description="The text, or the ciphertext envelope when encrypted.")
    message_hash: str
    encrypted: bool
    timeout_seconds: int
    expires_at: str
    timeout_at: str = Field(description="Same as expires_at.")
    channels: list[ConfirmationChannelReportOut]
    created_at: str
    updated_at: str
    test_mode: bool
    response: ConfirmationResponseOut | None
    decided_at: str | None = Field(default=None, description="Present once answered.")
    resolved_at: str | None = Field(default=None, description="Same as decided_at.")
    proof_token: str | None = Field(default=None, description="Signed proof of the decision.")
    proof_expires_at: str | None = None
    revoked_at: str | None = None
    revoked_reason: str | None = None


class ConfirmationCreatedOut(ConfirmationOut):
    approval_url: str | None = Field(
        default=None, description="For a web channel: the hosted approval page."
    )


class ConfirmationListOut(BaseModel):
    data: list[ConfirmationOut]
    pagination: HitlPaginationOut


class ConfirmationApprovalLinkOut(BaseModel):
    """A single-use link to the hosted approval page."""

    confirmation_id: str
    approval_url: str
    url: str = Field(description="Same as approval_url.")
    token: str
    expires_at: str
    single_use: Literal[True]
