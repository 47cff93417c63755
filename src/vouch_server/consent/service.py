"""Proof of Delegation: a person's consent to receive approval requests (seed "Proof of
Delegation").

pending ──(the person taps Allow)──► active ──(DELETE, /stop, STOP, proof revoked)──► revoked
   │──(Deny)──► denied                  └──(its lifetime passes)──► expired
   └──(nobody answers within VOUCH_AUTHORIZATION_REQUEST_TTL_SECONDS; DELETE)──► expired / revoked

The prompt goes out on the channel itself: WhatsApp interactive buttons, an SMS to answer YES or
NO, an email with a link to the hosted page. On Telegram a bot may not write first, so the request
carries a deep link ``https://t.me/<bot>?start=auth_<token>``; the prompt is sent when the person
opens it, and only the chat the request names may answer. The answer is a conditional UPDATE
(``WHERE status = 'pending'``): of concurrent answers exactly one counts. Allow mints a proof token
of type ``authorization``; the proof and the authorization are revoked together.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.approval import configs, links, messaging
from vouch_server.consent import recipients, repository
from vouch_server.consent.schemas import MAX_REASON, CreateAuthorization, render_authorization
from vouch_server.control.identifiers import identifier_hash
from vouch_server.errors import BadRequest, Conflict, NotFound, RateLimited, ValidationFailed
from vouch_server.kit.clock import isoformat_ms, truncate_ms, utcnow
from vouch_server.kit.ids import is_object_id, new_object_id
from vouch_server.models import Project
from vouch_server.models.delegation import Authorization, HitlConfig
from vouch_server.proofs import service as proofs
from vouch_server.runtime import Runtime
from vouch_server.tenancy import credentials
from vouch_server.tenancy.service import Principal
from vouch_server.webhooks import service as webhooks

FAMILY = "authorization"
DEFAULT_SCOPE = "confirmations"
EXPORT_MAX = 10_000
log = logging.getLogger("vouch.consent")

_EVENT_FOR_STATUS = {
    "active": "authorization.approved",
    "denied": "authorization.denied",
    "revoked": "authorization.revoked",
}


def actor_hash(kind: str, value: str) -> str:
    """Who answered, as a SHA-256 (hex) of ``"<kind>:<id>"`` — never the raw identity."""
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _invalid_recipient(message: str) -> ValidationFailed:
    return ValidationFailed(
        details=[{"field": "recipient", "message": message, "code": "invalid_string"}]
    )


def normalize_recipient(channel: str, raw: str | int) -> str:
    """Telegram chat id (digits, negative for groups), E.164 phone, WhatsApp BSUID, email."""
    try:
        return recipients.normalize(channel, raw)
    except recipients.BadRecipient as exc:
        raise _invalid_recipient(str(exc)) from exc


def telegram_deep_link(username: str, token: str) -> str:
    return f"https://t.me/{username}?start=auth_{token}"


def prompt_text(a: Authorization) -> str:
    return f"Allow {a.business_name} to send you approval requests?"


async def _asked_for(
    session: AsyncSession, principal: Principal, body: CreateAuthorization
) -> tuple[str, str | None]:
    """Whose name the person is asked about: the approval setup's (``hitl_id``), else the
    caller's deprecated ``business_name``, else the project's; and the setup's id."""
    hitl_id = None
    name = body.business_name.strip() if body.business_name else None
    if body.hitl_id is not None:
        config = await session.scalar(
            select(HitlConfig).where(
                HitlConfig.id == body.hitl_id,
                HitlConfig.project_id == principal.project_id,
                HitlConfig.environment == principal.environment,
            )
        )
        if config is None:
            raise NotFound("HITL config not found")
        hitl_id, name = config.id, config.name
    if not name:
        project = await session.get(Project, principal.project_id)
        name = project.name if project is not None else "this service"
    return name[:100], hitl_id


async def note_use(session: AsyncSession, authorization_id: str, at: datetime) -> None:
    """An approval request went out on the strength of this consent."""
    await repository.note_use(session, authorization_id, at)


# Free-text revocation reasons on their way from ``_revoke_row`` to ``_on_proof_revoked``.
_REASONS = "vouch.consent.revocation_reasons"


# -- API -------------------------------------------------------------------------------------------
async def create(
    session: AsyncSession, runtime: Runtime, principal: Principal, *, body: CreateAuthorization
) -> tuple[Authorization, str | None]:
    channel = body.channel.value
    recipient = normalize_recipient(channel, body.who)
    business_name, hitl_id = await _asked_for(session, principal, body)
    settings = await credentials.effective_settings(session, runtime.settings, principal.project_id)
    if channel == "telegram" and not settings.telegram_bot_username.lstrip("@"):
        raise BadRequest(
            "This channel is not configured on this server (VOUCH_TELEGRAM_BOT_USERNAME)",
            code="channel_not_configured",
        )
    if not principal.is_test:
        limit = await runtime.limiter.hit(
            runtime.settings.authorization_prompt_rate_limit, "consent-prompt", channel, recipient
        )
        if not limit.allowed:
            raise RateLimited(
                limit.retry_after,
                "Too many consent requests to this recipient; try again later",
                code="too_many_requests",
            )
    now = truncate_ms(utcnow())
    start_token = secrets.token_urlsafe(24) if channel == "telegram" else None
    authorization = Authorization(
        id=new_object_id(),
        project_id=principal.project_id,
        environment=principal.environment,
        channel=channel,
        recipient=recipient,
        recipient_hash=identifier_hash(recipient),
        scope=body.scope,
        business_name=business_name,
        hitl_id=hitl_id,
        status="pending",
        lifetime_seconds=body.expires_in,
        start_token_hash=hashlib.sha256(start_token.encode()).hexdigest() if start_token else None,
        callback_key=secrets.token_urlsafe(12),
        expires_at=now + timedelta(seconds=runtime.settings.authorization_request_ttl_seconds),
        created_at=now,
        updated_at=now,
    )
    session.add(authorization)
    await session.flush()
    deep_link = None
    if start_token is not None:
        deep_link = telegram_deep_link(settings.telegram_bot_username.lstrip("@"), start_token)
    else:
        await _send_prompt(session, runtime, authorization, settings)
    return authorization, deep_link


async def _send_prompt(
    session: AsyncSession, runtime: Runtime, a: Authorization, settings: Any
) -> messaging.Sent:
    test_mode = a.environment == "test"
    question = prompt_text(a)
    if a.channel == "whatsapp":
        text = f"{question}\n\nReply STOP at any time to stop."
        buttons = [(f"ca:{a.callback_key}", "Allow"), (f"cd:{a.callback_key}", "Deny")]

        async def send() -> str | None:
            return await messaging.whatsapp_buttons(settings, a.recipient, text, buttons)

        payload: dict[str, Any] = {"buttons": [b[0] for b in buttons]}
    elif a.channel == "sms":
        text = f"{question} Reply YES to allow or NO to deny. Reply STOP at any time to stop."

        async def send() -> str | None:
            return await messaging.sms_send(settings, a.recipient, text)

        payload = {}
    elif a.channel == "email":
        _, token = await links.issue(
            session,
            runtime,
            kind="consent",
            subject_id=a.id,
            expires_at=a.expires_at,
            recipient=a.recipient,
        )
        url = links.url_for(runtime, token)
        text = (
            f"{question}\n\n"
            f"Open this link to allow or deny (it works once, until "
            f"{isoformat_ms(a.expires_at)}):\n{url}\n\n"
            "If you did not expect this message, ignore it: nothing happens unless you allow it.\n"
        )
        subject = f"{a.business_name} asks to send you approval requests"

        async def send() -> str | None:
            return await messaging.email_send(
                runtime.settings, settings, a.recipient, subject, text
            )

        payload = {"subject": subject, "link": url}
    else:  # telegram: only once the person has opened the deep link
        buttons = [("✅ Allow", f"ca:{a.callback_key}"), ("❌ Deny", f"cd:{a.callback_key}")]
        markup = messaging.inline_keyboard(buttons)
        text = f"{question}\n\nSend /stop at any time to stop."

        async def send() -> str | None:
            return await messaging.telegram_send(settings, a.recipient, text, markup)

        payload = {"reply_markup": markup}
    sent = await messaging.deliver(
        session,
        test_mode=test_mode,
        channel=a.channel,
        recipient=a.recipient,
        message_type="consent_prompt",
        text=text,
        send=send,
        project_id=a.project_id,
        payload=payload,
    )
    if sent.provider_message_id is not None:
        await repository.set_prompt_message(session, a.id, sent.provider_message_id)
    return sent


async def get(
    session: AsyncSession, runtime: Runtime, principal: Principal, id_: str
) -> Authorization:
    authorization = (
        await repository.get_scoped(session, principal, id_) if is_object_id(id_) else None
    )
    if authorization is None:
        raise NotFound("Authorization not found")
    return await expire_if_due(session, runtime, authorization)


async def list_(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    *,
    page: int,
    limit: int,
    filters: dict[str, Any],
) -> tuple[Sequence[Authorization], int]:
    await sweep_expired(session, runtime)
    if filters.get("recipient") is not None and filters.get("channel") is not None:
        # An unnormalizable recipient is compared as given (and simply matches nothing).
        with contextlib.suppress(ValidationFailed):
            filters["recipient"] = normalize_recipient(filters["channel"], filters["recipient"])
    return await repository.list_scoped(
        session, principal, offset=(page - 1) * limit, limit=limit, filters=filters
    )


async def export(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    *,
    filters: dict[str, Any],
) -> tuple[list[dict[str, Any]], bool]:
    """At most ``EXPORT_MAX`` records, oldest first; True when more matched."""
    await sweep_expired(session, runtime)
    rows = await repository.export_rows(session, principal, filters=filters, limit=EXPORT_MAX + 1)
    return [render_authorization(a) for a in rows[:EXPORT_MAX]], len(rows) > EXPORT_MAX


async def revoke(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    id_: str,
    *,
    reason: str,
    by: str = "api",
) -> Authorization:
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON or not reason.isprintable():
        raise ValidationFailed(
            details=[
                {
                    "field": "reason",
                    "message": f"Reason must be 1 to {MAX_REASON} printable characters",
                    "code": "invalid_string",
                }
            ]
        )
    authorization = await get(session, runtime, principal, id_)
    await _revoke_row(session, runtime, authorization, reason=reason, by=by)
    await session.refresh(authorization)
    return authorization


async def _revoke_row(
    session: AsyncSession, runtime: Runtime, a: Authorization, *, reason: str, by: str
) -> None:
    if a.status == "revoked":
        raise Conflict(
            "This authorization has already been revoked",
            code="already_revoked",
            revoked_at=isoformat_ms(a.revoked_at) if a.revoked_at else None,
        )
    if a.status not in ("active", "pending"):
        raise Conflict(
            f"Only a pending or active authorization can be revoked (status: {a.status})",
            code="invalid_status",
        )
    await repository.set_revoked_by(session, a.id, by)
    if a.status == "active" and a.proof_token is not None:
        # The proof and the consent end together; the proofs service calls back into
        # ``_on_proof_revoked`` below, which marks the row and announces it.
        owner = Principal(a.project_id, a.environment, by)
        # The proof's reason stays in the public list's vocabulary; the consent keeps the
        # caller's own words, which ``_on_proof_revoked`` finds here.
        proof_reason = reason if reason in proofs.REVOCATION_REASONS else "other"
        session.info.setdefault(_REASONS, {})[a.id] = reason
        await proofs.revoke(session, runtime, owner, a.id, proof_reason)
        return
    now = truncate_ms(utcnow())
    if not await repository.mark_revoked(session, a.id, now, reason, from_statuses=("pending",)):
        await session.refresh(a)
        raise Conflict(
            f"Authorization is no longer pending (status: {a.status})", code="invalid_status"
        )
    await session.refresh(a)
    await announce(session, runtime, a)


async def test_respond(
    session: AsyncSession, runtime: Runtime, principal: Principal, id_: str, *, allow: bool
) -> Authorization:
    authorization = await get(session, runtime, principal, id_)
    _require_pending(authorization)
    if not await decide(
        session, runtime, authorization, allow=allow, actor=actor_hash("test", principal.api_key_id)
    ):
        await session.refresh(authorization)
        _require_pending(authorization)
    return authorization


def _require_pending(a: Authorization) -> None:
    if a.status == "pending":
        return
    if a.status == "expired":
        raise BadRequest(
            "This authorization request has expired",
            code="authorization_expired",
            keeps_changes=True,
        )
    raise BadRequest(
        f"Authorization is not pending (status: {a.status})",
        code="invalid_status",
        status_detail=a.status,
    )


# -- the person's answer ----------------------------------------------------------------------------
async def decide(
    session: AsyncSession, runtime: Runtime, a: Authorization, *, allow: bool, actor: str
) -> bool:
    """Record the one answer to a pending request; False if it was already answered or expired.

    Allow mints the authorization's proof, valid as long as the consent."""
    now = truncate_ms(utcnow())
    status = "active" if allow else "denied"
    expires_at = now + timedelta(seconds=a.lifetime_seconds) if allow else a.expires_at
    if not await repository.claim_decision(
        session, a.id, status=status, now=now, decided_by_hash=actor, expires_at=expires_at
    ):
        await session.refresh(a)
        return False
    if allow:
        minted = await runtime.tokens.mint(
            session,
            environment=a.environment,
            sub=a.id,
            type="authorization",
            lifetime=timedelta(seconds=a.lifetime_seconds),
            now=now,
            claims={
                "authorization_id": a.id,
                "channel": a.channel,
                "identifier_hash": a.recipient_hash,
                "scope": a.scope,
                "business_name": a.business_name,
                "authorized_at": isoformat_ms(now),
                "verified_at": isoformat_ms(now),
                "decided_by_hash": actor,
                "user_id": a.project_id,
            },
        )
        await repository.attach_proof(session, a.id, minted.token, minted.expires_at)
        await proofs.record(
            session,
            proof_id=a.id,
            project_id=a.project_id,
            environment=a.environment,
            family=FAMILY,
            type="authorization",
            channel=a.channel,
            minted=minted,
            verified_at=now,
        )
    await session.refresh(a)
    await announce(session, runtime, a)
    if allow and a.hitl_id is not None:
        # The first consent to a pending HITL config makes it active (``approval.configs``).
        config = await session.get(HitlConfig, a.hitl_id)
        if config is not None:
            await configs.activate_if_ready(session, config)
    return True


async def by_callback_key(session: AsyncSession, key: str) -> Authorization | None:
    return await repository.by_callback_key(session, key)


async def by_start_token(session: AsyncSession, token: str) -> Authorization | None:
    return await repository.by_start_token_hash(session, hashlib.sha256(token.encode()).hexdigest())


async def send_telegram_prompt(
    session: AsyncSession, runtime: Runtime, a: Authorization, settings: Any
) -> messaging.Sent:
    return await _send_prompt(session, runtime, a, settings)


async def pending_for(
    session: AsyncSession, channel: str, recipient: str, project_id: str | None
) -> Sequence[Authorization]:
    """Open requests to ``recipient`` on ``channel``, latest first."""
    return await repository.for_recipient(
        session,
        channel=channel,
        recipients={recipient},
        statuses=("pending",),
        project_id=project_id,
    )


async def get_unscoped(session: AsyncSession, id_: str) -> Authorization | None:
    return await repository.get_by_id(session, id_)


async def stop(
    session: AsyncSession,
    runtime: Runtime,
    *,
    channel: str,
    recipients: Collection[str],
    project_id: str | None,
) -> list[Authorization]:
    """The person asked to stop (``/stop``, ``STOP``): every active consent on this channel is
    revoked and every open request denied. Returns what changed."""
    rows = await repository.for_recipient(
        session,
        channel=channel,
        recipients=recipients,
        statuses=("active", "pending"),
        project_id=project_id,
    )
    changed: list[Authorization] = []
    for a in rows:
        try:
            if a.status == "pending":
                if await decide(
                    session, runtime, a, allow=False, actor=actor_hash(channel, a.recipient)
                ):
                    changed.append(a)
            else:
                await _revoke_row(session, runtime, a, reason="user_request", by="recipient")
                changed.append(a)
        except Conflict:
            continue  # answered or revoked meanwhile
    return changed


# -- consent checks for other families -----------------------------------------------------------------
async def active_authorization(
    session: AsyncSession,
    *,
    project_id: str,
    environment: str,
    channel: str,
    recipients: Collection[str],
    scope: str = DEFAULT_SCOPE,
) -> Authorization | None:
    """The person's current consent to be contacted on ``channel`` (any of ``recipients``)."""
    return await repository.active_for(
        session,
        project_id=project_id,
        environment=environment,
        channel=channel,
        recipients=recipients,
        scope=scope,
        now=utcnow(),
    )


# -- expiry and announcements ---------------------------------------------------------------------
async def expire_if_due(session: AsyncSession, runtime: Runtime, a: Authorization) -> Authorization:
    if a.status in ("pending", "active") and a.expires_at <= utcnow():
        await repository.expire_due(session, utcnow(), ids=[a.id])
        await session.refresh(a)
    return a


async def sweep_expired(session: AsyncSession, runtime: Runtime) -> list[str]:
    expired = await repository.expire_due(session, utcnow())
    for id_ in expired:
        a = await repository.get_by_id(session, id_)
        if a is not None:
            await session.refresh(a)
            await announce(session, runtime, a)
    return expired


async def announce(session: AsyncSession, runtime: Runtime, a: Authorization) -> None:
    """A webhook (outbox) and a live message, both delivered only if this transaction commits."""
    event_type = _EVENT_FOR_STATUS.get(a.status)
    if event_type is not None:
        # The recipient's identity stays out of webhooks (SDK 1.2.0: "join on
        # authorization_id"): the payload names the authorization, never the person.
        data = {
            k: v
            for k, v in render_authorization(a).items()
            if k not in ("recipient", "phone", "recipient_display_name")
        }
        flat: dict[str, Any] = {
            "authorization_id": a.id,
            "hitl_id": a.hitl_id,
            "status": a.status,
            "channel": a.channel,
            "scope": a.scope,
            "expires_at": data["expires_at"],
        }
        for name in ("proof_token", "decided_at", "revoked_at", "revocation_reason"):
            if name in data:
                flat[name] = data[name]
        await webhooks.emit(
            session,
            runtime,
            project_id=a.project_id,
            environment=a.environment,
            type=event_type,
            data=data,
            subject_id=a.id,
            top_level=flat,
        )
    await runtime.bus.publish(
        session,
        f"authorization:{a.id}",
        {"id": a.id, "status": a.status, "updated_at": isoformat_ms(a.updated_at)},
    )


async def _on_proof_revoked(
    session: AsyncSession, runtime: Runtime, proof_id: str, at: datetime, reason: str
) -> str | None:
    reason = session.info.get(_REASONS, {}).pop(proof_id, reason)
    if await repository.mark_revoked(
        session, proof_id, at, reason, from_statuses=("active", "expired")
    ):
        a = await repository.get_by_id(session, proof_id)
        if a is not None:
            await session.refresh(a)
            await announce(session, runtime, a)
    return None


proofs.on_revoked(FAMILY, _on_proof_revoked)
