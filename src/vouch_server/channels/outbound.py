"""Outbound messages: sent through the provider in live mode, recorded instead in test mode.

Either way a row is written to ``outbound_messages`` (the null implementation of warehouse's
habit: test mode records what it would send). Live rows keep no message body — a body may hold a
code — only who, what type, and whether the provider accepted it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.errors import RetryLater
from vouch_server.kit.clock import truncate_ms, utcnow
from vouch_server.kit.ids import new_object_id
from vouch_server.models import OutboundMessage

log = logging.getLogger("vouch.channels")

Transport = Callable[[], Awaitable[None]]


async def deliver(
    session: AsyncSession,
    *,
    test_mode: bool,
    channel: str,
    recipient: str,
    message_type: str,
    text: str,
    transport: Transport,
    project_id: str | None = None,
    verification_id: str | None = None,
    payload: dict[str, Any] | None = None,
) -> OutboundMessage:
    row = OutboundMessage(
        id=new_object_id(),
        project_id=project_id,
        environment="test" if test_mode else "live",
        channel=channel,
        recipient=recipient,
        message_type=message_type,
        status="recorded",
        body=text if test_mode else None,
        payload=payload if test_mode else None,
        verification_id=verification_id,
        created_at=truncate_ms(utcnow()),
    )
    if not test_mode:
        try:
            await transport()
            row.status = "sent"
        except RetryLater as exc:
            row.status = "failed"
            row.error = exc.message[:500]
            log.warning("%s %s to a recipient failed: %s", channel, message_type, exc.message)
    session.add(row)
    await session.flush()
    return row
