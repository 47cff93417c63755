"""Request body of ``POST /api/v1/verifications/multi-channel`` (proof.holdings
``CreateMultiChannelVerificationRequest``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_CHANNELS = 4


class PhoneChannel(StrEnum):
    """``MultiChannelPhoneChannel``: the channels a phone number is verified over."""

    whatsapp = "whatsapp"
    telegram = "telegram"
    sms = "sms"


class CreateGroup(BaseModel):
    # Unknown keys are ignored, as in every proof.holdings create body.
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [{"identifier": "+14155550123", "channels": ["telegram", "whatsapp"]}]
        },
    )

    type: Literal["phone"] = "phone"
    identifier: str = Field(min_length=1, max_length=500)
    channels: list[PhoneChannel] = Field(min_length=1, max_length=MAX_CHANNELS)
    external_user_id: str | None = Field(default=None, min_length=1, max_length=255)
    client_metadata: dict[str, Any] | None = None
    proof_expiry_days: int | None = Field(default=None, ge=1, le=365)
