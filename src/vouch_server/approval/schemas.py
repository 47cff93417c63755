"""Request bodies of ``/api/v1/hitl`` and ``/api/v1/confirmations`` and their renderers."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vouch_server.kit.clock import iso_or_none, isoformat_ms
from vouch_server.models.delegation import Confirmation, HitlConfig
from vouch_server.models.hitl import HitlKeypair

MIN_TIMEOUT = 60
MAX_TIMEOUT = 86_400
DEFAULT_TIMEOUT = 3_600
MAX_MESSAGE = 2_000
# A ciphertext envelope (HITL end-to-end encryption) is longer than the text it carries: its
# RSA-4096 wrapped key alone is 683 characters, plus one more per approver (envelope v2).
MAX_ENVELOPE = 32_000
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
    # Plain text (≤ 2,000 characters), or a ciphertext envelope (JSON) when the config has an
    # encryption keypair; checked by the service.
    message: str = Field(min_length=1, max_length=MAX_ENVELOPE)
    proof_expiry_days: int | None = Field(default=None, ge=1, le=365)
    # The seed's example passes a timeout with the request; it overrides the config's.
    timeout_seconds: int | None = Field(default=None, ge=MIN_TIMEOUT, le=MAX_TIMEOUT)
    timeout: int | None = Field(default=None, ge=MIN_TIMEOUT, le=MAX_TIMEOUT)


class TestRespond(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["approve", "deny"]
    text: str | None = Field(default=None, max_length=MAX_COMMENT)


# What a key may do with HITL configs (``limits`` beside a list, as SDK 1.2.0 reads it).
HITL_LIMITS: dict[str, Any] = {
    "max_channels": MAX_CHANNELS,
    "min_timeout_seconds": MIN_TIMEOUT,
    "max_timeout_seconds": MAX_TIMEOUT,
    "default_timeout_seconds": DEFAULT_TIMEOUT,
    "max_message_length": MAX_MESSAGE,
    "max_encrypted_message_length": MAX_ENVELOPE,
    "max_configs": None,  # vouch sets no quota
}


def public_environment(environment: str) -> str:
    """proof.holdings' names for a key's environment: ``production`` or ``test``."""
    return "test" if environment == "test" else "production"


def render_keypair_summary(k: HitlKeypair | None) -> dict[str, Any] | None:
    if k is None:
        return None
    return {
        "public_key": k.public_key,
        "kid": k.kid,
        "created_at": isoformat_ms(k.created_at),
        "updated_at": isoformat_ms(k.updated_at),
    }


def render_hitl(h: HitlConfig, keypair: HitlKeypair | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": h.id,
        # The owner of a config is the project (vouch has no user accounts); the id is also
        # the ``user_id`` half of the private key envelope's AAD (``{hitl_id}:{user_id}``).
        "user_id": h.project_id,
        "name": h.name,
        "profile_id": None,
        "circle_id": None,
        "channels": h.channels,
        "timeout_seconds": h.timeout_seconds,
        "status": h.status,
        "keypair": render_keypair_summary(keypair),
        "encrypted": keypair is not None,
        "environment": public_environment(h.environment),
        "created_at": isoformat_ms(h.created_at),
        "updated_at": isoformat_ms(h.updated_at),
        "test_mode": h.environment == "test",
    }
    if h.activated_at is not None:
        body["activated_at"] = isoformat_ms(h.activated_at)
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
        # True: ``message`` is the client's ciphertext envelope (JSON), stored as given.
        "encrypted": bool(c.encrypted),
        "timeout_seconds": c.timeout_seconds,
        "expires_at": isoformat_ms(c.expires_at),
        "timeout_at": isoformat_ms(c.expires_at),  # SDK 1.2.0's name for it
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
        body["resolved_at"] = iso_or_none(c.decided_at)
    if c.proof_token is not None and c.proof_expires_at is not None:
        body["proof_token"] = c.proof_token
        body["proof_expires_at"] = isoformat_ms(c.proof_expires_at)
    if c.revoked_at is not None:
        body["revoked_at"] = isoformat_ms(c.revoked_at)
        body["revoked_reason"] = c.revoked_reason
    return body


# The webhook status of each confirmation status (a timeout is delivered as a denial).
_EVENT_STATUS = {"approved": "approved", "denied": "denied", "expired": "denied"}


def render_confirmation_event(c: Confirmation) -> tuple[dict[str, Any], dict[str, Any]]:
    """``confirmation.*`` webhook: ``data`` (the confirmation, with each channel reduced to its
    type and outcome) and the flat fields SDK 1.2.0 reads (``ConfirmationWebhookPayload``).
    Neither names a recipient (chat id, number, address)."""
    data = render_confirmation(c)
    data["channels"] = [
        {k: v for k, v in entry.items() if k in ("type", "status", "authorization_id")}
        for entry in c.channel_report
    ]
    flat: dict[str, Any] = {
        "confirmation_id": c.id,
        "hitl_id": c.hitl_id,
        "status": _EVENT_STATUS.get(c.status, c.status),
        "message": c.message,
        "response": data["response"],
        "encrypted": bool(c.encrypted),
    }
    if "proof_token" in data:
        flat["proof_token"] = data["proof_token"]
    if c.decided_at is not None:
        flat["resolved_at"] = isoformat_ms(c.decided_at)
    return data, flat
