"""Hosted pages for people: ``/approve/{token}`` — approve or deny an approval request (with a
comment), or answer an email consent request.

Server-rendered HTML (Jinja2, autoescaped) in the look every hosted page shares
(``templates/base.html``, ``/static/hosted.css`` and the project's branding; see
``vouch_server.web.hosted``), under the same strict Content Security Policy: no script at all,
styles only from this origin, forms posting only back here, no framing, no referrer (the token is
in the URL). ``GET`` never decides anything, so a mail scanner that follows links changes
nothing; ``POST`` uses the link up (single use) and records the decision — first response wins
across every channel. The token is HMAC-signed and expires with the request
(``vouch_server.approval.links``). Every answer, errors included, is HTML; a link that cannot be
used says so in vouch's own look, since the project behind it is not known.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from vouch_server.approval import links
from vouch_server.approval import service as approvals
from vouch_server.approval.schemas import MAX_COMMENT
from vouch_server.consent import service as consent
from vouch_server.deps import RuntimeDep, Session, client_ip
from vouch_server.kit.clock import isoformat_ms
from vouch_server.models.delegation import ApprovalLink
from vouch_server.runtime import Runtime
from vouch_server.web import hosted
from vouch_server.web.branding import Branding, load_branding

router = APIRouter(prefix="/approve", include_in_schema=False)

# The approval page's headers (it has no script and no image but the project's logo).
HEADERS = hosted.headers(Branding())
CSP = HEADERS["Content-Security-Policy"]
STATUS_FOR = {"invalid_link": 404, "link_expired": 410, "link_used": 409}


def _environment() -> Environment:
    return hosted.environment()


def _page(status: int = 200, branding: Branding | None = None, **values: Any) -> HTMLResponse:
    values.setdefault("max_comment", MAX_COMMENT)
    return hosted.render("approve.html", status, branding or Branding(), **values)


def _refused(error: links.LinkRefused) -> HTMLResponse:
    return _page(
        STATUS_FOR.get(error.code, 400),
        title="This link cannot be used",
        notice=error.message,
        notice_kind="bad",
    )


async def _limited(request: Request, runtime: Runtime) -> HTMLResponse | None:
    state = await runtime.limiter.hit(
        runtime.settings.approval_page_rate_limit, "approve-page", client_ip(request)
    )
    if state.allowed:
        return None
    page = _page(429, title="Too many requests", notice="Please wait a minute.", notice_kind="bad")
    page.headers["Retry-After"] = str(state.retry_after)
    return page


async def _form_fields(request: Request) -> dict[str, str]:
    raw = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items() if v}


@router.get("/{token}")
async def approval_page(
    token: str, request: Request, session: Session, runtime: RuntimeDep
) -> HTMLResponse:
    limited = await _limited(request, runtime)
    if limited is not None:
        return limited
    try:
        link = await links.open_link(session, runtime, token)
        if link.kind == "consent":
            return await _consent_page(session, runtime, link, token)
        return await _confirmation_page(
            session, runtime, link, token, request.query_params.get("action")
        )
    except links.LinkRefused as error:
        return _refused(error)


async def _confirmation_page(
    session: Session, runtime: Runtime, link: ApprovalLink, token: str, preselect: str | None
) -> HTMLResponse:
    c = await approvals.for_link(session, runtime, link)
    name = await approvals.config_name(session, c)
    b = await load_branding(session, c.project_id)
    if c.status != "pending":
        return _page(
            409,
            branding=b,
            title=f"Approval request: {name}",
            request_text=c.message,
            notice=approvals.already_text(c),
            notice_kind="bad",
        )
    return _page(
        branding=b,
        title=f"Approval request: {name}",
        subtitle="Approve or deny this request. You may add a comment.",
        request_text=c.message,
        form="confirmation",
        action_url=f"/approve/{token}",
        preselect=preselect if preselect in ("approve", "deny") else None,
        expires_at=isoformat_ms(c.expires_at),
    )


async def _consent_page(
    session: Session, runtime: Runtime, link: ApprovalLink, token: str
) -> HTMLResponse:
    a = await consent.get_unscoped(session, link.subject_id)
    if a is None:
        raise links.LinkRefused("invalid_link", "This link is not valid.")
    a = await consent.expire_if_due(session, runtime, a)
    b = await load_branding(session, a.project_id)
    title = f"Allow {a.business_name} to send you approval requests?"
    if a.status != "pending":
        return _page(
            409, branding=b, title=title, notice=f"This request is {a.status}.", notice_kind="bad"
        )
    return _page(
        branding=b,
        title=title,
        subtitle=f"{a.business_name} would like to ask you to approve actions by email.",
        form="consent",
        action_url=f"/approve/{token}",
        expires_at=isoformat_ms(a.expires_at),
    )


@router.post("/{token}")
async def approval_answer(
    token: str, request: Request, session: Session, runtime: RuntimeDep
) -> HTMLResponse:
    limited = await _limited(request, runtime)
    if limited is not None:
        return limited
    fields = await _form_fields(request)
    action = fields.get("action", "")
    comment = fields.get("comment", "").strip()
    try:
        link = await links.open_link(session, runtime, token)
        if link.kind == "consent":
            return await _consent_answer(session, runtime, link, action)
        return await _confirmation_answer(session, runtime, link, action, comment)
    except links.LinkRefused as error:
        return _refused(error)


async def _confirmation_answer(
    session: Session, runtime: Runtime, link: ApprovalLink, action: str, comment: str
) -> HTMLResponse:
    c = await approvals.for_link(session, runtime, link)
    name = await approvals.config_name(session, c)
    b = await load_branding(session, c.project_id)
    title = f"Approval request: {name}"
    if action not in ("approve", "deny"):
        return _page(
            400, branding=b, title=title, notice="Choose Approve or Deny.", notice_kind="bad"
        )
    if len(comment) > MAX_COMMENT:
        return _page(
            400,
            branding=b,
            title=title,
            notice=f"The comment is longer than {MAX_COMMENT} characters.",
            notice_kind="bad",
        )
    if c.status != "pending":
        return _page(
            409,
            branding=b,
            title=title,
            request_text=c.message,
            notice=approvals.already_text(c),
            notice_kind="bad",
        )
    await links.consume(session, link)
    if link.kind == "email" and link.recipient:
        channel, actor = "email", approvals.actor_hash("email", link.recipient)
    else:
        channel, actor = "web", approvals.actor_hash("web", link.id)
    won = await approvals.decide(
        session, runtime, c, action=action, text=comment or None, channel=channel, actor=actor
    )
    if not won:
        return _page(
            409,
            branding=b,
            title=title,
            request_text=c.message,
            notice=approvals.already_text(c),
            notice_kind="bad",
        )
    done = "Approved. Thank you." if action == "approve" else "Denied. Thank you."
    return _page(branding=b, title=title, request_text=c.message, notice=done, notice_kind="ok")


async def _consent_answer(
    session: Session, runtime: Runtime, link: ApprovalLink, action: str
) -> HTMLResponse:
    a = await consent.get_unscoped(session, link.subject_id)
    if a is None:
        raise links.LinkRefused("invalid_link", "This link is not valid.")
    a = await consent.expire_if_due(session, runtime, a)
    b = await load_branding(session, a.project_id)
    title = f"Allow {a.business_name} to send you approval requests?"
    if action not in ("allow", "deny"):
        return _page(
            400, branding=b, title=title, notice="Choose Allow or Deny.", notice_kind="bad"
        )
    if a.status != "pending":
        return _page(
            409, branding=b, title=title, notice=f"This request is {a.status}.", notice_kind="bad"
        )
    await links.consume(session, link)
    actor = consent.actor_hash("email", link.recipient or a.recipient)
    if not await consent.decide(session, runtime, a, allow=action == "allow", actor=actor):
        return _page(
            409, branding=b, title=title, notice=f"This request is {a.status}.", notice_kind="bad"
        )
    notice = (
        f"Thank you. {a.business_name} may now send you approval requests."
        if action == "allow"
        else f"Thank you. {a.business_name} will not send you approval requests."
    )
    return _page(branding=b, title=title, notice=notice, notice_kind="ok")
