"""``/api/v1/me/profiles`` (keyed: the caller's own project and environment) and the public
reads under ``/api/v1/profiles`` (no key; what the SDK's ``public_profiles`` calls).

Also under ``/api/v1/profiles``, with a key: the routes proof.holdings' MCP server and SDK reach
with either a dashboard session or an API key (``/profiles/me``, ``/me/assets``,
``/me/username``, ``/me/proofs``, ``/profiles/profiles/{id}/proofs``). vouch has no sessions, so
for a key "me" is the primary profile of the key's project and environment.

The per-profile template routes (``/api/v1/me/profiles/{id}/templates…``) answer ``410
endpoint_retired``, as proof.holdings' SDK 1.2.0 says they do: templates belong to the project
(``/api/v1/templates``, whose ``profile_id`` query names the project)."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from vouch_server.deps import ApiCaller, PublicCaller, RuntimeDep, Session
from vouch_server.errors import NotFound, VouchError
from vouch_server.kit.clock import isoformat_ms, utcnow
from vouch_server.openapi import documented
from vouch_server.profiles import service
from vouch_server.profiles.answers import (
    ProfileAssetsOut,
    ProfileBadgeOut,
    ProfileDeletedOut,
    ProfileListOut,
    ProfileOut,
    PublicProfileOut,
    UsernameCheckOut,
)
from vouch_server.profiles.schemas import (
    AVATAR_TYPES,
    ClaimUsername,
    CreateProfile,
    UpdateProfile,
    UpdateProfileProofs,
    decode_avatar,
    render_profile,
    render_public,
)
from vouch_server.runtime import Runtime

router = APIRouter(prefix="/api/v1/me/profiles", tags=["profiles"])
public_router = APIRouter(prefix="/api/v1/profiles", tags=["public profiles"])
BADGE_STYLES = ("flat", "flat-square")


def _base(runtime: Runtime) -> str:
    return runtime.settings.public_url.rstrip("/")


@router.get("", **documented(ProfileListOut))
async def list_profiles(session: Session, runtime: RuntimeDep, caller: ApiCaller) -> dict[str, Any]:
    rows = await service.list_(session, caller)
    return {"data": [render_profile(p, _base(runtime)) for p in rows], "total": len(rows)}


@router.post("", **documented(ProfileOut, 201))
async def create_profile(
    body: CreateProfile, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    return render_profile(await service.create(session, caller, body), _base(runtime))


@router.get("/{profile_id}", **documented(ProfileOut))
async def get_profile(
    profile_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    return render_profile(await service.get(session, caller, profile_id), _base(runtime))


@router.patch("/{profile_id}", **documented(ProfileOut))
async def update_profile(
    profile_id: str, body: UpdateProfile, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    return render_profile(await service.update_(session, caller, profile_id, body), _base(runtime))


@router.delete("/{profile_id}", **documented(ProfileDeletedOut))
async def delete_profile(profile_id: str, session: Session, caller: ApiCaller) -> dict[str, Any]:
    profile = await service.delete(session, caller, profile_id)
    return {"success": True, "deleted": True, "id": profile.id, "profile_id": profile.profile_id}


@router.post("/{profile_id}/primary", **documented(ProfileOut))
async def set_primary_profile(
    profile_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    return render_profile(await service.set_primary(session, caller, profile_id), _base(runtime))


@router.put("/{profile_id}/proofs", **documented(ProfileOut))
async def update_profile_proofs(
    profile_id: str,
    body: UpdateProfileProofs,
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
) -> dict[str, Any]:
    profile = await service.set_proofs(session, caller, profile_id, body.proofs)
    return render_profile(profile, _base(runtime))


@router.post("/{profile_id}/username", **documented(ProfileOut))
async def claim_username(
    profile_id: str, body: ClaimUsername, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    profile = await service.claim_username(session, caller, profile_id, body.username)
    return render_profile(profile, _base(runtime))


@router.get("/{profile_id}/assets", **documented(ProfileAssetsOut))
async def get_profile_assets(
    profile_id: str, session: Session, caller: ApiCaller
) -> dict[str, Any]:
    profile = await service.get(session, caller, profile_id)
    return {"data": await service.assets(session, caller, profile)}


# -- per-profile templates: retired ------------------------------------------------------------
_RETIRED: dict[int | str, dict[str, Any]] = {
    410: {
        "description": "Retired: templates belong to the project (/api/v1/templates).",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
}


def _retired() -> VouchError:
    return VouchError(
        "Per-profile templates are retired: a project's templates are read and written at "
        "/api/v1/templates (GET, GET/PUT/DELETE /{channel}/{message_type}, POST /preview)",
        code="endpoint_retired",
        status=410,
        replacement="/api/v1/templates",
    )


@router.get("/{profile_id}/templates", status_code=410, responses=_RETIRED)
async def list_profile_templates(profile_id: str, caller: ApiCaller) -> Response:
    raise _retired()


@router.put("/{profile_id}/templates/{channel}/{message_type}", status_code=410, responses=_RETIRED)
async def update_profile_template(
    profile_id: str, channel: str, message_type: str, caller: ApiCaller
) -> Response:
    raise _retired()


@router.delete(
    "/{profile_id}/templates/{channel}/{message_type}", status_code=410, responses=_RETIRED
)
async def delete_profile_template(
    profile_id: str, channel: str, message_type: str, caller: ApiCaller
) -> Response:
    raise _retired()


@router.post("/{profile_id}/templates/preview", status_code=410, responses=_RETIRED)
async def preview_profile_template(profile_id: str, caller: ApiCaller) -> Response:
    raise _retired()


# -- "me" with a key: the project's primary profile ----------------------------------------------
@public_router.get("/me", tags=["profiles"], **documented(ProfileOut))
async def get_my_profile(
    session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    return render_profile(await service.primary_or_404(session, caller), _base(runtime))


@public_router.put("/me", tags=["profiles"], **documented(ProfileOut))
async def update_my_profile(
    body: UpdateProfile, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    """Update the primary profile; a project with none gets one made from these fields."""
    profile = await service.primary(session, caller)
    if profile is None:
        created = CreateProfile(**body.model_dump(exclude_unset=True))
        return render_profile(await service.create(session, caller, created), _base(runtime))
    updated = await service.update_(session, caller, profile.id, body)
    return render_profile(updated, _base(runtime))


@public_router.get("/me/assets", tags=["profiles"], **documented(ProfileAssetsOut))
async def get_my_profile_assets(session: Session, caller: ApiCaller) -> dict[str, Any]:
    profile = await service.primary(session, caller)
    return {"data": await service.assets(session, caller, profile)}


@public_router.post("/me/username", tags=["profiles"], **documented(ProfileOut))
async def claim_my_username(
    body: ClaimUsername, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    profile = await service.primary_or_404(session, caller)
    claimed = await service.claim_username(session, caller, profile.id, body.username)
    return render_profile(claimed, _base(runtime))


@public_router.put("/me/proofs", tags=["profiles"], **documented(ProfileOut))
async def update_my_public_proofs(
    body: UpdateProfileProofs, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    profile = await service.primary_or_404(session, caller)
    updated = await service.set_proofs(session, caller, profile.id, body.proofs)
    return render_profile(updated, _base(runtime))


@public_router.put("/profiles/{profile_id}/proofs", tags=["profiles"], **documented(ProfileOut))
async def update_profile_proofs_alias(
    profile_id: str,
    body: UpdateProfileProofs,
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
) -> dict[str, Any]:
    """The same as ``PUT /api/v1/me/profiles/{profile_id}/proofs`` (the MCP server's path)."""
    profile = await service.set_proofs(session, caller, profile_id, body.proofs)
    return render_profile(profile, _base(runtime))


# -- public ---------------------------------------------------------------------------------------
AVATAR_CSP = "default-src 'none'; sandbox"
AVATAR_CACHE = "public, max-age=300"


@public_router.get(
    "/p/{profile_id}/avatar",
    response_class=Response,
    responses={
        200: {
            "description": "The avatar image (a data: URI avatar, served as its bytes).",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}} for media in AVATAR_TYPES
            },
        },
        302: {"description": "The avatar is hosted elsewhere: Location is its https URL."},
    },
)
async def get_profile_avatar(profile_id: str, session: Session, _: PublicCaller) -> Response:
    """A public profile's avatar, by public ``profile_id`` or internal id. A ``data:`` avatar is
    served as the image it holds (its declared raster type, which was checked against its bytes
    when it was stored) under a CSP that lets it run nothing and ``nosniff``; an ``https:`` one
    is a 302 redirect to it. A private or unknown profile, or one without an avatar, is 404."""
    profile = await service.public_by_any_id(session, profile_id)
    if profile is None:
        raise NotFound("Profile not found", code="profile_not_found")
    avatar = profile.avatar_url
    headers = {"Cache-Control": AVATAR_CACHE, "Referrer-Policy": "no-referrer"}
    if avatar and avatar.startswith("https://"):
        return RedirectResponse(avatar, status_code=302, headers=headers)
    decoded = decode_avatar(avatar) if avatar else None
    if decoded is None:
        raise NotFound("This profile has no avatar", code="avatar_not_found")
    content_type, data = decoded
    return Response(
        data,
        media_type=content_type,
        headers={
            **headers,
            "Content-Security-Policy": AVATAR_CSP,
            "X-Content-Type-Options": "nosniff",
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )


@public_router.get("/p/{profile_id}", **documented(PublicProfileOut))
async def get_public_profile(
    profile_id: str, session: Session, runtime: RuntimeDep, _: PublicCaller
) -> dict[str, Any]:
    profile = await service.public_by_profile_id(session, profile_id)
    if profile is None:
        raise NotFound("Profile not found", code="profile_not_found")
    proofs = await service.visible_proofs(session, profile)
    return render_public(profile, proofs, _base(runtime))


@public_router.get("/u/{username}", **documented(PublicProfileOut))
async def get_public_profile_by_username(
    username: str, session: Session, runtime: RuntimeDep, _: PublicCaller
) -> dict[str, Any]:
    profile = await service.public_by_username(session, username)
    if profile is None:
        raise NotFound("Profile not found", code="profile_not_found")
    proofs = await service.visible_proofs(session, profile)
    return render_public(profile, proofs, _base(runtime))


@public_router.get("/badge/{username}", **documented(ProfileBadgeOut))
async def get_profile_badge(
    username: str, session: Session, runtime: RuntimeDep, _: PublicCaller
) -> dict[str, Any]:
    """The badge descriptor (the SDK's ``ProfileBadgeResponse``): a username with nothing public
    answers 200 with ``state: "no_public_record"``."""
    base = _base(runtime)
    normal = username.strip().lower()
    profile = await service.public_by_username(session, normal)
    proofs = await service.visible_proofs(session, profile) if profile is not None else []
    handle = quote(normal, safe="")
    image = f"{base}/badge/{handle}"
    profile_url = f"{base}/@{handle}"
    state = "published" if profile is not None else "no_public_record"
    subject = ""
    if profile is not None:
        subject = (
            profile.business_name
            if profile.is_business and profile.business_name
            else (profile.display_name or normal)
        )
    alt = f"Verified on vouch: {subject or normal}"
    return {
        "username": normal,
        "subject": subject,
        "verified_count": len(proofs),
        "state": state,
        "test_mode": profile is not None and profile.environment == "test",
        "checked_at": isoformat_ms(utcnow()),
        "profile_url": profile_url,
        "badge_urls": {style: f"{image}?style={style}" for style in BADGE_STYLES},
        "snippets": {
            "markdown": f"[![{alt}]({image})]({profile_url})",
            "html": (
                f'<a href="{escape(profile_url)}"><img src="{escape(image)}" '
                f'alt="{escape(alt)}"></a>'
            ),
        },
    }


@public_router.get("/check-username/{username}", **documented(UsernameCheckOut))
async def check_username(username: str, session: Session, _: PublicCaller) -> dict[str, Any]:
    normal, problem = service.check_username(username)
    if problem is not None:
        return {"username": normal, "available": False, "reason": problem}
    if await service.username_taken(session, normal):
        return {"username": normal, "available": False, "reason": "This username is already taken"}
    return {"username": normal, "available": True}
