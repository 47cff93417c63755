"""``/api/v1/me/profiles`` (keyed: the caller's own project and environment) and the public
reads under ``/api/v1/profiles`` (no key; what the SDK's ``public_profiles`` calls)."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter

from vouch_server.deps import ApiCaller, PublicCaller, RuntimeDep, Session
from vouch_server.errors import NotFound
from vouch_server.kit.clock import isoformat_ms, utcnow
from vouch_server.profiles import service
from vouch_server.profiles.schemas import (
    ClaimUsername,
    CreateProfile,
    UpdateProfile,
    UpdateProfileProofs,
    render_profile,
    render_public,
)
from vouch_server.runtime import Runtime

router = APIRouter(prefix="/api/v1/me/profiles", tags=["profiles"])
public_router = APIRouter(prefix="/api/v1/profiles", tags=["public profiles"])
BADGE_STYLES = ("flat", "flat-square")


def _base(runtime: Runtime) -> str:
    return runtime.settings.public_url.rstrip("/")


@router.get("")
async def list_profiles(session: Session, runtime: RuntimeDep, caller: ApiCaller) -> dict[str, Any]:
    rows = await service.list_(session, caller)
    return {"data": [render_profile(p, _base(runtime)) for p in rows], "total": len(rows)}


@router.post("", status_code=201)
async def create_profile(
    body: CreateProfile, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    return render_profile(await service.create(session, caller, body), _base(runtime))


@router.get("/{profile_id}")
async def get_profile(
    profile_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    return render_profile(await service.get(session, caller, profile_id), _base(runtime))


@router.patch("/{profile_id}")
async def update_profile(
    profile_id: str, body: UpdateProfile, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    return render_profile(await service.update_(session, caller, profile_id, body), _base(runtime))


@router.delete("/{profile_id}")
async def delete_profile(profile_id: str, session: Session, caller: ApiCaller) -> dict[str, Any]:
    profile = await service.delete(session, caller, profile_id)
    return {"success": True, "deleted": True, "id": profile.id, "profile_id": profile.profile_id}


@router.post("/{profile_id}/primary")
async def set_primary_profile(
    profile_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    return render_profile(await service.set_primary(session, caller, profile_id), _base(runtime))


@router.put("/{profile_id}/proofs")
async def update_profile_proofs(
    profile_id: str,
    body: UpdateProfileProofs,
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
) -> dict[str, Any]:
    profile = await service.set_proofs(session, caller, profile_id, body.proofs)
    return render_profile(profile, _base(runtime))


@router.post("/{profile_id}/username")
async def claim_username(
    profile_id: str, body: ClaimUsername, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    profile = await service.claim_username(session, caller, profile_id, body.username)
    return render_profile(profile, _base(runtime))


@router.get("/{profile_id}/assets")
async def get_profile_assets(
    profile_id: str, session: Session, caller: ApiCaller
) -> dict[str, Any]:
    profile = await service.get(session, caller, profile_id)
    return {"data": await service.assets(session, caller, profile)}


# -- public ---------------------------------------------------------------------------------------
@public_router.get("/p/{profile_id}")
async def get_public_profile(
    profile_id: str, session: Session, runtime: RuntimeDep, _: PublicCaller
) -> dict[str, Any]:
    profile = await service.public_by_profile_id(session, profile_id)
    if profile is None:
        raise NotFound("Profile not found", code="profile_not_found")
    proofs = await service.visible_proofs(session, profile)
    return render_public(profile, proofs, _base(runtime))


@public_router.get("/u/{username}")
async def get_public_profile_by_username(
    username: str, session: Session, runtime: RuntimeDep, _: PublicCaller
) -> dict[str, Any]:
    profile = await service.public_by_username(session, username)
    if profile is None:
        raise NotFound("Profile not found", code="profile_not_found")
    proofs = await service.visible_proofs(session, profile)
    return render_public(profile, proofs, _base(runtime))


@public_router.get("/badge/{username}")
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


@public_router.get("/check-username/{username}")
async def check_username(username: str, session: Session, _: PublicCaller) -> dict[str, Any]:
    normal, problem = service.check_username(username)
    if problem is not None:
        return {"username": normal, "available": False, "reason": problem}
    if await service.username_taken(session, normal):
        return {"username": normal, "available": False, "reason": "This username is already taken"}
    return {"username": normal, "available": True}
