"""The dispatcher: what an authenticated inbound message proves (seed "Reverse OTP").

A channel hands over who sent what; this module finds the pending verification the code belongs
to and decides. The code alone proves nothing — it must come from the asset being verified: the
sender's phone number (WhatsApp ``from``, Twilio ``From``, a Telegram user's *own* shared
contact), a WhatsApp business-scoped user id, or a DKIM-authenticated email address. A right code
from the wrong sender is a failed attempt; a wrong code from a sender with a pending verification
on this channel counts against that verification. Replies never carry codes or secrets.

No inbound message is dropped. The API-submission backoff (``next_attempt_at``) throttles guesses
made through the API; a provider-signed message is evidence, so it is always evaluated: the right
code from the asset completes even inside the backoff window, anything else is counted (up to
``max_attempts``, atomically) and answered. Every outcome has a reply for the person's chat.
A message that is seen again after it completed its verification (the provider redelivering it
because the reply could not be sent) is answered ``verified`` again and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import phonenumbers
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.channels.base import InboundMessage, Reply
from vouch_server.channels.telegram import CONTACT_KEYBOARD, REMOVE_KEYBOARD, TelegramUpdate
from vouch_server.control import repository
from vouch_server.control import service as control
from vouch_server.kit.clock import utcnow
from vouch_server.kit.codes import code_digest
from vouch_server.kit.ids import new_object_id
from vouch_server.models import ChannelLink, Verification
from vouch_server.runtime import Runtime

CODE_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{6}(?![A-Za-z0-9])")
MAX_CODES_PER_MESSAGE = 5
# A shared Telegram contact vouches for the person's number for this long.
CONTACT_TTL = timedelta(hours=1)
# ``Reply.extra`` key: this message counted a failed attempt, so evaluating it again (a provider
# redelivery) would count it twice.
COUNTED_ATTEMPT = "counted_attempt"


def counted_attempt(reply: Reply) -> bool:
    """Whether the message behind ``reply`` changed a verification's attempt count."""
    return bool(reply.extra.get(COUNTED_ATTEMPT))


def candidate_codes(text: str) -> list[str]:
    seen: list[str] = []
    for match in CODE_RE.findall(text or ""):
        code = match.upper()
        if code not in seen:
            seen.append(code)
        if len(seen) >= MAX_CODES_PER_MESSAGE:
            break
    return seen


async def _pending_by_codes(
    session: AsyncSession,
    runtime: Runtime,
    codes: Sequence[str],
    channel: str,
    project_id: str | None = None,
) -> list[Verification]:
    """Pending verifications of this channel with one of these codes (a project's own provider
    account only ever completes that project's verifications)."""
    if not codes:
        return []
    digests = [code_digest(runtime.code_key, code) for code in codes]
    query = select(Verification).where(
        Verification.code_digest.in_(digests),
        Verification.status == "pending",
        Verification.channel == channel,
    )
    if project_id is not None:
        query = query.where(Verification.project_id == project_id)
    rows = await session.scalars(query.order_by(Verification.created_at.desc()))
    return list(rows.all())


async def _proven_by_codes(
    session: AsyncSession,
    runtime: Runtime,
    codes: Sequence[str],
    channel: str,
    senders: set[str],
    project_id: str | None = None,
) -> Verification | None:
    """A verification these codes already completed from one of these senders, while its
    challenge would still be open: the same message seen again gets the same answer."""
    if not codes or not senders:
        return None
    digests = [code_digest(runtime.code_key, code) for code in codes]
    query = select(Verification).where(
        Verification.code_digest.in_(digests),
        Verification.status == "verified",
        Verification.channel == channel,
        Verification.identifier.in_(senders),
        Verification.challenge_expires_at > utcnow(),
    )
    if project_id is not None:
        query = query.where(Verification.project_id == project_id)
    return await session.scalar(query.order_by(Verification.created_at.desc()).limit(1))


async def _latest_pending_for(
    session: AsyncSession, channel: str, identifiers: set[str], project_id: str | None = None
) -> Verification | None:
    if not identifiers:
        return None
    query = select(Verification).where(
        Verification.status == "pending",
        Verification.channel == channel,
        Verification.identifier.in_(identifiers),
        Verification.challenge_expires_at > utcnow(),
    )
    if project_id is not None:
        query = query.where(Verification.project_id == project_id)
    return await session.scalar(query.order_by(Verification.created_at.desc()).limit(1))


async def _count_failure(
    session: AsyncSession, runtime: Runtime, verification: Verification, reason: str
) -> Reply:
    # A provider-signed message is counted even inside the API backoff window (see the module
    # docstring); max_attempts still bounds it.
    counted = await repository.record_failed_attempt(
        session, verification.id, utcnow(), reason, within_backoff=True
    )
    await session.refresh(verification)
    if not counted:
        # Another message or request got there first and the verification is no longer open.
        if verification.status == "failed":
            return Reply("failed")
        if verification.status == "expired":
            return Reply("expired")
        return Reply("unknown_code")
    mark = {COUNTED_ATTEMPT: True}
    if verification.status == "failed":
        await control.announce(session, runtime, verification)
        return Reply("failed", extra=mark)
    return Reply("wrong_sender" if reason == "source_mismatch" else "unknown_code", extra=mark)


async def prove(
    session: AsyncSession, runtime: Runtime, verification: Verification, senders: set[str]
) -> Reply:
    """The code matched ``verification``; complete it if the sender is its asset."""
    verification = await control.expire_if_due(session, runtime, verification)
    if verification.status == "expired":
        return Reply("expired")
    if verification.status == "verified" and verification.identifier in senders:
        return Reply("verified")
    if verification.status != "pending":
        return Reply("unknown_code")
    # No API backoff here: the provider's signature is the evidence (module docstring).
    if verification.identifier not in senders:
        return await _count_failure(session, runtime, verification, "source_mismatch")
    if await control.complete(session, runtime, verification):
        return Reply("verified")
    await session.refresh(verification)
    if verification.status == "verified" and verification.identifier in senders:
        return Reply("verified")  # the same message, processed concurrently, won
    if verification.status == "failed":
        return Reply("failed")
    if verification.status == "expired":
        return Reply("expired")
    return Reply("unknown_code")


async def handle_message(
    session: AsyncSession,
    runtime: Runtime,
    message: InboundMessage,
    *,
    project_id: str | None = None,
) -> tuple[Reply, Verification | None]:
    """WhatsApp, SMS and email: the sender is known from the provider."""
    senders = {s for s in (message.sender, message.sender_alt) if s}
    codes = candidate_codes(message.text)
    matches = await _pending_by_codes(session, runtime, codes, message.channel, project_id)
    if matches:
        chosen = next((v for v in matches if v.identifier in senders), matches[0])
        if (
            message.channel == "whatsapp"
            and chosen.type == "phone"
            and message.sender is None
            and chosen.identifier not in senders
        ):
            # A BSUID-only message cannot prove a phone number; say so instead of failing it.
            return Reply("bsuid_cannot_prove_phone"), chosen
        return await prove(session, runtime, chosen, senders), chosen
    proven = await _proven_by_codes(session, runtime, codes, message.channel, senders, project_id)
    if proven is not None:
        return Reply("verified"), proven
    if codes:
        own = await _latest_pending_for(session, message.channel, senders, project_id)
        if own is not None:
            return await _count_failure(session, runtime, own, "invalid_code"), own
    return Reply("unknown_code" if codes else "welcome"), None


def _telegram_phone(raw: str) -> str | None:
    text = raw.strip()
    if not text.startswith("+"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


async def _telegram_link(session: AsyncSession, bot: str, user_id: str) -> ChannelLink:
    link = await session.scalar(
        select(ChannelLink).where(
            ChannelLink.bot == bot,
            ChannelLink.provider == "telegram",
            ChannelLink.external_user_id == user_id,
        )
    )
    if link is None:
        link = ChannelLink(
            id=new_object_id(),
            bot=bot,
            provider="telegram",
            external_user_id=user_id,
            updated_at=utcnow(),
        )
        session.add(link)
        await session.flush()
    return link


async def handle_telegram(
    session: AsyncSession,
    runtime: Runtime,
    update: TelegramUpdate,
    *,
    bot: str = "default",
    project_id: str | None = None,
) -> tuple[Reply, Verification | None]:
    """Telegram proves a phone in two steps, in either order: the code (``/start <code>`` from
    the deep link, or typed) binds the conversation to a verification, and the person's own
    contact (``request_contact`` button; ``contact.user_id`` must be the sender's id) supplies
    the phone number."""
    if update.user_id is None:
        return Reply("welcome"), None
    link = await _telegram_link(session, bot, update.user_id)
    link.chat_id = update.chat_id
    link.updated_at = utcnow()
    now = utcnow()
    phone = link.phone if link.phone_at is not None and link.phone_at > now - CONTACT_TTL else None
    bound = (
        await repository.get_by_id(session, link.verification_id) if link.verification_id else None
    )

    if update.contact_phone is not None:
        if update.contact_user_id != update.user_id:
            return Reply("foreign_contact", extra={"reply_markup": CONTACT_KEYBOARD}), bound
        phone = _telegram_phone(update.contact_phone)
        link.phone, link.phone_at = phone, now
        await session.flush()
        replay = bound is not None and bound.status == "verified" and bound.identifier == phone
        if bound is not None and phone and (bound.status == "pending" or replay):
            reply = await prove(session, runtime, bound, {phone})
            return _with_keyboard_removed(reply), bound
        return Reply("contact_saved", extra={"reply_markup": REMOVE_KEYBOARD}), None

    text = (update.text or "").strip()
    if text.startswith("/start"):
        text = text[len("/start") :].strip()
    codes = candidate_codes(text)
    matches = await _pending_by_codes(session, runtime, codes, "telegram", project_id)
    if matches:
        chosen = next((v for v in matches if phone and v.identifier == phone), matches[0])
        link.verification_id = chosen.id
        await session.flush()
        if phone:
            return await prove(session, runtime, chosen, {phone}), chosen
        return Reply("ask_contact", extra={"reply_markup": CONTACT_KEYBOARD}), chosen
    if not codes:
        return Reply("welcome"), None
    proven = await _proven_by_codes(
        session, runtime, codes, "telegram", {phone} if phone else set(), project_id
    )
    if proven is not None:
        return Reply("verified"), proven
    target = bound if bound is not None and bound.status == "pending" else None
    if target is None and phone:
        target = await _latest_pending_for(session, "telegram", {phone}, project_id)
    if target is not None:
        return await _count_failure(session, runtime, target, "invalid_code"), target
    return Reply("unknown_code"), None


def _with_keyboard_removed(reply: Reply) -> Reply:
    return Reply(
        reply.message_type, reply.variables, {**reply.extra, "reply_markup": REMOVE_KEYBOARD}
    )


def reply_variables(
    verification: Verification | None, project_name: str | None, settings: Any
) -> dict[str, Any]:
    return {
        "business_name": project_name or "vouch",
        "channel": verification.channel if verification is not None else "",
        "user_identifier": verification.identifier if verification is not None else "",
        "support_email": settings.email_from,
        "expires_in": "",
        "code": "",
    }


def normalize_phone(raw: str) -> str | None:
    """A provider's sender number (``+14155550100``, ``14155550100``) in E.164, or None."""
    return _telegram_phone(raw) if raw.strip() else None
