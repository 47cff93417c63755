"""Smart Reuse: a person who already holds a valid proof for a requested asset completes that
asset without proving control again.

Who "the person" is comes only from the hosted pages' signed cookie (``vouch_server.web.person``):
the verifications this browser completed. An asset may be completed from one of them when

* the original is of the request's project **and** environment (a test proof never serves a live
  request), of the same type, for the same normalized identifier (the asset's fixed one, or, when
  the person provides it, the one asked for), over a channel the asset offers;
* the original is still ``verified`` (not revoked) and its proof has not expired, and its proof
  row carries no revocation;
* the original verification — for a reuse of a reuse, the first one in the chain — is no older
  than the request's ``validity_requirement`` (``<n>h|d|w|m``; a month counts 30 days); without one,
  any unexpired proof serves;
* the type is one proof.holdings reuses: phone, email, domain.

A reuse is a new verification behind the asset, completed at once through control's own
``complete`` (one conditional UPDATE, so of two reuses racing for an asset exactly one wins): it
mints a new proof whose claims add ``reuse: true``, ``original_verified_at`` and
``original_proof_id``, and whose ``exp`` never outlives the original proof. Webhooks and the live
stream follow as for any completion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.control import service as control
from vouch_server.control.catalog import CHANNELS_BY_TYPE
from vouch_server.control.identifiers import InvalidIdentifier as _BadIdentifier
from vouch_server.control.identifiers import normalize_identifier
from vouch_server.errors import BadRequest, InvalidIdentifier, NotFound
from vouch_server.kit.clock import isoformat_ms, parse_instant, truncate_ms, utcnow
from vouch_server.kit.codes import code_digest, generate_code
from vouch_server.kit.ids import new_object_id
from vouch_server.models import Verification, VerificationRequest, VerificationRequestAsset
from vouch_server.models.proof import Proof
from vouch_server.requests import repository
from vouch_server.runtime import Runtime

REUSABLE_TYPES = ("phone", "email", "domain")
_VALIDITY = re.compile(r"([1-9]\d{0,4})([hdwm])")
_UNIT = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
# A reuse proof shorter than this is not worth minting: the original is as good as expired.
MIN_REMAINING = timedelta(minutes=1)


def validity_window(requirement: str | None) -> timedelta | None:
    """``<n>h|d|w|m`` as a duration (``m`` = 30 days); None when the request sets none."""
    if requirement is None:
        return None
    match = _VALIDITY.fullmatch(requirement)
    if match is None:  # the create body's pattern keeps these out; never reuse on a bad one
        return timedelta(0)
    n, unit = int(match.group(1)), match.group(2)
    return n * (timedelta(days=30) if unit == "m" else _UNIT[unit])


def first_verified_at(verification: Verification) -> datetime | None:
    """When control of the identifier was actually shown: the original's own time, or, for a
    reuse, the time its own original carried."""
    kept = (verification.method_state or {}).get("original_verified_at")
    if isinstance(kept, str):
        try:
            return parse_instant(kept)
        except ValueError:
            return None
    return verification.verified_at


@dataclass
class Candidate:
    """One requested asset and what reuse could do for it."""

    asset: VerificationRequestAsset
    original: Verification | None
    reason: str | None  # None: can be reused

    @property
    def can_reuse(self) -> bool:
        return self.reason is None and self.original is not None


async def _held(
    session: AsyncSession, request: VerificationRequest, person: list[str]
) -> list[Verification]:
    """The person's verifications that still hold a live proof in the request's own scope."""
    if not person:
        return []
    now = utcnow()
    rows = await session.scalars(
        select(Verification)
        .outerjoin(Proof, Proof.id == Verification.id)
        .where(
            Verification.id.in_(person),
            Verification.project_id == request.project_id,
            Verification.environment == request.environment,
            Verification.status == "verified",
            Verification.proof_token.is_not(None),
            Verification.proof_expires_at > now + MIN_REMAINING,
            Proof.revoked_at.is_(None),
        )
        .execution_options(populate_existing=True)
    )
    held = list(rows)
    order = {id_: i for i, id_ in enumerate(person)}  # the cookie's order: newest first
    return sorted(held, key=lambda v: order.get(v.id, len(order)))


def _judge(
    request: VerificationRequest,
    asset: VerificationRequestAsset,
    held: list[Verification],
    *,
    identifier: str | None,
) -> Candidate:
    if asset.status == "verified":
        return Candidate(asset, None, "already_verified")
    if asset.type not in REUSABLE_TYPES:
        return Candidate(asset, None, "not_supported")
    offered = asset.allowed_channels or list(CHANNELS_BY_TYPE[asset.type])
    wanted = asset.identifier or identifier
    matching = [
        v
        for v in held
        if v.type == asset.type
        and v.channel in offered
        and (wanted is None or v.identifier == wanted)
    ]
    if not matching:
        return Candidate(asset, None, "no_existing_proof")
    window = validity_window(request.validity_requirement)
    if window is not None:
        oldest = utcnow() - window
        fresh = [v for v in matching if (first_verified_at(v) or oldest) > oldest]
        if not fresh:
            return Candidate(asset, matching[0], "proof_too_old")
        matching = fresh
    return Candidate(asset, matching[0], None)


def _normalized(asset_type: str, raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        return normalize_identifier(asset_type, CHANNELS_BY_TYPE[asset_type][0], raw)
    except _BadIdentifier as exc:
        raise InvalidIdentifier(
            str(exc),
            details=[{"field": "identifier", "message": str(exc), "code": "invalid_string"}],
        ) from exc


async def candidates(
    session: AsyncSession, request: VerificationRequest, person: list[str]
) -> list[Candidate]:
    """Every asset of the request, with the proof the person could reuse for it (or why not)."""
    assets = (await repository.assets_of(session, [request.id]))[request.id]
    held = await _held(session, request, person)
    return [_judge(request, a, held, identifier=None) for a in assets]


def _refuse(reason: str) -> BadRequest:
    messages = {
        "already_verified": "This asset is already verified",
        "not_supported": "Proofs of this type are not reused",
        "no_existing_proof": "You hold no valid proof for this asset",
        "proof_too_old": "Your proof is older than this request accepts",
    }
    return BadRequest(messages[reason], code=reason)


async def reuse_asset(
    session: AsyncSession,
    runtime: Runtime,
    request: VerificationRequest,
    index: int,
    person: list[str],
    *,
    identifier: str | None = None,
) -> tuple[VerificationRequestAsset, Verification, Verification]:
    """Complete asset ``index`` from a proof the person holds. Returns the asset, the new
    verification (with its new proof) and the original."""
    from vouch_server.requests import service as requests

    locked = await repository.lock(session, request.id)
    if locked is None or locked.status not in requests.OPEN:
        raise BadRequest(
            f"The request is no longer open (status: {locked.status if locked else 'unknown'})",
            code="invalid_status",
        )
    if locked.expires_at <= utcnow():
        raise BadRequest("The request has expired", code="request_expired")
    assets = (await repository.assets_of(session, [request.id]))[request.id]
    if not 0 <= index < len(assets):
        raise NotFound("Asset not found")
    asset = assets[index]
    wanted = _normalized(asset.type, identifier) if asset.type in REUSABLE_TYPES else None
    if asset.identifier is not None and wanted is not None and wanted != asset.identifier:
        raise BadRequest(
            "The identifier differs from the one this request asks for",
            code="identifier_mismatch",
        )
    judged = _judge(locked, asset, await _held(session, locked, person), identifier=wanted)
    if judged.reason is not None or judged.original is None:
        raise _refuse(judged.reason or "no_existing_proof")
    original = judged.original
    first = first_verified_at(original) or original.verified_at
    assert first is not None and original.proof_expires_at is not None

    now = truncate_ms(utcnow())
    wanted_lifetime = (
        locked.proof_expiry_days or runtime.settings.default_proof_expiry_days
    ) * 86400
    left = int((original.proof_expires_at - now).total_seconds())
    previous = asset.verification_id
    verification = Verification(
        id=new_object_id(),
        project_id=locked.project_id,
        environment=locked.environment,
        type=original.type,
        channel=original.channel,
        identifier=original.identifier,
        identifier_hash=original.identifier_hash,
        status="pending",
        # Never checked: no code is ever shown or sent for a reuse.
        code_digest=code_digest(runtime.code_key, generate_code()),
        method_state={
            "reused_from": original.id,
            "original_verified_at": isoformat_ms(first),
        },
        attempts=0,
        max_attempts=1,
        challenge_expires_at=now + timedelta(minutes=1),
        proof_lifetime_seconds=max(60, min(wanted_lifetime, left)),
        created_at=now,
        updated_at=now,
    )
    session.add(verification)
    await session.flush()
    if not await repository.attach_verification(session, asset.id, verification.id, now):
        raise _refuse("already_verified")
    if previous is not None:
        # The challenge the asset had is no longer needed; it must not mint a proof later.
        await control.end_pending(session, runtime, [previous], reason="reused_proof")
    completed = await control.complete(
        session,
        runtime,
        verification,
        extra_claims={
            "reuse": True,
            "original_verified_at": isoformat_ms(first),
            "original_proof_id": original.id,
        },
    )
    if not completed:
        raise _refuse("already_verified")
    await session.refresh(asset)
    await session.refresh(verification)
    return asset, verification, original
