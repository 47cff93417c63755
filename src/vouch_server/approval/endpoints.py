"""``/api/v1/hitl`` and ``/api/v1/confirmations`` — Proof of Action (seed "Confirmation
Endpoints"), plus the background sweep that times confirmations out and expires consents."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import StreamingResponse

from vouch_server.approval import configs, discovery, keys, lifecycle, service
from vouch_server.approval import inbound as _inbound  # noqa: F401  (registers the inbound handlers)
from vouch_server.approval.responses import (
    ChatIdDiscoveryCreatedOut,
    ChatIdDiscoveryOut,
    ConfirmationApprovalLinkOut,
    ConfirmationCreatedOut,
    ConfirmationListOut,
    ConfirmationOut,
    HitlApproverKeyEnrolledOut,
    HitlApproverKeysOut,
    HitlAuthorizeOut,
    HitlConfigListOut,
    HitlConfigOut,
    HitlFinalizedOut,
    HitlKeysDeletedOut,
    HitlKeysOut,
)
from vouch_server.approval.schemas import (
    HITL_LIMITS,
    ConfirmationStatus,
    CreateConfirmation,
    CreateHitl,
    TestRespond,
    UpdateHitl,
    render_confirmation,
    render_hitl,
)
from vouch_server.consent import service as consent
from vouch_server.deps import ApiCaller, RuntimeDep, Session, TestCaller
from vouch_server.errors import RateLimited, ValidationFailed
from vouch_server.kit.clock import isoformat_ms, parse_instant, utcnow
from vouch_server.kit.paging import PageNumber
from vouch_server.openapi import EventStreamResponse, documented
from vouch_server.runtime import Runtime

log = logging.getLogger("vouch.approval")


async def sweep(runtime: Runtime) -> tuple[int, int]:
    """One pass: confirmations past their timeout, consents past their time. Safe to run in every
    process at once (each transition is a conditional UPDATE)."""
    async with runtime.db.session() as session:
        timed_out = await service.sweep_timeouts(session, runtime)
    async with runtime.db.session() as session:
        expired = await consent.sweep_expired(session, runtime)
    return len(timed_out), len(expired)


async def run_sweeper(runtime: Runtime, interval: float) -> None:
    """Sweep every ``interval`` seconds until cancelled (``vouch serve``; ``vouch worker``);
    ``interval`` 0 turns the sweep off (expiry is then applied only on reads)."""
    if interval <= 0:
        return
    while True:
        await asyncio.sleep(interval)
        try:
            timed_out, expired = await sweep(runtime)
            if timed_out or expired:
                log.info(
                    "timed out %d confirmations, expired %d authorizations", timed_out, expired
                )
        except Exception:
            log.exception("approval sweep failed; will retry")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Merged into the app's lifespan by ``include_router``: every ``vouch serve`` process sweeps,
    # at the server's sweep interval (``VOUCH_EXPIRY_SWEEP_SECONDS``; 0 = only on read).
    runtime: Runtime = app.state.vouch
    interval = runtime.settings.expiry_sweep_seconds
    task = asyncio.create_task(run_sweeper(runtime, interval)) if interval > 0 else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


router = APIRouter(lifespan=_lifespan)


def _page(page: int, limit: int, total: int, rows: Any) -> dict[str, Any]:
    has_more = page * limit < total
    pagination: dict[str, Any] = {"hasMore": has_more, "total": total, "page": page, "limit": limit}
    if has_more and rows:
        pagination["nextCursor"] = rows[-1].id
        pagination["nextPage"] = page + 1
    return pagination


# -- HITL configs --------------------------------------------------------------------------------
async def _render(session: Session, h: Any) -> dict[str, Any]:
    return render_hitl(h, await keys.keypair_of(session, h.id))


@router.post("/api/v1/hitl", tags=["hitl"], **documented(HitlConfigOut, 201))
async def create_hitl(body: CreateHitl, session: Session, caller: ApiCaller) -> dict[str, Any]:
    """Created ``pending``; active at once when somebody can already be asked (a ``web``
    channel, test mode, a recipient who consented), else after consent or ``finalize``."""
    return await _render(session, await configs.create(session, caller, body))


@router.get("/api/v1/hitl", tags=["hitl"], **documented(HitlConfigListOut))
async def list_hitl(
    session: Session,
    caller: ApiCaller,
    page: PageNumber = 1,
    limit: Annotated[int, Query(gt=0, le=100)] = 20,
    status: Annotated[str | None, Query(pattern="^(pending|active|archived)$")] = None,
    environment: Annotated[str | None, Query(pattern="^(production|live|test)$")] = None,
) -> dict[str, Any]:
    wanted = None if environment is None else ("test" if environment == "test" else "live")
    rows, total = await configs.list_(
        session, caller, page=page, limit=limit, status=status, environment=wanted
    )
    pairs = await keys.keypairs_of(session, [h.id for h in rows])
    return {
        "data": [render_hitl(h, pairs.get(h.id)) for h in rows],
        "pagination": _page(page, limit, total, rows),
        "limits": HITL_LIMITS,
    }


# Before ``/api/v1/hitl/{hitl_id}/…``: a discovery token is not a config id.
@router.post(
    "/api/v1/hitl/chat-id-discovery", tags=["hitl"], **documented(ChatIdDiscoveryCreatedOut, 201)
)
async def create_chat_id_discovery(
    session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    """A Telegram deep link (and its QR code) that tells you the chat id of whoever opens it."""
    return await discovery.create(session, runtime, caller)


@router.get(
    "/api/v1/hitl/chat-id-discovery/{token}", tags=["hitl"], **documented(ChatIdDiscoveryOut)
)
async def get_chat_id_discovery(token: str, session: Session, caller: ApiCaller) -> dict[str, Any]:
    """``pending`` until the link is opened, then ``completed`` with ``chat_id``; ``expired``
    after ten minutes unused."""
    return discovery.render(await discovery.find(session, caller, token))


@router.get(
    "/api/v1/hitl/chat-id-discovery/{token}/events",
    tags=["hitl"],
    response_class=EventStreamResponse,
)
async def chat_id_discovery_events(
    token: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> StreamingResponse:
    """``connected`` with the current status, ``status_changed`` once it is ``completed`` or
    ``expired`` (the stream then ends), a ``heartbeat`` meanwhile."""
    row = await discovery.find(session, caller, token)
    heartbeat = runtime.settings.sse_heartbeat_seconds

    async def read() -> dict[str, Any]:
        async with runtime.db.session() as fresh:
            return discovery.render(await discovery.find(fresh, caller, token))

    async def stream() -> AsyncIterator[bytes]:
        async with runtime.bus.subscribe(discovery.topic(row)) as queue:
            current = await read()
            yield _sse("connected", current)
            while current["status"] == "pending":
                until_expiry = max(0.05, _seconds_until(current["expires_at"]) + 0.05)
                try:
                    await asyncio.wait_for(queue.get(), min(heartbeat, until_expiry))
                except TimeoutError:
                    current = await read()
                    if current["status"] == "pending":
                        yield _sse("heartbeat", {"at": isoformat_ms(utcnow())})
                        continue
                else:
                    current = await read()
                yield _sse("status_changed", current)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/api/v1/hitl/{hitl_id}", tags=["hitl"], **documented(HitlConfigOut))
async def get_hitl(hitl_id: str, session: Session, caller: ApiCaller) -> dict[str, Any]:
    return await _render(session, await configs.get(session, caller, hitl_id))


@router.patch("/api/v1/hitl/{hitl_id}", tags=["hitl"], **documented(HitlConfigOut))
async def update_hitl(
    hitl_id: str, body: UpdateHitl, session: Session, caller: ApiCaller
) -> dict[str, Any]:
    return await _render(session, await configs.update(session, caller, hitl_id, body))


@router.delete("/api/v1/hitl/{hitl_id}", tags=["hitl"], **documented(HitlConfigOut))
async def archive_hitl(hitl_id: str, session: Session, caller: ApiCaller) -> dict[str, Any]:
    return await _render(session, await configs.archive(session, caller, hitl_id))


@router.post("/api/v1/hitl/{hitl_id}/authorize", tags=["hitl"], **documented(HitlAuthorizeOut))
async def authorize_hitl(
    hitl_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    """Ask every recipient of the config who has not consented (nor been asked) for consent."""
    return await lifecycle.authorize(session, runtime, caller, hitl_id)


@router.post("/api/v1/hitl/{hitl_id}/finalize", tags=["hitl"], **documented(HitlFinalizedOut))
async def finalize_hitl(
    hitl_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    """``pending → active``, and a consent request to every recipient still to be asked."""
    config, results = await lifecycle.finalize(session, runtime, caller, hitl_id)
    return {**(await _render(session, config)), "authorizations": results}


@router.get("/api/v1/hitl/{hitl_id}/keys", tags=["hitl"], **documented(HitlKeysOut))
async def get_hitl_keys(hitl_id: str, session: Session, caller: ApiCaller) -> dict[str, Any]:
    """The config's end-to-end encryption keypair, as its owner's client uploaded it."""
    return keys.render_keys(await keys.get(session, caller, hitl_id))


@router.put("/api/v1/hitl/{hitl_id}/keys", tags=["hitl"], **documented(HitlKeysOut))
async def put_hitl_keys(
    hitl_id: str, body: keys.PutKeys, session: Session, caller: ApiCaller
) -> dict[str, Any]:
    """Upload (or rotate) the keypair; from now on confirmations must be ciphertext envelopes."""
    return keys.render_keys(await keys.put(session, caller, hitl_id, body))


@router.delete("/api/v1/hitl/{hitl_id}/keys", tags=["hitl"], **documented(HitlKeysDeletedOut))
async def delete_hitl_keys(hitl_id: str, session: Session, caller: ApiCaller) -> dict[str, Any]:
    return await keys.delete_(session, caller, hitl_id)


@router.get(
    "/api/v1/hitl/{hitl_id}/approver-keys", tags=["hitl"], **documented(HitlApproverKeysOut)
)
async def get_hitl_approver_keys(
    hitl_id: str, session: Session, caller: ApiCaller
) -> dict[str, Any]:
    """Public keys of approvers with an active consent, by authorization id (envelope v2)."""
    return await keys.approver_keys(session, caller, hitl_id)


@router.put(
    "/api/v1/hitl/{hitl_id}/approver-keys/{authorization_id}",
    tags=["hitl"],
    **documented(HitlApproverKeyEnrolledOut),
)
async def put_hitl_approver_key(
    hitl_id: str,
    authorization_id: str,
    body: keys.PutApproverKey,
    session: Session,
    caller: ApiCaller,
) -> dict[str, Any]:
    """Enroll the public key of an approver who consented to this config."""
    row = await keys.put_approver_key(session, caller, hitl_id, authorization_id, body)
    return {"hitl_id": row.hitl_id, **keys.render_approver_key(row)}


# -- confirmations ------------------------------------------------------------------------------
@router.post(
    "/api/v1/confirmations", tags=["confirmations"], **documented(ConfirmationCreatedOut, 201)
)
async def create_confirmation(
    body: CreateConfirmation, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    confirmation, extras = await service.create(session, runtime, caller, body=body)
    return {**render_confirmation(confirmation), **extras}


def _instant(name: str, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise ValidationFailed(
            details=[{"field": name, "message": "Invalid ISO 8601 instant", "code": "invalid_date"}]
        ) from exc


@router.get("/api/v1/confirmations", tags=["confirmations"], **documented(ConfirmationListOut))
async def list_confirmations(
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
    page: PageNumber = 1,
    limit: Annotated[int, Query(gt=0, le=100)] = 20,
    status: ConfirmationStatus | None = None,
    hitl_id: Annotated[str | None, Query(max_length=64)] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    rows, total = await service.list_(
        session,
        runtime,
        caller,
        page=page,
        limit=limit,
        filters={
            "status": status.value if status else None,
            "hitl_id": hitl_id,
            "from": _instant("from", from_),
            "to": _instant("to", to),
        },
    )
    return {
        "data": [render_confirmation(c) for c in rows],
        "pagination": _page(page, limit, total, rows),
    }


@router.get(
    "/api/v1/confirmations/{confirmation_id}",
    tags=["confirmations"],
    **documented(ConfirmationOut),
)
async def get_confirmation(
    confirmation_id: str,
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
    wait: Annotated[int, Query(ge=0, le=service.MAX_WAIT_SECONDS)] = 0,
) -> dict[str, Any]:
    """``?wait=N`` (≤ 60): a long poll that returns as soon as the confirmation is decided (in any
    process), or after N seconds with it still pending."""
    confirmation = await service.get(session, runtime, caller, confirmation_id)
    if wait == 0 or confirmation.status != "pending":
        return render_confirmation(confirmation)
    # Nothing was written; end this unit of work so that no connection is held while waiting.
    await session.commit()
    return await service.wait_for_decision(runtime, caller, confirmation_id, wait)


def _sse(event: str, data: dict[str, Any]) -> bytes:
    """One Server-Sent Events message (HTML Living Standard, "Server-sent events")."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


@router.get(
    "/api/v1/confirmations/{confirmation_id}/events",
    tags=["confirmations"],
    response_class=EventStreamResponse,
)
async def confirmation_events(
    confirmation_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> StreamingResponse:
    """Live status: ``connected`` with the current status, then ``status_changed`` (with the whole
    confirmation) when it is decided in any process, a ``heartbeat`` meanwhile; the stream ends
    once the confirmation is no longer pending."""
    await service.get(session, runtime, caller, confirmation_id)  # 404 before streaming
    open_streams: dict[str, int] = runtime.extras.setdefault("sse_streams", {})  # type: ignore[assignment]
    cap = runtime.settings.sse_max_streams_per_project
    if open_streams.get(caller.project_id, 0) >= cap:
        raise RateLimited(
            5, "Too many open event streams for this project", code="too_many_streams"
        )
    open_streams[caller.project_id] = open_streams.get(caller.project_id, 0) + 1
    heartbeat = runtime.settings.sse_heartbeat_seconds

    async def read() -> dict[str, Any]:
        async with runtime.db.session() as fresh:
            return render_confirmation(await service.get(fresh, runtime, caller, confirmation_id))

    async def stream() -> AsyncIterator[bytes]:
        try:
            async with runtime.bus.subscribe(f"confirmation:{confirmation_id}") as queue:
                current = await read()
                yield _sse("connected", {"id": confirmation_id, "status": current["status"]})
                if current["status"] != "pending":
                    yield _sse("status_changed", current)
                while current["status"] == "pending":
                    until_expiry = max(0.05, _seconds_until(current["expires_at"]) + 0.05)
                    try:
                        await asyncio.wait_for(queue.get(), min(heartbeat, until_expiry))
                    except TimeoutError:
                        current = await read()
                        if current["status"] == "pending":
                            yield _sse("heartbeat", {"at": isoformat_ms(utcnow())})
                            continue
                    else:
                        current = await read()
                    yield _sse("status_changed", current)
        finally:
            open_streams[caller.project_id] = max(0, open_streams.get(caller.project_id, 1) - 1)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _seconds_until(instant: str) -> float:
    return (parse_instant(instant) - utcnow()).total_seconds()


@router.post(
    "/api/v1/confirmations/{confirmation_id}/approval-link",
    tags=["confirmations"],
    **documented(ConfirmationApprovalLinkOut),
)
async def create_approval_link(
    confirmation_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    """A signed, single-use link to the hosted approval page (for a ``web`` channel)."""
    return await service.approval_link(session, runtime, caller, confirmation_id)


@router.post(
    "/api/v1/confirmations/{confirmation_id}/test-respond",
    tags=["confirmations"],
    **documented(ConfirmationOut),
)
async def test_respond(
    confirmation_id: str,
    body: TestRespond,
    session: Session,
    runtime: RuntimeDep,
    caller: TestCaller,
) -> dict[str, Any]:
    """Test mode: decide as the human would (``{action: approve|deny, text}``)."""
    confirmation = await service.test_respond(
        session, runtime, caller, confirmation_id, action=body.action, text=body.text
    )
    return render_confirmation(confirmation)
