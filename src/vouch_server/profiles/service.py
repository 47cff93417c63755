"""Profiles: the rules. A key manages the profiles of its own project and environment only; one
of them may be primary (its branding is the project's, see ``vouch_server.web.branding``).

What a public page shows is decided here, at read time: the owner's chosen entries, each still
backed by a verified, unrevoked, unexpired proof of the same project and environment — a proof
revoked or expired since it was chosen disappears from the page, the JSON and the badge with no
further step — with its identifier shown in full, masked, or not at all (``mask_level``).
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.errors import BadRequest, Conflict, NotFound, ValidationFailed
from vouch_server.kit.clock import isoformat_ms, truncate_ms, utcnow
from vouch_server.kit.ids import new_object_id
from vouch_server.models import Proof, Verification
from vouch_server.models.profiles import Profile
from vouch_server.profiles.schemas import (
    MAX_PROFILES,
    CreateProfile,
    ProfileProofEntry,
    UpdateProfile,
    username_problem,
)
from vouch_server.requests.service import mask_identifier
from vouch_server.tenancy.service import Principal

# Public profile ids: 10 characters from an unambiguous alphabet (~50 bits), unguessable enough
# that an unlisted profile is not found by walking ids.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_PUBLIC_ID_LENGTH = 10
_SCALARS = (
    "display_name",
    "bio",
    "avatar_url",
    "business_name",
    "is_business",
    "is_public",
    "show_verification_dates",
    "show_proof_channels",
    "show_delegations",
    "email_theme",
    "support_email",
)
_NOT_NULL = {
    "is_business",
    "is_public",
    "show_verification_dates",
    "show_proof_channels",
    "show_delegations",
}


def _new_public_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(_PUBLIC_ID_LENGTH))


def _scope(principal: Principal) -> Any:
    return and_(
        Profile.project_id == principal.project_id, Profile.environment == principal.environment
    )


async def list_(session: AsyncSession, principal: Principal) -> list[Profile]:
    rows = await session.scalars(
        select(Profile).where(_scope(principal)).order_by(Profile.created_at, Profile.id)
    )
    return list(rows)


async def get(session: AsyncSession, principal: Principal, profile_id: str) -> Profile:
    """One of the caller's profiles, by its internal id or its public ``profile_id``."""
    row = await session.scalar(
        select(Profile).where(
            _scope(principal), or_(Profile.id == profile_id, Profile.profile_id == profile_id)
        )
    )
    if row is None:
        raise NotFound("Profile not found", code="profile_not_found")
    return row


async def primary(session: AsyncSession, principal: Principal) -> Profile | None:
    """The primary profile of the caller's project and environment: "me" for a key."""
    return await session.scalar(
        select(Profile).where(_scope(principal), Profile.primary_marker.is_not(None))
    )


async def primary_or_404(session: AsyncSession, principal: Principal) -> Profile:
    row = await primary(session, principal)
    if row is None:
        raise NotFound(
            "This project has no primary profile yet; create one with POST /api/v1/me/profiles",
            code="profile_not_found",
        )
    return row


async def public_by_any_id(session: AsyncSession, profile_id: str) -> Profile | None:
    """A public profile by its public ``profile_id`` or its internal id (the avatar route takes
    either, as proof.holdings' does)."""
    if len(profile_id) > 24:
        return None
    return await session.scalar(
        select(Profile).where(
            or_(Profile.profile_id == profile_id, Profile.id == profile_id),
            Profile.is_public.is_(True),
        )
    )


async def _check_username(session: AsyncSession, username: str, own_id: str | None) -> None:
    taken = await session.scalar(select(Profile.id).where(Profile.username == username))
    if taken is not None and taken != own_id:
        raise Conflict("This username is already taken", code="username_taken")


async def _check_proofs(
    session: AsyncSession, principal: Principal, entries: list[ProfileProofEntry]
) -> list[dict[str, Any]]:
    """The entries as stored, each naming a verified asset of the caller's own scope."""
    ids = {e.asset_id for e in entries}
    if len(ids) != len(entries):
        raise ValidationFailed(
            details=[{"field": "proofs", "message": "Each asset may appear once"}]
        )
    found = set(
        await session.scalars(
            select(Verification.id).where(
                Verification.id.in_(ids),
                Verification.project_id == principal.project_id,
                Verification.environment == principal.environment,
                Verification.status == "verified",
            )
        )
    )
    missing = [e.asset_id for e in entries if e.asset_id not in found]
    if missing:
        raise ValidationFailed(
            "Only this project's verified assets can be shown",
            details=[
                {"field": "proofs", "message": f"No verified asset {asset_id}"}
                for asset_id in missing
            ],
        )
    return [e.model_dump(exclude_none=True) for e in entries]


async def _make_primary(session: AsyncSession, profile: Profile) -> None:
    await session.execute(
        update(Profile)
        .where(
            Profile.project_id == profile.project_id,
            Profile.environment == profile.environment,
            Profile.id != profile.id,
        )
        .values(primary_marker=None)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    profile.primary_marker = "1"


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # two requests raced for one username
        raise Conflict("This username is already taken", code="username_taken") from exc


async def create(session: AsyncSession, principal: Principal, body: CreateProfile) -> Profile:
    count = await session.scalar(select(func.count()).select_from(Profile).where(_scope(principal)))
    if (count or 0) >= MAX_PROFILES:
        raise BadRequest(
            f"A project has at most {MAX_PROFILES} profiles per environment",
            code="profile_limit_reached",
        )
    if body.username is not None:
        await _check_username(session, body.username, None)
    now = truncate_ms(utcnow())
    profile = Profile(
        id=new_object_id(),
        profile_id=_new_public_id(),
        project_id=principal.project_id,
        environment=principal.environment,
        username=body.username,
        is_business=False,
        is_public=True,
        show_verification_dates=True,
        show_proof_channels=False,
        show_delegations=False,
        theme=body.theme.model_dump(exclude_none=True) if body.theme else {},
        custom_links=[link.model_dump(exclude_none=True) for link in body.custom_links or []],
        proofs=await _check_proofs(session, principal, body.proofs) if body.proofs else [],
        created_at=now,
        updated_at=now,
    )
    for name in _SCALARS:
        value = getattr(body, name)
        if value is not None:
            setattr(profile, name, value)
    session.add(profile)
    await _flush(session)
    # The first profile is the primary one unless the caller said otherwise.
    if body.is_primary or (body.is_primary is None and not count):
        await _make_primary(session, profile)
        await _flush(session)
    return profile


async def update_(
    session: AsyncSession, principal: Principal, profile_id: str, body: UpdateProfile
) -> Profile:
    profile = await get(session, principal, profile_id)
    sent = body.model_fields_set
    for name in _SCALARS:
        if name not in sent:
            continue
        value = getattr(body, name)
        if value is None and name in _NOT_NULL:
            raise ValidationFailed(details=[{"field": name, "message": "must not be null"}])
        setattr(profile, name, value)
    if "username" in sent:
        if body.username is not None:
            await _check_username(session, body.username, profile.id)
        profile.username = body.username
    if "theme" in sent:
        # A theme merges: the keys sent replace theirs, the others stay.
        merged = dict(profile.theme or {})
        if body.theme is None:
            merged = {}
        else:
            merged.update(body.theme.model_dump(exclude_unset=True))
        profile.theme = {k: v for k, v in merged.items() if v is not None}
    if "custom_links" in sent:
        profile.custom_links = [
            link.model_dump(exclude_none=True) for link in body.custom_links or []
        ]
    if "proofs" in sent:
        profile.proofs = await _check_proofs(session, principal, body.proofs or [])
    profile.updated_at = truncate_ms(utcnow())
    if "is_primary" in sent:
        if body.is_primary:
            await _make_primary(session, profile)
        else:
            profile.primary_marker = None
    await _flush(session)
    return profile


async def set_primary(session: AsyncSession, principal: Principal, profile_id: str) -> Profile:
    profile = await get(session, principal, profile_id)
    await _make_primary(session, profile)
    profile.updated_at = truncate_ms(utcnow())
    await _flush(session)
    return profile


async def set_proofs(
    session: AsyncSession, principal: Principal, profile_id: str, entries: list[ProfileProofEntry]
) -> Profile:
    profile = await get(session, principal, profile_id)
    profile.proofs = await _check_proofs(session, principal, entries)
    profile.updated_at = truncate_ms(utcnow())
    await _flush(session)
    return profile


async def claim_username(
    session: AsyncSession, principal: Principal, profile_id: str, username: str
) -> Profile:
    profile = await get(session, principal, profile_id)
    await _check_username(session, username, profile.id)
    profile.username = username
    profile.updated_at = truncate_ms(utcnow())
    await _flush(session)
    return profile


async def delete(session: AsyncSession, principal: Principal, profile_id: str) -> Profile:
    """Delete a profile (its assets and proofs stay). Deleting the primary one makes the oldest
    remaining profile primary, so the project keeps its branding."""
    profile = await get(session, principal, profile_id)
    was_primary = profile.is_primary
    await session.delete(profile)
    await session.flush()
    if was_primary:
        successor = await session.scalar(
            select(Profile).where(_scope(principal)).order_by(Profile.created_at, Profile.id)
        )
        if successor is not None:
            successor.primary_marker = "1"
            await session.flush()
    return profile


async def assets(
    session: AsyncSession, principal: Principal, profile: Profile | None
) -> list[dict[str, Any]]:
    """The caller's live assets (verified, unrevoked, unexpired) a profile may show, marked with
    whether this profile shows them (the SDK's ``ProfileAssetOption``); with no profile, none is
    marked shown."""
    entries = profile.proofs or [] if profile is not None else []
    shown = {e["asset_id"] for e in entries if e.get("is_visible", True)}
    rows = await session.execute(
        _active_proofs()
        .where(
            Verification.project_id == principal.project_id,
            Verification.environment == principal.environment,
        )
        .order_by(Verification.verified_at.desc())
        .limit(200)
    )
    return [
        {
            "id": v.id,
            "type": v.type,
            "identifier": v.identifier,
            "channel": v.channel,
            "verified_at": isoformat_ms(v.verified_at) if v.verified_at else None,
            "is_public": v.id in shown,
        }
        for v, _ in rows.all()
    ]


# -- the public side --------------------------------------------------------------------------
def _active_proofs() -> Any:
    now = utcnow()
    return (
        select(Verification, Proof)
        .join(Proof, Proof.id == Verification.id)
        .where(
            Verification.status == "verified",
            Verification.revoked_at.is_(None),
            or_(Verification.proof_expires_at.is_(None), Verification.proof_expires_at > now),
            Proof.revoked_at.is_(None),
            Proof.expires_at > now,
            Proof.project_id == Verification.project_id,
            Proof.environment == Verification.environment,
        )
    )


async def public_by_profile_id(session: AsyncSession, profile_id: str) -> Profile | None:
    if len(profile_id) > 24:
        return None
    return await session.scalar(
        select(Profile).where(Profile.profile_id == profile_id, Profile.is_public.is_(True))
    )


async def public_by_username(session: AsyncSession, username: str) -> Profile | None:
    username = username.strip().lower()
    if len(username) > 30:
        return None
    return await session.scalar(
        select(Profile).where(Profile.username == username, Profile.is_public.is_(True))
    )


def _shown_identifier(type_: str, identifier: str, mask_level: str) -> str | None:
    if mask_level == "full":
        return identifier
    if mask_level == "partial":
        return mask_identifier(type_, identifier)
    return None


async def visible_proofs(session: AsyncSession, profile: Profile) -> list[dict[str, Any]]:
    """The proofs a public page of ``profile`` shows right now, in the owner's order."""
    entries = [e for e in profile.proofs or [] if e.get("is_visible", True)]
    if not entries:
        return []
    ids = [e["asset_id"] for e in entries]
    rows = await session.execute(
        _active_proofs().where(
            Verification.id.in_(ids),
            Verification.project_id == profile.project_id,
            Verification.environment == profile.environment,
        )
    )
    live = {v.id: (v, p) for v, p in rows.all()}
    ordered = sorted(
        enumerate(entries), key=lambda pair: (int(pair[1].get("display_order", 0)), pair[0])
    )
    shown: list[dict[str, Any]] = []
    for _, entry in ordered:
        found = live.get(entry["asset_id"])
        if found is None:
            continue
        v, p = found
        mask_level = entry.get("mask_level", "partial")
        item: dict[str, Any] = {
            "type": v.type,
            "label": entry.get("label"),
            "mask_level": mask_level,
            "identifier": _shown_identifier(v.type, v.identifier, mask_level),
            "status": "verified",
            "test_mode": v.environment == "test",
        }
        if profile.show_proof_channels:
            item["channel"] = v.channel
        if profile.show_verification_dates:
            item["verified_at"] = isoformat_ms(p.verified_at)
            item["expires_at"] = isoformat_ms(p.expires_at)
        shown.append(item)
    return shown


def check_username(username: str) -> tuple[str, str | None]:
    """The normalised username and why it cannot be used, if it cannot (availability aside)."""
    normal = username.strip().lower()
    return normal, username_problem(normal)


async def username_taken(session: AsyncSession, username: str) -> bool:
    return await session.scalar(select(Profile.id).where(Profile.username == username)) is not None


async def primary_for_branding(session: AsyncSession, project_id: str) -> Profile | None:
    """The project's primary profile, the live one before the test one."""
    rows = await session.scalars(
        select(Profile).where(Profile.project_id == project_id, Profile.primary_marker.is_not(None))
    )
    by_environment = {row.environment: row for row in rows}
    return by_environment.get("live") or by_environment.get("test")
