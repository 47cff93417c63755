"""What ``/api/v1/authorizations`` answers, for the OpenAPI description.

Documentation only: the handlers send ``schemas.render_authorization``'s dicts as they are
(``vouch_server.openapi.documented``); these models say what those dicts hold, with
proof.holdings' field names (and the SDK's alternative names beside them).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

AuthorizationStatusValue = Literal["pending", "active", "denied", "expired", "revoked"]
AuthorizationChannelValue = Literal["telegram", "whatsapp", "sms", "email"]


class AuthorizationOut(BaseModel):
    """A person's standing consent to be asked for confirmations on one channel."""

    id: str
    status: AuthorizationStatusValue
    hitl_id: str | None = Field(description="The approval setup the consent is for, if any.")
    channel: AuthorizationChannelValue
    recipient: str = Field(description="Chat id, phone number, WhatsApp BSUID or email address.")
    recipient_hash: str
    recipient_display_name: str = Field(description="The recipient, partly masked.")
    scope: str
    business_name: str = Field(description="The name the person is asked about.")
    enrolled: bool = Field(description="The person said yes and the consent still holds.")
    confirmations_sent: int
    expires_in: int = Field(description="Seconds the consent holds once given.")
    expires_at: str
    created_at: str
    updated_at: str
    test_mode: bool
    phone: str | None = Field(default=None, description="The recipient, on whatsapp and sms.")
    deep_link: str | None = Field(
        default=None, description="On creation: where the person consents (Telegram's bot link)."
    )
    authorization_url: str | None = Field(default=None, description="Same as deep_link.")
    decided_at: str | None = Field(default=None, description="When the person answered.")
    denied_at: str | None = Field(default=None, description="When the person said no.")
    last_used_at: str | None = Field(default=None, description="Last confirmation sent under it.")
    authorized_at: str | None = Field(default=None, description="Present with proof_token.")
    proof_token: str | None = Field(default=None, description="Signed proof of the consent.")
    proof_expires_at: str | None = None
    revoked_at: str | None = None
    revoked_reason: str | None = None
    revocation_reason: str | None = Field(default=None, description="Same as revoked_reason.")
    revoked_by: Literal["api", "recipient"] | None = Field(
        default=None, description="Who revoked it: the API or the person."
    )


class AuthorizationPaginationOut(BaseModel):
    hasMore: bool
    total: int
    page: int
    limit: int
    nextCursor: str | None = Field(default=None, description="Present when there is a next page.")
    nextPage: int | None = Field(default=None, description="Present when there is a next page.")


class AuthorizationListOut(BaseModel):
    data: list[AuthorizationOut]
    pagination: AuthorizationPaginationOut


class AuthorizationExportOut(BaseModel):
    """Consent records for an audit (format=json; format=csv answers text/csv)."""

    data: list[AuthorizationOut] = Field(description="Oldest first, at most 10,000.")
    count: int
    truncated: bool = Field(description="More records matched than were returned.")
    exported_at: str
