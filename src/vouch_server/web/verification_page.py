"""The hosted page of a single verification, ``/verify/v/{verification_id}``: for a person handed
a plain verification (``POST /api/v1/verifications``) rather than a verification request.

proof.holdings' shapes have no field for such a page (its SDK's ``Verification`` carries no URL),
so the verification object does not name it; an integrator who wants to send the person here
builds the URL from the verification's id (see docs/verification-requests.md). The path cannot
meet ``/verify/{request_id}``: ids are 24 hex digits, and ``v`` is not one.

It is the request page made smaller, and reuses its parts: the same asset rendering
(``templates/_asset.html``), the same look and branding (``vouch_server.web.hosted``), the same
live update (``/static/verify.js`` following ``/verify/v/{verification_id}/events``, the
verification's own bus topic), the same rule about what is shown. The id is the only capability,
so the page shows what the request page shows for an asset: the identifier masked, the
challenge's instructions as far as they can be told again without the code — a DNS record or file
(they follow from the verification), a wallet's message to sign, "check your inbox", and for a
code sent over Telegram, WhatsApp or SMS where to send it. The code itself is stored only as a
digest, so it is never on this page: the integrator showed it to the person when it created the
verification. Nothing else of the verification (its metadata, callback, external user, proof
token) is shown.

Only a pending verification is shown with instructions; a verified one shows that it is done (so
the live page ends there); a failed, expired or revoked one answers 410. ``GET`` changes
nothing: a challenge past its expiry is shown as expired without being written as such.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.control.methods import ChallengeContext, get_method
from vouch_server.deps import RuntimeDep, Session
from vouch_server.kit.clock import isoformat_ms, utcnow
from vouch_server.kit.ids import is_object_id
from vouch_server.models import Verification
from vouch_server.requests import service as requests
from vouch_server.runtime import Runtime
from vouch_server.tenancy import credentials
from vouch_server.web import verify_page as page
from vouch_server.web.branding import Branding, load_branding

router = APIRouter(include_in_schema=False)

TITLES = {
    "phone": "Verify your phone number",
    "email": "Verify your email address",
    "domain": "Verify your domain",
    "wallet": "Verify your wallet",
}
GONE = {
    "failed": ("This verification failed", "Ask whoever sent you this link to start again."),
    "expired": ("This verification has expired", "Ask whoever sent you this link for a new one."),
    "revoked": ("This verification was revoked", "There is nothing left to do here."),
}


async def _load(session: AsyncSession, verification_id: str) -> Verification | None:
    if not is_object_id(verification_id):
        return None
    return await session.get(Verification, verification_id)


def _status(verification: Verification) -> str:
    """The status as the person should see it now (GET writes nothing)."""
    if verification.revoked_at is not None:
        return "revoked"
    if verification.status == "pending" and verification.challenge_expires_at <= utcnow():
        return "expired"
    return verification.status


async def _challenge(
    session: AsyncSession, runtime: Runtime, verification: Verification, branding: Branding
) -> dict[str, Any]:
    derived = await page._derived_challenge(session, runtime, verification)
    if derived is not None:
        return derived
    expires = isoformat_ms(verification.challenge_expires_at)
    if verification.channel in page.CODE_CHANNELS:
        # Where to send the code, and nothing that carries it (the deep link does).
        settings = await credentials.effective_settings(
            session, runtime.settings, verification.project_id
        )
        method = get_method(verification.type, verification.channel)
        ctx = ChallengeContext(verification, "", verification.challenge_expires_at, settings)
        send_to = method.challenge(ctx).get("send_to")
        return {"send_to": send_to, "expires_at": expires} if send_to else {"expires_at": expires}
    return {
        "instruction": f"Finish the steps {branding.name} gave you; this page then says so.",
        "expires_at": expires,
    }


async def _asset(
    session: AsyncSession,
    runtime: Runtime,
    verification: Verification,
    status: str,
    branding: Branding,
) -> dict[str, Any]:
    """The verification as one asset of ``_asset.html`` (no forms: there is nothing to start)."""
    view: dict[str, Any] = {
        "index": 0,
        "type": verification.type,
        "label": page.TYPE_LABELS.get(verification.type, verification.type),
        "identifier": requests.mask_identifier(verification.type, verification.identifier),
        "required": True,
        "status": status,
        "status_label": page.STATUS_LABELS.get(status, status),
        "user_provided": False,
        "channels": [verification.channel],
        "selected": verification.channel,
        "challenge": None,
        "form": False,
        "key": f"{status}/{verification.id}",
    }
    if status == "pending":
        challenge = await _challenge(session, runtime, verification, branding)
        view["challenge"] = page._challenge_view(verification, challenge)
    return view


@router.get("/verify/v/{verification_id}")
async def verification_page(
    verification_id: str, request: Request, session: Session, runtime: RuntimeDep
) -> HTMLResponse:
    limited = await page._limited(request, runtime)
    if limited is not None:
        return limited
    verification = await _load(session, verification_id)
    if verification is None:
        return page._not_found()
    branding = await load_branding(session, verification.project_id)
    status = _status(verification)
    if status in GONE:
        title, message = GONE[status]
        return page._refused(410, title, message, branding)
    return page._html(
        200,
        "verification.html",
        branding,
        verification_id=verification.id,
        title=TITLES.get(verification.type, "Verify it's you"),
        test_mode=verification.environment == "test",
        verification_status=status,
        is_open=status == "pending",
        completed=status == "verified",
        assets=[await _asset(session, runtime, verification, status, branding)],
    )


@router.get("/verify/v/{verification_id}/events", response_model=None)
async def verification_events(
    verification_id: str, session: Session, runtime: RuntimeDep
) -> StreamingResponse | HTMLResponse:
    """The verification's status as it changes (``verify_page.live_stream``)."""
    verification = await _load(session, verification_id)
    if verification is None:
        return page._not_found()

    async def read() -> tuple[str, float]:
        async with runtime.db.session() as fresh:
            found = await _load(fresh, verification_id)
            assert found is not None
            left = (found.challenge_expires_at - utcnow()).total_seconds()
            return _status(found), left

    return page.live_stream(runtime, verification.project_id, "verification", verification_id, read)
