"""Proof of Control: the rules of a verification's life.

pending ──(method accepts a submission / provider message / test-verify)──► verified ──► revoked
   │──(max attempts of failed submissions)──► failed
   └──(challenge TTL passes; checked on every read and swept in the background)──► expired

Completion is a conditional UPDATE (``WHERE status = 'pending'``) taken before the proof is minted,
inside the request's transaction: of any number of concurrent correct submissions, exactly one
flips the row and mints the one proof; the others see that the verification is no longer pending.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.control import repository
from vouch_server.control.catalog import (
    CHALLENGE_TTL_SECONDS,
    MAX_PROOF_LIFETIME,
    MIN_PROOF_LIFETIME,
    channel_valid_for,
)
from vouch_server.control.identifiers import InvalidIdentifier as _BadIdentifier
from vouch_server.control.identifiers import identifier_hash, normalize_identifier
from vouch_server.control.methods import (
    Accepted,
    ChallengeContext,
    NotYet,
    SubmitContext,
    get_method,
)
from vouch_server.control.schemas import CreateVerification, render_verification
from vouch_server.errors import (
    BadRequest,
    InvalidChannelForType,
    InvalidIdentifier,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from vouch_server.kit.clock import isoformat_ms, truncate_ms, utcnow
from vouch_server.kit.codes import code_digest, generate_code
from vouch_server.kit.ids import is_object_id, new_object_id
from vouch_server.kit.paging import Page
from vouch_server.kit.urls import UnsafeUrl, check_callback_url
from vouch_server.models import Verification
from vouch_server.proofs import service as proofs
from vouch_server.runtime import Runtime
from vouch_server.tenancy import credentials, templates
from vouch_server.tenancy.service import Principal
from vouch_server.web.branding import load_branding
from vouch_server.webhooks import service as webhooks

FAMILY = "control"
log = logging.getLogger("vouch.control")


def _proof_lifetime(body: CreateVerification, runtime: Runtime) -> int:
    if body.expires_in is not None and body.proof_expiry_days is not None:
        raise ValidationFailed(
            details=[
                {
                    "field": "expires_in",
                    "message": "Give expires_in or proof_expiry_days, not both",
                    "code": "invalid_union",
                }
            ]
        )
    if body.expires_in is not None:
        seconds, field = body.expires_in, "expires_in"
    elif body.proof_expiry_days is not None:
        seconds, field = body.proof_expiry_days * 86400, "proof_expiry_days"
    else:
        return runtime.settings.default_proof_expiry_days * 86400
    if seconds < MIN_PROOF_LIFETIME:
        raise ValidationFailed(
            details=[
                {
                    "field": field,
                    "message": "Proof lifetime must be at least 1 hour",
                    "code": "too_small",
                }
            ]
        )
    if seconds > MAX_PROOF_LIFETIME:
        raise ValidationFailed(
            details=[
                {
                    "field": field,
                    "message": "Proof lifetime must be at most 365 days",
                    "code": "too_big",
                }
            ]
        )
    return seconds


async def create(
    session: AsyncSession, runtime: Runtime, principal: Principal, *, body: CreateVerification
) -> tuple[Verification, dict[str, Any]]:
    type_, channel = body.type.value, body.channel.value
    if not channel_valid_for(type_, channel):
        raise InvalidChannelForType(
            f"Channel '{channel}' is not valid for verification type '{type_}'"
        )
    try:
        identifier = normalize_identifier(type_, channel, body.identifier)
    except _BadIdentifier as exc:
        raise InvalidIdentifier(
            str(exc),
            details=[{"field": "identifier", "message": str(exc), "code": "invalid_string"}],
        ) from exc
    lifetime = _proof_lifetime(body, runtime)
    if body.callback_url is not None:
        try:
            check_callback_url(
                body.callback_url, allow_private=runtime.settings.allow_private_targets
            )
        except UnsafeUrl as exc:
            raise ValidationFailed(
                details=[{"field": "callback_url", "message": str(exc), "code": "invalid_string"}]
            ) from exc

    now = truncate_ms(utcnow())
    expires_at = now + timedelta(seconds=CHALLENGE_TTL_SECONDS[type_])
    code = generate_code()
    verification = Verification(
        id=new_object_id(),
        project_id=principal.project_id,
        environment=principal.environment,
        type=type_,
        channel=channel,
        identifier=identifier,
        identifier_hash=identifier_hash(identifier),
        status="pending",
        code_digest=code_digest(runtime.code_key, code),
        method_state={"email_prefix": body.email_prefix} if body.email_prefix else {},
        attempts=0,
        max_attempts=runtime.settings.max_attempts,
        challenge_expires_at=expires_at,
        proof_lifetime_seconds=lifetime,
        external_user_id=body.external_user_id,
        client_metadata=body.client_metadata,
        callback_url=body.callback_url,
        created_at=now,
        updated_at=now,
    )
    session.add(verification)
    await session.flush()
    method = get_method(type_, channel)
    # A project's own provider accounts (bring your own channel) shape its links and sends.
    settings = await credentials.effective_settings(session, runtime.settings, principal.project_id)
    ctx = ChallengeContext(verification, code, expires_at, settings)
    challenge = method.challenge(ctx)
    if channel in INSTRUCTION_CHANNELS:
        challenge["instruction"] = await _instruction(
            session, principal.project_id, channel, challenge, verification, settings
        )
    await method.after_create(session, ctx, test_mode=principal.is_test)
    mails = getattr(method, "mails_code", None)
    mails_now = mails(verification) if callable(mails) else True
    if getattr(method, "mails_code_on_create", False) and not principal.is_test and mails_now:
        from vouch_server.control import email_flow

        await email_flow.resend(session, runtime, principal, verification.id)
    return verification, challenge


# Channels whose challenge instruction is the project's ``verification_request`` template (email's
# is the mail carrying the code, so its instruction stays vouch's own wording).
INSTRUCTION_CHANNELS = ("telegram", "whatsapp", "sms")


async def _instruction(
    session: AsyncSession,
    project_id: str,
    channel: str,
    challenge: dict[str, Any],
    verification: Verification,
    settings: Any,
) -> str:
    """The challenge's instruction from the project's ``verification_request`` template. Without a
    template of the project's the method's own text stands: for a phone on Telegram the bare code,
    which is also Telegram's default template (proof.holdings' golden vector); on WhatsApp and SMS
    a text naming the number to write to."""
    content, custom = await templates.effective(
        session, project_id, channel, "verification_request"
    )
    if not custom:
        return str(challenge.get("instruction", ""))
    branding = await load_branding(session, project_id)
    seconds = CHALLENGE_TTL_SECONDS[verification.type]
    return templates.render_text(
        content.body,
        {
            # A code the challenge withholds stays out of the text too.
            "code": challenge.get("code", ""),
            "business_name": branding.name,
            "channel": channel,
            "user_identifier": verification.identifier,
            "expires_in": f"{seconds // 60} minutes",
            "callback_url": verification.callback_url or "",
            "support_email": settings.email_from,
        },
    )


async def get(
    session: AsyncSession, runtime: Runtime, principal: Principal, id_: str
) -> Verification:
    if not is_object_id(id_):
        raise NotFound("Verification not found")
    verification = await repository.get_scoped(session, principal, id_)
    if verification is None:
        raise NotFound("Verification not found")
    return await expire_if_due(session, runtime, verification)


async def list_(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    *,
    page: int,
    limit: int,
    cursor: str | None = None,
    filters: dict[str, Any],
) -> Page:
    await sweep_expired(session, runtime)
    return await repository.list_scoped(
        session, principal, page=page, limit=limit, cursor=cursor, filters=filters
    )


async def submit(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    id_: str,
    payload: dict[str, Any],
) -> Verification:
    verification = await get(session, runtime, principal, id_)
    _require_pending(verification)
    now = utcnow()
    if verification.next_attempt_at is not None and verification.next_attempt_at > now:
        wait = int((verification.next_attempt_at - now).total_seconds()) + 1
        raise RateLimited(
            wait, "Too many attempts; wait before trying again", code="too_many_attempts"
        )
    method = get_method(verification.type, verification.channel)
    settings = await credentials.effective_settings(
        session, runtime.settings, verification.project_id
    )
    outcome = await method.check_submission(
        SubmitContext(verification, payload, settings, runtime.code_key)
    )
    if isinstance(outcome, Accepted):
        extra = outcome.detail.get("claims")
        if await complete(session, runtime, verification, extra_claims=extra):
            return verification
        await session.refresh(verification)
        _require_pending(verification)
        raise BadRequest("Verification could not be completed", code="invalid_status")

    counted = await repository.record_failed_attempt(session, verification.id, now, outcome.code)
    await session.refresh(verification)
    if not counted:
        _require_pending(verification)
        raise RateLimited(
            1, "Too many attempts; wait before trying again", code="too_many_attempts"
        )
    remaining = max(0, verification.max_attempts - verification.attempts)
    if verification.status == "failed":
        await announce(session, runtime, verification)
        raise BadRequest(
            "Maximum attempts exceeded; the verification has failed",
            code="max_attempts_exceeded",
            attempts_remaining=0,
            keeps_changes=True,
        )
    raise BadRequest(
        outcome.message, code=outcome.code, attempts_remaining=remaining, keeps_changes=True
    )


async def verify_now(
    session: AsyncSession, runtime: Runtime, principal: Principal, id_: str
) -> tuple[Verification, dict[str, Any]]:
    """``POST …/{id}/verify``: look for the proof now (DNS record, HTTP file)."""
    verification = await get(session, runtime, principal, id_)
    _require_pending(verification)
    method = get_method(verification.type, verification.channel)
    settings = await credentials.effective_settings(
        session, runtime.settings, verification.project_id
    )
    outcome = await method.check_now(SubmitContext(verification, {}, settings, runtime.code_key))
    if isinstance(outcome, NotYet):
        return verification, {"verified": False, "reason": outcome.code, "message": outcome.message}
    if await complete(session, runtime, verification):
        return verification, {"verified": True}
    await session.refresh(verification)
    _require_pending(verification)
    raise BadRequest("Verification could not be completed", code="invalid_status")


async def recheck_pending(session: AsyncSession, runtime: Runtime, *, limit: int = 100) -> int:
    """Background: check pending verifications whose method looks for proof by itself."""
    from vouch_server.control.methods import all_methods

    pairs = [key for key, m in all_methods().items() if getattr(m, "background_check", False)]
    completed = 0
    for verification in await repository.pending_for(session, pairs, utcnow(), limit=limit):
        method = get_method(verification.type, verification.channel)
        try:
            outcome = await method.check_now(
                SubmitContext(
                    verification, {"background": True}, runtime.settings, runtime.code_key
                )
            )
        except Exception:
            log.warning("background check of %s failed", verification.id, exc_info=True)
            continue
        if isinstance(outcome, Accepted) and await complete(session, runtime, verification):
            completed += 1
    return completed


async def test_verify(
    session: AsyncSession, runtime: Runtime, principal: Principal, id_: str
) -> Verification:
    verification = await get(session, runtime, principal, id_)
    _require_pending(verification)
    if not await complete(session, runtime, verification):
        await session.refresh(verification)
        _require_pending(verification)
    return verification


async def complete(
    session: AsyncSession,
    runtime: Runtime,
    verification: Verification,
    *,
    extra_claims: dict[str, Any] | None = None,
) -> bool:
    """Complete a pending verification once and mint its proof. False if it was not pending."""
    # Milliseconds, like ``created_at`` and never before it (a whole-second ``verified_at`` could
    # read earlier than the ms-precise ``created_at``). The token's ``iat`` is this instant floored
    # to the second and ``exp`` = ``iat`` + lifetime (``Tokens.mint``); ``proof_expires_at`` is
    # that ``exp``.
    now = max(truncate_ms(utcnow()), truncate_ms(verification.created_at))
    if not await repository.claim_completion(session, verification.id, now):
        return False
    minted = await runtime.tokens.mint(
        session,
        environment=verification.environment,
        sub=verification.id,
        type=verification.type,
        lifetime=timedelta(seconds=verification.proof_lifetime_seconds),
        now=now,
        claims={
            "channel": verification.channel,
            "identifier_hash": verification.identifier_hash,
            "verified_at": isoformat_ms(now),
            "user_id": verification.project_id,
            # What the evidence was, when it matters to a relying party (``relayed``).
            **(extra_claims or {}),
        },
    )
    await repository.attach_proof(session, verification.id, minted.token, minted.expires_at)
    await proofs.record(
        session,
        proof_id=verification.id,
        project_id=verification.project_id,
        environment=verification.environment,
        family=FAMILY,
        type=verification.type,
        channel=verification.channel,
        minted=minted,
        verified_at=now,
    )
    await session.refresh(verification)
    await announce(session, runtime, verification)
    return True


async def sweep_expired(session: AsyncSession, runtime: Runtime) -> list[str]:
    """Expire every pending verification past its TTL, telling webhooks and live streams."""
    expired = await repository.expire_due(session, utcnow())
    for id_ in expired:
        verification = await repository.get_by_id(session, id_)
        if verification is not None:
            await session.refresh(verification)
            await announce(session, runtime, verification)
    return expired


async def expire_if_due(
    session: AsyncSession, runtime: Runtime, verification: Verification
) -> Verification:
    if verification.status == "pending" and verification.challenge_expires_at <= utcnow():
        if await repository.expire_due(session, utcnow(), ids=[verification.id]):
            await session.refresh(verification)
            await announce(session, runtime, verification)
        else:
            await session.refresh(verification)
    return verification


async def end_pending(
    session: AsyncSession, runtime: Runtime, ids: list[str], *, reason: str
) -> list[str]:
    """End verifications another family no longer needs (their request was cancelled, expired
    or completed): those still pending become expired with ``reason`` and can no longer
    complete or mint a proof; each is announced like any expiry. Returns the ids ended."""
    ended = await repository.expire_pending(session, ids, utcnow(), reason=reason)
    for id_ in ended:
        verification = await repository.get_by_id(session, id_)
        if verification is not None:
            await session.refresh(verification)
            await announce(session, runtime, verification)
    return ended


# Families built on verifications (verification requests) follow their outcomes from here.
StatusListener = Callable[[AsyncSession, Runtime, Verification], Awaitable[None]]
_status_listeners: list[StatusListener] = []


def on_status_change(listener: StatusListener) -> None:
    _status_listeners.append(listener)


_EVENT_FOR_STATUS = {
    "verified": "verification.completed",
    "failed": "verification.failed",
    "expired": "verification.expired",
}


async def announce(session: AsyncSession, runtime: Runtime, verification: Verification) -> None:
    """Announce a status change: a webhook event (outbox) and a live-stream message, both
    delivered only if this transaction commits."""
    event_type = _EVENT_FOR_STATUS.get(verification.status)
    if event_type is not None:
        runtime.metrics.verification_finished(
            session,
            type=verification.type,
            environment=verification.environment,
            outcome=verification.status,
        )
        await webhooks.emit(
            session,
            runtime,
            project_id=verification.project_id,
            environment=verification.environment,
            type=event_type,
            data=render_verification(verification),
            subject_id=verification.id,
            callback_url=verification.callback_url,
        )
    await runtime.bus.publish(
        session,
        f"verification:{verification.id}",
        {
            "id": verification.id,
            "status": verification.status,
            "updated_at": isoformat_ms(verification.updated_at),
        },
    )
    for listener in _status_listeners:
        await listener(session, runtime, verification)


def _require_pending(verification: Verification) -> None:
    if verification.status == "pending":
        return
    if verification.status == "expired":
        # keeps_changes: the expiry this read may just have recorded must be committed.
        raise BadRequest(
            "Verification challenge has expired", code="verification_expired", keeps_changes=True
        )
    if verification.status == "failed":
        raise BadRequest(
            "Verification has failed (maximum attempts exceeded)", code="verification_failed"
        )
    raise BadRequest(
        f"Verification is not pending (status: {verification.status})",
        code="invalid_status",
        status_detail=verification.status,
    )


async def _on_proof_revoked(
    session: AsyncSession, runtime: Runtime, proof_id: str, at: Any, reason: str
) -> str | None:
    await repository.mark_revoked(session, proof_id, at, reason)
    verification = await repository.get_by_id(session, proof_id)
    if verification is None:
        return None
    await session.refresh(verification)
    await announce(session, runtime, verification)
    return verification.callback_url


proofs.on_revoked(FAMILY, _on_proof_revoked)
