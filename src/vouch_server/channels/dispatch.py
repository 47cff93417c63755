"""Inbound handlers of other families (consent prompts, approval buttons, ``/stop``).

A family registers a handler per provider; the inbound route offers every authenticated
payload to the registered handlers first, in registration order, and only if none takes it does
the message go to Proof of Control's reverse-OTP dispatcher. Handlers reply through the provider
themselves (the ``settings`` they get are the receiving account's: server-wide or the project's
own) and return True when they handled the payload.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.config import Settings
from vouch_server.runtime import Runtime


@dataclass(frozen=True)
class InboundContext:
    provider: str  # "telegram" | "whatsapp" | "sms"
    settings: Settings  # of the account that received it
    project_id: str | None  # set when a project's own account received it
    bot: str  # "default" or the credential id
    payload: dict[str, Any]  # Telegram: the Update; WhatsApp: one message + its value; SMS: fields


Handler = Callable[[AsyncSession, Runtime, InboundContext], Awaitable[bool]]

_handlers: dict[str, list[Handler]] = {}


def register(provider: str, handler: Handler) -> Handler:
    _handlers.setdefault(provider, []).append(handler)
    return handler


async def offer(session: AsyncSession, runtime: Runtime, context: InboundContext) -> bool:
    for handler in _handlers.get(context.provider, ()):
        if await handler(session, runtime, context):
            return True
    return False
