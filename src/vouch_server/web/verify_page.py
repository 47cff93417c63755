"""The hosted verify page ``/verify/{request_id}``: where a person opens a verification request's
``verification_url`` and proves control of each asset it asks for.

Server-rendered HTML (Jinja2, autoescaped), working without JavaScript: an asset the request left
open gets a form (identifier and channel) that posts back here and is redirected to the page
again (Post/Redirect/Get); the page then shows the challenge (code, deep link and QR code, DNS
record, message to sign). ``GET`` decides nothing. With JavaScript, ``/static/verify.js`` (same
origin; no inline script) follows ``/verify/{request_id}/events`` (Server-Sent Events, HTML Living
Standard) and redraws the assets that changed; once the request is completed it goes to
``redirect_url``, which a "Continue" link offers without JavaScript too.

The request id in the URL is the only capability. The page shows the request's action context
and its assets (fixed identifiers masked), never its reference, metadata, callback or anything
else of the project. A ``POST`` carries a CSRF token: HMAC-SHA256 (RFC 2104) of the request id
under a key derived from the master secret (HKDF purpose ``verify-page``).

A challenge's code is stored only as a digest, so the page cannot show it again later: what
``start_asset`` returns is kept for the person in a signed cookie scoped to this page's path, and
shown while that verification is the asset's pending one. An asset whose verification was made
when the request was created (a fixed identifier) and whose challenge needs the code offers
"Show my code", which starts a fresh verification for the same identifier.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.control.catalog import CHANNELS_BY_TYPE
from vouch_server.control.endpoints import _sse
from vouch_server.control.methods import ChallengeContext, get_method
from vouch_server.deps import RuntimeDep, Session, client_ip
from vouch_server.errors import VouchError
from vouch_server.kit.clock import isoformat_ms, utcnow
from vouch_server.kit.ids import is_object_id
from vouch_server.kit.secretbox import derive_key
from vouch_server.models import Verification, VerificationRequest, VerificationRequestAsset
from vouch_server.requests import reuse
from vouch_server.requests import service as requests
from vouch_server.runtime import Runtime
from vouch_server.sessions.qr import png_data_url
from vouch_server.tenancy import credentials
from vouch_server.web import endpoints as approve_page
from vouch_server.web import hosted, person
from vouch_server.web.branding import Branding, load_branding

router = APIRouter(include_in_schema=False)
router.include_router(hosted.router)  # /static/brand/<rrggbb>.css

STATIC_DIR = Path(__file__).parent / "static"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
# The hosted pages' one policy (``vouch_server.web.hosted``) with this origin's script and event
# streams, and data: images (the QR codes); a project's logo adds its own origin to img-src.
HEADERS = hosted.headers(Branding(), script=True, qr=True)
CSP = HEADERS["Content-Security-Policy"]
COOKIE = "vouch_verify"
# The statuses a live page keeps following (a request's open ones; a verification's pending).
LIVE = frozenset((*requests.OPEN, "pending"))
# Fields of a challenge worth showing the person (control's method ``challenge`` shapes).
SHOWN = (
    "code",
    "instruction",
    "deep_link",
    "send_to",
    "expires_at",
    "record_type",
    "record_name",
    "record_value",
    "file_url",
    "file_content",
)
CODE_CHANNELS = ("whatsapp", "telegram", "sms")
TYPE_LABELS = {
    "phone": "Phone number",
    "email": "Email address",
    "domain": "Domain",
    "social": "Account",
    "wallet": "Wallet",
    "account": "Account",
    "telegram_bot": "Telegram bot",
}
PLACEHOLDERS = {
    "phone": "+1 555 010 0000",
    "email": "you@example.com",
    "domain": "example.com",
    "wallet": "0x…",
}
STATUS_LABELS = {
    "pending": "Waiting",
    "verified": "Verified",
    "failed": "Failed — try again",
    "expired": "Expired — start again",
    "revoked": "Revoked",
}


# -- keys: CSRF token and the challenge cookie ---------------------------------------------------
def _key(runtime: Runtime) -> bytes:
    key = runtime.extras.get("verify_page_key")
    if not isinstance(key, bytes):
        key = derive_key(runtime.settings.master_key, "verify-page")
        runtime.extras["verify_page_key"] = key
    return key


def _mac(runtime: Runtime, purpose: str, value: str) -> str:
    digest = hmac.new(_key(runtime), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def csrf_token(runtime: Runtime, request_id: str) -> str:
    return _mac(runtime, "csrf", request_id)


def _read_cookie(runtime: Runtime, request: Request, request_id: str) -> dict[str, Any]:
    raw = request.cookies.get(COOKIE, "")
    payload, _, signature = raw.rpartition(".")
    if not payload or not hmac.compare_digest(
        signature, _mac(runtime, f"challenges/{request_id}", payload)
    ):
        return {}
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _cookie_value(runtime: Runtime, request_id: str, data: dict[str, Any]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    text = payload.decode().rstrip("=")
    return f"{text}.{_mac(runtime, f'challenges/{request_id}', text)}"


def _secure_cookie(runtime: Runtime, request: Request) -> bool:
    if request.url.scheme == "https":
        return True
    local = request.url.hostname in ("127.0.0.1", "localhost", "::1")
    return runtime.settings.public_url.startswith("https://") and not local


# -- pages ---------------------------------------------------------------------------------------
def _html(
    status: int,
    template: str = "verify.html",
    branding: Branding | None = None,
    **values: Any,
) -> HTMLResponse:
    return hosted.render(template, status, branding or Branding(), script=True, qr=True, **values)


def _refused(
    status: int, title: str, message: str, branding: Branding | None = None
) -> HTMLResponse:
    return _html(status, "verify_error.html", branding, title=title, message=message)


def _not_found() -> HTMLResponse:
    return _refused(
        404,
        "This link is not valid",
        "Check that you opened the whole link you were given, or ask for a new one.",
    )


async def _limited(request: Request, runtime: Runtime) -> HTMLResponse | None:
    state = await runtime.limiter.hit(
        runtime.settings.approval_page_rate_limit, "verify-page", client_ip(request)
    )
    if state.allowed:
        return None
    page = _refused(429, "Too many requests", "Please wait a minute, then reload this page.")
    page.headers["Retry-After"] = str(state.retry_after)
    return page


async def _load(session: AsyncSession, request_id: str) -> VerificationRequest | None:
    """The request by its id alone: the id is the capability (no API key on this page)."""
    if not is_object_id(request_id):
        return None
    return await session.get(VerificationRequest, request_id)


def _closed(request: VerificationRequest, branding: Branding) -> HTMLResponse | None:
    if request.status == "expired":
        return _refused(
            410,
            "This request has expired",
            "Ask whoever sent you this link for a new one.",
            branding,
        )
    if request.status == "cancelled":
        return _refused(
            410, "This request was cancelled", "There is nothing left to do here.", branding
        )
    return None


async def _derived_challenge(
    session: AsyncSession, runtime: Runtime, verification: Verification
) -> dict[str, Any] | None:
    """What can be shown again without the code: a DNS record or a file (their values follow
    from the verification), a wallet's message (kept in ``method_state``), an email ("check your
    inbox")."""
    if verification.channel in ("dns", "http"):
        settings = await credentials.effective_settings(
            session, runtime.settings, verification.project_id
        )
        method = get_method(verification.type, verification.channel)
        ctx = ChallengeContext(verification, "", verification.challenge_expires_at, settings)
        return {k: v for k, v in method.challenge(ctx).items() if k in SHOWN}
    message = (verification.method_state or {}).get("message")
    if verification.type == "wallet" and isinstance(message, str):
        return {"message": message, "expires_at": isoformat_ms(verification.challenge_expires_at)}
    if verification.channel == "email" and verification.type == "email":
        return {"expires_at": isoformat_ms(verification.challenge_expires_at)}
    return None


def _shown(challenge: dict[str, Any], verification: Verification) -> dict[str, Any]:
    shown = {k: v for k, v in challenge.items() if k in SHOWN}
    if verification.type == "wallet" and isinstance(challenge.get("message"), str):
        shown["message"] = challenge["message"]
    return shown


async def _asset_view(
    session: AsyncSession,
    runtime: Runtime,
    asset: VerificationRequestAsset,
    verification: Verification | None,
    remembered: dict[str, Any],
    is_open: bool,
) -> dict[str, Any]:
    offered = list(asset.allowed_channels or CHANNELS_BY_TYPE[asset.type])
    identifier = asset.verified_identifier or asset.identifier
    if identifier is None and verification is not None:
        identifier = verification.identifier  # the one the person gave when starting
    view: dict[str, Any] = {
        "index": asset.position,
        "type": asset.type,
        "label": TYPE_LABELS.get(asset.type, asset.type),
        "identifier": requests.mask_identifier(asset.type, identifier) if identifier else None,
        "required": asset.required,
        "status": asset.status,
        "status_label": STATUS_LABELS.get(asset.status, asset.status),
        "user_provided": asset.identifier is None,
        "channels": offered,
        "selected": (verification.channel if verification else None) or asset.channel,
        "placeholder": PLACEHOLDERS.get(asset.type, ""),
        "challenge": None,
        "key": f"{asset.status}/{asset.verification_id or '-'}",
    }
    pending = verification is not None and verification.status == "pending"
    if asset.status == "verified" or not is_open:
        return view
    if pending and verification is not None:
        kept = remembered.get(str(asset.position))
        challenge: dict[str, Any] | None = None
        if isinstance(kept, dict) and kept.get("v") == verification.id:
            challenge = kept.get("c") if isinstance(kept.get("c"), dict) else None
        if challenge is None:
            challenge = await _derived_challenge(session, runtime, verification)
        if challenge is not None:
            view["challenge"] = _challenge_view(verification, challenge)
            view["key"] += "/shown"
    # Offer to (re)start: an open identifier not given yet, a fixed one whose code is not known
    # here, or an asset whose challenge failed or ran out.
    view["form"] = view["challenge"] is None or view["user_provided"] or len(offered) > 1
    view["form_label"] = (
        "Start again" if view["challenge"] is not None else _start_label(asset, offered)
    )
    return view


def _start_label(asset: VerificationRequestAsset, offered: list[str]) -> str:
    if asset.status in ("failed", "expired"):
        return "Start again"
    if asset.identifier is not None and any(c in CODE_CHANNELS for c in offered):
        return "Show my code"
    return "Start"


def _challenge_view(verification: Verification, challenge: dict[str, Any]) -> dict[str, Any]:
    shown = dict(challenge)
    channel = verification.channel
    if channel in CODE_CHANNELS:
        kind = "message"
    elif channel == "email" and verification.type == "email":
        kind = "email"
    elif channel == "dns":
        kind = "dns"
    elif channel == "http":
        kind = "http"
    elif verification.type == "wallet":
        kind = "wallet"
    else:
        kind = "other"
    shown["kind"] = kind
    shown["channel"] = channel
    link = shown.get("deep_link")
    if kind == "message" and isinstance(link, str):
        shown["qr"] = png_data_url(link)
    return shown


async def _render(
    session: AsyncSession,
    runtime: Runtime,
    http: Request,
    current: requests.RequestView,
    *,
    status: int = 200,
    errors: dict[int, str] | None = None,
    entered: dict[int, dict[str, str]] | None = None,
) -> HTMLResponse:
    r = current.request
    remembered = _read_cookie(runtime, http, r.id)
    is_open = r.status in requests.OPEN
    known = person.completed_ids(runtime, http)
    granted = [i for i in _completed_here(current, remembered) if i not in known]
    offers: dict[int, reuse.Candidate] = {}
    if is_open and (known or granted):
        for c in await reuse.candidates(session, r, [*reversed(granted), *known]):
            if c.can_reuse:
                offers[c.asset.position] = c
    assets = []
    for asset in current.assets:
        verification = current.verifications.get(asset.verification_id or "")
        view = await _asset_view(session, runtime, asset, verification, remembered, is_open)
        view["error"] = (errors or {}).get(asset.position)
        view["entered"] = (entered or {}).get(asset.position, {})
        offer = offers.get(asset.position)
        if offer is not None and offer.original is not None:
            first = reuse.first_verified_at(offer.original)
            view["reuse"] = {
                "identifier": requests.mask_identifier(
                    offer.original.type, offer.original.identifier
                ),
                "verified_at": isoformat_ms(first) if first is not None else None,
            }
            view["key"] += "/reuse"
        assets.append(view)
    context = r.action_context or {}
    counts = requests.progress(current.assets)
    page = _html(
        status,
        "verify.html",
        await load_branding(session, r.project_id),
        request_id=r.id,
        title=context.get("title") or "Verify it's you",
        description=context.get("description"),
        context=context,
        test_mode=r.environment == "test",
        request_status=r.status,
        is_open=is_open,
        completed=r.status == "completed",
        redirect_url=r.redirect_url if r.status == "completed" else None,
        progress=counts,
        assets=assets,
        csrf=csrf_token(runtime, r.id),
        expires_at=isoformat_ms(r.expires_at),
    )
    person.remember(runtime, http, page, granted)
    return page


def _completed_here(current: requests.RequestView, remembered: dict[str, Any]) -> list[str]:
    """Verifications of this request that this browser started (its challenge cookie names them)
    and that are now verified: the person who saw the code, record or message here is the one
    who answered it. An email is granted by its link page instead (the browser that opens the
    link is the one that proved the mailbox)."""
    done = []
    for asset in current.assets:
        kept = remembered.get(str(asset.position))
        verification = current.verifications.get(asset.verification_id or "")
        if (
            verification is not None
            and verification.status == "verified"
            and verification.channel != "email"
            and isinstance(kept, dict)
            and kept.get("v") == verification.id
        ):
            done.append(verification.id)
    return done


@router.get("/static/{name}")
async def static_file(name: str) -> Response:
    """The hosted pages' stylesheet and script (one visual style for every hosted page)."""
    path = STATIC_DIR / name
    media = STATIC_TYPES.get(path.suffix)
    if media is None or "/" in name or name.startswith(".") or not path.is_file():
        return _not_found()
    return Response(
        path.read_bytes(),
        media_type=media,
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/verify/{request_id}")
async def verify_page(
    request_id: str, request: Request, session: Session, runtime: RuntimeDep
) -> HTMLResponse:
    limited = await _limited(request, runtime)
    if limited is not None:
        return limited
    row = await _load(session, request_id)
    if row is None:
        return _not_found()
    current = await requests.view(session, runtime, row)
    closed = _closed(current.request, await load_branding(session, row.project_id))
    return closed or await _render(session, runtime, request, current)


@router.post("/verify/{request_id}", response_model=None)
async def verify_start(
    request_id: str, request: Request, session: Session, runtime: RuntimeDep
) -> Response:
    """The form of one asset: start it with the identifier and channel given (PRG)."""
    limited = await _limited(request, runtime)
    if limited is not None:
        return limited
    fields = await approve_page._form_fields(request)
    if not hmac.compare_digest(fields.get("csrf", ""), csrf_token(runtime, request_id)):
        return _refused(
            403,
            "This form has expired",
            "Go back, reload the page and try again.",
        )
    row = await _load(session, request_id)
    if row is None:
        return _not_found()
    current = await requests.view(session, runtime, row)
    closed = _closed(current.request, await load_branding(session, row.project_id))
    if closed is not None:
        return closed
    raw_index = fields.get("asset", "")
    if not raw_index.isdigit() or int(raw_index) >= len(current.assets):
        return await _render(session, runtime, request, current, status=400)
    index = int(raw_index)
    identifier = fields.get("identifier", "").strip() or None
    channel = fields.get("channel", "").strip() or None
    try:
        _, verification, challenge = await requests.start_asset(
            session, runtime, row, index, identifier=identifier, channel=channel
        )
    except VouchError as exc:
        # Nothing of a refused start is kept (a verification half-made, its announcements).
        await session.rollback()
        session.info.pop("after_commit", None)
        await session.refresh(row)
        current = await requests.view(session, runtime, row)
        message = exc.details[0]["message"] if exc.details else exc.message
        return await _render(
            session,
            runtime,
            request,
            current,
            status=exc.status if 400 <= exc.status < 500 else 400,
            errors={index: message},
            entered={index: {"identifier": identifier or "", "channel": channel or ""}},
        )
    remembered = _read_cookie(runtime, request, request_id)
    remembered[str(index)] = {"v": verification.id, "c": _shown(challenge, verification)}
    response = Response(status_code=303, headers={**HEADERS, "Location": f"/verify/{request_id}"})
    response.set_cookie(
        COOKIE,
        _cookie_value(runtime, request_id, remembered),
        max_age=max(60, int((row.expires_at - utcnow()).total_seconds())),
        path=f"/verify/{request_id}",
        secure=_secure_cookie(runtime, request),
        httponly=True,
        samesite="lax",
    )
    return response


@router.post("/verify/{request_id}/reuse", response_model=None)
async def verify_reuse(
    request_id: str, request: Request, session: Session, runtime: RuntimeDep
) -> Response:
    """ "Use my existing proof" for one asset (Smart Reuse, ``vouch_server.requests.reuse``):
    the person is this browser's signed cookie, never anything the form says (PRG)."""
    limited = await _limited(request, runtime)
    if limited is not None:
        return limited
    fields = await approve_page._form_fields(request)
    if not hmac.compare_digest(fields.get("csrf", ""), csrf_token(runtime, request_id)):
        return _refused(403, "This form has expired", "Go back, reload the page and try again.")
    row = await _load(session, request_id)
    if row is None:
        return _not_found()
    current = await requests.view(session, runtime, row)
    closed = _closed(current.request, await load_branding(session, row.project_id))
    if closed is not None:
        return closed
    raw_index = fields.get("asset", "")
    if not raw_index.isdigit() or int(raw_index) >= len(current.assets):
        return await _render(session, runtime, request, current, status=400)
    index = int(raw_index)
    try:
        _, verification, _ = await reuse.reuse_asset(
            session, runtime, row, index, person.completed_ids(runtime, request)
        )
    except VouchError as exc:
        await session.rollback()
        session.info.pop("after_commit", None)
        await session.refresh(row)
        current = await requests.view(session, runtime, row)
        return await _render(
            session,
            runtime,
            request,
            current,
            status=exc.status if 400 <= exc.status < 500 else 400,
            errors={index: exc.message},
        )
    response = Response(status_code=303, headers={**HEADERS, "Location": f"/verify/{request_id}"})
    person.remember(runtime, request, response, [verification.id])
    return response


@router.get("/verify/{request_id}/events", response_model=None)
async def verify_events(
    request_id: str, session: Session, runtime: RuntimeDep
) -> StreamingResponse | HTMLResponse:
    """``connected`` with the request's status, then ``changed`` whenever it or one of its assets
    changes (in any process), a ``heartbeat`` meanwhile; ends once the request is over. Counted
    against the project's open streams, as control's and approval's streams are."""
    row = await _load(session, request_id)
    if row is None:
        return _not_found()

    async def read() -> tuple[str, float]:
        async with runtime.db.session() as fresh:
            found = await _load(fresh, request_id)
            assert found is not None
            current = await requests.view(fresh, runtime, found)
            left = (current.request.expires_at - utcnow()).total_seconds()
            return current.request.status, left

    return live_stream(runtime, row.project_id, "verification_request", request_id, read)


# What a live page's stream reads again after each message: the object's status and the seconds
# left before it runs out.
Reader = Callable[[], Awaitable[tuple[str, float]]]


def live_stream(
    runtime: Runtime, project: str, topic: str, object_id: str, read: Reader
) -> StreamingResponse | HTMLResponse:
    """The event stream a verify page follows (``/static/verify.js``): ``connected`` with the
    status, then ``changed`` whenever the bus says ``{topic}:{object_id}`` changed (in any
    process), a ``heartbeat`` meanwhile; ends once the status is no longer open (pending or
    partial). Counted against the project's open streams, as control's and approval's are."""
    open_streams: dict[str, int] = runtime.extras.setdefault("sse_streams", {})  # type: ignore[assignment]
    if open_streams.get(project, 0) >= runtime.settings.sse_max_streams_per_project:
        page = _refused(429, "Too many open pages", "Please reload this page in a moment.")
        page.headers["Retry-After"] = "5"
        return page
    open_streams[project] = open_streams.get(project, 0) + 1
    heartbeat = runtime.settings.sse_heartbeat_seconds

    async def stream() -> AsyncIterator[bytes]:
        try:
            async with runtime.bus.subscribe(f"{topic}:{object_id}") as queue:
                # Read after subscribing, so that no change falls between the two.
                status, left = await read()
                yield _sse("connected", {"id": object_id, "status": status})
                while status in LIVE:
                    try:
                        message = await asyncio.wait_for(
                            queue.get(), max(0.05, min(heartbeat, left))
                        )
                    except TimeoutError:
                        status, left = await read()
                        if status in LIVE:
                            yield _sse("heartbeat", {"at": isoformat_ms(utcnow())})
                            continue
                        yield _sse("changed", {"id": object_id, "status": status})
                        break
                    status, left = await read()
                    event: dict[str, Any] = {"id": object_id, "status": status}
                    if isinstance(message.get("asset_index"), int):
                        event["asset_index"] = message["asset_index"]
                    yield _sse("changed", event)
        finally:
            open_streams[project] = max(0, open_streams.get(project, 1) - 1)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={**HEADERS, "Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
