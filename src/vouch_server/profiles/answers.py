"""What the profile routes answer, as models for the OpenAPI document (``documented()``).

Documentation only: the handlers send the dicts ``schemas.render_profile``/``render_public`` and
``service`` build; these classes describe those dicts exactly (a field the renderer leaves out
when unset is optional here, a field it sends as ``null`` is ``X | None``). schemathesis checks
the two agree (``tests/http/test_schemathesis.py``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class ProfileThemeOut(BaseModel):
    primary_color: str | None = None
    background_type: Literal["solid", "gradient"] | None = None
    background_color: str | None = None
    gradient_start: str | None = None
    gradient_end: str | None = None
    font_style: Literal["default", "modern", "classic"] | None = None


class ProfileLinkOut(BaseModel):
    title: str
    url: str
    icon: str | None = None
    is_visible: bool | None = None  # the owner's view only
    display_order: int


class ProfileProofChoiceOut(BaseModel):
    """One entry of the owner's choice of proofs to show."""

    asset_id: str
    is_visible: bool
    mask_level: Literal["full", "partial", "hidden"]
    display_order: int
    label: str | None = None


class ProfileOut(BaseModel):
    """A profile as its owner sees it (``/api/v1/me/profiles``, ``/api/v1/profiles/me``)."""

    id: str
    profile_id: str
    environment: Literal["test", "live"]
    test_mode: bool
    display_name: str | None = None
    bio: str | None = None
    avatar_url: str | None = None
    business_name: str | None = None
    is_business: bool
    is_public: bool
    is_primary: bool
    username: str | None = None
    show_verification_dates: bool
    show_proof_channels: bool
    show_delegations: bool
    theme: ProfileThemeOut
    custom_links: list[ProfileLinkOut]
    proofs: list[ProfileProofChoiceOut]
    email_theme: Literal["dark", "light"] | None
    support_email: str | None
    public_url: str
    created_at: str
    updated_at: str


class ProfileListOut(BaseModel):
    data: list[ProfileOut]
    total: int


class ProfileDeletedOut(BaseModel):
    success: bool
    deleted: bool
    id: str
    profile_id: str


class ProfileAssetOut(BaseModel):
    """A live asset a profile may show (the SDK's ``ProfileAssetOption``)."""

    id: str
    type: str
    identifier: str
    channel: str
    verified_at: str | None
    is_public: bool


class ProfileAssetsOut(BaseModel):
    data: list[ProfileAssetOut]


class PublicProofOut(BaseModel):
    type: str
    label: str | None
    mask_level: Literal["full", "partial", "hidden"]
    identifier: str | None
    status: Literal["verified"]
    test_mode: bool
    channel: str | None = None
    verified_at: str | None = None
    expires_at: str | None = None


class PublicLinkOut(BaseModel):
    title: str
    url: str
    icon: str | None = None
    display_order: int


class PublicProfileOut(BaseModel):
    """What anyone may read of a public profile: only what its owner published."""

    id: str
    profile_id: str
    is_public: Literal[True]
    is_primary: bool
    is_business: bool
    test_mode: bool
    environment: Literal["test", "live"]
    theme: ProfileThemeOut
    custom_links: list[PublicLinkOut]
    proofs: list[PublicProofOut]
    verified_count: int
    show_delegations: bool
    public_url: str
    created_at: str
    updated_at: str
    display_name: str | None = None
    bio: str | None = None
    avatar_url: str | None = None
    username: str | None = None
    email_theme: Literal["dark", "light"] | None = None
    support_email: str | None = None
    business_name: str | None = None


class BadgeSnippetsOut(BaseModel):
    markdown: str
    html: str


class ProfileBadgeOut(BaseModel):
    username: str
    subject: str
    verified_count: int
    state: Literal["published", "no_public_record"]
    test_mode: bool
    checked_at: str
    profile_url: str
    badge_urls: dict[str, str]
    snippets: BadgeSnippetsOut


class UsernameCheckOut(BaseModel):
    username: str
    available: bool
    reason: str | None = None
