"""Request bodies of ``/api/v1/me/profiles`` and the renderers of a profile — the owner's view
(every field) and the public one (only what the owner chose to publish).

Shapes follow proof.holdings' SDK 1.2.0 (``CreateProfileRequest``, ``UpdateProfileRequest``,
``ProfileTheme``, ``CustomLink``, ``ProfileProofEntry``, ``PublicProfile``). Everything a caller
writes here is later shown to strangers, so it is checked tightly on the way in: colours only as
``#rrggbb`` (they end up in a stylesheet), links only as ``https:`` URLs (no
``javascript:``), avatars as ``https:`` URLs or ``data:`` URIs of a raster image whose bytes match
the declared type, usernames from a small alphabet with the words vouch's own URLs use refused.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from vouch_server.kit.clock import isoformat_ms
from vouch_server.models.profiles import Profile

MAX_PROFILES = 20
MAX_LINKS = 20
MAX_PROOFS = 50
COLOR = r"^#[0-9a-fA-F]{6}$"
USERNAME = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{1,28})[a-z0-9]$")
# Words that name vouch's own pages, or that a visitor would read as the operator speaking.
RESERVED_USERNAMES = frozenset(
    {
        "about", "account", "accounts", "admin", "administrator", "api", "app", "approve",
        "auth", "badge", "billing", "dashboard", "docs", "help", "home", "hostmaster", "info",
        "login", "logout", "mail", "mcp", "me", "null", "official", "operator", "p", "postmaster",
        "profile", "profiles", "proof", "proofs", "root", "security", "settings", "signin",
        "signup", "static", "status", "support", "system", "team", "test", "u", "undefined",
        "verify", "vouch", "webmaster", "well-known", "www",
    }
)  # fmt: skip


def username_problem(value: str) -> str | None:
    """Why ``value`` cannot be a username, or None when it can (it must already be lowercased)."""
    if not USERNAME.fullmatch(value):
        return (
            "3 to 30 characters: lowercase letters, digits, '-' and '_', starting and ending "
            "with a letter or digit"
        )
    if value in RESERVED_USERNAMES or value.startswith(("vouch", "admin")):
        return "This username is reserved"
    if "--" in value or "__" in value:
        return "No repeated '-' or '_'"
    return None


def _username(value: str) -> str:
    value = value.strip().lower()
    problem = username_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _https_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("must be an https:// URL")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not contain credentials")
    if any(c.isspace() or ord(c) < 0x20 for c in value):
        raise ValueError("must not contain spaces or control characters")
    return value


# Raster types only: an SVG can carry script, and the avatar route serves these bytes as they are.
AVATAR_TYPES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}
MAX_AVATAR_CHARS = 2048  # the stored column's width; larger images are hosted over https
_DATA_URI = re.compile(r"^data:(image/[a-z]+);base64,([A-Za-z0-9+/]+={0,2})$")


def decode_avatar(value: str) -> tuple[str, bytes] | None:
    """``(content_type, bytes)`` of a ``data:image/…;base64,`` avatar whose bytes really are the
    declared raster type, or None when ``value`` is not one."""
    match = _DATA_URI.fullmatch(value)
    if match is None or match.group(1) not in AVATAR_TYPES:
        return None
    try:
        data = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        return None
    content_type = match.group(1)
    if not data.startswith(AVATAR_TYPES[content_type]):
        return None
    if content_type == "image/webp" and data[8:12] != b"WEBP":
        return None
    return content_type, data


def _avatar(value: str) -> str:
    if value.startswith("data:"):
        if decode_avatar(value) is None:
            raise ValueError(
                "a data URI avatar must be data:image/(png|jpeg|gif|webp);base64,<the image>"
            )
        return value
    return _https_url(value)


def _text(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


Username = Annotated[str, Field(min_length=3, max_length=30), AfterValidator(_username)]
HttpsUrl = Annotated[str, Field(min_length=9, max_length=2048), AfterValidator(_https_url)]
AvatarUrl = Annotated[
    str, Field(min_length=9, max_length=MAX_AVATAR_CHARS), AfterValidator(_avatar)
]
Color = Annotated[str, Field(pattern=COLOR)]
Email = Annotated[str, Field(max_length=320, pattern=r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProfileTheme(_Body):
    primary_color: Color | None = None
    background_type: Literal["solid", "gradient"] | None = None
    background_color: Color | None = None
    gradient_start: Color | None = None
    gradient_end: Color | None = None
    font_style: Literal["default", "modern", "classic"] | None = None


class CustomLink(_Body):
    title: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_text)]
    url: HttpsUrl
    icon: str | None = Field(default=None, max_length=40, pattern=r"^[a-z0-9-]+$")
    is_visible: bool = True
    display_order: int = Field(default=0, ge=0, le=1000)


class ProfileProofEntry(_Body):
    # The verification (asset) to show: one of this project's, in this environment.
    asset_id: str = Field(pattern=r"^[0-9a-f]{24}$")
    is_visible: bool = True
    mask_level: Literal["full", "partial", "hidden"] = "partial"
    display_order: int = Field(default=0, ge=0, le=1000)
    label: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_text)] | None = None


class _ProfileFields(_Body):
    display_name: (
        Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_text)] | None
    ) = None
    bio: str | None = Field(default=None, max_length=500)
    avatar_url: AvatarUrl | None = None
    business_name: (
        Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_text)] | None
    ) = None
    is_business: bool | None = None
    is_public: bool | None = None
    is_primary: bool | None = None
    username: Username | None = None
    show_verification_dates: bool | None = None
    show_proof_channels: bool | None = None
    show_delegations: bool | None = None
    theme: ProfileTheme | None = None
    custom_links: list[CustomLink] | None = Field(default=None, max_length=MAX_LINKS)
    proofs: list[ProfileProofEntry] | None = Field(default=None, max_length=MAX_PROOFS)
    email_theme: Literal["dark", "light"] | None = None
    support_email: Email | None = None


class CreateProfile(_ProfileFields):
    pass


class UpdateProfile(_ProfileFields):
    """Only the fields sent change; ``null`` clears a clearable one (avatar, bio, username…)."""


class UpdateProfileProofs(_Body):
    proofs: list[ProfileProofEntry] = Field(max_length=MAX_PROOFS)


class ClaimUsername(_Body):
    username: Username


def _theme(profile: Profile) -> dict[str, Any]:
    return {k: v for k, v in (profile.theme or {}).items() if v is not None}


def _links(profile: Profile, *, visible_only: bool) -> list[dict[str, Any]]:
    links = [
        link
        for link in profile.custom_links or []
        if link.get("is_visible", True) or not visible_only
    ]
    return sorted(links, key=lambda link: int(link.get("display_order", 0)))


def public_path(profile: Profile) -> str:
    return f"/@{profile.username}" if profile.username else f"/p/{profile.profile_id}"


def render_profile(profile: Profile, public_url: str) -> dict[str, Any]:
    """The owner's view (``/api/v1/me/profiles``): every field, with the public handle and URL."""
    body: dict[str, Any] = {
        "id": profile.id,
        "profile_id": profile.profile_id,
        "environment": profile.environment,
        "test_mode": profile.environment == "test",
        "display_name": profile.display_name,
        "bio": profile.bio,
        "avatar_url": profile.avatar_url,
        "business_name": profile.business_name,
        "is_business": profile.is_business,
        "is_public": profile.is_public,
        "is_primary": profile.is_primary,
        "username": profile.username,
        "show_verification_dates": profile.show_verification_dates,
        "show_proof_channels": profile.show_proof_channels,
        "show_delegations": profile.show_delegations,
        "theme": _theme(profile),
        "custom_links": _links(profile, visible_only=False),
        "proofs": list(profile.proofs or []),
        "email_theme": profile.email_theme,
        "support_email": profile.support_email,
        "public_url": public_url.rstrip("/") + public_path(profile),
        "created_at": isoformat_ms(profile.created_at),
        "updated_at": isoformat_ms(profile.updated_at),
    }
    # Fields the SDK declares as optional strings (not nullable) are left out when unset.
    for name in ("display_name", "bio", "avatar_url", "business_name", "username"):
        if body[name] is None:
            del body[name]
    return body


def render_public(
    profile: Profile, proofs: list[dict[str, Any]], public_url: str
) -> dict[str, Any]:
    """The public view: only what the owner published, proofs already filtered and masked.
    Unset optional fields are left out rather than sent as null (the SDK's ``NotRequired``)."""
    body: dict[str, Any] = {
        "id": profile.id,
        "profile_id": profile.profile_id,
        "is_public": True,
        "is_primary": profile.is_primary,
        "is_business": profile.is_business,
        "test_mode": profile.environment == "test",
        "environment": profile.environment,
        "theme": _theme(profile),
        "custom_links": [
            {k: v for k, v in link.items() if k != "is_visible"}
            for link in _links(profile, visible_only=True)
        ],
        "proofs": proofs,
        "verified_count": len(proofs),
        "show_delegations": False,
        "public_url": public_url.rstrip("/") + public_path(profile),
        "created_at": isoformat_ms(profile.created_at),
        "updated_at": isoformat_ms(profile.updated_at),
    }
    for name in ("display_name", "bio", "avatar_url", "username", "email_theme", "support_email"):
        value = getattr(profile, name)
        if value is not None:
            body[name] = value
    if profile.is_business and profile.business_name:
        body["business_name"] = profile.business_name
    return body
