"""The human's answer to an approval request, as it arrives from the providers (registered with
``vouch_server.channels.dispatch`` at import time, ahead of the reverse-OTP dispatcher).

Telegram: a press of Approve / Deny (``callback_data`` ``ha:<key>`` / ``hd:<key>``, answered with
``answerCallbackQuery``), or a text reply to the request — ``approve <comment>`` / ``deny
<comment>`` — which decides with a comment. WhatsApp: a press of the interactive reply buttons
(``interactive.button_reply.id``), or a text reply (``context.id`` = the request's message id)
in the same form. A decision word sent without replying counts when that person has exactly one
open request.

Only a configured recipient the request went to may decide: the Telegram chat (and, in a private
chat, that user), the WhatsApp phone number or business-scoped user id. Anything else is refused
and changes nothing. Replies to the person are sent after the decision has committed.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.approval import messaging, payloads, repository, service
from vouch_server.channels import dispatch
from vouch_server.config import Settings
from vouch_server.kit.clock import utcnow
from vouch_server.models.delegation import Confirmation
from vouch_server.runtime import Runtime

APPROVE, DENY = service.APPROVE, service.DENY
NOT_VALID = "This request is not valid."
NOT_YOURS = "Only a recipient of this request can answer it."
SEVERAL = "You have several open requests: reply to the one you mean."
HOW = "Reply with “approve <comment>” or “deny <comment>” to answer this request."


def _belongs(c: Confirmation | None, context: dispatch.InboundContext) -> bool:
    return c is not None and (context.project_id is None or context.project_id == c.project_id)


async def _answer(
    session: AsyncSession,
    runtime: Runtime,
    c: Confirmation,
    *,
    action: str,
    comment: str | None,
    channel: str,
    actor: str,
) -> str:
    """Decide if still possible; the text that tells the person what happened."""
    c = await service.expire_if_due(session, runtime, c)
    if c.status == "pending" and await service.decide(
        session, runtime, c, action=action, text=comment, channel=channel, actor=actor
    ):
        done = "✅ Approved." if action == "approve" else "❌ Denied."
        return done + (" Your comment was recorded." if c.response_text else "")
    return service.already_text(c)


def _reply_later(
    session: AsyncSession,
    runtime: Runtime,
    *,
    settings: Settings,
    channel: str,
    recipient: str,
    text: str,
    test_mode: bool,
    project_id: str | None,
    callback_query_id: str | None = None,
) -> None:
    async def action(fresh: AsyncSession) -> None:
        async def send() -> str | None:
            if callback_query_id is not None:
                await messaging.telegram_answer(settings, callback_query_id, text)
                return None
            if channel == "telegram":
                return await messaging.telegram_send(settings, recipient, text)
            return await messaging.whatsapp_text(settings, recipient, text)

        await messaging.deliver(
            fresh,
            test_mode=test_mode,
            channel=channel,
            recipient=recipient,
            message_type="approval_answer",
            text=text,
            send=send,
            project_id=project_id,
        )

    service.after_commit_do(session, runtime, action)


# -- Telegram --------------------------------------------------------------------------------------
def _telegram_may_answer(c: Confirmation, chat_id: str | None, user_id: str | None) -> bool:
    if chat_id is None or chat_id not in service.recipients_of(c, "telegram"):
        return False
    return not payloads.is_private_chat_id(chat_id) or user_id == chat_id


async def _telegram(
    session: AsyncSession, runtime: Runtime, context: dispatch.InboundContext
) -> bool:
    press = payloads.telegram_press(context.payload)
    if press is not None:
        if not press.data.startswith((APPROVE, DENY)):
            return False
        c = await repository.by_callback_key(session, press.data[3:])
        if not _belongs(c, context) or c is None:
            text = NOT_VALID
        elif not _telegram_may_answer(c, press.chat_id, press.user_id):
            text = NOT_YOURS
        else:
            text = await _answer(
                session,
                runtime,
                c,
                action="approve" if press.data.startswith(APPROVE) else "deny",
                comment=None,
                channel="telegram",
                actor=service.actor_hash("telegram", press.user_id or press.chat_id or ""),
            )
        _reply_later(
            session,
            runtime,
            settings=context.settings,
            channel="telegram",
            recipient=press.chat_id or "",
            text=text,
            test_mode=c is not None and c.environment == "test",
            project_id=c.project_id if c is not None else context.project_id,
            callback_query_id=press.callback_query_id,
        )
        return True

    message = payloads.telegram_text(context.payload)
    if message is None or message.text.startswith("/"):
        return False
    c = None
    if message.reply_to_message_id is not None:
        sent = await repository.message_by_provider_id(
            session, "telegram", {message.chat_id}, message.reply_to_message_id
        )
        c = await repository.get_by_id(session, sent.confirmation_id) if sent else None
    decision = payloads.decision_in(message.text)
    if c is None:
        if decision is None:
            return False
        open_ = await repository.pending_for_recipient(
            session, "telegram", {message.chat_id}, utcnow()
        )
        open_ = [o for o in open_ if _belongs(o, context)]
        if not open_:
            return False
        if len(open_) > 1:
            text = SEVERAL
        else:
            c = open_[0]
    if c is not None:
        if not _belongs(c, context) or not _telegram_may_answer(
            c, message.chat_id, message.user_id
        ):
            text = NOT_YOURS
        elif decision is None:
            text = HOW
        else:
            text = await _answer(
                session,
                runtime,
                c,
                action=decision[0],
                comment=decision[1],
                channel="telegram",
                actor=service.actor_hash("telegram", message.user_id or message.chat_id),
            )
    _reply_later(
        session,
        runtime,
        settings=context.settings,
        channel="telegram",
        recipient=message.chat_id,
        text=text,
        test_mode=c is not None and c.environment == "test",
        project_id=c.project_id if c is not None else context.project_id,
    )
    return True


# -- WhatsApp --------------------------------------------------------------------------------------
async def _whatsapp(
    session: AsyncSession, runtime: Runtime, context: dispatch.InboundContext
) -> bool:
    inbound = payloads.whatsapp_inbound(context.payload)
    reply_to = inbound.reply_to
    if reply_to is None:
        return False
    c: Confirmation | None = None
    action: str | None = None
    comment: str | None = None
    text: str | None = None
    if inbound.button_id is not None:
        if not inbound.button_id.startswith((APPROVE, DENY)):
            return False
        c = await repository.by_callback_key(session, inbound.button_id[3:])
        action = "approve" if inbound.button_id.startswith(APPROVE) else "deny"
        if not _belongs(c, context):
            text = NOT_VALID
    elif inbound.text is not None:
        decision = payloads.decision_in(inbound.text)
        if inbound.context_id is not None:
            sent = await repository.message_by_provider_id(
                session, "whatsapp", inbound.senders, inbound.context_id
            )
            c = await repository.get_by_id(session, sent.confirmation_id) if sent else None
        if c is None:
            if decision is None:
                return False
            open_ = await repository.pending_for_recipient(
                session, "whatsapp", inbound.senders, utcnow()
            )
            open_ = [o for o in open_ if _belongs(o, context)]
            if not open_:
                return False
            if len(open_) > 1:
                text = SEVERAL
            else:
                c = open_[0]
        if c is not None and decision is None:
            text = HOW
        elif decision is not None:
            action, comment = decision
    else:
        return False

    if text is None and c is not None and action is not None:
        if not _belongs(c, context) or not inbound.senders & service.recipients_of(c, "whatsapp"):
            text = NOT_YOURS
        else:
            text = await _answer(
                session,
                runtime,
                c,
                action=action,
                comment=comment,
                channel="whatsapp",
                actor=service.actor_hash("whatsapp", _recipient_of(c, inbound.senders)),
            )
    _reply_later(
        session,
        runtime,
        settings=context.settings,
        channel="whatsapp",
        recipient=reply_to,
        text=text or NOT_VALID,
        test_mode=c is not None and c.environment == "test",
        project_id=c.project_id if c is not None else context.project_id,
    )
    return True


def _recipient_of(c: Confirmation, senders: set[str]) -> str:
    """The configured identity the sender matched (the one the request was addressed to)."""
    for message_recipient in sorted(senders & service.recipients_of(c, "whatsapp")):
        return message_recipient
    return sorted(senders)[0]


dispatch.register("telegram", _telegram)
dispatch.register("whatsapp", _whatsapp)
