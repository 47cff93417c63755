"""Asking a HITL config's recipients for consent, and finalizing a config (``pending → active``).

``POST /api/v1/hitl/{id}/authorize`` sends a consent request (an authorization, through
``vouch_server.consent``) to every recipient the config names who has neither an active consent
nor an open request; those who have one are reported as they are. ``POST …/finalize`` makes a
pending config active and sends the same requests. Consent is asked for in test mode too (test
authorizations, recorded but never sent), so that a test integration follows the live one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.approval import configs
from vouch_server.consent import service as consent
from vouch_server.consent.schemas import CreateAuthorization
from vouch_server.errors import BadRequest, RateLimited
from vouch_server.kit.clock import utcnow
from vouch_server.models.delegation import Authorization, HitlConfig
from vouch_server.runtime import Runtime
from vouch_server.tenancy.service import Principal


async def _existing(
    session: AsyncSession, config: HitlConfig, channel: str, recipient: str
) -> Authorization | None:
    """The recipient's consent that holds (active) or may still be given (pending), latest first."""
    return await session.scalar(
        select(Authorization)
        .where(
            Authorization.project_id == config.project_id,
            Authorization.environment == config.environment,
            Authorization.channel == channel,
            Authorization.recipient == recipient,
            Authorization.scope == consent.DEFAULT_SCOPE,
            Authorization.status.in_(("active", "pending")),
            Authorization.expires_at > utcnow(),
        )
        .order_by(Authorization.status, Authorization.created_at.desc())
        .limit(1)
    )


async def request_consents(
    session: AsyncSession, runtime: Runtime, principal: Principal, config: HitlConfig
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for channel, recipient in configs.consent_targets(config.channels):
        entry: dict[str, Any] = {"channel": channel, "recipient": recipient}
        existing = await _existing(session, config, channel, recipient)
        if existing is not None:
            entry.update(authorization_id=existing.id, status=existing.status, created=False)
            out.append(entry)
            continue
        try:
            authorization, deep_link = await consent.create(
                session,
                runtime,
                principal,
                body=CreateAuthorization.model_validate(
                    {"channel": channel, "recipient": recipient, "hitl_id": config.id}
                ),
            )
        except RateLimited as exc:
            entry.update(status="failed", error=exc.message, code=exc.code)
            out.append(entry)
            continue
        entry.update(authorization_id=authorization.id, status=authorization.status, created=True)
        if deep_link is not None:
            # Telegram: the person opens the bot's deep link; the prompt follows in the chat.
            entry["authorization_url"] = deep_link
        out.append(entry)
    return out


def _summary(results: list[dict[str, Any]]) -> str:
    if not results:
        return "No channel of this HITL config needs consent"
    sent = sum(1 for r in results if r.get("created"))
    held = sum(1 for r in results if r["status"] == "active")
    waiting = sum(1 for r in results if r["status"] == "pending" and not r.get("created"))
    failed = sum(1 for r in results if r["status"] == "failed")
    parts = [f"{sent} consent request(s) sent"]
    if held:
        parts.append(f"{held} already authorized")
    if waiting:
        parts.append(f"{waiting} already awaiting an answer")
    if failed:
        parts.append(f"{failed} failed")
    return ", ".join(parts)


async def authorize(
    session: AsyncSession, runtime: Runtime, principal: Principal, hitl_id: str
) -> dict[str, Any]:
    config = await configs.get(session, principal, hitl_id)
    if config.status == "archived":
        raise BadRequest("This HITL config is archived", code="hitl_archived")
    results = await request_consents(session, runtime, principal, config)
    return {"hitl_id": config.id, "authorizations": results, "message": _summary(results)}


async def finalize(
    session: AsyncSession, runtime: Runtime, principal: Principal, hitl_id: str
) -> tuple[HitlConfig, list[dict[str, Any]]]:
    config = await configs.get(session, principal, hitl_id)
    if config.status == "archived":
        raise BadRequest("This HITL config is archived", code="hitl_archived")
    configs.activate(config)  # an active config stays as it is: finalize is idempotent
    await session.flush()
    results = await request_consents(session, runtime, principal, config)
    return config, results
