"""Finding a person's Telegram chat id without asking them to type it
(``POST /api/v1/hitl/chat-id-discovery``).

The caller gets a deep link ``https://t.me/<bot>?start=chat_<token>`` (and its QR code) to hand
to the person; when they open it and press Start, the bot receives ``/start chat_<token>`` and
vouch records the chat it came from. The caller polls ``GET …/{token}`` (or follows its SSE
stream) until ``status`` is ``completed`` and reads ``chat_id``, ready for a ``telegram`` HITL
channel. Only the SHA-256 of the token is stored; a token is good for one chat, once, for
``TTL_SECONDS``. Only a private chat counts (the chat id of a group would let the group answer).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.approval import messaging, payloads
from vouch_server.channels import dispatch
from vouch_server.errors import BadRequest, NotFound
from vouch_server.kit.clock import isoformat_ms, truncate_ms, utcnow
from vouch_server.kit.ids import new_object_id
from vouch_server.models.hitl import ChatIdDiscovery
from vouch_server.runtime import Runtime
from vouch_server.sessions.qr import png_data_url
from vouch_server.tenancy import credentials
from vouch_server.tenancy.service import Principal

PREFIX = "chat_"
TTL_SECONDS = 600
MAX_TOKEN = 64


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def topic(row: ChatIdDiscovery) -> str:
    return f"chat-id-discovery:{row.id}"


async def create(session: AsyncSession, runtime: Runtime, principal: Principal) -> dict[str, Any]:
    token = secrets.token_urlsafe(24)  # 32 characters of [A-Za-z0-9_-], as /start allows
    now = truncate_ms(utcnow())
    settings = await credentials.effective_settings(session, runtime.settings, principal.project_id)
    bot = settings.telegram_bot_username.lstrip("@")
    if not bot:
        raise BadRequest(
            "This channel is not configured on this server (VOUCH_TELEGRAM_BOT_USERNAME)",
            code="channel_not_configured",
        )
    session.add(
        ChatIdDiscovery(
            id=new_object_id(),
            project_id=principal.project_id,
            environment=principal.environment,
            token_hash=_digest(token),
            status="pending",
            expires_at=now + timedelta(seconds=TTL_SECONDS),
            created_at=now,
        )
    )
    await session.flush()
    link = f"https://t.me/{bot}?start={PREFIX}{token}"
    return {
        "token": token,
        "deep_link": link,
        "qr_code": png_data_url(link),
        "qr_text": link,
        "expires_in": TTL_SECONDS,
        "expires_at": isoformat_ms(now + timedelta(seconds=TTL_SECONDS)),
    }


async def find(session: AsyncSession, principal: Principal, token: str) -> ChatIdDiscovery:
    row = (
        await session.scalar(
            select(ChatIdDiscovery).where(
                ChatIdDiscovery.token_hash == _digest(token),
                ChatIdDiscovery.project_id == principal.project_id,
                ChatIdDiscovery.environment == principal.environment,
            )
        )
        if 0 < len(token) <= MAX_TOKEN
        else None
    )
    if row is None:
        raise NotFound("Chat id discovery not found")
    return row


def render(row: ChatIdDiscovery) -> dict[str, Any]:
    status = row.status
    if status == "pending" and row.expires_at <= utcnow():
        status = "expired"
    body: dict[str, Any] = {"status": status, "expires_at": isoformat_ms(row.expires_at)}
    if row.status == "completed" and row.chat_id is not None:
        body["chat_id"] = row.chat_id
        body["completed_at"] = isoformat_ms(row.completed_at) if row.completed_at else None
    return body


# -- the bot's side: /start chat_<token> --------------------------------------------------------------
async def _reply(
    session: AsyncSession, context: dispatch.InboundContext, chat_id: str, text: str, test: bool
) -> None:
    settings = context.settings

    async def send() -> str | None:
        return await messaging.telegram_send(settings, chat_id, text)

    await messaging.deliver(
        session,
        test_mode=test,
        channel="telegram",
        recipient=chat_id,
        message_type="chat_id_discovery",
        text=text,
        send=send,
        project_id=context.project_id,
    )


async def _telegram(
    session: AsyncSession, runtime: Runtime, context: dispatch.InboundContext
) -> bool:
    message = payloads.telegram_text(context.payload)
    command = payloads.bot_command(message.text) if message is not None else None
    if message is None or command is None:
        return False
    name, argument = command
    if name != "/start" or not argument.startswith(PREFIX):
        return False
    token = argument[len(PREFIX) :]
    now = truncate_ms(utcnow())
    row = (
        await session.scalar(
            select(ChatIdDiscovery).where(ChatIdDiscovery.token_hash == _digest(token))
        )
        if 0 < len(token) <= MAX_TOKEN
        else None
    )
    # A project's own bot completes only that project's discoveries.
    if row is None or (context.project_id is not None and context.project_id != row.project_id):
        await _reply(session, context, message.chat_id, "This link is not valid.", False)
        return True
    test = row.environment == "test"
    if not payloads.is_private_chat_id(message.chat_id) or message.user_id != message.chat_id:
        text = "Open this link in a private chat with the bot, not in a group."
        await _reply(session, context, message.chat_id, text, test)
        return True
    claimed = await session.execute(
        update(ChatIdDiscovery)
        .where(
            ChatIdDiscovery.id == row.id,
            ChatIdDiscovery.status == "pending",
            ChatIdDiscovery.expires_at > now,
        )
        .values(status="completed", chat_id=message.chat_id, bot=context.bot, completed_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        await _reply(session, context, message.chat_id, "This link has expired or was used.", test)
        return True
    await session.refresh(row)
    await runtime.bus.publish(session, topic(row), {"id": row.id, "status": "completed"})
    text = "Thanks: this chat is now known to the service that sent you the link."
    await _reply(session, context, message.chat_id, text, test)
    return True


dispatch.register("telegram", _telegram)
