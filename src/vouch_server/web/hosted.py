"""One look for every page vouch hosts for a person: the verify pages (``/verify/{request_id}``,
``/verify/v/{verification_id}``), the approval page (``/approve/{token}``), the email link page
and the OAuth callback page. Each extends ``templates/base.html``, loads ``/static/hosted.css``
and shows the project's branding (``vouch_server.web.branding``): its name, its logo and its
accent colour.

Every page is served under the same Content Security Policy: ``default-src 'none'``, styles and
(where a page has any) scripts only from this origin, no inline style or script at all,
``form-action 'self'``, ``frame-ancestors 'none'``, ``base-uri 'none'``; with ``no-store``,
``noindex`` and no referrer. The only thing that varies is ``img-src``: ``data:`` where the page
draws QR codes, and the one ``https`` origin of the project's logo when it has one — for that
response only, nothing wider.

How the accent colour gets in without ``'unsafe-inline'``: as a stylesheet of its own,
``/static/brand/<rrggbb>.css``, which sets two custom properties (``--accent`` and the text
colour that reads on it) that ``hosted.css`` uses. Named by the colour rather than by the
project, because

- the file follows from its name alone: it can be cached for good (``immutable``), needs no
  database read, and a colour change is a new URL, so no page ever shows a stale accent;
- it tells nothing about the project (a project id in a URL of the page would be one more
  thing the person's browser learns);
- the CSP stays ``style-src 'self'`` on every page, instead of a per-response hash of a
  generated ``<style>`` block that every response would have to recompute and keep in step;
- the only input is six hex digits, checked by the route's pattern: a project's value cannot
  break out of the stylesheet, and the HTML never carries it at all.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from vouch_server.web.branding import Branding

router = APIRouter(include_in_schema=False)

STYLESHEET = "/static/hosted.css"
BASE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}
_BRAND_FILE = re.compile(r"([0-9a-f]{6})\.css")
# How a channel is written for a person: the product's own spelling where plain capitalising
# would get it wrong ("Whatsapp", "Sms", "Linkedin").
CHANNEL_NAMES = {
    "whatsapp": "WhatsApp",
    "sms": "SMS",
    "dns": "DNS",
    "http": "HTTP",
    "github": "GitHub",
    "linkedin": "LinkedIn",
    "youtube": "YouTube",
    "tiktok": "TikTok",
    "x": "X",
    "telegram_bot_token": "Telegram bot token",
    "auto": "Any method",
}


def channel_name(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, channel.capitalize())


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
    )
    env.filters["channel_name"] = channel_name
    return env


def csp(
    branding: Branding,
    *,
    script: bool = False,
    qr: bool = False,
    form_action: str = "'self'",
) -> str:
    """The hosted pages' one policy; ``script`` adds this origin's scripts and event streams (the
    verify pages), ``qr`` the ``data:`` images of QR codes."""
    parts = ["default-src 'none'", "style-src 'self'"]
    if script:
        parts += ["script-src 'self'", "connect-src 'self'"]
    images = [source for source in ("data:" if qr else None, branding.logo_origin) if source]
    if images:
        parts.append("img-src " + " ".join(images))
    parts += [f"form-action {form_action}", "frame-ancestors 'none'", "base-uri 'none'"]
    return "; ".join(parts)


def headers(
    branding: Branding,
    *,
    script: bool = False,
    qr: bool = False,
    form_action: str = "'self'",
) -> dict[str, str]:
    policy = csp(branding, script=script, qr=qr, form_action=form_action)
    return {**BASE_HEADERS, "Content-Security-Policy": policy}


def brand_values(branding: Branding) -> dict[str, Any]:
    """What ``base.html`` reads of the branding."""
    return {
        "brand_name": branding.name,
        "brand_logo": branding.logo,
        "brand_css": f"/static/brand/{branding.hex}.css",
    }


def render(
    template: str,
    status: int,
    branding: Branding,
    *,
    script: bool = False,
    qr: bool = False,
    form_action: str = "'self'",
    extra_headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    html = environment().get_template(template).render(**brand_values(branding), **values)
    sent = {
        **(extra_headers or {}),
        **headers(branding, script=script, qr=qr, form_action=form_action),
    }
    return HTMLResponse(html, status_code=status, headers=sent)


def message_page(
    status: int,
    title: str,
    message: str,
    *,
    headers: dict[str, str],
    ok: bool = False,
    brand_name: str | None = None,
    branding: Branding | None = None,
    **values: Any,
) -> HTMLResponse:
    """A page that only says something (and may carry one confirm button): the email link page
    and the OAuth callback. ``headers`` are the caller's own; the policy is this module's."""
    shown = branding or Branding(name=brand_name or Branding.name)
    return render(
        "message.html",
        status,
        shown,
        form_action="'self'" if values.get("token") else "'none'",
        extra_headers=headers,
        title=title,
        message=message,
        ok=ok,
        **values,
    )


@router.get("/static/brand/{name}")
async def brand_stylesheet(name: str) -> Response:
    """The accent colour of a project's hosted pages, as CSS custom properties."""
    found = _BRAND_FILE.fullmatch(name)
    if found is None:
        return Response("Not found", status_code=404, media_type="text/plain; charset=utf-8")
    color = f"#{found.group(1)}"
    body = f":root{{--accent:{color};--on-accent:{Branding.text_on(color)}}}\n"
    return Response(
        body,
        media_type="text/css; charset=utf-8",
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )
