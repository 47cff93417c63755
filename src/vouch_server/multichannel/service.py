"""Multi-channel verifications: one phone offered over 1–4 channels at once (proof.holdings
``POST /api/v1/verifications/multi-channel``); the first channel to complete wins.

pending ──(one channel's verification completes)──► verified   (the others are ended)
   └──(every channel's verification failed or expired)──► expired

Each channel is an ordinary verification created through control's own service, so its challenge,
its completion (reverse OTP over the provider, ``submit``, test-verify) and its proof are exactly
those of a single verification. Control tells this module of every outcome
(``control.service.on_status_change``), inside the completing transaction and after that
verification's proof was minted.

First completion wins, once, on every backend and across processes. Deciding the group locks its
row first (``repository.lock``) and flips it with a conditional UPDATE. The winner then ends the
other channels' verifications in the same transaction (``control.service.end_pending``), so none
of them can complete afterwards. A channel completed at the very same moment in another
transaction (PostgreSQL) has already minted a proof inside its own transaction when it reaches
the group row; it finds the group won by another channel and raises, so its transaction — with
that proof, its webhook and its live-stream message — rolls back: the group ends with one proof.
The winner skips the verification rows such a transaction holds (``SKIP LOCKED``, instead of
waiting for them and deadlocking) and ends them once it has committed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.control import service as control
from vouch_server.control.catalog import AssetType, Channel
from vouch_server.control.identifiers import InvalidIdentifier as _BadIdentifier
from vouch_server.control.identifiers import normalize_identifier
from vouch_server.control.schemas import CreateVerification
from vouch_server.database import after_commit
from vouch_server.errors import (
    InvalidIdentifier,
    NotFound,
    RetryLater,
    ValidationFailed,
    VouchError,
)
from vouch_server.kit.clock import isoformat_ms, truncate_ms, utcnow
from vouch_server.kit.ids import new_object_id
from vouch_server.models import Verification, VerificationGroup, VerificationGroupMember
from vouch_server.multichannel import repository
from vouch_server.multichannel.schemas import CreateGroup
from vouch_server.runtime import Runtime
from vouch_server.sessions.qr import png_data_url
from vouch_server.tenancy.service import Principal

log = logging.getLogger("vouch.multichannel")

ID_PREFIX = "vg_"
# ``failure_reason`` of a channel's verification ended because another channel won.
SUPERSEDED = "superseded_by_other_channel"


def new_group_id() -> str:
    return ID_PREFIX + new_object_id()


def owner_of(group: VerificationGroup) -> Principal:
    """The group's own scope, for work done when no API key is presented (a provider message
    completing one of its channels)."""
    return Principal(project_id=group.project_id, environment=group.environment, api_key_id="")


def _detail(field: str, message: str, code: str) -> list[dict[str, str]]:
    return [{"field": field, "message": message, "code": code}]


# -- create ----------------------------------------------------------------------------------------
@dataclass
class GroupChannel:
    member: VerificationGroupMember
    verification: Verification
    challenge: dict[str, Any]


async def create(
    session: AsyncSession, runtime: Runtime, principal: Principal, *, body: CreateGroup
) -> tuple[VerificationGroup, list[GroupChannel]]:
    """The group and one verification per channel, in the caller's transaction: an error on any
    channel leaves nothing behind."""
    channels = [c.value for c in body.channels]
    for i, channel in enumerate(channels):
        if channel in channels[:i]:
            raise ValidationFailed(
                details=_detail(
                    f"channels.{i}", f"Channel '{channel}' is listed twice", "duplicate"
                )
            )
    try:
        # Every phone channel normalizes to the same E.164 number.
        identifier = normalize_identifier(body.type, channels[0], body.identifier)
    except _BadIdentifier as exc:
        raise InvalidIdentifier(
            str(exc), details=_detail("identifier", str(exc), "invalid_string")
        ) from exc

    now = truncate_ms(utcnow())
    group = VerificationGroup(
        id=new_group_id(),
        project_id=principal.project_id,
        environment=principal.environment,
        type=body.type,
        identifier=identifier,
        status="pending",
        external_user_id=body.external_user_id,
        client_metadata=body.client_metadata,
        expires_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(group)
    await session.flush()
    made: list[GroupChannel] = []
    for i, channel in enumerate(channels):
        try:
            verification, challenge = await control.create(
                session,
                runtime,
                principal,
                body=CreateVerification(
                    type=AssetType(body.type),
                    channel=Channel(channel),
                    identifier=identifier,
                    external_user_id=body.external_user_id,
                    client_metadata=body.client_metadata,
                    proof_expiry_days=body.proof_expiry_days,
                ),
            )
        except VouchError as exc:
            exc.details = [
                {**d, "field": f"channels.{i}.{d.get('field', '')}".rstrip(".")}
                for d in (exc.details or _detail("", exc.message, exc.code))
            ]
            raise
        member = VerificationGroupMember(
            verification_id=verification.id, group_id=group.id, position=i, channel=channel
        )
        session.add(member)
        made.append(GroupChannel(member, verification, challenge))
    group.expires_at = max(c.verification.challenge_expires_at for c in made)
    await session.flush()
    return group, made


# -- read ------------------------------------------------------------------------------------------
@dataclass
class GroupView:
    group: VerificationGroup
    members: list[VerificationGroupMember]
    verifications: dict[str, Verification]


async def get(session: AsyncSession, runtime: Runtime, principal: Principal, id_: str) -> GroupView:
    group = (
        await repository.get_scoped(session, principal, id_) if id_.startswith(ID_PREFIX) else None
    )
    if group is None:
        raise NotFound("Verification group not found")
    owner = owner_of(group)
    members = await repository.members(session, group.id)
    # Reading a channel expires it when its challenge ran out; the group hears of it.
    verifications = {
        m.verification_id: await control.get(session, runtime, owner, m.verification_id)
        for m in members
    }
    await session.refresh(group)
    if group.status != "pending":
        # A channel skipped by the winner (it was being completed at that moment) whose ending
        # after the winner's commit was lost (a crash) is ended now: it can never win anyway.
        leftovers = [v.id for v in verifications.values() if v.status == "pending"]
        if leftovers:
            await _end(session, runtime, await repository.lock_pending_skipping(session, leftovers))
            for id_ in leftovers:
                await session.refresh(verifications[id_])
    return GroupView(group, members, verifications)


# -- outcomes --------------------------------------------------------------------------------------
async def _end(session: AsyncSession, runtime: Runtime, ids: list[str]) -> None:
    if ids:
        await control.end_pending(session, runtime, ids, reason=SUPERSEDED)


def _end_after_commit(session: AsyncSession, runtime: Runtime, ids: list[str]) -> None:
    """End, once this transaction has committed, channels another transaction held when the
    group was won: that transaction rolls back (it lost), and then they can be ended."""

    async def end() -> None:
        async with runtime.db.session() as later:
            await _end(later, runtime, ids)

    after_commit(session, end)


async def on_verification_status(
    session: AsyncSession, runtime: Runtime, verification: Verification
) -> None:
    """Control's announcement of a verification's new status: if it is a channel of a group,
    decide the group."""
    if verification.status not in ("verified", "failed", "expired"):
        return
    member = await repository.membership(session, verification.id)
    if member is None:
        return
    group = await repository.lock(session, member.group_id)
    if group is None:
        return
    now = truncate_ms(utcnow())
    if verification.status == "verified":
        if group.status != "pending":
            if group.winning_verification_id == verification.id:
                return
            # Another channel won while this one was being completed in a concurrent
            # transaction: roll this one back, with the proof it has just minted.
            raise RetryLater("Another channel of this multi-channel verification completed first")
        if not await repository.decide(
            session,
            group.id,
            now=now,
            winner=verification.id,
            channel=member.channel,
            verified_at=verification.verified_at,
        ):
            raise RetryLater("The multi-channel verification was decided meanwhile")
        others = [
            m.verification_id
            for m in await repository.members(session, group.id)
            if m.verification_id != verification.id
        ]
        free = await repository.lock_pending_skipping(session, others)
        await _end(session, runtime, free)
        held = [id_ for id_ in others if id_ not in free]
        if held:
            _end_after_commit(session, runtime, held)
        await session.refresh(group)
        await _publish(session, runtime, group)
        return
    if group.status != "pending":
        return
    owner = owner_of(group)
    statuses = []
    for m in await repository.members(session, group.id):
        statuses.append((await control.get(session, runtime, owner, m.verification_id)).status)
    await session.refresh(group)
    ended = all(s in ("failed", "expired") for s in statuses)
    if group.status == "pending" and ended and await repository.decide(session, group.id, now=now):
        await session.refresh(group)
        await _publish(session, runtime, group)


control.on_status_change(on_verification_status)


async def _publish(session: AsyncSession, runtime: Runtime, group: VerificationGroup) -> None:
    """Tell live listeners the group was decided; delivered only if this transaction commits."""
    await runtime.bus.publish(
        session, f"verification_group:{group.id}", {"id": group.id, "status": group.status}
    )


# -- rendering -------------------------------------------------------------------------------------
def render_channel(channel: GroupChannel) -> dict[str, Any]:
    """One channel's setup block (proof.holdings ``MultiChannelChannelBlock``)."""
    challenge = channel.challenge
    block: dict[str, Any] = {
        "channel": channel.member.channel,
        "verification_id": channel.verification.id,
        "status": channel.verification.status,
        "code": challenge.get("code"),
        "expires_at": challenge.get("expires_at"),
        "instructions": challenge.get("instruction"),
        "message": challenge.get("code"),
    }
    deep_link = challenge.get("deep_link")
    if deep_link:
        block["deep_link"] = deep_link
        block["qr_text"] = deep_link
        block["qr_code"] = png_data_url(deep_link)
    send_to = challenge.get("send_to")
    if send_to and channel.member.channel in ("whatsapp", "sms"):
        block["phone_number"] = send_to  # the number the person sends the code to
    if channel.member.channel == "telegram" and send_to:
        block["bot_username"] = send_to
    if channel.member.channel == "sms":
        block["sms_message"] = challenge.get("code")
        if challenge.get("sms_dids"):
            block["sms_dids"] = challenge["sms_dids"]
    return block


def render_created(group: VerificationGroup, channels: list[GroupChannel]) -> dict[str, Any]:
    """``MultiChannelVerificationResponse``."""
    body: dict[str, Any] = {
        "group_id": group.id,
        "type": group.type,
        "identifier": group.identifier,
        "status": group.status,
        "expires_at": isoformat_ms(group.expires_at),
        "channels": [render_channel(c) for c in channels],
        "created_at": isoformat_ms(group.created_at),
        "test_mode": group.environment == "test",
    }
    if group.external_user_id is not None:
        body["external_user_id"] = group.external_user_id
    if group.client_metadata is not None:
        body["client_metadata"] = group.client_metadata
    return body


def render_status(current: GroupView) -> dict[str, Any]:
    """``MultiChannelGroupStatusResponse``: the group, each channel's status and, once
    verified, the winning verification's proof."""
    g = current.group
    channels = []
    for m in current.members:
        v = current.verifications[m.verification_id]
        entry: dict[str, Any] = {
            "channel": m.channel,
            "verification_id": v.id,
            "status": v.status,
        }
        if v.verified_at is not None:
            entry["verified_at"] = isoformat_ms(v.verified_at)
        channels.append(entry)
    body: dict[str, Any] = {
        "group_id": g.id,
        "type": g.type,
        "identifier": g.identifier,
        "status": g.status,
        "winning_channel": g.winning_channel,
        "verification_id": g.winning_verification_id,
        "channels": channels,
        "expires_at": isoformat_ms(g.expires_at),
        "created_at": isoformat_ms(g.created_at),
        "test_mode": g.environment == "test",
    }
    if g.verified_at is not None:
        body["verified_at"] = isoformat_ms(g.verified_at)
    winner = current.verifications.get(g.winning_verification_id or "")
    if winner is not None and winner.proof_token and winner.proof_expires_at is not None:
        body["proof"] = {
            "token": winner.proof_token,
            "expires_at": isoformat_ms(winner.proof_expires_at),
        }
    if g.external_user_id is not None:
        body["external_user_id"] = g.external_user_id
    return body
