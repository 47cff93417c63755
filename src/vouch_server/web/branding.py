"""The look a project gives the pages vouch hosts for it (verify, approve, email link, OAuth
callback) and the messages it sends: a display name, optionally a logo and an accent colour.

``load_branding`` is the one place that decides it. Without a profile it is the project's name on
vouch's default colour; the primary profile (``vouch_server.profiles``), when the project has one,
supplies name (the business name of a business profile), avatar (the logo) and
``theme.primary_color``.

Every value is the project's own choice, so none is trusted where it is shown:

- the name is text, escaped by Jinja2's autoescape wherever it appears;
- the colour is kept only if it is exactly ``#rrggbb`` (anything else is the default), and it
  reaches the page only as the path of a stylesheet (``/static/brand/<rrggbb>.css``, see
  ``vouch_server.web.hosted``), never inside the HTML;
- the logo is kept only if it is an ``https:`` URL whose origin can be written as a CSP source
  (host of letters, digits, dots and hyphens, an optional port, no credentials); that origin,
  and nothing wider, is what the page's ``img-src`` allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.models.project import Project

DEFAULT_NAME = "vouch"
DEFAULT_COLOR = "#1f6feb"
DARK_TEXT = "#111827"
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*")


def logo_origin(url: str | None) -> str | None:
    """``https://host[:port]`` of a logo URL, or None if it is not one a CSP may name."""
    if not url or not url.startswith("https://") or any(c in url for c in " \t\r\n;,'\"<>\\"):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme != "https" or parts.username or parts.password or not _HOST.fullmatch(host):
        return None
    return f"https://{host}" + (f":{port}" if port not in (None, 443) else "")


def _luminance(color: str) -> float:
    """Relative luminance of an sRGB colour (WCAG 2.2, "relative luminance")."""
    channels = []
    for i in (1, 3, 5):
        c = int(color[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@dataclass(frozen=True)
class Branding:
    name: str = DEFAULT_NAME
    logo_url: str | None = None  # https: only; shown with referrerpolicy=no-referrer
    color: str = DEFAULT_COLOR

    @staticmethod
    def safe_color(value: str | None) -> str:
        return value if value is not None and _COLOR.fullmatch(value) else DEFAULT_COLOR

    @property
    def hex(self) -> str:
        """The accent colour as six lowercase hex digits (the brand stylesheet's name)."""
        return Branding.safe_color(self.color)[1:].lower()

    @property
    def logo(self) -> str | None:
        """The logo URL if its origin can be allowed by the page's CSP, else None."""
        return self.logo_url if logo_origin(self.logo_url) else None

    @property
    def logo_origin(self) -> str | None:
        return logo_origin(self.logo_url)

    @staticmethod
    def text_on(color: str) -> str:
        """White or near-black, whichever contrasts more with ``color`` (WCAG contrast ratio)."""
        lum = _luminance(Branding.safe_color(color))
        dark = _luminance(DARK_TEXT)
        return "#ffffff" if 1.05 / (lum + 0.05) >= (lum + 0.05) / (dark + 0.05) else DARK_TEXT


async def load_branding(session: AsyncSession, project_id: str | None) -> Branding:
    if project_id is None:
        return Branding()
    # Imported here: the profiles package renders pages of its own and imports from web.
    from vouch_server.profiles.service import primary_for_branding

    name = await session.scalar(select(Project.name).where(Project.id == project_id))
    profile = await primary_for_branding(session, project_id)
    if profile is None:
        return Branding(name=name or DEFAULT_NAME)
    shown = (
        profile.business_name if profile.is_business and profile.business_name else None
    ) or profile.display_name
    logo = profile.avatar_url if logo_origin(profile.avatar_url) else None
    color = (profile.theme or {}).get("primary_color")
    return Branding(
        name=shown or name or DEFAULT_NAME,
        logo_url=logo,
        color=Branding.safe_color(color if isinstance(color, str) else None),
    )
