"""What the ``/api/v1/verifications/multi-channel`` operations answer, for the OpenAPI
document (describes ``service.render_created`` and ``service.render_status``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

PhoneChannelOut = Literal["whatsapp", "telegram", "sms"]


class GroupChannelSetupOut(BaseModel):
    channel: PhoneChannelOut
    verification_id: str
    status: str = Field(description="The channel's verification status.")
    code: str | None = None
    expires_at: str | None = None
    instructions: str | None = None
    message: str | None = Field(default=None, description="The text to send.")
    deep_link: str | None = None
    qr_text: str | None = None
    qr_code: str | None = Field(default=None, description="PNG data URL of the deep link.")
    phone_number: str | None = Field(default=None, description="Number to send the code to.")
    bot_username: str | None = None
    sms_message: str | None = None
    sms_dids: dict[str, str] | None = None


class GroupCreatedOut(BaseModel):
    group_id: str
    type: Literal["phone"]
    identifier: str
    status: str
    expires_at: str
    channels: list[GroupChannelSetupOut]
    created_at: str
    test_mode: bool
    external_user_id: str | None = None
    client_metadata: dict[str, Any] | None = None


class GroupChannelStatusOut(BaseModel):
    channel: PhoneChannelOut
    verification_id: str
    status: str
    verified_at: str | None = None


class GroupProofOut(BaseModel):
    token: str
    expires_at: str


class GroupStatusOut(BaseModel):
    group_id: str
    type: Literal["phone"]
    identifier: str
    status: str = Field(description="pending until one channel wins or all lapse.")
    winning_channel: PhoneChannelOut | None
    verification_id: str | None = Field(description="The winning verification.")
    channels: list[GroupChannelStatusOut]
    expires_at: str
    created_at: str
    test_mode: bool
    verified_at: str | None = None
    proof: GroupProofOut | None = None
    external_user_id: str | None = None
