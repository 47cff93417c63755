"""The look a project gives the pages vouch hosts for it (verify, approve, email link, OAuth
callback) and the messages it sends: a display name, optionally a logo and an accent colour.

``load_branding`` is the one place that decides it. Today it is the project's name; the primary
profile (``vouch_server.profiles``), when the project has one, supplies name, avatar and colour.
Every value is the project's own choice and is escaped where it is shown (Jinja2 autoescape);
the colour is accepted only as ``#rrggbb`` so it can sit in a style attribute under the pages'
CSP without opening it to injection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.models.project import Project

DEFAULT_NAME = "vouch"
DEFAULT_COLOR = "#1f6feb"
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class Branding:
    name: str = DEFAULT_NAME
    logo_url: str | None = None  # https: only; shown with referrerpolicy=no-referrer
    color: str = DEFAULT_COLOR

    @staticmethod
    def safe_color(value: str | None) -> str:
        return value if value is not None and _COLOR.fullmatch(value) else DEFAULT_COLOR


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
    logo = profile.avatar_url if (profile.avatar_url or "").startswith("https://") else None
    color = (profile.theme or {}).get("primary_color")
    return Branding(
        name=shown or name or DEFAULT_NAME,
        logo_url=logo,
        color=Branding.safe_color(color if isinstance(color, str) else None),
    )
