"""MCP tools for public profiles (``/api/v1/me/profiles``) and their public reads
(``/api/v1/profiles/...``, marked ``public``: they need no key). Names follow proof.holdings'
MCP server where it has the same operation (``list_profiles``, ``set_primary_profile``,
``update_profile_proofs``, ``get_profile_assets``, ``claim_username``)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from vouch_server.mcp.models import Page, Result
from vouch_server.mcp.tools import _drop_none, call, seg, tool

ProfileId = Annotated[
    str, Field(min_length=1, max_length=64, description="The profile's id (or public profile_id).")
]
PublicProfileId = Annotated[
    str,
    Field(
        min_length=1, max_length=24, description="The public `profile_id` (not the internal id)."
    ),
]
Username = Annotated[str, Field(min_length=1, max_length=64, description="A username, without @.")]
Theme = Annotated[
    dict[str, Any] | None,
    Field(
        description="{primary_color: '#rrggbb', background_type: solid|gradient, "
        "background_color, gradient_start, gradient_end, font_style: default|modern|classic}"
    ),
]
Links = Annotated[
    list[dict[str, Any]] | None,
    Field(description="Up to 20 links: {title, url (https), icon?, is_visible?, display_order?}."),
]
ProofEntries = Annotated[
    list[dict[str, Any]] | None,
    Field(
        description="Up to 50 entries: {asset_id (a verified verification's id), is_visible?, "
        "mask_level: full|partial|hidden (default partial), display_order?, label?}."
    ),
]
BASE = "/api/v1/me/profiles"


def _fields(**values: Any) -> dict[str, Any]:
    return _drop_none(**values)


@tool("profiles", read_only=True, routes=(f"GET {BASE}",))
async def list_profiles(ctx: Context) -> Page:
    """List this project's profiles in the key's environment (test or live), each with its
    public `profile_id`, `username`, `is_primary` and `public_url`."""
    return Page.model_validate(await call(ctx, "GET", BASE))


@tool("profiles", routes=(f"POST {BASE}",))
async def create_profile(
    ctx: Context,
    display_name: Annotated[str | None, Field(description="Shown name (≤100).")] = None,
    bio: Annotated[str | None, Field(description="Short text (≤500).")] = None,
    avatar_url: Annotated[str | None, Field(description="https:// image URL.")] = None,
    business_name: Annotated[str | None, Field(description="Business name (≤200).")] = None,
    is_business: bool | None = None,
    is_public: Annotated[bool | None, Field(description="Served publicly (default true).")] = None,
    is_primary: Annotated[
        bool | None, Field(description="Make it the primary profile (branding).")
    ] = None,
    username: Annotated[
        str | None, Field(description="3-30 of a-z 0-9 - _; gives the page /@username.")
    ] = None,
    theme: Theme = None,
    custom_links: Links = None,
    proofs: ProofEntries = None,
) -> Result:
    """Create a public profile. The first profile becomes primary: its name, avatar and colour
    brand the project's hosted pages. Choose which verified assets it shows with `proofs` (or
    later `update_profile_proofs`); nothing is shown unless chosen."""
    body = _fields(
        display_name=display_name,
        bio=bio,
        avatar_url=avatar_url,
        business_name=business_name,
        is_business=is_business,
        is_public=is_public,
        is_primary=is_primary,
        username=username,
        theme=theme,
        custom_links=custom_links,
        proofs=proofs,
    )
    return Result.model_validate(await call(ctx, "POST", BASE, body=body))


@tool("profiles", read_only=True, routes=(f"GET {BASE}/{{profile_id}}",))
async def get_profile(ctx: Context, profile_id: ProfileId) -> Result:
    """Read one of this project's profiles (every field, the owner's view)."""
    return Result.model_validate(await call(ctx, "GET", f"{BASE}/{seg(profile_id)}"))


@tool("profiles", idempotent=True, routes=(f"PATCH {BASE}/{{profile_id}}",))
async def update_profile(
    ctx: Context,
    profile_id: ProfileId,
    changes: Annotated[
        dict[str, Any],
        Field(
            description="Fields to change: display_name, bio, avatar_url, business_name, "
            "is_business, is_public, is_primary, username (null releases it), "
            "show_verification_dates, show_proof_channels, theme (merged), custom_links, proofs, "
            "email_theme, support_email."
        ),
    ],
) -> Result:
    """Change a profile; only the fields given change."""
    return Result.model_validate(
        await call(ctx, "PATCH", f"{BASE}/{seg(profile_id)}", body=changes)
    )


@tool("profiles", destructive=True, routes=(f"DELETE {BASE}/{{profile_id}}",))
async def delete_profile(ctx: Context, profile_id: ProfileId) -> Result:
    """Delete a profile and its public pages. Its assets and proofs stay valid; when it was the
    primary one, the oldest remaining profile becomes primary."""
    return Result.model_validate(await call(ctx, "DELETE", f"{BASE}/{seg(profile_id)}"))


@tool("profiles", idempotent=True, routes=(f"POST {BASE}/{{profile_id}}/primary",))
async def set_primary_profile(ctx: Context, profile_id: ProfileId) -> Result:
    """Make this profile the primary one (one per project and environment)."""
    return Result.model_validate(await call(ctx, "POST", f"{BASE}/{seg(profile_id)}/primary"))


@tool("profiles", idempotent=True, routes=(f"PUT {BASE}/{{profile_id}}/proofs",))
async def update_profile_proofs(
    ctx: Context,
    profile_id: ProfileId,
    proofs: Annotated[
        list[dict[str, Any]],
        Field(
            description="The whole list: {asset_id, is_visible?, mask_level: full|partial|hidden, "
            "display_order?, label?}; [] shows nothing."
        ),
    ],
) -> Result:
    """Choose which verified assets the profile shows and how their identifiers are masked
    (`full` shows it, `partial` masks it, `hidden` shows only the type). Revoked or expired
    proofs drop off the public page by themselves. Use `get_profile_assets` to find ids."""
    return Result.model_validate(
        await call(ctx, "PUT", f"{BASE}/{seg(profile_id)}/proofs", body={"proofs": proofs})
    )


@tool("profiles", idempotent=True, routes=(f"POST {BASE}/{{profile_id}}/username",))
async def claim_username(ctx: Context, profile_id: ProfileId, username: Username) -> Result:
    """Give the profile a username (its page becomes /@username). Taken or reserved names are
    refused; check first with `check_username`."""
    return Result.model_validate(
        await call(ctx, "POST", f"{BASE}/{seg(profile_id)}/username", body={"username": username})
    )


@tool("profiles", read_only=True, routes=(f"GET {BASE}/{{profile_id}}/assets",))
async def get_profile_assets(ctx: Context, profile_id: ProfileId) -> Page:
    """The project's active verified assets that the profile could show, each with `is_public`
    (whether this profile shows it now)."""
    return Page.model_validate(await call(ctx, "GET", f"{BASE}/{seg(profile_id)}/assets"))


@tool(
    "public-profiles", public=True, read_only=True, routes=("GET /api/v1/profiles/p/{profile_id}",)
)
async def get_public_profile(ctx: Context, profile_id: PublicProfileId) -> Result:
    """A public profile as anyone sees it (no key): name, bio, links and the proofs it shows,
    identifiers masked as chosen. `test_mode: true` means test data, never real identity."""
    return Result.model_validate(await call(ctx, "GET", f"/api/v1/profiles/p/{seg(profile_id)}"))


@tool("public-profiles", public=True, read_only=True, routes=("GET /api/v1/profiles/u/{username}",))
async def get_public_profile_by_username(ctx: Context, username: Username) -> Result:
    """A public profile by username (no key); same shape as `get_public_profile`."""
    return Result.model_validate(await call(ctx, "GET", f"/api/v1/profiles/u/{seg(username)}"))


@tool(
    "public-profiles",
    public=True,
    read_only=True,
    routes=("GET /api/v1/profiles/badge/{username}",),
)
async def get_profile_badge(ctx: Context, username: Username) -> Result:
    """The embeddable badge for a username (no key): verified count, badge image URLs and
    ready-to-paste Markdown/HTML snippets; `state: no_public_record` when nothing is public."""
    return Result.model_validate(await call(ctx, "GET", f"/api/v1/profiles/badge/{seg(username)}"))


@tool(
    "public-profiles",
    public=True,
    read_only=True,
    routes=("GET /api/v1/profiles/check-username/{username}",),
)
async def check_username(ctx: Context, username: Username) -> Result:
    """Whether a username can be claimed: `available`, and `reason` when it cannot."""
    return Result.model_validate(
        await call(ctx, "GET", f"/api/v1/profiles/check-username/{seg(username)}")
    )
