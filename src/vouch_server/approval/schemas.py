"""Request bodies of ``/api/v1/hitl`` and ``/api/v1/confirmations`` and their renderers."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vouch_server.kit.clock import iso_or_none, isoformat_ms
from vouch_server.models.delegation import Confirmation, HitlConfig

MIN_TIMEOUT = 60
MAX_TIMEOUT = 86_400
DEFAULT_TIMEOUT = 3_600
MAX_MESSAGE = 2_000
MAX_COMMENT = 1_000
MAX_CHANNELS = 10


class ChannelType(StrEnum):
    telegram = "telegram"
    whatsapp = "whatsapp"
    email = "email"
    web = "web"


class ConfirmationStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    denied = "denied"
    expired = "expired"


class ChannelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: ChannelType
    # telegram {chat_id}; whatsapp {phone_number | bsuid}; email {address}; web {}
    config: dict[str, Any] = Field(default_factory=dict)


class CreateHitl(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=100)
    channels: list[ChannelSpec] = Field(min_length=1, max_length=MAX_CHANNELS)
    timeout_seconds: int = Field(default=DEFAULT_TIMEOUT, ge=MIN_TIMEOUT, le=MAX_TIMEOUT)


class UpdateHitl(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    channels: list[ChannelSpec] | None = Field(default=None, min_length=1, max_length=MAX_CHANNELS)
    timeout_seconds: int | None = Field(default=None, ge=MIN_TIMEOUT, le=MAX_TIMEOUT)


class CreateConfirmation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    hitl_id: str = Field(min_length=1, max_length=64)
    message: str = Field(min_length=1, max_length=MAX_MESSAGE)
    proof_expiry_days: int | None = Field(default=None, ge=1, le=365)
    # The seed's example passes a timeout with the request; it overrides the config's.
    timeout_seconds: int | None = Field(default=None, ge=MIN_TIMEOUT, le=MAX_TIMEOUT)
    timeout: int | None = Field(default=None, ge=MIN_TIMEOUT, le=MAX_TIMEOUT)


class TestRespond(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["approve", "deny"]
    text: str | None = Field(default=None, max_length=MAX_COMMENT)


def render_hitl(h: HitlConfig) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": h.id,
        "name": h.name,
        "channels": h.channels,
        "timeout_seconds": h.timeout_seconds,
        "status": h.status,
        "created_at": isoformat_ms(h.created_at),
        "updated_at": isoformat_ms(h.updated_at),
        "test_mode": h.environment == "test",
    }
    if h.archived_at is not None:
        body["archived_at"] = isoformat_ms(h.archived_at)
    return body


def render_confirmation(c: Confirmation) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": c.id,
        "hitl_id": c.hitl_id,
        "status": c.status,
        "message": c.message,
        "message_hash": c.message_hash,
        "timeout_seconds": c.timeout_seconds,
        "expires_at": isoformat_ms(c.expires_at),
        "channels": c.channel_report,
        "created_at": isoformat_ms(c.created_at),
        "updated_at": isoformat_ms(c.updated_at),
        "test_mode": c.environment == "test",
        "response": None,
    }
    if c.response_action is not None:
        body["response"] = {
            "action": c.response_action,
            "text": c.response_text,
            "channel": c.response_channel,
            "responded_at": iso_or_none(c.decided_at),
        }
        body["decided_at"] = iso_or_none(c.decided_at)
    if c.proof_token is not None and c.proof_expires_at is not None:
        body["proof_token"] = c.proof_token
        body["proof_expires_at"] = isoformat_ms(c.proof_expires_at)
    if c.revoked_at is not None:
        body["revoked_at"] = isoformat_ms(c.revoked_at)
        body["revoked_reason"] = c.revoked_reason
    return body
