"""What the ``/api/v1/sessions`` operations answer, for the OpenAPI document (describes the
dicts of ``service.render_created`` and ``service.render``; never validates them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

SessionStatusOut = Literal["pending", "verified", "expired"]


class SessionSmsNumberOut(BaseModel):
    did: str = Field(description="The number to text.")
    label: str
    flag: str
    qr_code: str = Field(description="PNG data URL of the sms: link.")
    qr_text: str


class SessionCreatedOut(BaseModel):
    id: str
    channel: Literal["telegram", "whatsapp", "sms"]
    status: SessionStatusOut
    deep_link: str = Field(description="Opens the chat with the code filled in.")
    qr_code: str = Field(description="PNG data URL of the deep link.")
    qr_text: str
    expires_at: str
    instructions: str
    created_at: str
    test_mode: bool
    sms_code: str | None = None
    sms_message: str | None = None
    sms_dids: dict[str, SessionSmsNumberOut] | None = Field(
        default=None, description="SMS only: one number per region."
    )
    client_metadata: dict[str, Any] | None = None


class SessionProofOut(BaseModel):
    token: str
    expires_at: str
    status: str | None = Field(default=None, description="Set when no longer verified.")


class SessionOut(BaseModel):
    id: str
    channel: Literal["telegram", "whatsapp", "sms"]
    status: SessionStatusOut
    created_at: str
    expires_at: str
    test_mode: bool
    phone_number: str | None = Field(default=None, description="Verified only: the number.")
    verification_id: str | None = None
    verified_at: str | None = None
    proof: SessionProofOut | None = None
    client_metadata: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
