"""The public profile pages ``/p/{profile_id}`` and ``/@{username}``, the theme stylesheet they
load, and the embeddable badge ``/badge/{username}`` (SVG).

Pages are server-rendered (Jinja2, autoescaped) under a strict Content Security Policy: no script
at all, styles only from this origin (``/static/hosted.css``, ``/static/profile.css`` and the
profile's own ``/p/{profile_id}/theme.css``, whose colours were accepted only as ``#rrggbb``), the
avatar as an ``https:`` image sent without a referrer (or a ``data:`` raster image), no framing. A test-mode profile says so in
a banner, its title and its badge, and is never indexed, so it cannot pass for a live one.
What is shown is decided by :func:`vouch_server.profiles.service.visible_proofs` at each request.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from vouch_server.deps import RuntimeDep, Session, client_ip
from vouch_server.models.profiles import Profile
from vouch_server.profiles import service
from vouch_server.runtime import Runtime

router = APIRouter(include_in_schema=False)

TEMPLATES = Path(__file__).parents[1] / "web" / "templates"
CSP = (
    "default-src 'none'; style-src 'self'; img-src https: data:; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
TYPE_LABELS = {
    "phone": "Phone number",
    "email": "Email address",
    "domain": "Domain",
    "social": "Account",
    "wallet": "Wallet",
    "account": "Account",
    "telegram_bot": "Telegram bot",
}


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


async def _limited(request: Request, runtime: Runtime) -> bool:
    state = await runtime.limiter.hit(
        runtime.settings.rate_limit_public, "profile-page", client_ip(request)
    )
    return not state.allowed


def _html(status: int, test_mode: bool, **values: Any) -> HTMLResponse:
    headers = dict(HEADERS)
    if test_mode or status != 200:
        headers["X-Robots-Tag"] = "noindex, nofollow"
    html = _environment().get_template("profile.html").render(test_mode=test_mode, **values)
    return HTMLResponse(html, status_code=status, headers=headers)


def _missing(status: int = 404) -> HTMLResponse:
    text = "Too many requests — please wait a minute." if status == 429 else "No such profile."
    return _html(status, False, title="Profile not found", missing=text)


async def _page(session: Session, profile: Profile | None) -> HTMLResponse:
    if profile is None:
        return _missing()
    test_mode = profile.environment == "test"
    proofs = await service.visible_proofs(session, profile)
    for proof in proofs:
        proof["type_label"] = TYPE_LABELS.get(proof["type"], proof["type"].title())
    name = (
        profile.business_name
        if profile.is_business and profile.business_name
        else profile.display_name or profile.username or "Profile"
    )
    links = sorted(
        (link for link in profile.custom_links or [] if link.get("is_visible", True)),
        key=lambda link: int(link.get("display_order", 0)),
    )
    return _html(
        200,
        test_mode,
        title=f"[TEST] {name}" if test_mode else name,
        name=name,
        profile=profile,
        proofs=proofs,
        links=links,
        font=(profile.theme or {}).get("font_style") or "default",
        theme_css=f"/p/{profile.profile_id}/theme.css",
    )


@router.get("/p/{profile_id}")
async def profile_page(
    profile_id: str, request: Request, session: Session, runtime: RuntimeDep
) -> HTMLResponse:
    if await _limited(request, runtime):
        return _missing(429)
    return await _page(session, await service.public_by_profile_id(session, profile_id))


@router.get("/@{username}")
async def username_page(
    username: str, request: Request, session: Session, runtime: RuntimeDep
) -> HTMLResponse:
    if await _limited(request, runtime):
        return _missing(429)
    return await _page(session, await service.public_by_username(session, username))


def _color(value: Any, default: str) -> str:
    return value if isinstance(value, str) and _COLOR.fullmatch(value) else default


@router.get("/p/{profile_id}/theme.css")
async def theme_stylesheet(profile_id: str, session: Session) -> Response:
    """The profile's colours as CSS custom properties (read by ``/static/profile.css``)."""
    profile = await service.public_by_profile_id(session, profile_id)
    theme = (profile.theme or {}) if profile is not None else {}
    accent = _color(theme.get("primary_color"), "#4b6bfb")
    background = _color(theme.get("background_color"), "#f6f7f9")
    if theme.get("background_type") == "gradient":
        start = _color(theme.get("gradient_start"), background)
        end = _color(theme.get("gradient_end"), background)
        fill = f"linear-gradient(135deg,{start},{end})"
    else:
        fill = background
    css = f":root{{--accent:{accent};--page-bg:{fill}}}\n"
    return Response(
        css,
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


def badge_svg(label: str, value: str, color: str, *, square: bool) -> str:
    """A two-part badge; every text is XML-escaped and the widths follow its length."""
    left_w = 10 + 7 * len(label)
    right_w = 10 + 7 * len(value)
    width = left_w + right_w
    radius = 0 if square else 3
    label_x = left_w / 2
    value_x = left_w + right_w / 2
    text = xml_escape(f"{label}: {value}", {'"': "&quot;"})
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
        f'aria-label="{text}"><title>{text}</title>'
        f'<rect width="{width}" height="20" rx="{radius}" fill="#555"/>'
        f'<rect x="{left_w}" width="{right_w}" height="20" rx="{radius}" fill="{color}"/>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" '
        f'font-size="11"><text x="{label_x}" y="14">{xml_escape(label)}</text>'
        f'<text x="{value_x}" y="14">{xml_escape(value)}</text></g></svg>'
    )


@router.get("/badge/{username}")
async def badge_image(
    username: str, request: Request, session: Session, runtime: RuntimeDep
) -> Response:
    if await _limited(request, runtime):
        return Response(status_code=429, headers={"Retry-After": "60"})
    profile = await service.public_by_username(session, username)
    square = request.query_params.get("style") == "flat-square"
    if profile is None:
        svg = badge_svg("vouch", "no public record", "#9f9f9f", square=square)
    elif profile.environment == "test":
        svg = badge_svg("vouch TEST", "not verified", "#9f9f9f", square=square)
    else:
        count = len(await service.visible_proofs(session, profile))
        svg = badge_svg(
            "vouch", f"{count} verified", "#1f9d55" if count else "#9f9f9f", square=square
        )
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "no-cache, max-age=0",
            "X-Content-Type-Options": "nosniff",
        },
    )
