"""``/api/v1/verifications`` — proof.holdings' verification endpoints."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import StreamingResponse

from vouch_server.control import service
from vouch_server.control.catalog import AssetType, Channel, Status
from vouch_server.control.responses import (
    VerificationCheckedOut,
    VerificationCreatedOut,
    VerificationListOut,
    VerificationOut,
    VerificationResentOut,
)
from vouch_server.control.schemas import CreateVerification, Submission, render_verification
from vouch_server.deps import ApiCaller, RuntimeDep, Session, TestCaller
from vouch_server.errors import RateLimited
from vouch_server.kit.clock import isoformat_ms, utcnow
from vouch_server.kit.paging import PageNumber
from vouch_server.openapi import EventStreamResponse, documented

router = APIRouter(prefix="/api/v1/verifications", tags=["verifications"])


@router.post("", **documented(VerificationCreatedOut, 201))
async def create_verification(
    body: CreateVerification, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    verification, challenge = await service.create(session, runtime, caller, body=body)
    response = render_verification(verification)
    response["challenge"] = challenge
    # The seed's create example carries the deep link at the top level as well.
    if "deep_link" in challenge:
        response["deep_link"] = challenge["deep_link"]
    return response


@router.get("", **documented(VerificationListOut))
async def list_verifications(
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
    page: PageNumber = 1,
    limit: Annotated[int, Query(gt=0, le=100)] = 20,
    status: Status | None = None,
    type: AssetType | None = None,
    channel: Channel | None = None,
    external_user_id: Annotated[str | None, Query(max_length=255)] = None,
    cursor: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> dict[str, Any]:
    listed = await service.list_(
        session,
        runtime,
        caller,
        page=page,
        limit=limit,
        cursor=cursor,
        filters={
            "status": status.value if status else None,
            "type": type.value if type else None,
            "channel": channel.value if channel else None,
            "external_user_id": external_user_id,
        },
    )
    return {
        "data": [render_verification(v) for v in listed.rows],
        "pagination": listed.pagination(),
    }


@router.get("/{verification_id}", **documented(VerificationOut))
async def get_verification(
    verification_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    return render_verification(await service.get(session, runtime, caller, verification_id))


@router.post("/{verification_id}/submit", **documented(VerificationOut))
async def submit_verification(
    verification_id: str,
    body: Annotated[Submission, Body()],
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
) -> dict[str, Any]:
    payload = body.model_dump(exclude_none=True)
    verification = await service.submit(session, runtime, caller, verification_id, payload)
    return render_verification(verification)


@router.post("/{verification_id}/verify", **documented(VerificationCheckedOut))
async def verify_now(
    verification_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    """Trigger the DNS/HTTP check now (proof.holdings ``POST …/{id}/verify``)."""
    verification, check = await service.verify_now(session, runtime, caller, verification_id)
    body = render_verification(verification)
    body["check"] = check
    return body


@router.post("/{verification_id}/resend", **documented(VerificationResentOut))
async def resend(
    verification_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    """Email verifications: (re)send the code and a magic link to the mailbox."""
    from vouch_server.control import email_flow

    return await email_flow.resend(session, runtime, caller, verification_id)


@router.post("/{verification_id}/test-verify", **documented(VerificationOut))
async def test_verify(
    verification_id: str, session: Session, runtime: RuntimeDep, caller: TestCaller
) -> dict[str, Any]:
    verification = await service.test_verify(session, runtime, caller, verification_id)
    return render_verification(verification)


def _sse(event: str, data: dict[str, Any]) -> bytes:
    """One Server-Sent Events message (HTML Living Standard, "Server-sent events")."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


@router.get("/{verification_id}/events", response_class=EventStreamResponse)
async def verification_events(
    verification_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> StreamingResponse:
    """Live status: ``connected`` with the current status, then ``status_changed`` when it changes
    (in any process), and a ``heartbeat`` every 30 s; the stream ends once the verification is no
    longer pending. At most ``VOUCH_SSE_MAX_STREAMS_PER_PROJECT`` open streams per project."""
    await service.get(session, runtime, caller, verification_id)  # 404 before streaming
    open_streams: dict[str, int] = runtime.extras.setdefault("sse_streams", {})  # type: ignore[assignment]
    cap = runtime.settings.sse_max_streams_per_project
    if open_streams.get(caller.project_id, 0) >= cap:
        raise RateLimited(
            5, "Too many open event streams for this project", code="too_many_streams"
        )
    open_streams[caller.project_id] = open_streams.get(caller.project_id, 0) + 1
    heartbeat = runtime.settings.sse_heartbeat_seconds

    async def stream() -> AsyncIterator[bytes]:
        try:
            async with runtime.bus.subscribe(f"verification:{verification_id}") as queue:
                # Read the status after subscribing, so no change can fall between the two.
                async with runtime.db.session() as fresh:
                    current = await service.get(fresh, runtime, caller, verification_id)
                    status = current.status
                yield _sse("connected", {"id": verification_id, "status": status})
                while status == "pending":
                    try:
                        message = await asyncio.wait_for(queue.get(), heartbeat)
                    except TimeoutError:
                        yield _sse("heartbeat", {"at": isoformat_ms(utcnow())})
                        continue
                    status = str(message.get("status"))
                    yield _sse("status_changed", message)
        finally:
            open_streams[caller.project_id] = max(0, open_streams.get(caller.project_id, 1) - 1)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
