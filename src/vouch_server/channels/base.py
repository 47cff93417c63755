"""What every channel produces and needs."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from vouch_server.config import Settings
from vouch_server.errors import RetryLater


@dataclass(frozen=True)
class Reply:
    """A reply to the person, by message type (rendered from the project's templates)."""

    message_type: str
    variables: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # provider options (keyboards)


Replier = Callable[[Reply, "str | None", "str | None"], Awaitable[None]]


@dataclass(frozen=True)
class InboundMessage:
    """A message someone sent to vouch, authenticated by its provider.

    ``sender`` is the provable identity of the sender in the verification's identifier form
    (E.164 phone, lowercased email) or None when the provider gave none; ``sender_alt`` is another
    identity it proves (a WhatsApp business-scoped user id)."""

    channel: str
    sender: str | None
    text: str
    sender_alt: str | None = None
    provider_message_id: str | None = None


def constant_time_equals(expected: str | None, given: str | None) -> bool:
    if not expected or given is None:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


async def provider_request(
    settings: Settings,
    method: str,
    url: str,
    *,
    seconds: float = 15.0,
    **kwargs: Any,
) -> httpx.Response:
    """Call a provider API at its server-wide base (``VOUCH_TELEGRAM_API_BASE``,
    ``VOUCH_WHATSAPP_API_BASE``, ``VOUCH_TWILIO_API_BASE``). Those are the operator's own settings
    — a self-hosted Bot API server on loopback, a stand-in, an air-gapped gateway — so they do not
    pass through the SSRF guard, which is for URLs API callers supply (a project's own credentials
    never carry an API base: see ``vouch_server.tenancy.credentials``). Network trouble is
    ``RetryLater``."""
    try:
        async with httpx.AsyncClient(timeout=seconds, trust_env=False) as client:
            return await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise RetryLater(f"provider unreachable: {type(exc).__name__}") from exc
