"""Proof of Action: the rules of a confirmation's life (seed "Proof of Action (HITL)").

pending ──(a configured recipient approves / denies, on any channel)──► approved | denied
   └──(no answer by ``expires_at``: swept in the background and checked on every read)──► expired

**First response wins.** A decision is one conditional UPDATE (``WHERE status = 'pending' AND
expires_at > now``), taken before the proof is minted, inside the caller's transaction: of any
number of concurrent answers, from any channel and any process, exactly one flips the row, mints
the one proof and emits the one webhook; the others are told who decided first. After the winning
transaction commits, the request's messages on the other channels are updated with the outcome.

**Consent first.** In live mode a request goes only to recipients with an active authorization
(``vouch_server.consent``); a channel without one is reported in the response (``not_authorized``), and a
request that could reach nobody is refused.

A timeout is delivered as proof.holdings does: status ``expired``, ``response`` ``{action: deny,
channel: system, text: timeout}`` and the ``confirmation.denied`` webhook. Every decision —
timeouts included — mints a proof token of type ``confirmation``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.approval import configs, keys, links, messaging, repository
from vouch_server.approval.schemas import (
    MAX_MESSAGE,
    CreateConfirmation,
    render_confirmation,
    render_confirmation_event,
)
from vouch_server.consent import service as consent
from vouch_server.database import after_commit
from vouch_server.errors import BadRequest, Forbidden, NotFound, ValidationFailed
from vouch_server.kit.clock import isoformat_ms, truncate_ms, utcnow
from vouch_server.kit.ids import is_object_id, new_object_id
from vouch_server.models.delegation import (
    ApprovalLink,
    Confirmation,
    ConfirmationMessage,
    HitlConfig,
)
from vouch_server.proofs import service as proofs
from vouch_server.runtime import Runtime
from vouch_server.tenancy import credentials
from vouch_server.tenancy.service import Principal
from vouch_server.webhooks import service as webhooks

FAMILY = "confirmation"
MAX_WAIT_SECONDS = 60
log = logging.getLogger("vouch.approval")

APPROVE, DENY = "ha:", "hd:"
CHANNEL_LABELS = {
    "telegram": "Telegram",
    "whatsapp": "WhatsApp",
    "email": "email",
    "web": "the web page",
    "test": "test mode",
    "system": "timeout",
}


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def actor_hash(kind: str, value: str) -> str:
    return consent.actor_hash(kind, value)


# -- texts -----------------------------------------------------------------------------------------
def request_text(config_name: str, message: str, channel: str) -> str:
    heading = f"🔔 Approval request: {config_name}"
    if channel == "telegram" or channel == "whatsapp":
        hint = (
            "Tap Approve or Deny. To add a comment, reply to this message with "
            "“approve <comment>” or “deny <comment>”."
        )
    else:
        hint = ""
    return f"{heading}\n\n{message}\n\n{hint}".rstrip()


def encrypted_request_text(config_name: str, url: str, channel: str) -> str:
    """The request for a ciphertext message: vouch cannot read it, so the approver is sent to
    the approval page, where it is shown as it was given, for the approver's key to open."""
    text = (
        f"🔒 Encrypted approval request: {config_name}\n\n"
        f"The message is end-to-end encrypted. Read it here: {url}"
    )
    if channel in ("telegram", "whatsapp"):
        text += "\n\nThen tap Approve or Deny."
    return text


def outcome_line(c: Confirmation) -> str:
    via = CHANNEL_LABELS.get(c.response_channel or "", c.response_channel or "")
    if c.status == "approved":
        line = f"✅ Approved via {via}"
    elif c.status == "denied":
        line = f"❌ Denied via {via}"
    elif c.status == "expired":
        return "⌛ Expired: no answer in time"
    else:
        return "Waiting for an answer"
    if c.response_text:
        line += f": “{c.response_text}”"
    return line


def already_text(c: Confirmation) -> str:
    if c.status == "expired":
        return "This request has expired."
    verb = "approved" if c.status == "approved" else "denied"
    via = CHANNEL_LABELS.get(c.response_channel or "", c.response_channel or "")
    return f"Already {verb} via {via}."


# -- recipients ---------------------------------------------------------------------------------------
def _consent_lookup(spec: dict[str, Any]) -> tuple[str, set[str]] | None:
    """(authorization channel, recipient identities) of a channel spec; None for ``web``."""
    config = spec.get("config") or {}
    if spec["type"] == "telegram":
        return "telegram", {str(config["chat_id"])}
    if spec["type"] == "whatsapp":
        return "whatsapp", {str(v) for k, v in config.items() if k in ("phone_number", "bsuid")}
    if spec["type"] == "email":
        return "email", {str(config["address"])}
    return None


def recipients_of(c: Confirmation, channel: str) -> set[str]:
    """Who may answer ``c`` on ``channel``: the recipients the request actually went to."""
    out: set[str] = set()
    for entry in c.channel_report:
        if entry.get("type") != channel or entry.get("status") not in ("sent", "recorded"):
            continue
        for key in ("chat_id", "phone_number", "bsuid", "address"):
            if entry.get(key):
                out.add(str(entry[key]))
    return out


def _report_entry(spec: dict[str, Any], status: str, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": spec["type"], **(spec.get("config") or {}), "status": status}
    entry.update({k: v for k, v in extra.items() if v is not None})
    return entry


# -- create ------------------------------------------------------------------------------------------
async def create(
    session: AsyncSession, runtime: Runtime, principal: Principal, *, body: CreateConfirmation
) -> tuple[Confirmation, dict[str, Any]]:
    """Create and send a confirmation; returns it and extras for the response (the web link)."""
    config = await configs.get(session, principal, body.hitl_id)
    if config.status == "archived":
        raise BadRequest("This HITL config is archived", code="hitl_archived")
    # End-to-end encryption: with a keypair on the config the message must be a ciphertext
    # envelope for its key, kept as given; without one it is plain text.
    keypair = await keys.keypair_of(session, config.id)
    if keypair is not None:
        keys.check_message_envelope(body.message, keypair.kid)
    elif len(body.message) > MAX_MESSAGE:
        raise ValidationFailed(
            details=[
                {
                    "field": "message",
                    "message": f"String must contain at most {MAX_MESSAGE} character(s)",
                    "code": "too_big",
                }
            ]
        )
    await configs.activate_if_ready(session, config)
    # A config still pending is one nobody it names has consented to: the consent check below
    # refuses it with the reason per channel.
    timeout = body.timeout_seconds or body.timeout or config.timeout_seconds
    lifetime = (body.proof_expiry_days or runtime.settings.default_proof_expiry_days) * 86400

    # Consent first: in live mode, only recipients who agreed to be asked get the request.
    plan: list[tuple[dict[str, Any], str | None, dict[str, Any] | None]] = []
    for spec in config.channels:
        lookup = _consent_lookup(spec)
        if lookup is None or principal.is_test:
            plan.append((spec, None, None))
            continue
        channel, recipients = lookup
        authorization = await consent.active_authorization(
            session,
            project_id=principal.project_id,
            environment=principal.environment,
            channel=channel,
            recipients=recipients,
        )
        if authorization is not None:
            plan.append((spec, authorization.id, None))
            continue
        refusal = _report_entry(
            spec,
            "not_authorized",
            error="This recipient has not consented (no active authorization on this channel); "
            "request one with POST /api/v1/authorizations",
        )
        plan.append((spec, None, refusal))
    if all(refusal is not None for _, _, refusal in plan):
        raise Forbidden(
            "No recipient of this HITL config has consented to receive approval requests",
            code="consent_required",
            details=[
                {"field": f"channels.{i}", "message": refusal["error"], "code": "not_authorized"}
                for i, (_, _, refusal) in enumerate(plan)
                if refusal is not None
            ],
        )

    now = truncate_ms(utcnow())
    confirmation = Confirmation(
        id=new_object_id(),
        project_id=principal.project_id,
        environment=principal.environment,
        hitl_id=config.id,
        message=body.message,
        message_hash=sha256_hex(body.message),
        encrypted=keypair is not None,
        status="pending",
        timeout_seconds=timeout,
        expires_at=now + timedelta(seconds=timeout),
        proof_lifetime_seconds=lifetime,
        callback_key=secrets.token_urlsafe(12),
        channel_report=[],
        created_at=now,
        updated_at=now,
    )
    session.add(confirmation)
    await session.flush()

    extras: dict[str, Any] = {}
    report: list[dict[str, Any]] = []
    settings = await credentials.effective_settings(session, runtime.settings, principal.project_id)
    for spec, authorization_id, refused in plan:
        if refused is not None:
            report.append(refused)
            continue
        entry, url = await _send_request(
            session, runtime, confirmation, config, spec, settings, authorization_id
        )
        report.append(entry)
        if url is not None:
            extras["approval_url"] = url
    confirmation.channel_report = report
    await session.flush()
    return confirmation, extras


async def _send_request(
    session: AsyncSession,
    runtime: Runtime,
    c: Confirmation,
    config: HitlConfig,
    spec: dict[str, Any],
    settings: Any,
    authorization_id: str | None,
) -> tuple[dict[str, Any], str | None]:
    kind = spec["type"]
    target = spec.get("config") or {}
    test_mode = c.environment == "test"
    if kind == "web":
        _, token = await links.issue(
            session, runtime, kind="web", subject_id=c.id, expires_at=c.expires_at
        )
        return _report_entry(spec, "link"), links.url_for(runtime, token)

    text = request_text(config.name, c.message, kind)
    if c.encrypted:
        _, read_token = await links.issue(
            session, runtime, kind="web", subject_id=c.id, expires_at=c.expires_at
        )
        text = encrypted_request_text(config.name, links.url_for(runtime, read_token), kind)
    payload: dict[str, Any]
    send: Callable[[], Awaitable[str | None]]
    if kind == "telegram":
        recipient = str(target["chat_id"])
        markup = messaging.inline_keyboard(
            [("✅ Approve", f"{APPROVE}{c.callback_key}"), ("❌ Deny", f"{DENY}{c.callback_key}")]
        )
        payload = {"reply_markup": markup}

        async def send() -> str | None:
            return await messaging.telegram_send(settings, recipient, text, markup)

    elif kind == "whatsapp":
        recipient = str(target.get("phone_number") or target["bsuid"])
        buttons = [(f"{APPROVE}{c.callback_key}", "Approve"), (f"{DENY}{c.callback_key}", "Deny")]
        payload = {"buttons": [b[0] for b in buttons]}

        async def send() -> str | None:
            return await messaging.whatsapp_buttons(settings, recipient, text, buttons)

    else:  # email: links to the hosted page, one single-use token for this address
        recipient = str(target["address"])
        _, token = await links.issue(
            session,
            runtime,
            kind="email",
            subject_id=c.id,
            expires_at=c.expires_at,
            recipient=recipient,
        )
        approve_url = links.url_for(runtime, token, "approve")
        deny_url = links.url_for(runtime, token, "deny")
        heading = (
            encrypted_request_text(config.name, links.url_for(runtime, token), "email")
            if c.encrypted
            else request_text(config.name, c.message, "email")
        )
        text = (
            f"{heading}\n\n"
            f"Approve: {approve_url}\n"
            f"Deny:    {deny_url}\n\n"
            "Each link opens a page where you can add a comment before you confirm. "
            f"They work once, until {isoformat_ms(c.expires_at)}.\n"
        )
        subject = f"Approval request: {config.name}"
        payload = {"subject": subject, "approve_url": approve_url, "deny_url": deny_url}
        body_text = text

        async def send() -> str | None:
            return await messaging.email_send(
                runtime.settings, settings, recipient, subject, body_text
            )

    sent = await messaging.deliver(
        session,
        test_mode=test_mode,
        channel=kind,
        recipient=recipient,
        message_type="approval_request",
        text=text,
        send=send,
        project_id=c.project_id,
        payload=payload,
    )
    session.add(
        ConfirmationMessage(
            id=new_object_id(),
            confirmation_id=c.id,
            channel=kind,
            recipient=recipient,
            provider_message_id=sent.provider_message_id,
            status=sent.status,
            created_at=truncate_ms(utcnow()),
        )
    )
    if authorization_id is not None and sent.status != "failed":
        await consent.note_use(session, authorization_id, truncate_ms(utcnow()))
    await session.flush()
    return _report_entry(
        spec, sent.status, authorization_id=authorization_id, error=sent.error
    ), None


# -- read ----------------------------------------------------------------------------------------------
async def get(
    session: AsyncSession, runtime: Runtime, principal: Principal, id_: str
) -> Confirmation:
    row = await repository.get_scoped(session, principal, id_) if is_object_id(id_) else None
    if row is None:
        raise NotFound("Confirmation not found")
    return await expire_if_due(session, runtime, row)


async def list_(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    *,
    page: int,
    limit: int,
    filters: dict[str, Any],
) -> tuple[Sequence[Confirmation], int]:
    await sweep_timeouts(session, runtime)
    return await repository.list_scoped(
        session, principal, offset=(page - 1) * limit, limit=limit, filters=filters
    )


async def wait_for_decision(
    runtime: Runtime, principal: Principal, id_: str, seconds: float
) -> dict[str, Any]:
    """Long poll: the confirmation once it is decided, or as it is after ``seconds``.

    Subscribes to the live bus before reading, so no decision can fall between the two; reads
    again at least every 5 s, so a lost message costs at most that."""
    deadline = time.monotonic() + min(seconds, MAX_WAIT_SECONDS)
    async with runtime.bus.subscribe(f"confirmation:{id_}") as queue:
        while True:
            async with runtime.db.session() as session:
                row = await get(session, runtime, principal, id_)
                body = render_confirmation(row)
                expires_in = (row.expires_at - utcnow()).total_seconds()
            remaining = deadline - time.monotonic()
            if body["status"] != "pending" or remaining <= 0:
                return body
            pause = min(remaining, 5.0, max(expires_in, 0.0) + 0.05)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(queue.get(), pause)


# -- decisions -------------------------------------------------------------------------------------------
async def decide(
    session: AsyncSession,
    runtime: Runtime,
    c: Confirmation,
    *,
    action: str,
    text: str | None,
    channel: str,
    actor: str | None,
) -> bool:
    """Record the one decision; False if another answer (or the timeout) came first.

    The winner's proof carries the confirmation and HITL ids, the SHA-256 of the message and of
    the comment, the decision, when, over which channel and a hash of who decided."""
    now = truncate_ms(utcnow())
    timeout = channel == "system"
    status = "expired" if timeout else ("approved" if action == "approve" else "denied")
    comment = (text or "").strip() or None
    if not await repository.claim_decision(
        session,
        c.id,
        status=status,
        action=action,
        text=comment,
        channel=channel,
        decided_by_hash=actor,
        now=now,
        require_unexpired=not timeout,
    ):
        await session.refresh(c)
        return False
    minted = await runtime.tokens.mint(
        session,
        environment=c.environment,
        sub=c.id,
        type="confirmation",
        lifetime=timedelta(seconds=c.proof_lifetime_seconds),
        now=now,
        claims={
            "confirmation_id": c.id,
            "hitl_id": c.hitl_id,
            "message_hash": c.message_hash,
            "decision": action,
            "confirmation_status": status,
            "comment_hash": sha256_hex(comment) if comment is not None else None,
            "decided_at": isoformat_ms(now),
            "verified_at": isoformat_ms(now),
            "channel": channel,
            "decided_by_hash": actor,
            "user_id": c.project_id,
        },
    )
    await repository.attach_proof(session, c.id, minted.token, minted.expires_at)
    await proofs.record(
        session,
        proof_id=c.id,
        project_id=c.project_id,
        environment=c.environment,
        family=FAMILY,
        type="confirmation",
        channel=channel,
        minted=minted,
        verified_at=now,
    )
    await session.refresh(c)
    await announce(session, runtime, c)
    _after_commit_update_channels(session, runtime, c.id)
    return True


async def time_out(session: AsyncSession, runtime: Runtime, c: Confirmation) -> bool:
    return await decide(
        session, runtime, c, action="deny", text="timeout", channel="system", actor=None
    )


async def expire_if_due(session: AsyncSession, runtime: Runtime, c: Confirmation) -> Confirmation:
    if (
        c.status == "pending"
        and c.expires_at <= utcnow()
        and not await time_out(session, runtime, c)
    ):
        await session.refresh(c)
    return c


async def sweep_timeouts(session: AsyncSession, runtime: Runtime) -> list[str]:
    expired: list[str] = []
    for id_ in await repository.due_for_timeout(session, utcnow()):
        row = await repository.get_by_id(session, id_)
        if row is not None and await time_out(session, runtime, row):
            expired.append(id_)
    return expired


async def test_respond(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    id_: str,
    *,
    action: str,
    text: str | None,
) -> Confirmation:
    c = await get(session, runtime, principal, id_)
    require_pending(c)
    if not await decide(
        session,
        runtime,
        c,
        action=action,
        text=text,
        channel="test",
        actor=actor_hash("test", principal.api_key_id),
    ):
        require_pending(c)
    return c


def require_pending(c: Confirmation) -> None:
    if c.status == "pending":
        return
    if c.status == "expired":
        raise BadRequest(
            "This confirmation has expired; responses are no longer accepted",
            code="confirmation_expired",
            keeps_changes=True,
        )
    raise BadRequest(
        f"This confirmation was already decided ({c.status} via {c.response_channel})",
        code="already_decided",
        status_detail=c.status,
        decided_via=c.response_channel,
    )


# -- approval links (web) -------------------------------------------------------------------------------
async def approval_link(
    session: AsyncSession, runtime: Runtime, principal: Principal, id_: str
) -> dict[str, Any]:
    """A fresh single-use link to the hosted approval page, for a confirmation of any HITL config
    (as proof.holdings issues one for Telegram and WhatsApp setups too). A decision taken
    through it is recorded as what it is: the proof's ``channel`` says ``web``, not the chat
    the config names, so a relying party can tell a link click from the approver's own chat."""
    c = await get(session, runtime, principal, id_)
    require_pending(c)
    row, token = await links.issue(
        session, runtime, kind="web", subject_id=c.id, expires_at=c.expires_at
    )
    url = links.url_for(runtime, token)
    return {
        "confirmation_id": c.id,
        "approval_url": url,
        "url": url,
        "token": token,
        "expires_at": isoformat_ms(row.expires_at),
        "single_use": True,
    }


async def for_link(session: AsyncSession, runtime: Runtime, link: ApprovalLink) -> Confirmation:
    c = await repository.get_by_id(session, link.subject_id)
    if c is None:
        raise links.LinkRefused("invalid_link", "This link is not valid.")
    return await expire_if_due(session, runtime, c)


async def config_name(session: AsyncSession, c: Confirmation) -> str:
    config = await repository.get_config_by_id(session, c.hitl_id)
    return config.name if config is not None else "Approval request"


# -- announcements -------------------------------------------------------------------------------------
_EVENT_FOR_STATUS = {
    "approved": "confirmation.approved",
    "denied": "confirmation.denied",
    # A timeout is delivered as proof.holdings delivers it: a denial by the system.
    "expired": "confirmation.denied",
}


async def announce(session: AsyncSession, runtime: Runtime, c: Confirmation) -> None:
    event_type = _EVENT_FOR_STATUS.get(c.status)
    if event_type is not None:
        data, flat = render_confirmation_event(c)
        await webhooks.emit(
            session,
            runtime,
            project_id=c.project_id,
            environment=c.environment,
            type=event_type,
            data=data,
            subject_id=c.id,
            top_level=flat,
        )
    await runtime.bus.publish(
        session,
        f"confirmation:{c.id}",
        {"id": c.id, "status": c.status, "updated_at": isoformat_ms(c.updated_at)},
    )


def _after_commit_update_channels(session: AsyncSession, runtime: Runtime, id_: str) -> None:
    async def run() -> None:
        async with runtime.db.session() as fresh:
            await update_channels(fresh, runtime, id_)

    after_commit(session, run)


async def update_channels(session: AsyncSession, runtime: Runtime, id_: str) -> None:
    """Show the outcome everywhere the request went: Telegram messages are edited (their buttons
    removed); WhatsApp messages cannot be edited, so each WhatsApp recipient who did not decide
    gets a short note instead."""
    c = await repository.get_by_id(session, id_)
    if c is None:
        return
    settings = await credentials.effective_settings(session, runtime.settings, c.project_id)
    name = await config_name(session, c)
    outcome = outcome_line(c)
    test_mode = c.environment == "test"
    for message in await repository.messages_of(session, c.id):
        if message.status == "failed":
            continue
        if message.channel == "telegram" and message.provider_message_id:
            chat_id, message_id = message.recipient, message.provider_message_id
            shown = (
                f"🔒 Encrypted approval request: {name}"
                if c.encrypted
                else request_text(name, c.message, "plain")
            )
            text = f"{shown}\n\n{outcome}"

            async def edit(
                chat_id: str = chat_id, message_id: str = message_id, text: str = text
            ) -> str | None:
                await messaging.telegram_edit(settings, chat_id, message_id, text)
                return None

            await messaging.deliver(
                session,
                test_mode=test_mode,
                channel="telegram",
                recipient=chat_id,
                message_type="approval_outcome",
                text=text,
                send=edit,
                project_id=c.project_id,
            )
        elif message.channel == "whatsapp" and not (
            c.response_channel == "whatsapp"
            and c.decided_by_hash == actor_hash("whatsapp", message.recipient)
        ):
            to = message.recipient
            note = f"{outcome} — {name}"

            async def tell(to: str = to, note: str = note) -> str | None:
                return await messaging.whatsapp_text(settings, to, note)

            await messaging.deliver(
                session,
                test_mode=test_mode,
                channel="whatsapp",
                recipient=to,
                message_type="approval_outcome",
                text=note,
                send=tell,
                project_id=c.project_id,
            )


def after_commit_do(
    session: AsyncSession,
    runtime: Runtime,
    action: Callable[[AsyncSession], Awaitable[None]],
) -> None:
    """Run provider I/O once this unit of work has committed, in a unit of work of its own (so
    no row lock is held while a provider answers, and what was sent is recorded)."""

    async def run() -> None:
        async with runtime.db.session() as fresh:
            await action(fresh)

    after_commit(session, run)


async def _on_proof_revoked(
    session: AsyncSession, runtime: Runtime, proof_id: str, at: datetime, reason: str
) -> str | None:
    await repository.mark_revoked(session, proof_id, at, reason)
    return None


proofs.on_revoked(FAMILY, _on_proof_revoked)
