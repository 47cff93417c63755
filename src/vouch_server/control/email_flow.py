"""Email verifications, both directions (channels issue — email part).

Reverse (``receive``): the person emails the code to ``VOUCH_INBOUND_EMAIL_ADDRESS``; the message
arrives over SMTP (``channels.smtp_listener``) or from a provider over HTTP (``POST
/inbound/email``). It proves the mailbox only when DKIM proves its ``From:`` (``channels.email``);
then the dispatcher (``control.inbound``) finds the verification by code, checks that the sender
is its identifier, and completes it or counts the attempt. A refused message changes nothing.

Outbound (``resend``): vouch mails a fresh code and a magic link to the mailbox. The code is entered
with ``submit``; the link opens a page whose button POSTs (a GET never completes anything, so
mail scanners that pre-fetch links cannot). The link token is ``nonce.HMAC-SHA256(key, id ‖ nonce
‖ challenge expiry)``; only the nonce's SHA-256 is stored, a newer mail replaces it, and it works
until the challenge expires and only while the verification is pending — i.e. once.

vouch keeps only a digest of codes, so ``resend`` cannot repeat the first code: it issues a new one
(the earlier code and link stop working). Attempts and expiry are not reset.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import secrets
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.channels import email as mail
from vouch_server.channels import outbound
from vouch_server.channels.base import InboundMessage, Reply
from vouch_server.config import Settings
from vouch_server.control import inbound, repository
from vouch_server.control import service as control
from vouch_server.control.identifiers import InvalidIdentifier, normalize_identifier
from vouch_server.control.schemas import render_verification
from vouch_server.errors import BadRequest, RateLimited, RetryLater
from vouch_server.kit.clock import isoformat_ms, truncate_ms, utcnow
from vouch_server.kit.codes import code_digest, generate_code
from vouch_server.kit.ids import is_object_id
from vouch_server.kit.secretbox import derive_key
from vouch_server.models import Project, Verification
from vouch_server.runtime import Runtime
from vouch_server.tenancy import credentials, templates
from vouch_server.tenancy.service import Principal

log = logging.getLogger("vouch.channels.email")

LINK_STATE = "email_link"


# -- reverse: inbound mail -----------------------------------------------------------------------
@dataclass(frozen=True)
class EmailOutcome:
    """What became of one inbound message. ``accepted`` is False when it proves nothing (not
    authenticated, malformed, written by a machine); ``result`` is the dispatcher's reply type."""

    accepted: bool
    reason: str
    result: str | None = None

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": True, "accepted": self.accepted, "reason": self.reason}
        if self.result is not None:
            out["result"] = self.result
        return out


async def receive(
    session: AsyncSession, runtime: Runtime, raw: bytes, *, envelope_sender: str | None = None
) -> EmailOutcome:
    """Authenticate one RFC 5322 message and hand it to the dispatcher.

    Raises ``RetryLater`` when a DKIM key could not be fetched now (the sender or provider should
    try again); every other refusal is an outcome, logged without the message's content."""
    try:
        parsed = mail.parse_message(raw)
    except mail.EmailRefused as exc:
        log.warning("inbound email refused: %s", exc.reason)
        return EmailOutcome(False, exc.reason)
    result = await mail.authenticate(raw, parsed.from_domain, runtime.settings)
    if result.status == "temperror":
        log.warning("inbound email from %s: DKIM key look-up failed", parsed.from_domain)
        raise RetryLater("DKIM key look-up failed; try again later")
    if not result.passed:
        log.warning(
            "inbound email claiming domain %s refused: DKIM %s", parsed.from_domain, result.status
        )
        return EmailOutcome(False, f"dkim_{result.status}")
    try:
        sender = normalize_identifier("email", "email", parsed.from_address)
    except InvalidIdentifier:
        log.warning("inbound email from domain %s refused: unusable address", parsed.from_domain)
        return EmailOutcome(False, "malformed_from")
    if parsed.automatic or envelope_sender == "":
        # Auto-replies, bounces and list mail are not a person sending a code; an out-of-office
        # reply quoting a code must not complete anything.
        log.info("inbound email from domain %s ignored: automatic message", parsed.from_domain)
        return EmailOutcome(False, "automatic")
    reply, verification = await inbound.handle_message(
        session,
        runtime,
        InboundMessage(
            channel="email",
            sender=sender,
            text=_codes_first(parsed.text),
            provider_message_id=parsed.message_id,
        ),
    )
    await _reply(session, runtime, sender, parsed.message_id, reply, verification)
    return EmailOutcome(True, "processed", reply.message_type)


def _codes_first(text: str) -> str:
    """Mail is prose, and the dispatcher reads only the first few code-like words: put the ones
    written as codes are shown (upper case and digits) first, so "Hello, please verify me:
    X7K2M9" finds the code however many six-letter words come before it."""
    written_as_codes = [word for word in inbound.CODE_RE.findall(text) if word == word.upper()]
    return " ".join(written_as_codes) + "\n" + text if written_as_codes else text


async def _reply(
    session: AsyncSession,
    runtime: Runtime,
    sender: str,
    message_id: str | None,
    reply: Reply,
    verification: Verification | None,
) -> None:
    """Answer a DKIM-authenticated person (never a refused message: no backscatter), at most
    ``VOUCH_EMAIL_REPLY_RATE_LIMIT`` times per sender, and never with a code."""
    settings = runtime.settings
    project_id = verification.project_id if verification is not None else None
    effective = await credentials.effective_settings(session, settings, project_id)
    test_mode = verification is not None and verification.environment == "test"
    if not test_mode and not effective.smtp_url:
        return
    allowed = await runtime.limiter.hit(settings.email_reply_rate_limit, "email-reply", sender)
    if not allowed.allowed:
        return
    project = await session.get(Project, project_id) if project_id else None
    variables = inbound.reply_variables(verification, project.name if project else None, effective)
    variables.update(reply.variables)
    text = await templates.render(session, project_id, "email", reply.message_type, variables)
    subject = f"Re: your message to {variables['business_name']}"
    headers = {"In-Reply-To": message_id, "References": message_id} if message_id else {}
    message = mail.build_message(
        sender=effective.email_from,
        recipient=sender,
        subject=subject,
        text=text,
        auto_submitted="auto-replied",  # RFC 3834 §5.2
        headers=headers,
    )
    await outbound.deliver(
        session,
        test_mode=test_mode,
        channel="email",
        recipient=sender,
        message_type=reply.message_type,
        text=text,
        transport=_smtp_transport(settings, effective, message),
        project_id=project_id,
        verification_id=verification.id if verification is not None else None,
        payload={"subject": subject},
    )


def _smtp_transport(
    server: Settings, effective: Settings, message: EmailMessage
) -> outbound.Transport:
    async def send() -> None:
        # A project's own SMTP server is guarded and pinned; the operator's is trusted.
        await mail.send_mail(server, effective, message)

    return send


# -- outbound: code + magic link -----------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _nonce_digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _link_mac(settings: Settings, verification: Verification, nonce: str) -> str:
    key = derive_key(settings.master_key, "email-magic-link")
    expires = int(verification.challenge_expires_at.timestamp())
    signed = f"vouch/email-link/v1\n{verification.id}\n{nonce}\n{expires}".encode()
    return _b64(hmac.new(key, signed, hashlib.sha256).digest())


def magic_link(settings: Settings, verification: Verification, nonce: str) -> str:
    token = f"{nonce}.{_link_mac(settings, verification, nonce)}"
    return f"{settings.public_url}/verify/{verification.id}/email?token={token}"


def _token_valid(settings: Settings, verification: Verification, token: str) -> bool:
    nonce, _, mac = token.partition(".")
    state = (verification.method_state or {}).get(LINK_STATE)
    stored = state.get("nonce_sha256") if isinstance(state, dict) else None
    if not nonce or not mac or not isinstance(stored, str):
        return False
    # Both comparisons always run, in constant time.
    nonce_ok = hmac.compare_digest(_nonce_digest(nonce), stored)
    mac_ok = hmac.compare_digest(mac.encode(), _link_mac(settings, verification, nonce).encode())
    return nonce_ok and mac_ok


def _expires_in(verification: Verification) -> str:
    seconds = max(0.0, (verification.challenge_expires_at - utcnow()).total_seconds())
    if seconds >= 2 * 3600:
        return f"{math.ceil(seconds / 3600)} hours"
    minutes = max(1, math.ceil(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _mailbox(verification: Verification) -> str | None:
    if verification.type == "email":
        return verification.identifier
    # A domain verified by email: the administrative mailbox its method chose at creation.
    send_to = (verification.method_state or {}).get("send_to")
    return send_to if isinstance(send_to, str) and "@" in send_to else None


async def _rotate(
    session: AsyncSession, runtime: Runtime, verification: Verification
) -> tuple[str, str]:
    """A new code and link nonce for a pending verification: ``(code, nonce)``. Conditional on
    ``pending``, so a verification completed meanwhile is left alone."""
    code = generate_code()
    nonce = secrets.token_urlsafe(24)
    now = truncate_ms(utcnow())
    state = {
        **(verification.method_state or {}),
        LINK_STATE: {"nonce_sha256": _nonce_digest(nonce), "sent_at": isoformat_ms(now)},
    }
    result = await session.execute(
        update(Verification)
        .where(Verification.id == verification.id, Verification.status == "pending")
        .values(code_digest=code_digest(runtime.code_key, code), method_state=state, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(verification)
    if getattr(result, "rowcount", 0) != 1:
        control._require_pending(verification)
        raise BadRequest("Verification is not pending", code="invalid_status")
    return code, nonce


async def resend(
    session: AsyncSession, runtime: Runtime, principal: Principal, verification_id: str
) -> dict[str, Any]:
    """``POST /api/v1/verifications/{id}/resend``: send the code and a magic link by email."""
    settings = runtime.settings
    verification = await control.get(session, runtime, principal, verification_id)
    if verification.channel != "email":
        raise BadRequest(
            "Only email verifications can send their code by email", code="method_not_supported"
        )
    control._require_pending(verification)
    recipient = _mailbox(verification)
    if recipient is None:
        raise BadRequest("This verification has no mailbox to write to", code="invalid_status")
    live = verification.environment == "live"
    effective = await credentials.effective_settings(session, settings, verification.project_id)
    if live and not effective.smtp_url:
        raise BadRequest(
            "Outbound email is not configured (VOUCH_SMTP_URL)", code="channel_not_configured"
        )
    limit = await runtime.limiter.hit(
        settings.email_resend_rate_limit, "email-resend", verification.id
    )
    if not limit.allowed:
        raise RateLimited(
            limit.retry_after,
            "Too many emails for this verification; wait before sending another",
            code="too_many_resends",
        )

    code, nonce = await _rotate(session, runtime, verification)
    link = magic_link(settings, verification, nonce)
    project = await session.get(Project, verification.project_id)
    variables = inbound.reply_variables(verification, project.name if project else None, effective)
    variables.update(code=code, expires_in=_expires_in(verification))
    pid = verification.project_id
    variables["callback_url"] = verification.callback_url or ""
    mail_text = await templates.render_message(
        session, pid, "email", "verification_request", variables
    )
    subject, body = mail_text.subject or "", mail_text.body
    text = (
        f"{body.rstrip()}\n\n"
        "Or confirm in your browser (the link works once, until the code expires):\n"
        f"{link}\n"
    )
    message = mail.build_message(
        sender=effective.email_from, recipient=recipient, subject=subject, text=text
    )
    row = await outbound.deliver(
        session,
        test_mode=not live,
        channel="email",
        recipient=recipient,
        message_type="email_code",
        text=text,
        transport=_smtp_transport(settings, effective, message),
        project_id=pid,
        verification_id=verification.id,
        payload={"subject": subject, "magic_link": link},
    )
    if row.status == "failed":
        # Roll back the new code as well: the one the person may already hold keeps working.
        raise RetryLater("The email could not be sent; try again later")
    response = render_verification(verification)
    response["delivery"] = {"channel": "email", "to": recipient, "status": row.status}
    if not live:
        # Nothing was sent in test mode; show the developer what the mail carries.
        response["challenge"] = {
            "code": code,
            "magic_link": link,
            "expires_at": isoformat_ms(verification.challenge_expires_at),
        }
    return response


# -- the magic link ------------------------------------------------------------------------------
@dataclass(frozen=True)
class LinkView:
    """``ready`` (show the button), ``verified`` (just completed), ``used``, ``expired``,
    ``failed`` or ``invalid`` (unknown id, wrong or replaced token)."""

    state: str
    verification: Verification | None = None
    business_name: str = "vouch"


_STATE_FOR_STATUS = {
    "pending": "ready",
    "verified": "used",
    "revoked": "used",
    "expired": "expired",
    "failed": "failed",
}


async def inspect_link(
    session: AsyncSession, runtime: Runtime, verification_id: str, token: str
) -> LinkView:
    """What the link can do now (GET: shows, never completes)."""
    if not is_object_id(verification_id) or not token or len(token) > 200:
        return LinkView("invalid")
    verification = await repository.get_by_id(session, verification_id)
    # The token is checked before anything about the verification is revealed.
    if (
        verification is None
        or verification.channel != "email"
        or not _token_valid(runtime.settings, verification, token)
    ):
        return LinkView("invalid")
    verification = await control.expire_if_due(session, runtime, verification)
    project = await session.get(Project, verification.project_id)
    return LinkView(
        _STATE_FOR_STATUS.get(verification.status, "invalid"),
        verification,
        project.name if project else "vouch",
    )


async def confirm_link(
    session: AsyncSession, runtime: Runtime, verification_id: str, token: str
) -> LinkView:
    """The person pressed the button (POST): complete the verification, once."""
    view = await inspect_link(session, runtime, verification_id, token)
    verification = view.verification
    if view.state != "ready" or verification is None:
        return view
    if await control.complete(session, runtime, verification):
        state = dict(verification.method_state or {})
        link = dict(state.get(LINK_STATE) or {})
        link["used_at"] = isoformat_ms(utcnow())
        verification.method_state = {**state, LINK_STATE: link}
        await session.flush()
        return LinkView("verified", verification, view.business_name)
    # Completed, failed or expired in the meantime.
    await session.refresh(verification)
    verification = await control.expire_if_due(session, runtime, verification)
    state_now = _STATE_FOR_STATUS.get(verification.status, "invalid")
    return LinkView("failed" if state_now == "ready" else state_now, verification)
