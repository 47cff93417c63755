"""Bring your own channel: a project's own provider accounts, sealed at rest.

Threat model, "BYOC Credential Encryption": AES-256-GCM under a per-project key derived with
PBKDF2-HMAC-SHA256 (100,000 iterations) from the master secret, salted with the project id, and
the project id + channel as associated data (a sealed blob moved to another row fails to open).
Secrets are never returned by the API; only non-secret routing facts (a bot username, a phone
number) are shown.

Where a project has its own credentials they take precedence over the server-wide settings:
``effective_settings`` returns the settings with the project's provider fields laid over them.

What a project sets here is caller-supplied, so the SSRF guard applies to any place it names
(threat model §10; docs/security.md, "Which URLs are guarded"). A project's SMTP URL must name a
host the guard accepts — checked here, at registration, and again at every send, where the
connection is pinned to the approved address (``vouch_server.channels.email.send_mail``). No project
credential carries a provider API base: those stay the operator's (``VOUCH_*_API_BASE``), and the
schemas refuse any field they do not list.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.channels.email import InvalidSmtpUrl, parse_smtp_url
from vouch_server.config import Settings
from vouch_server.errors import NotFound, ValidationFailed
from vouch_server.http import validation_details
from vouch_server.kit.clock import isoformat_ms, truncate_ms, utcnow
from vouch_server.kit.ids import new_object_id
from vouch_server.kit.secretbox import SecretBox
from vouch_server.kit.urls import UnsafeUrl, check_host
from vouch_server.models import ChannelCredential

PBKDF2_ITERATIONS = 100_000


class _Creds(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TelegramCredentials(_Creds):
    bot_token: str = Field(min_length=10, max_length=200)
    bot_username: str = Field(min_length=5, max_length=64)
    webhook_secret: str = Field(min_length=16, max_length=256, pattern=r"^[A-Za-z0-9_-]+$")


class WhatsAppCredentials(_Creds):
    phone_number: str = Field(min_length=5, max_length=32)
    phone_number_id: str = Field(min_length=1, max_length=64)
    access_token: str = Field(min_length=10, max_length=1024)
    app_secret: str = Field(min_length=8, max_length=256)
    verify_token: str = Field(min_length=8, max_length=256)


class SmsCredentials(_Creds):
    account_sid: str = Field(min_length=2, max_length=64)
    auth_token: str = Field(min_length=8, max_length=256)
    numbers: str = Field(min_length=3, max_length=1000, description="REGION=+E164,…")


class EmailCredentials(_Creds):
    smtp_url: str = Field(min_length=8, max_length=1000, pattern=r"^smtps?://")
    email_from: str = Field(min_length=3, max_length=320)


class OAuthCredentials(_Creds):
    client_id: str = Field(min_length=1, max_length=500)
    client_secret: str = Field(min_length=1, max_length=1000)


# Social and exchange-account sign-in (the methods issue): the project's own OAuth client.
OAUTH_PROVIDERS = (
    "github",
    "google",
    "facebook",
    "x",
    "linkedin",
    "instagram",
    "youtube",
    "tiktok",
    "coinbase",
    "kraken",
)

SCHEMAS: dict[str, type[_Creds]] = {
    "telegram": TelegramCredentials,
    "whatsapp": WhatsAppCredentials,
    "sms": SmsCredentials,
    "email": EmailCredentials,
    **{f"oauth-{p}": OAuthCredentials for p in OAUTH_PROVIDERS},
}
# Fields that are not secret and may be shown back.
PUBLIC_FIELDS = {
    "telegram": ("bot_username",),
    "whatsapp": ("phone_number", "phone_number_id"),
    "sms": ("account_sid", "numbers"),
    "email": ("email_from",),
    **{f"oauth-{p}": ("client_id",) for p in OAUTH_PROVIDERS},
}
# Credential field -> Settings field.
SETTINGS_MAP = {
    "telegram": {
        "bot_token": "telegram_bot_token",
        "bot_username": "telegram_bot_username",
        "webhook_secret": "telegram_webhook_secret",
    },
    "whatsapp": {
        "phone_number": "whatsapp_phone_number",
        "phone_number_id": "whatsapp_phone_number_id",
        "access_token": "whatsapp_access_token",
        "app_secret": "whatsapp_app_secret",
        "verify_token": "whatsapp_verify_token",
    },
    "sms": {
        "account_sid": "twilio_account_sid",
        "auth_token": "twilio_auth_token",
        "numbers": "twilio_numbers",
    },
    "email": {"smtp_url": "smtp_url", "email_from": "email_from"},
    **{
        f"oauth-{p}": {
            "client_id": f"oauth_{p}_client_id",
            "client_secret": f"oauth_{p}_client_secret",
        }
        for p in OAUTH_PROVIDERS
    },
}


@lru_cache(maxsize=256)
def _project_key(master: bytes, project_id: str) -> bytes:
    kdf = PBKDF2HMAC(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"vouch/byoc/" + project_id.encode(),
        iterations=PBKDF2_ITERATIONS,
    )
    return kdf.derive(master)


def _box(settings: Settings, project_id: str) -> SecretBox:
    return SecretBox(_project_key(settings.master_key, project_id))


def _aad(project_id: str, channel: str) -> bytes:
    return f"{project_id}/{channel}".encode()


def _check_channel(channel: str) -> type[_Creds]:
    schema = SCHEMAS.get(channel)
    if schema is None:
        raise NotFound(f"Unknown channel '{channel}'")
    return schema


def _check_smtp_url(settings: Settings, url: str) -> None:
    """A project's SMTP server must be one the SSRF guard accepts: not a local or internal name,
    not a private, loopback or reserved address (``VOUCH_ALLOW_PRIVATE_TARGETS`` lifts that)."""
    try:
        check_host(parse_smtp_url(url).host, allow_private=settings.allow_private_targets)
    except (InvalidSmtpUrl, UnsafeUrl) as exc:
        detail = {"field": "smtp_url", "message": str(exc), "code": "invalid_string"}
        raise ValidationFailed(details=[detail]) from None


async def put(
    session: AsyncSession, settings: Settings, project_id: str, channel: str, body: dict[str, Any]
) -> ChannelCredential:
    schema = _check_channel(channel)
    try:
        creds = schema.model_validate(body)
    except ValidationError as exc:
        raise ValidationFailed(details=validation_details(exc.errors())) from exc
    if isinstance(creds, EmailCredentials):
        _check_smtp_url(settings, creds.smtp_url)
    data = creds.model_dump()
    public = {k: data[k] for k in PUBLIC_FIELDS[channel]}
    sealed = _box(settings, project_id).seal(json.dumps(data).encode(), _aad(project_id, channel))
    now = truncate_ms(utcnow())
    row = await _get(session, project_id, channel)
    if row is None:
        row = ChannelCredential(
            id=new_object_id(),
            project_id=project_id,
            channel=channel,
            sealed=sealed,
            public=public,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    else:
        row.sealed, row.public, row.updated_at = sealed, public, now
    await session.flush()
    return row


async def _get(session: AsyncSession, project_id: str, channel: str) -> ChannelCredential | None:
    return await session.scalar(
        select(ChannelCredential).where(
            ChannelCredential.project_id == project_id, ChannelCredential.channel == channel
        )
    )


def describe(row: ChannelCredential) -> dict[str, Any]:
    return {
        "id": row.id,
        "channel": row.channel,
        "configured": True,
        "public": row.public,
        "created_at": isoformat_ms(row.created_at),
        "updated_at": isoformat_ms(row.updated_at),
    }


async def get_description(session: AsyncSession, project_id: str, channel: str) -> dict[str, Any]:
    _check_channel(channel)
    row = await _get(session, project_id, channel)
    if row is None:
        return {"channel": channel, "configured": False}
    return describe(row)


async def delete(session: AsyncSession, project_id: str, channel: str) -> bool:
    _check_channel(channel)
    row = await _get(session, project_id, channel)
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    return True


def open_row(settings: Settings, row: ChannelCredential) -> dict[str, Any]:
    raw = _box(settings, row.project_id).open(row.sealed, _aad(row.project_id, row.channel))
    data: dict[str, Any] = json.loads(raw)
    return data


async def effective_settings(
    session: AsyncSession, settings: Settings, project_id: str | None
) -> Settings:
    """The server settings with the project's own provider credentials laid over them."""
    if project_id is None:
        return settings
    rows = (
        await session.scalars(
            select(ChannelCredential).where(ChannelCredential.project_id == project_id)
        )
    ).all()
    if not rows:
        return settings
    update: dict[str, Any] = {}
    for row in rows:
        data = open_row(settings, row)
        for field, target in SETTINGS_MAP[row.channel].items():
            update[target] = data[field]
    return settings.model_copy(update=update)


async def settings_for_credential(
    session: AsyncSession, settings: Settings, credential_id: str, channel: str
) -> tuple[Settings, str] | None:
    """Inbound routes of a project's own provider account: its settings and project id."""
    row = await session.get(ChannelCredential, credential_id)
    if row is None or row.channel != channel:
        return None
    data = open_row(settings, row)
    update = {target: data[field] for field, target in SETTINGS_MAP[channel].items()}
    return settings.model_copy(update=update), row.project_id
