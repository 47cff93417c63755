"""``GET /oauth/callback/{provider}``: where an OAuth provider sends the person's browser back
(RFC 6749 §4.1.2), answered with a small HTML page.

The page is for a person, not a program: it says whether the account was verified and nothing
else. It is served with headers that allow no script, no framing, no referrer (the URL carries the
authorization code) and no caching. The rules — state, token exchange, account comparison,
attempts, the one-time completion — are the verification service's ``submit``, reached with the
verification's own project scope.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from vouch_server.control import repository, service
from vouch_server.control.methods.oauth import (
    MAX_CODE_CHARS,
    MAX_STATE_CHARS,
    PROVIDERS,
    state_matches,
    verification_id_of,
)
from vouch_server.deps import PublicCaller, RuntimeDep
from vouch_server.errors import VouchError
from vouch_server.kit.ids import is_object_id
from vouch_server.tenancy.service import Principal
from vouch_server.web import hosted
from vouch_server.web.branding import Branding, load_branding
from vouch_server.web.hosted import message_page

router = APIRouter(tags=["oauth"])

PAGE_HEADERS: Final = {
    # The hosted pages' one policy (web/hosted.py); a project's logo adds its origin to img-src.
    "Content-Security-Policy": hosted.csp(Branding(), form_action="'none'"),
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}

_INVALID_STATE: Final = (
    "This sign-in link is not valid or no longer belongs to a verification. "
    "Start again from the site that sent you."
)


def page(
    status: int, title: str, message: str, *, ok: bool = False, branding: Branding | None = None
) -> HTMLResponse:
    return message_page(status, title, message, ok=ok, headers=PAGE_HEADERS, branding=branding)


@router.get("/oauth/callback/{provider}", include_in_schema=False)
async def oauth_callback(
    provider: str, request: Request, runtime: RuntimeDep, _public: PublicCaller
) -> HTMLResponse:
    query = request.query_params
    state = query.get("state") or ""
    code = query.get("code") or ""
    error = query.get("error")
    if provider not in PROVIDERS:
        return page(404, "Unknown sign-in provider", "This sign-in address does not exist.")
    label = PROVIDERS[provider].label
    verification_id = verification_id_of(state)
    if len(state) > MAX_STATE_CHARS or not is_object_id(verification_id):
        return page(400, "Sign-in not accepted", _INVALID_STATE)
    branding: Branding | None = None
    try:
        async with runtime.db.session() as session:
            verification = await repository.get_by_id(session, verification_id)
            if (
                verification is None
                or verification.channel != provider
                or verification.type not in ("social", "account")
                or not state_matches(verification, state)
            ):
                return page(400, "Sign-in not accepted", _INVALID_STATE)
            branding = await load_branding(session, verification.project_id)
            if error is not None:
                # RFC 6749 §4.1.2.1: the person declined or the provider failed; nothing changes.
                return page(
                    400,
                    "Sign-in cancelled",
                    f"{label} did not authorize the sign-in ({error[:60]}). "
                    "You can open the link again to retry.",
                    branding=branding,
                )
            if not code or len(code) > MAX_CODE_CHARS:
                return page(
                    400,
                    "Sign-in not accepted",
                    f"{label} sent no authorization code.",
                    branding=branding,
                )
            principal = Principal(
                project_id=verification.project_id,
                environment=verification.environment,
                api_key_id="oauth-callback",
            )
            verified = await service.submit(
                session,
                runtime,
                principal,
                verification.id,
                {"state": state, "authorization_code": code},
            )
            account = verified.identifier
    except VouchError as exc:
        return page(exc.status, "Not verified", exc.message, branding=branding)
    return page(
        200,
        "Account verified",
        f"You proved that you control {account} on {label}. You can close this window.",
        ok=True,
        branding=branding,
    )
