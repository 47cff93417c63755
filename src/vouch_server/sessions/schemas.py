"""Request body of ``POST /api/v1/sessions`` (proof.holdings ``CreateSessionRequest``).

The body names no phone number: the person's number is learnt from the channel. A ``phone`` or
``phone_number`` an older client still sends is ignored, as proof.holdings ignores it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SessionChannel(StrEnum):
    telegram = "telegram"
    whatsapp = "whatsapp"
    sms = "sms"


class CreateSession(BaseModel):
    model_config = ConfigDict(extra="ignore")

    channel: SessionChannel = SessionChannel.telegram
    client_metadata: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    profile_id: str | None = Field(default=None, min_length=1, max_length=64)
