"""Request bodies of ``/api/v1/authorizations`` and the response renderer."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vouch_server.kit.clock import iso_or_none, isoformat_ms
from vouch_server.models.delegation import Authorization

MAX_LIFETIME = 90 * 86400
MIN_LIFETIME = 3600


class ConsentChannel(StrEnum):
    telegram = "telegram"
    whatsapp = "whatsapp"
    sms = "sms"
    email = "email"


class AuthorizationStatus(StrEnum):
    pending = "pending"
    active = "active"
    denied = "denied"
    expired = "expired"
    revoked = "revoked"


class CreateAuthorization(BaseModel):
    model_config = ConfigDict(extra="ignore")

    channel: ConsentChannel
    # Telegram chat id, E.164 phone number, WhatsApp BSUID or email address.
    recipient: str | int = Field(union_mode="left_to_right")
    scope: str = Field(
        default="confirmations", min_length=1, max_length=64, pattern=r"^[a-z0-9_.:-]+$"
    )
    business_name: str = Field(min_length=1, max_length=100)
    # Seconds the consent holds once given (at most, and by default, 90 days).
    expires_in: int = Field(default=MAX_LIFETIME, ge=MIN_LIFETIME, le=MAX_LIFETIME)


class RevokeAuthorization(BaseModel):
    model_config = ConfigDict(extra="ignore")

    reason: str = Field(default="user_request", min_length=1, max_length=32)


class TestRespondAuthorization(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str = Field(pattern=r"^(allow|deny)$")


def render_authorization(a: Authorization, *, deep_link: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": a.id,
        "status": a.status,
        "channel": a.channel,
        "recipient": a.recipient,
        "recipient_hash": a.recipient_hash,
        "scope": a.scope,
        "business_name": a.business_name,
        "expires_in": a.lifetime_seconds,
        "expires_at": isoformat_ms(a.expires_at),
        "created_at": isoformat_ms(a.created_at),
        "updated_at": isoformat_ms(a.updated_at),
        "test_mode": a.environment == "test",
    }
    if deep_link is not None:
        body["deep_link"] = deep_link
    if a.decided_at is not None:
        body["decided_at"] = isoformat_ms(a.decided_at)
    if a.proof_token is not None and a.proof_expires_at is not None:
        body["authorized_at"] = iso_or_none(a.decided_at)
        body["proof_token"] = a.proof_token
        body["proof_expires_at"] = isoformat_ms(a.proof_expires_at)
    if a.revoked_at is not None:
        body["revoked_at"] = isoformat_ms(a.revoked_at)
        body["revoked_reason"] = a.revoked_reason
        body["revoked_by"] = a.revoked_by
    return body
