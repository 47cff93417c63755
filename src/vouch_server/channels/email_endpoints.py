"""Email routes: ``POST /inbound/email`` (raw RFC 5322 from providers that forward mail over HTTP)
and the magic link of outbound email codes (channels issue — email part).

``POST /inbound/email`` takes the message itself as the body (any content type; up to 1 MiB) and
is authenticated with ``VOUCH_INBOUND_EMAIL_SECRET``, given as ``Authorization: Bearer <secret>``
or, for providers that only put credentials in the webhook URL, as the password of HTTP Basic
(``https://vouch:<secret>@host/inbound/email``). Compared in constant time; anything else is 401
and nothing is read. A message that proves nothing (unsigned, spoofed, malformed, automatic) is
answered ``200 {"accepted": false, "reason": …}`` — the provider delivered it correctly and must
not retry — and a DKIM key that cannot be fetched now is 503, so the provider retries.

``GET /verify/{id}/email?token=…`` shows a confirm button; only the ``POST`` it submits completes
the verification, so mail scanners that open links do not.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.types import Scope

from vouch_server.channels.base import constant_time_equals
from vouch_server.config import Settings
from vouch_server.control import email_flow
from vouch_server.deps import PublicCaller, RuntimeDep, Session, client_ip
from vouch_server.errors import BadRequest, RateLimited, Unauthorized
from vouch_server.web import person
from vouch_server.web.branding import Branding, load_branding
from vouch_server.web.hosted import message_page

router = APIRouter(include_in_schema=False)

# The page uses the hosted pages' one stylesheet and posts back to itself; nothing else loads.
_PAGE_CSP = (
    "default-src 'none'; style-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def _presented_secret(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer":
        return value or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def body_gate(settings: Settings, scope: Scope) -> bool:
    """Whether the request head carries the inbound email secret: only then may the body exceed
    the 10 KB every unauthenticated caller is held to (up to 1 MiB, a raw message)."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            return constant_time_equals(
                settings.inbound_email_secret, _presented_secret(value.decode("latin-1"))
            )
    return False


@router.post("/inbound/email")
async def inbound_email(request: Request, session: Session, runtime: RuntimeDep) -> JSONResponse:
    settings = runtime.settings
    given = _presented_secret(request.headers.get("authorization"))
    if not constant_time_equals(settings.inbound_email_secret, given):
        # Guessing the secret is limited per address, like API keys.
        state = await runtime.limiter.hit(
            settings.rate_limit_auth_failures, "authfail", client_ip(request)
        )
        if not state.allowed:
            raise RateLimited(state.retry_after)
        raise Unauthorized("Invalid or missing inbound email secret")
    raw = await request.body()
    if not raw.strip():
        raise BadRequest("The body must be the raw RFC 5322 message", code="invalid_message")
    outcome = await email_flow.receive(session, runtime, raw)
    return JSONResponse(outcome.body())


# -- magic link ------------------------------------------------------------------------------------
_MESSAGES = {
    "ready": ("Confirm your email address", "Press the button to confirm {who} for {business}."),
    "verified": ("Email address confirmed", "{who} is confirmed. You can close this page."),
    "used": ("Link already used", "This verification is already complete."),
    "expired": ("Link expired", "This code has expired. Ask {business} for a new one."),
    "failed": ("Verification failed", "This verification can no longer be completed."),
    "invalid": ("Link not valid", "This link is not valid, or a newer email replaced it."),
}
_STATUS = {"ready": 200, "verified": 200, "used": 410, "expired": 410, "failed": 410}


def _page(
    view: email_flow.LinkView, token: str | None = None, branding: Branding | None = None
) -> HTMLResponse:
    verification = view.verification
    who = verification.identifier if verification is not None else "your address"
    title, text = _MESSAGES[view.state]
    # The sentence with the address marked out: "{who}" is where it goes (autoescaped).
    before, _, after = text.format(who="\0", business=view.business_name).partition("\0")
    return message_page(
        _STATUS.get(view.state, 404),
        title,
        before.rstrip(),
        who=who if "{who}" in text else None,
        after=after,
        ok=view.state == "verified",
        brand_name=view.business_name,
        branding=branding,
        # Relative action: the page posts to itself (/verify/{id}/email), the token in the body.
        token=token if view.state == "ready" else None,
        headers={
            "Content-Security-Policy": _PAGE_CSP,
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


async def _branding(session: Session, view: email_flow.LinkView) -> Branding | None:
    """The project's look (web/branding.py), where the link names a verification."""
    if view.verification is None:
        return None
    return await load_branding(session, view.verification.project_id)


@router.get("/verify/{verification_id}/email")
async def magic_link_page(
    verification_id: str,
    request: Request,
    session: Session,
    runtime: RuntimeDep,
    _public: PublicCaller,
) -> HTMLResponse:
    token = request.query_params.get("token", "")
    view = await email_flow.inspect_link(session, runtime, verification_id, token)
    return _page(view, token, await _branding(session, view))


@router.post("/verify/{verification_id}/email")
async def magic_link_confirm(
    verification_id: str,
    request: Request,
    session: Session,
    runtime: RuntimeDep,
    _public: PublicCaller,
) -> HTMLResponse:
    try:
        form = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=5)
    except ValueError:
        form = {}
    token = (form.get("token") or [""])[0]
    view = await email_flow.confirm_link(session, runtime, verification_id, token)
    page = _page(view, branding=await _branding(session, view))
    if view.state == "verified" and view.verification is not None:
        # This browser proved the mailbox: Smart Reuse may count it as the same person later.
        person.remember(runtime, request, page, [view.verification.id])
    return page
