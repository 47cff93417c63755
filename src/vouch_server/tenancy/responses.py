"""What ``/api/v1/templates…`` and ``/api/v1/channels/{channel}/credentials`` answer, for the
OpenAPI description.

Documentation only: the handlers send the dicts of ``templates.describe_*`` and
``credentials.describe`` as they are (``vouch_server.openapi.documented``); these models say
what those dicts hold, with proof.holdings' field names.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

TemplateChannel = Literal["telegram", "whatsapp", "sms", "email"]


class TemplateOut(BaseModel):
    """A message template: the project's own (``is_custom``) or vouch's default."""

    id: str | None = Field(default=None, description="Present on the project's own templates.")
    profile_id: str | None = Field(default=None, description="The owning project (own templates).")
    channel: TemplateChannel
    message_type: str
    subject: str | None = Field(default=None, description="Email only.")
    body: str = Field(description="The text, with {{ variable }} placeholders.")
    button_text: str | None = Field(default=None, description="Email only.")
    button_url_template: str | None = Field(default=None, description="Email only.")
    is_active: bool
    is_custom: bool
    version: int | None = Field(default=None, description="Own templates: bumped on each change.")
    updated_at: str | None = Field(default=None, description="Own templates only.")


class TemplateVariableOut(BaseModel):
    name: str
    description: str


class TemplateListOut(BaseModel):
    """Templates, with what may be customised and which variables a text may use."""

    templates: list[TemplateOut]
    channels: list[TemplateChannel]
    message_types: list[str]
    conversation_types: list[str] = Field(description="The bots' other replies, by name.")
    variables: list[TemplateVariableOut]


class TemplateDeletedOut(BaseModel):
    deleted: Literal[True]
    channel: TemplateChannel
    message_type: str
    template: TemplateOut = Field(description="The default, in force again.")


class TemplateRenderedTextOut(BaseModel):
    body: str
    subject: str | None = Field(default=None, description="Email only.")
    button_text: str | None = Field(default=None, description="Email only.")
    button_url: str | None = Field(default=None, description="Email only.")


class TemplatePreviewOut(BaseModel):
    channel: TemplateChannel
    message_type: str
    rendered: TemplateRenderedTextOut
    variables: dict[str, str] = Field(description="The values the text was rendered with.")


class TemplateRenderOut(TemplatePreviewOut):
    is_custom: bool = Field(description="The project's own template was used.")


class ChannelCredentialPublicOut(BaseModel):
    """The non-secret fields of stored credentials (those of the channel's kind)."""

    bot_username: str | None = Field(default=None, description="telegram")
    phone_number: str | None = Field(default=None, description="whatsapp")
    phone_number_id: str | None = Field(default=None, description="whatsapp")
    account_sid: str | None = Field(default=None, description="sms (Twilio)")
    numbers: str | None = Field(default=None, description="sms: REGION=+E164,…")
    email_from: str | None = Field(default=None, description="email")
    client_id: str | None = Field(default=None, description="oauth-* providers")


class ChannelCredentialsOut(BaseModel):
    """A project's own provider credentials for one channel (secrets are never shown)."""

    channel: str
    configured: bool = Field(description="False: the server's own credentials are used.")
    id: str | None = Field(default=None, description="Present when configured.")
    public: ChannelCredentialPublicOut | None = Field(
        default=None, description="Present when configured."
    )
    created_at: str | None = Field(default=None, description="Present when configured.")
    updated_at: str | None = Field(default=None, description="Present when configured.")
    webhook_url: str | None = Field(
        default=None, description="Where the provider must send inbound messages (chat channels)."
    )
