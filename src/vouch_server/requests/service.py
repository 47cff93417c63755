"""Verification requests: one ask for 1–10 assets, each backed by an ordinary verification.

pending ──(an asset is verified)──► partial ──(every required asset verified)──► completed
   │                                   │
   │──(expires_at passes; with ``partial_ok`` and at least one asset verified: completed)──► expired
   └──(DELETE)──► cancelled

Each asset whose identifier is known is backed by a verification created through control's own
service, so its challenge, its completion and its proof are exactly those of a single
verification (test-verify included). An asset the person identifies gets its verification when
the person starts it (``start_asset``, for the hosted page at ``/verify/{request_id}``).

Control tells this module of every outcome (``control.service.on_status_change``). Settling a
request's status locks the request row first (``repository.lock``) and flips it with a
conditional UPDATE, so of any number of assets completing at once, in any number of processes,
exactly one transaction completes the request and queues ``verification_request.completed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.control import service as control
from vouch_server.control.catalog import CHANNELS_BY_TYPE, AssetType, Channel, channel_valid_for
from vouch_server.control.identifiers import InvalidIdentifier as _BadIdentifier
from vouch_server.control.identifiers import normalize_identifier
from vouch_server.control.schemas import CreateVerification
from vouch_server.errors import (
    BadRequest,
    InvalidChannelForType,
    InvalidIdentifier,
    NotFound,
    ValidationFailed,
    VouchError,
)
from vouch_server.kit.clock import isoformat_ms, truncate_ms, utcnow
from vouch_server.kit.ids import is_object_id, new_object_id
from vouch_server.kit.paging import Page
from vouch_server.kit.urls import UnsafeUrl, check_callback_url
from vouch_server.models import Verification, VerificationRequest, VerificationRequestAsset
from vouch_server.requests import repository
from vouch_server.requests.schemas import CreateRequest, RequestedAsset
from vouch_server.runtime import Runtime
from vouch_server.tenancy.service import Principal
from vouch_server.webhooks import service as webhooks

OPEN = repository.OPEN
TERMINAL = ("completed", "expired", "cancelled")


def owner_of(request: VerificationRequest) -> Principal:
    """The request's own scope, for work done on the person's behalf (the hosted page), where no
    API key is presented: the project and environment the request was created in."""
    return Principal(project_id=request.project_id, environment=request.environment, api_key_id="")


def verification_url(runtime: Runtime, request_id: str) -> str:
    """Where the person goes: vouch's own hosted page for the request."""
    return f"{runtime.settings.public_url.rstrip('/')}/verify/{request_id}"


# -- create ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    type: str
    identifier: str | None
    channel: str | None  # preferred, as asked
    allowed: list[str]
    initial_channel: str  # the channel of the verification created now (or first offered)
    required: bool


def _detail(field: str, message: str, code: str) -> list[dict[str, str]]:
    return [{"field": field, "message": message, "code": code}]


def _plan(index: int, asset: RequestedAsset) -> _Plan:
    type_ = asset.type.value
    where = f"assets.{index}"
    allowed = list(dict.fromkeys(c.value for c in asset.allowed_channels))
    for j, channel in enumerate(allowed):
        if not channel_valid_for(type_, channel):
            message = f"Channel '{channel}' is not valid for verification type '{type_}'"
            raise InvalidChannelForType(
                message,
                details=_detail(f"{where}.allowed_channels.{j}", message, "invalid_channel"),
            )
    preferred = asset.channel.value if asset.channel is not None else None
    if preferred is not None:
        if not channel_valid_for(type_, preferred):
            message = f"Channel '{preferred}' is not valid for verification type '{type_}'"
            raise InvalidChannelForType(
                message, details=_detail(f"{where}.channel", message, "invalid_channel")
            )
        if allowed and preferred not in allowed:
            raise ValidationFailed(
                details=_detail(
                    f"{where}.channel", "Channel is not one of allowed_channels", "invalid_channel"
                )
            )
    initial = preferred or (allowed[0] if allowed else CHANNELS_BY_TYPE[type_][0])
    identifier = None
    if asset.identifier is not None:
        try:
            identifier = normalize_identifier(type_, initial, asset.identifier)
        except _BadIdentifier as exc:
            raise InvalidIdentifier(
                str(exc), details=_detail(f"{where}.identifier", str(exc), "invalid_string")
            ) from exc
    return _Plan(type_, identifier, preferred, allowed, initial, asset.required)


def _check_redirect(url: str) -> None:
    """Where the person's browser is sent when done: an absolute http(s) URL without
    credentials (never ``javascript:`` or a relative path)."""
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        ok = ok and parts.username is None and parts.password is None
    except ValueError:
        ok = False
    if not ok:
        raise ValidationFailed(
            details=_detail(
                "redirect_url", "Must be an absolute http(s) URL without credentials", "invalid_url"
            )
        )


def _scoped_to_asset(exc: VouchError, index: int) -> VouchError:
    """A control error about one asset, with its fields named by where they are in the request."""
    if exc.details:
        exc.details = [
            {**d, "field": f"assets.{index}.{d.get('field', '')}".rstrip(".")} for d in exc.details
        ]
    else:
        exc.details = _detail(f"assets.{index}", exc.message, exc.code)
    return exc


async def _back_by_verification(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    *,
    type_: str,
    channel: str,
    identifier: str,
    proof_expiry_days: int | None,
) -> tuple[Verification, dict[str, Any]]:
    body = CreateVerification(
        type=AssetType(type_),
        channel=Channel(channel),
        identifier=identifier,
        proof_expiry_days=proof_expiry_days,
    )
    return await control.create(session, runtime, principal, body=body)


async def create(
    session: AsyncSession, runtime: Runtime, principal: Principal, *, body: CreateRequest
) -> VerificationRequest:
    """Create the request, its assets and the verifications behind the known ones, all in the
    caller's transaction: an error in any asset leaves nothing behind."""
    plans = [_plan(i, asset) for i, asset in enumerate(body.assets)]
    seen: dict[tuple[str, str], int] = {}
    for i, plan in enumerate(plans):
        if plan.identifier is None:
            continue
        key = (plan.type, plan.identifier)
        if key in seen:
            raise ValidationFailed(
                details=_detail(
                    f"assets.{i}.identifier",
                    f"The same {plan.type} is already asset {seen[key]}",
                    "duplicate_asset",
                )
            )
        seen[key] = i
    if body.redirect_url is not None:
        _check_redirect(body.redirect_url)
    if body.callback_url is not None:
        try:
            check_callback_url(
                body.callback_url, allow_private=runtime.settings.allow_private_targets
            )
        except UnsafeUrl as exc:
            raise ValidationFailed(
                details=_detail("callback_url", str(exc), "invalid_string")
            ) from exc

    now = truncate_ms(utcnow())
    request = VerificationRequest(
        id=new_object_id(),
        project_id=principal.project_id,
        environment=principal.environment,
        reference_id=body.reference_id,
        status="pending",
        action_type=body.action_type.value,
        action_context=(
            body.action_context.model_dump(exclude_none=True) if body.action_context else None
        ),
        client_metadata=body.client_metadata,
        partial_ok=body.partial_ok,
        validity_requirement=body.validity_requirement,
        redirect_url=body.redirect_url,
        callback_url=body.callback_url,
        public_profile_id=body.public_profile_id,
        proof_expiry_days=body.proof_expiry_days,
        expires_at=now + timedelta(seconds=body.expires_in),
        created_at=now,
        updated_at=now,
    )
    session.add(request)
    await session.flush()
    for i, plan in enumerate(plans):
        verification_id = None
        if plan.identifier is not None:
            try:
                verification, _ = await _back_by_verification(
                    session,
                    runtime,
                    principal,
                    type_=plan.type,
                    channel=plan.initial_channel,
                    identifier=plan.identifier,
                    proof_expiry_days=body.proof_expiry_days,
                )
            except VouchError as exc:
                raise _scoped_to_asset(exc, i) from exc
            verification_id = verification.id
        session.add(
            VerificationRequestAsset(
                id=new_object_id(),
                request_id=request.id,
                position=i,
                type=plan.type,
                identifier=plan.identifier,
                channel=plan.channel,
                allowed_channels=plan.allowed,
                required=plan.required,
                status="pending",
                verification_id=verification_id,
                updated_at=now,
            )
        )
    await session.flush()
    return request


# -- read ------------------------------------------------------------------------------------------
@dataclass
class RequestView:
    request: VerificationRequest
    assets: list[VerificationRequestAsset]
    verifications: dict[str, Verification]


async def _find(session: AsyncSession, principal: Principal, id_: str) -> VerificationRequest:
    row = await repository.get_scoped(session, principal, id_) if is_object_id(id_) else None
    if row is None:
        raise NotFound("Verification request not found")
    return row


async def view(
    session: AsyncSession, runtime: Runtime, request: VerificationRequest
) -> RequestView:
    """The request as it stands now: backing verifications whose challenge ran out are expired
    (telling their assets), and so is the request once ``expires_at`` has passed."""
    owner = owner_of(request)
    assets = (await repository.assets_of(session, [request.id]))[request.id]
    for asset in assets:
        if asset.verification_id is not None and asset.status == "pending":
            await control.get(session, runtime, owner, asset.verification_id)
    if request.status in OPEN and request.expires_at <= utcnow():
        await settle(session, runtime, request.id, expiring=True)
    await session.refresh(request)
    assets = (await repository.assets_of(session, [request.id]))[request.id]
    verifications: dict[str, Verification] = {}
    for asset in assets:
        if asset.verification_id is not None:
            verifications[asset.verification_id] = await control.get(
                session, runtime, owner, asset.verification_id
            )
    return RequestView(request, assets, verifications)


async def get(
    session: AsyncSession, runtime: Runtime, principal: Principal, id_: str
) -> RequestView:
    return await view(session, runtime, await _find(session, principal, id_))


async def get_by_reference(
    session: AsyncSession, runtime: Runtime, principal: Principal, reference_id: str
) -> RequestView:
    row = await repository.get_by_reference(session, principal, reference_id)
    if row is None:
        raise NotFound("Verification request not found")
    return await view(session, runtime, row)


async def list_(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    *,
    page: int,
    limit: int,
    cursor: str | None = None,
    status: str | None,
    reference_id: str | None,
) -> tuple[Page, dict[str, list[VerificationRequestAsset]]]:
    await sweep_expired(session, runtime, principal=principal)
    statuses = list(OPEN) if status == "active" else ([status] if status else None)
    listed = await repository.list_scoped(
        session,
        principal,
        page=page,
        limit=limit,
        cursor=cursor,
        statuses=statuses,
        reference_id=reference_id,
    )
    assets = await repository.assets_of(session, [r.id for r in listed.rows])
    return listed, assets


# -- cancel ----------------------------------------------------------------------------------------
async def cancel(
    session: AsyncSession, runtime: Runtime, principal: Principal, id_: str
) -> VerificationRequest:
    request = await _find(session, principal, id_)
    await view(session, runtime, request)  # an overdue request expires rather than cancels
    now = truncate_ms(utcnow())
    locked = await repository.lock(session, request.id)
    if locked is None or not await repository.transition(
        session, request.id, to="cancelled", now=now, cancelled_at=now
    ):
        await session.refresh(request)
        raise BadRequest(
            f"Only a pending or partial request can be cancelled (status: {request.status})",
            code="invalid_status",
            status_detail=request.status,
            keeps_changes=True,
        )
    await session.refresh(request)
    await _release(session, runtime, request.id, reason="request_cancelled")
    await _publish(session, runtime, request)
    return request


async def _release(
    session: AsyncSession, runtime: Runtime, request_id: str, *, reason: str
) -> None:
    """A request that left pending/partial ends the verifications still pending behind its
    assets, so none of them completes (or mints a proof) for a request that is over."""
    assets = (await repository.assets_of(session, [request_id]))[request_id]
    ids = [a.verification_id for a in assets if a.verification_id and a.status == "pending"]
    await control.end_pending(session, runtime, ids, reason=reason)


# -- the person's side: starting an asset, test mode -----------------------------------------------
async def start_asset(
    session: AsyncSession,
    runtime: Runtime,
    request: VerificationRequest,
    index: int,
    *,
    identifier: str | None,
    channel: str | None,
) -> tuple[VerificationRequestAsset, Verification, dict[str, Any]]:
    """Give an asset a fresh verification: the person's identifier (when the request left it
    open) over one of its allowed channels. Also restarts an asset whose challenge failed or ran
    out. Returns the asset, its new verification and the challenge to show the person."""
    locked = await repository.lock(session, request.id)
    if locked is None or locked.status not in OPEN:
        status = locked.status if locked else "unknown"
        raise BadRequest(f"The request is no longer open (status: {status})", code="invalid_status")
    if locked.expires_at <= utcnow():
        raise BadRequest("The request has expired", code="request_expired")
    assets = (await repository.assets_of(session, [request.id]))[request.id]
    if not 0 <= index < len(assets):
        raise NotFound("Asset not found")
    asset = assets[index]
    if asset.status == "verified":
        raise BadRequest("This asset is already verified", code="already_verified")
    offered = asset.allowed_channels or list(CHANNELS_BY_TYPE[asset.type])
    chosen = channel or asset.channel or offered[0]
    if chosen not in offered or not channel_valid_for(asset.type, chosen):
        raise ValidationFailed(
            details=_detail("channel", "Channel is not offered for this asset", "invalid_channel")
        )
    raw = identifier if identifier is not None else asset.identifier
    if raw is None:
        raise ValidationFailed(
            details=_detail("identifier", "This asset needs the identifier to verify", "required")
        )
    try:
        normalized = normalize_identifier(asset.type, chosen, raw)
    except _BadIdentifier as exc:
        raise InvalidIdentifier(
            str(exc), details=_detail("identifier", str(exc), "invalid_string")
        ) from exc
    if asset.identifier is not None and normalized != asset.identifier:
        raise BadRequest(
            "The identifier differs from the one this request asks for",
            code="identifier_mismatch",
        )
    verification, challenge = await _back_by_verification(
        session,
        runtime,
        owner_of(locked),
        type_=asset.type,
        channel=chosen,
        identifier=normalized,
        proof_expiry_days=locked.proof_expiry_days,
    )
    now = truncate_ms(utcnow())
    if not await repository.attach_verification(session, asset.id, verification.id, now):
        raise BadRequest("This asset is already verified", code="already_verified")
    await session.refresh(asset)
    await _publish(session, runtime, locked, asset=asset)
    return asset, verification, challenge


async def test_verify_asset(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    id_: str,
    index: int,
    *,
    identifier: str | None,
    channel: str | None,
) -> RequestView:
    """Test mode: complete one asset as if the person had, through control's own test-verify.
    An asset without a pending verification is started first (with ``identifier`` when the
    request left it open)."""
    request = await _find(session, principal, id_)
    current = await view(session, runtime, request)
    if not 0 <= index < len(current.assets):
        raise NotFound("Asset not found")
    asset = current.assets[index]
    if asset.status == "verified":
        raise BadRequest("This asset is already verified", code="already_verified")
    backing = current.verifications.get(asset.verification_id or "")
    if backing is None or backing.status != "pending" or channel not in (None, backing.channel):
        _, backing, _ = await start_asset(
            session, runtime, request, index, identifier=identifier, channel=channel
        )
    await control.test_verify(session, runtime, principal, backing.id)
    return await view(session, runtime, request)


# -- outcomes --------------------------------------------------------------------------------------
_ASSET_OUTCOMES = ("verified", "failed", "expired", "revoked")


async def on_verification_status(
    session: AsyncSession, runtime: Runtime, verification: Verification
) -> None:
    """Control's announcement of a verification's new status: if it backs an asset, record the
    outcome there and settle the request."""
    if verification.status not in _ASSET_OUTCOMES:
        return
    asset = await repository.asset_for_verification(session, verification.id)
    if asset is None:
        return
    request = await repository.lock(session, asset.request_id)
    if request is None:
        return
    now = truncate_ms(utcnow())
    if verification.status == "revoked":
        # A revoked proof shows on its asset whatever became of the request.
        if await repository.set_asset_outcome(
            session, asset.id, verification.id, status="revoked", now=now
        ):
            await _publish(session, runtime, request, asset_id=asset.id)
        return
    if request.status not in OPEN:
        return
    if request.expires_at <= utcnow():
        # Too late for this request: it expires with what it had.
        await settle(session, runtime, request.id, expiring=True)
        return
    recorded = await repository.set_asset_outcome(
        session,
        asset.id,
        verification.id,
        status=verification.status,
        now=now,
        verified_identifier=verification.identifier,
        verified_channel=verification.channel,
        verified_at=verification.verified_at,
    )
    if recorded:
        await settle(session, runtime, request.id, newly_verified=verification.status == "verified")
        await _publish(session, runtime, request, asset_id=asset.id)


control.on_status_change(on_verification_status)


async def settle(
    session: AsyncSession,
    runtime: Runtime,
    request_id: str,
    *,
    expiring: bool = False,
    newly_verified: bool = False,
) -> None:
    """Move an open request to the status its assets call for, announcing what changed."""
    request = await repository.lock(session, request_id)
    if request is None or request.status not in OPEN:
        return
    assets = (await repository.assets_of(session, [request_id]))[request_id]
    verified = [a for a in assets if a.status == "verified"]
    required = [a for a in assets if a.required]
    done = all(a.status == "verified" for a in required) if required else bool(verified)
    now = truncate_ms(utcnow())
    if done or (expiring and request.partial_ok and verified):
        if await repository.transition(
            session, request_id, to="completed", now=now, completed_at=now
        ):
            await session.refresh(request)
            await _emit(session, runtime, request, assets, "verification_request.completed")
            await _release(session, runtime, request_id, reason="request_completed")
        return
    if expiring:
        if await repository.transition(session, request_id, to="expired", now=now):
            await session.refresh(request)
            await _emit(session, runtime, request, assets, "verification_request.expired")
            await _release(session, runtime, request_id, reason="request_expired")
        return
    if verified and request.status == "pending":
        await repository.transition(session, request_id, to="partial", now=now, from_=("pending",))
        await session.refresh(request)
    if newly_verified and request.partial_ok:
        await _emit(session, runtime, request, assets, "verification_request.partial")


async def sweep_expired(
    session: AsyncSession, runtime: Runtime, *, principal: Principal | None = None
) -> list[str]:
    """Expire every open request past ``expires_at`` (background sweep, and before listings)."""
    due = await repository.due_for_expiry(session, utcnow(), principal=principal)
    for id_ in due:
        await settle(session, runtime, id_, expiring=True)
    return due


# -- rendering -------------------------------------------------------------------------------------
def progress(assets: Sequence[VerificationRequestAsset]) -> dict[str, int]:
    required = [a for a in assets if a.required]
    return {
        "verified": sum(a.status == "verified" for a in assets),
        "total": len(assets),
        "required": len(required),
        "required_verified": sum(a.status == "verified" for a in required),
    }


def computed_state(
    request: VerificationRequest, assets: Sequence[VerificationRequestAsset]
) -> dict[str, Any]:
    counts = progress(assets)
    remaining = counts["required"] - counts["required_verified"]
    return {
        "state": request.status,
        "is_terminal": request.status in TERMINAL,
        "is_expired": request.status == "expired",
        "remaining_required": remaining,
        "pending_assets": sum(a.status != "verified" for a in assets),
        "expires_in_seconds": max(0, int((request.expires_at - utcnow()).total_seconds()))
        if request.status in OPEN
        else 0,
    }


def render_asset(
    asset: VerificationRequestAsset, verification: Verification | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "index": asset.position,
        "type": asset.type,
        "identifier": asset.identifier,
        "channel": asset.channel,
        "allowed_channels": asset.allowed_channels,
        "required": asset.required,
        "status": asset.status,
        "verification_id": asset.verification_id,
        "user_provided": asset.identifier is None,
    }
    if verification is not None:
        body["current_channel"] = verification.channel
    if asset.status == "verified":
        body["verified_identifier"] = asset.verified_identifier
        body["verified_channel"] = asset.verified_channel
        body["verified_at"] = isoformat_ms(asset.verified_at) if asset.verified_at else None
        if verification is not None and verification.proof_token is not None:
            body["proof_token"] = verification.proof_token
            if verification.proof_expires_at is not None:
                body["proof_expires_at"] = isoformat_ms(verification.proof_expires_at)
    return body


def _times(request: VerificationRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "expires_at": isoformat_ms(request.expires_at),
        "created_at": isoformat_ms(request.created_at),
        "updated_at": isoformat_ms(request.updated_at),
    }
    if request.completed_at is not None:
        body["completed_at"] = isoformat_ms(request.completed_at)
    if request.cancelled_at is not None:
        body["cancelled_at"] = isoformat_ms(request.cancelled_at)
    return body


def render_request(runtime: Runtime, current: RequestView) -> dict[str, Any]:
    """A request as GET returns it (proof.holdings ``VerificationRequest``)."""
    r = current.request
    body: dict[str, Any] = {"id": r.id}
    if r.reference_id is not None:
        body["reference_id"] = r.reference_id
    body.update(
        {
            "status": r.status,
            "computed_state": computed_state(r, current.assets),
            "assets": [
                render_asset(a, current.verifications.get(a.verification_id or ""))
                for a in current.assets
            ],
            "action_type": r.action_type,
            "action_context": r.action_context,
            "partial_ok": r.partial_ok,
            "validity_requirement": r.validity_requirement,
            "verification_url": verification_url(runtime, r.id),
            "redirect_url": r.redirect_url,
            "callback_url": r.callback_url,
            "progress": progress(current.assets),
            "test_mode": r.environment == "test",
        }
    )
    if r.public_profile_id is not None:
        body["public_profile_id"] = r.public_profile_id
    if r.proof_expiry_days is not None:
        body["proof_expiry_days"] = r.proof_expiry_days
    if r.client_metadata is not None:
        body["client_metadata"] = r.client_metadata
    body.update(_times(r))
    return body


def render_summary(
    request: VerificationRequest, assets: Sequence[VerificationRequestAsset]
) -> dict[str, Any]:
    """A request as listed (proof.holdings ``VerificationRequestListItem``)."""
    body: dict[str, Any] = {"id": request.id}
    if request.reference_id is not None:
        body["reference_id"] = request.reference_id
    body.update(
        {
            "status": request.status,
            "computed_state": computed_state(request, assets),
            "action_type": request.action_type,
            "asset_count": len(assets),
            "progress": progress(assets),
            "test_mode": request.environment == "test",
        }
    )
    body.update(_times(request))
    return body


def render_proofs(current: RequestView) -> dict[str, Any]:
    """``GET …/{id}/proofs``: the proof of every verified asset."""
    proofs = []
    for asset in current.assets:
        verification = current.verifications.get(asset.verification_id or "")
        if asset.status != "verified" or verification is None or not verification.proof_token:
            continue
        proofs.append(
            {
                "asset_index": asset.position,
                "type": asset.type,
                "identifier": asset.verified_identifier,
                "channel": asset.verified_channel,
                "verification_id": verification.id,
                "verified_at": isoformat_ms(asset.verified_at) if asset.verified_at else None,
                "proof_token": verification.proof_token,
                "proof_expires_at": (
                    isoformat_ms(verification.proof_expires_at)
                    if verification.proof_expires_at
                    else None
                ),
            }
        )
    return {"request_id": current.request.id, "status": current.request.status, "proofs": proofs}


async def _emit(
    session: AsyncSession,
    runtime: Runtime,
    request: VerificationRequest,
    assets: Sequence[VerificationRequestAsset],
    event: str,
) -> None:
    """Queue a ``verification_request.*`` webhook in the proof.holdings payload shape (flat, and
    under ``data`` as every vouch event carries it), in this transaction."""
    owner = owner_of(request)
    proofs = []
    for asset in assets:
        if asset.status != "verified" or asset.verification_id is None:
            continue
        verification = await control.get(session, runtime, owner, asset.verification_id)
        entry: dict[str, Any] = {
            "type": asset.type,
            "identifier": asset.verified_identifier,
            "channel": asset.verified_channel,
            "verified_at": isoformat_ms(asset.verified_at) if asset.verified_at else None,
            "asset_index": asset.position,
            "verification_id": verification.id,
        }
        if verification.proof_token:
            entry["proof_token"] = verification.proof_token
        proofs.append(entry)
    body: dict[str, Any] = {
        "request_id": request.id,
        "status": request.status,
        "action_type": request.action_type,
        "proofs": proofs,
        "progress": progress(assets),
        "test": request.environment == "test",
    }
    if request.reference_id is not None:
        body["reference_id"] = request.reference_id
    if request.action_context is not None:
        body["action_context"] = request.action_context
    if request.client_metadata is not None:
        body["client_metadata"] = request.client_metadata
    if request.completed_at is not None:
        body["completed_at"] = isoformat_ms(request.completed_at)
    await webhooks.emit(
        session,
        runtime,
        project_id=request.project_id,
        environment=request.environment,
        type=event,
        data=body,
        subject_id=request.id,
        callback_url=request.callback_url,
        top_level=body,
    )


async def _publish(
    session: AsyncSession,
    runtime: Runtime,
    request: VerificationRequest,
    *,
    asset: VerificationRequestAsset | None = None,
    asset_id: str | None = None,
) -> None:
    """Tell live listeners (the hosted page) that the request or one of its assets changed;
    delivered only if this transaction commits."""
    message: dict[str, Any] = {"id": request.id, "status": request.status}
    if asset is not None:
        message["asset_index"] = asset.position
    elif asset_id is not None:
        message["asset_id"] = asset_id
    await runtime.bus.publish(session, f"verification_request:{request.id}", message)


# -- verified users --------------------------------------------------------------------------------
def mask_identifier(type_: str, identifier: str) -> str:
    """An identifier as the verified-users view shows it: enough to recognise, not to contact.

    Phones keep their country prefix and last four digits (``+370****9199``), emails the first
    letter of the mailbox and the domain (``j***@example.com``), domains the first and last
    letter of their first label (``e*****e.com``); anything else (wallets, accounts, handles)
    its first four and last four characters."""
    if type_ == "phone":
        digits = identifier.lstrip("+")
        keep_head = min(3, max(0, len(digits) - 6))
        head, tail = digits[:keep_head], digits[-4:] if len(digits) > 4 else ""
        stars = "*" * max(3, len(digits) - len(head) - len(tail))
        return ("+" if identifier.startswith("+") else "") + head + stars + tail
    if type_ == "email" and "@" in identifier:
        local, _, domain = identifier.rpartition("@")
        return f"{local[:1]}***@{domain}"
    if type_ == "domain" and "." in identifier:
        first, _, rest = identifier.partition(".")
        if len(first) <= 2:
            return f"{first[:1]}***.{rest}"
        return f"{first[0]}{'*' * (len(first) - 2)}{first[-1]}.{rest}"
    if len(identifier) <= 8:
        return identifier[:1] + "*" * max(3, len(identifier) - 1)
    return f"{identifier[:4]}****{identifier[-4:]}"


def _has_proof(v: Verification) -> bool:
    return (
        v.status == "verified"
        and v.proof_token is not None
        and v.proof_expires_at is not None
        and v.proof_expires_at > utcnow()
    )


def _user_verification(v: Verification, *, detail: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": v.id,
        "type": v.type,
        "channel": v.channel,
        "identifier": mask_identifier(v.type, v.identifier),
        "verified_at": isoformat_ms(v.verified_at) if v.verified_at else None,
    }
    if detail:
        body["status"] = v.status
        body["has_proof"] = _has_proof(v)
        body["proof_expires_at"] = (
            isoformat_ms(v.proof_expires_at) if v.proof_expires_at is not None else None
        )
    return body


def render_user(
    external_user_id: str, verifications: Sequence[Verification], *, detail: bool
) -> dict[str, Any]:
    times = [v.verified_at for v in verifications if v.verified_at is not None]
    return {
        "external_user_id": external_user_id,
        "verification_count": len(verifications),
        "types_verified": sorted({v.type for v in verifications}),
        "verifications": [_user_verification(v, detail=detail) for v in verifications],
        "first_verified_at": isoformat_ms(min(times)) if times else None,
        "last_verified_at": isoformat_ms(max(times)) if times else None,
    }


async def list_verified_users(
    session: AsyncSession, principal: Principal, *, page: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Every ``external_user_id`` of this project and mode with a verification that succeeded
    (verified, or verified and since revoked), newest activity first."""
    ids, total = await repository.verified_user_ids(
        session, principal, offset=(page - 1) * limit, limit=limit
    )
    grouped = await repository.verified_of_users(session, principal, ids)
    return [render_user(uid, grouped[uid], detail=False) for uid in ids], total


async def get_verified_user(
    session: AsyncSession, principal: Principal, external_user_id: str
) -> dict[str, Any]:
    grouped = await repository.verified_of_users(session, principal, [external_user_id])
    if not grouped[external_user_id]:
        raise NotFound("Verified user not found")
    return render_user(external_user_id, grouped[external_user_id], detail=True)
