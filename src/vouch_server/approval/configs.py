"""HITL configs (seed "Setup: HITL Config"): who is asked, over which channels, with which timeout.

Channels: ``{type: telegram, config: {chat_id}}``, ``{type: whatsapp, config: {phone_number |
bsuid}}`` (either or both), ``{type: email, config: {address}}``, ``{type: web}`` (the hosted
approval page, reached through a signed link). Recipients are normalized when the config is saved,
so that a press can be compared with them exactly. ``DELETE`` archives: an archived config keeps
its confirmations but takes no new ones.

Lifecycle (proof.holdings' ``pending → active → archived``): a config is ``pending`` while nobody
it names can be asked — in live mode every channel is a chat, a number or an address whose owner
has not consented yet. It becomes ``active`` when ``POST /api/v1/hitl/{id}/finalize`` is called,
or by itself as soon as somebody can be asked: at creation when it has a ``web`` channel or is a
test-mode config (test mode asks nobody's consent), later when one of its recipients consents.
A pending config takes no confirmations (``consent_required``, as when nobody consented).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.approval import repository
from vouch_server.approval.schemas import ChannelSpec, CreateHitl, UpdateHitl
from vouch_server.consent import recipients
from vouch_server.consent import repository as consent_repository
from vouch_server.errors import BadRequest, NotFound, ValidationFailed
from vouch_server.kit.clock import truncate_ms, utcnow
from vouch_server.kit.ids import is_object_id, new_object_id
from vouch_server.models.delegation import HitlConfig
from vouch_server.tenancy.service import Principal


def _bad(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        details=[{"field": field, "message": message, "code": "invalid_string"}]
    )


def _text(config: dict[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(key)
    text = str(value).strip()
    return text or None


def normalize_channels(specs: Sequence[ChannelSpec]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for index, spec in enumerate(specs):
        kind = spec.type.value
        where = f"channels.{index}.config"
        allowed = {
            "telegram": {"chat_id"},
            "whatsapp": {"phone_number", "bsuid"},
            "email": {"address"},
            "web": set(),
        }[kind]
        unknown = sorted(set(spec.config) - allowed)
        if unknown:
            raise ValidationFailed(
                details=[
                    {
                        "field": f"{where}.{unknown[0]}",
                        "message": f"Unrecognized key for a {kind} channel",
                        "code": "unrecognized_keys",
                    }
                ]
            )
        try:
            config = _normalize(kind, spec.config, where)
        except TypeError as exc:
            raise _bad(f"{where}.{exc.args[0]}", "Expected a string") from exc
        key = (kind, repr(sorted(config.items())))
        if key in seen:
            raise _bad(f"channels.{index}", "The same channel is listed twice")
        seen.add(key)
        out.append({"type": kind, "config": config})
    return out


def _normalize(kind: str, config: dict[str, Any], where: str) -> dict[str, Any]:
    try:
        if kind == "telegram":
            chat_id = _text(config, "chat_id")
            if chat_id is None:
                raise _bad(f"{where}.chat_id", "A Telegram channel needs a chat_id")
            field = "chat_id"
            return {"chat_id": recipients.telegram_chat(chat_id)}
        if kind == "whatsapp":
            phone, bsuid = _text(config, "phone_number"), _text(config, "bsuid")
            if phone is None and bsuid is None:
                raise _bad(where, "A WhatsApp channel needs a phone_number, a bsuid, or both")
            out: dict[str, Any] = {}
            if phone is not None:
                field = "phone_number"
                out["phone_number"] = recipients.phone(phone)
            if bsuid is not None:
                field = "bsuid"
                out["bsuid"] = recipients.bsuid(bsuid)
            return out
        if kind == "email":
            address = _text(config, "address")
            if address is None:
                raise _bad(f"{where}.address", "An email channel needs an address")
            field = "address"
            return {"address": recipients.email(address)}
    except recipients.BadRecipient as exc:
        raise _bad(f"{where}.{field}", str(exc)) from exc
    return {}


def consent_targets(channels: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """(authorization channel, recipient) of every recipient whose consent the config needs."""
    out: list[tuple[str, str]] = []
    for spec in channels:
        config = spec.get("config") or {}
        if spec["type"] == "telegram":
            out.append(("telegram", str(config["chat_id"])))
        elif spec["type"] == "whatsapp":
            # One person, reached by number or business-scoped id: one consent covers both.
            who = config.get("phone_number") or config.get("bsuid")
            out.append(("whatsapp", str(who)))
        elif spec["type"] == "email":
            out.append(("email", str(config["address"])))
    return out


async def can_ask_somebody(session: AsyncSession, row: HitlConfig) -> bool:
    """Whether a confirmation on ``row`` could reach anybody now (see the module's lifecycle)."""
    if row.environment == "test" or any(spec["type"] == "web" for spec in row.channels):
        return True
    for spec in row.channels:
        config = spec.get("config") or {}
        identities = {
            str(v)
            for k, v in config.items()
            if k in ("chat_id", "phone_number", "bsuid", "address")
        }
        channel = {"telegram": "telegram", "whatsapp": "whatsapp", "email": "email"}.get(
            spec["type"]
        )
        if channel is None or not identities:
            continue
        if await consent_repository.active_for(
            session,
            project_id=row.project_id,
            environment=row.environment,
            channel=channel,
            recipients=identities,
            scope="confirmations",
            now=utcnow(),
        ):
            return True
    return False


def activate(row: HitlConfig) -> bool:
    """``pending → active``; False if it was not pending."""
    if row.status != "pending":
        return False
    now = truncate_ms(utcnow())
    row.status = "active"
    row.activated_at = now
    row.updated_at = now
    return True


async def activate_if_ready(session: AsyncSession, row: HitlConfig) -> None:
    if row.status == "pending" and await can_ask_somebody(session, row):
        activate(row)
        await session.flush()


async def create(session: AsyncSession, principal: Principal, body: CreateHitl) -> HitlConfig:
    now = truncate_ms(utcnow())
    row = HitlConfig(
        id=new_object_id(),
        project_id=principal.project_id,
        environment=principal.environment,
        name=body.name.strip(),
        channels=normalize_channels(body.channels),
        timeout_seconds=body.timeout_seconds,
        status="pending",
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    await activate_if_ready(session, row)
    return row


async def get(session: AsyncSession, principal: Principal, id_: str) -> HitlConfig:
    row = await repository.get_config(session, principal, id_) if is_object_id(id_) else None
    if row is None:
        raise NotFound("HITL config not found")
    return row


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    page: int,
    limit: int,
    status: str | None,
    environment: str | None = None,
) -> tuple[Sequence[HitlConfig], int]:
    # A key sees one environment; asking for the other one lists nothing (as proof.holdings'
    # ``environment`` filter does for a key bound to one environment).
    if environment is not None and environment != principal.environment:
        return [], 0
    return await repository.list_configs(
        session, principal, offset=(page - 1) * limit, limit=limit, status=status
    )


async def update(
    session: AsyncSession, principal: Principal, id_: str, body: UpdateHitl
) -> HitlConfig:
    row = await get(session, principal, id_)
    if row.status == "archived":
        raise BadRequest("An archived HITL config cannot be changed", code="hitl_archived")
    if body.name is not None:
        row.name = body.name.strip()
    if body.channels is not None:
        row.channels = normalize_channels(body.channels)
    if body.timeout_seconds is not None:
        row.timeout_seconds = body.timeout_seconds
    row.updated_at = truncate_ms(utcnow())
    await session.flush()
    await activate_if_ready(session, row)
    return row


async def archive(session: AsyncSession, principal: Principal, id_: str) -> HitlConfig:
    row = await get(session, principal, id_)
    if row.status != "archived":
        now = truncate_ms(utcnow())
        row.status = "archived"
        row.archived_at = now
        row.updated_at = now
        await session.flush()
    return row
