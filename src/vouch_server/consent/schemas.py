"""Request bodies of ``/api/v1/authorizations`` and the response renderer."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
    # Telegram chat id, E.164 phone number, WhatsApp BSUID or email address. SDK 1.2.0 sends
    # ``recipient`` with ``phone`` (and ``bsuid``) beside it; the first one given is used.
    recipient: str | int | None = Field(default=None, union_mode="left_to_right")
    phone: str | None = Field(default=None, min_length=1, max_length=32)
    bsuid: str | None = Field(default=None, min_length=1, max_length=128)
    # The approval setup the consent is for; its name is the one the person is asked about.
    hitl_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{24}$")
    scope: str = Field(
        default="confirmations", min_length=1, max_length=64, pattern=r"^[a-z0-9_.:-]+$"
    )
    # Deprecated by SDK 1.2.0 (which omits it): the HITL config's or the project's name is used.
    business_name: str | None = Field(default=None, min_length=1, max_length=100)
    # Seconds the consent holds once given (at most, and by default, 90 days).
    expires_in: int = Field(default=MAX_LIFETIME, ge=MIN_LIFETIME, le=MAX_LIFETIME)

    @model_validator(mode="after")
    def _someone(self) -> CreateAuthorization:
        if self.recipient is None and self.phone is None and self.bsuid is None:
            raise ValueError("recipient is required (or phone / bsuid)")
        return self

    @property
    def who(self) -> str | int:
        for value in (self.recipient, self.phone, self.bsuid):
            if value is not None:
                return value
        raise AssertionError("checked by the validator")  # pragma: no cover


MAX_REASON = 500


class RevokeAuthorization(BaseModel):
    model_config = ConfigDict(extra="ignore")

    # Free text, as SDK 1.2.0 sends it (``reason="done"``).
    reason: str = Field(default="user_request", min_length=1, max_length=MAX_REASON)


class TestRespondAuthorization(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str = Field(pattern=r"^(allow|deny)$")


def mask_recipient(channel: str, recipient: str) -> str:
    """How the person is named to those who may see the list but not contact them."""
    if channel == "email" and "@" in recipient:
        local, _, domain = recipient.rpartition("@")
        return f"{local[:1]}***@{domain}"
    if len(recipient) <= 4:
        return "*" * len(recipient)
    head = 3 if recipient.startswith("+") else 1
    return recipient[:head] + "*" * max(3, len(recipient) - head - 4) + recipient[-4:]


def render_authorization(a: Authorization, *, deep_link: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": a.id,
        "status": a.status,
        "hitl_id": a.hitl_id,
        "channel": a.channel,
        "recipient": a.recipient,
        "recipient_hash": a.recipient_hash,
        "recipient_display_name": mask_recipient(a.channel, a.recipient),
        "scope": a.scope,
        "business_name": a.business_name,
        # Enrolled: the person has said yes and the consent still holds.
        "enrolled": a.status == "active",
        "confirmations_sent": a.confirmations_sent or 0,
        "expires_in": a.lifetime_seconds,
        "expires_at": isoformat_ms(a.expires_at),
        "created_at": isoformat_ms(a.created_at),
        "updated_at": isoformat_ms(a.updated_at),
        "test_mode": a.environment == "test",
    }
    if a.channel in ("whatsapp", "sms"):
        body["phone"] = a.recipient
    if deep_link is not None:
        body["deep_link"] = deep_link
        # Where the person consents: for Telegram the bot's deep link (the other channels ask
        # the person in a message vouch sends, and have no page to open).
        body["authorization_url"] = deep_link
    if a.decided_at is not None:
        body["decided_at"] = isoformat_ms(a.decided_at)
        if a.status == "denied":
            body["denied_at"] = isoformat_ms(a.decided_at)
    if a.last_used_at is not None:
        body["last_used_at"] = isoformat_ms(a.last_used_at)
    if a.proof_token is not None and a.proof_expires_at is not None:
        body["authorized_at"] = iso_or_none(a.decided_at)
        body["proof_token"] = a.proof_token
        body["proof_expires_at"] = isoformat_ms(a.proof_expires_at)
    if a.revoked_at is not None:
        body["revoked_at"] = isoformat_ms(a.revoked_at)
        body["revoked_reason"] = a.revoked_reason
        body["revocation_reason"] = a.revoked_reason  # SDK 1.2.0's name for it
        body["revoked_by"] = a.revoked_by
    return body
