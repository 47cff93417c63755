"""Proofs: what every family's minted tokens share once issued.

The proof id is the token's ``sub`` (for Proof of Control, the verification id), so the revocation
list's ``proof_id`` is what an offline verifier compares with ``sub`` — the seed's recipe.
Families register a callback to hear of revocations of their proofs (e.g. a verification's status
becomes ``revoked``); they never read each other's tables.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from vouch_server.errors import Conflict, NotFound, ValidationFailed
from vouch_server.kit.clock import iso_or_none, isoformat_ms, parse_instant, truncate_ms, utcnow
from vouch_server.kit.epoch import advance_epoch, epoch_read_by, read_epoch
from vouch_server.kit.ids import is_object_id
from vouch_server.models import Proof
from vouch_server.runtime import Runtime
from vouch_server.signing.tokens import (
    MintedToken,
    TokenInvalid,
    VerifiedToken,
    epoch_to_datetime,
)
from vouch_server.tenancy.key_cache import EpochCache
from vouch_server.tenancy.service import Principal

# (session, runtime, proof_id, revoked_at, reason) -> a callback URL that also wants the event
RevocationHook = Callable[[AsyncSession, Runtime, str, datetime, str], Awaitable[str | None]]
REVOCATION_REASONS = ("user_request", "fraud", "key_compromise", "asset_transferred", "other")
REVOCATION_LIST_TTL = timedelta(minutes=5)
REVOCATION_PAGE_MAX = 1000

_hooks: dict[str, RevocationHook] = {}


def on_revoked(family: str, hook: RevocationHook) -> None:
    _hooks[family] = hook


async def record(
    session: AsyncSession,
    *,
    proof_id: str,
    project_id: str,
    environment: str,
    family: str,
    type: str,
    channel: str | None,
    minted: MintedToken,
    verified_at: datetime,
) -> Proof:
    row = Proof(
        id=proof_id,
        project_id=project_id,
        environment=environment,
        family=family,
        type=type,
        channel=channel,
        jti=minted.jti,
        kid=minted.kid,
        issued_at=minted.issued_at,
        verified_at=verified_at,
        expires_at=minted.expires_at,
        status_idx=minted.status_idx,
    )
    session.add(row)
    await session.flush()
    return row


# -- validation ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _ProofFacts:
    """What ``validate`` reads of a proof's row; only ``revoked_*`` ever change, and only
    through ``revoke``, which changes the revocation epoch."""

    jti: str
    environment: str
    revoked_at: datetime | None
    revoked_reason: str | None
    verified_at: datetime


_FACTS: weakref.WeakKeyDictionary[Engine, EpochCache[_ProofFacts]] = weakref.WeakKeyDictionary()


def _facts_cache(engine: Engine) -> EpochCache[_ProofFacts]:
    cache = _FACTS.get(engine)
    if cache is None:
        cache = _FACTS[engine] = EpochCache()
    return cache


async def _proof_facts(session: AsyncSession, proof_id: str) -> _ProofFacts | None:
    """A proof's facts, from this process's cache while the revocation epoch is unchanged
    (``kit.epoch``): with a warm cache on SQLite a validation sends no SQL."""
    cache = _facts_cache(session.get_bind().engine)
    known, epoch = epoch_read_by(session)
    if not known:
        epoch = await read_epoch(session)  # before the row, never after
    cached = cache.get(proof_id, epoch)
    if cached is not None:
        return cached
    row = await session.get(Proof, proof_id)
    if row is None:
        return None  # unknown ids are not cached: each try reads the table
    facts = _ProofFacts(
        row.jti, row.environment, row.revoked_at, row.revoked_reason, row.verified_at
    )
    cache.put(proof_id, epoch, facts)
    return facts


def _invalid(reason: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"valid": False, "reason": reason, "message": message, "error": message, **extra}


def _test_proof() -> dict[str, Any]:
    return _invalid("test_proof", "This is a test-mode proof; it proves nothing in live mode")


async def validate(
    session: AsyncSession,
    runtime: Runtime,
    token: str,
    identifier: str | None = None,
    *,
    environment: str = "live",
) -> dict[str, Any]:
    """Validate a token for a caller of ``environment``: a live caller never gets ``valid: true``
    for a test proof, whatever key signed it (proofs minted before test keys existed were signed
    by the live key; their stored environment still tells)."""
    try:
        verified = await runtime.tokens.verify(session, token)
    except TokenInvalid as exc:
        return _invalid(exc.reason, exc.message)
    if _is_test_for_live(verified, environment):
        return _test_proof()
    facts = await _proof_facts(session, str(verified.claims["sub"]))
    return _judge(verified.claims, facts, identifier, environment)


def validate_cached(
    runtime: Runtime,
    engine: Engine,
    epoch: int | None,
    token: str,
    identifier: str | None = None,
    *,
    environment: str = "live",
) -> dict[str, Any] | None:
    """``validate`` from this process's memory alone, for a revocation epoch the caller has just
    read: the same answer, or None when it needs the database (a signing key or a proof's facts
    not cached under ``epoch``). Sends nothing and changes nothing."""
    try:
        verified = runtime.tokens.verify_cached(token)
    except TokenInvalid as exc:
        return _invalid(exc.reason, exc.message)
    if verified is None:
        return None
    if _is_test_for_live(verified, environment):
        return _test_proof()
    facts = _facts_cache(engine).get(str(verified.claims["sub"]), epoch)
    if facts is None:
        return None  # unknown or not yet read: only the table can tell
    return _judge(verified.claims, facts, identifier, environment)


def _is_test_for_live(verified: VerifiedToken, environment: str) -> bool:
    return environment == "live" and (
        verified.environment == "test" or verified.claims.get("test") is True
    )


def _judge(
    claims: dict[str, Any], row: _ProofFacts | None, identifier: str | None, environment: str
) -> dict[str, Any]:
    """The answer for a token whose signature and registered claims hold, given its proof's
    facts (None: no such proof)."""
    if row is None or not hmac.compare_digest(row.jti, str(claims.get("jti", ""))):
        return _invalid("unknown_proof", "This proof was not issued by this server")
    if environment == "live" and row.environment == "test":
        return _test_proof()
    if row.revoked_at is not None:
        return _invalid(
            "revoked",
            "This proof has been revoked",
            revoked_at=isoformat_ms(row.revoked_at),
            revoked_reason=row.revoked_reason,
        )
    if identifier is not None and not _identifier_matches(claims, identifier):
        return _invalid("identifier_mismatch", "The identifier does not match this proof")
    expires_at = isoformat_ms(epoch_to_datetime(int(claims["exp"])))
    verified_at = claims.get("verified_at") or isoformat_ms(row.verified_at)
    return {
        "valid": True,
        "verification": {
            "id": claims["sub"],
            "type": claims.get("type"),
            "channel": claims.get("channel"),
            "verified_at": verified_at,
            "expires_at": expires_at,
            "user_id": claims.get("user_id"),
        },
        "proof": {
            "type": claims.get("type"),
            "channel": claims.get("channel"),
            "identifier_hash": claims.get("identifier_hash"),
            "verified_at": verified_at,
            "expires_at": expires_at,
            "issuer": claims["iss"],
        },
    }


def _identifier_matches(claims: dict[str, Any], identifier: str) -> bool:
    from vouch_server.control.identifiers import (
        InvalidIdentifier,
        identifier_hash,
        normalize_identifier,
    )

    expected = str(claims.get("identifier_hash", ""))
    try:
        normalized = normalize_identifier(
            str(claims.get("type")), str(claims.get("channel")), identifier
        )
    except InvalidIdentifier:
        normalized = identifier.strip()
    return hmac.compare_digest(identifier_hash(normalized), expected)


# -- status and revocation ---------------------------------------------------------------------
# -- public handles ------------------------------------------------------------------------------
# proof.holdings names a control proof publicly as ``ph_ctl_<32 hex>``. vouch's handle is the
# family's prefix, the proof id (24 hex, already public: it is the token's ``sub`` and the
# revocation list's ``proof_id``) and 8 hex of SHA-256 over the id, so it has the documented
# length, reveals nothing more, resolves without a lookup table, and a mistyped handle resolves
# to nothing. Only ``ctl`` is proof.holdings' own prefix; the others are vouch's.
HANDLE_PREFIXES = {
    "control": "ctl",
    "authorization": "aut",
    "confirmation": "cnf",
    "agent": "agt",
    "record": "rec",
    "location": "loc",
}
_FAMILY_OF_PREFIX = {prefix: family for family, prefix in HANDLE_PREFIXES.items()}
# The revocation list's ``proof_type`` in proof.holdings' words (SDK 1.2.0 ``RevokedProofType``);
# families it has no word for keep their own name.
REVOKED_PROOF_TYPES = {
    "control": "verification",
    "authorization": "authorization",
    "confirmation": "confirmation",
}


def _check_digits(proof_id: str) -> str:
    return hashlib.sha256(proof_id.encode()).hexdigest()[:8]


def public_handle(row: Proof) -> str:
    prefix = HANDLE_PREFIXES.get(row.family, row.family[:3])
    return f"ph_{prefix}_{row.id}{_check_digits(row.id)}"


def revoked_proof_type(row: Proof) -> str:
    return REVOKED_PROOF_TYPES.get(row.family, row.family)


def resolve_handle(value: str) -> tuple[str, str | None] | None:
    """``ph_ctl_<id><check>`` → ``(id, "control")``; a bare proof id → ``(id, None)``; anything
    else → None."""
    if is_object_id(value):
        return value, None
    head, _, rest = value.partition("_")
    prefix, _, tail = rest.partition("_")
    family = _FAMILY_OF_PREFIX.get(prefix)
    if head != "ph" or family is None or len(tail) != 32:
        return None
    proof_id, check = tail[:24], tail[24:]
    if not is_object_id(proof_id) or not hmac.compare_digest(check, _check_digits(proof_id)):
        return None
    return proof_id, family


async def _scoped(session: AsyncSession, principal: Principal, proof_id: str) -> Proof:
    resolved = resolve_handle(proof_id)
    row = await session.get(Proof, resolved[0]) if resolved is not None else None
    if row is not None and resolved is not None and resolved[1] not in (None, row.family):
        row = None  # a handle whose prefix names another family names nothing
    if (
        row is None
        or row.project_id != principal.project_id
        or row.environment != principal.environment
    ):
        raise NotFound("Proof not found")
    return row


async def status(session: AsyncSession, principal: Principal, proof_id: str) -> dict[str, Any]:
    row = await _scoped(session, principal, proof_id)
    now = utcnow()
    is_expired = row.expires_at <= now
    is_revoked = row.revoked_at is not None
    # proof.holdings' SDK 1.2.0 (``ProofStatusValue``) calls a live proof ``active``; its
    # Feb-2026 golden vector still said ``verified``, an earlier word for the same state.
    state = "revoked" if is_revoked else "expired" if is_expired else "active"
    return {
        "proof_id": row.id,
        "public_proof_id": public_handle(row),
        "proof_type": revoked_proof_type(row),
        "status": state,
        "is_valid": not is_revoked and not is_expired,
        "is_revoked": is_revoked,
        "revoked_at": iso_or_none(row.revoked_at),
        "revoked_reason": row.revoked_reason,
        # vouch does not suspend proofs (revocation is final), so this stays null.
        "suspended_at": None,
        "expires_at": isoformat_ms(row.expires_at),
        "is_expired": is_expired,
        "verified_at": isoformat_ms(row.verified_at),
        "type": row.type,
        "channel": row.channel,
    }


async def revoke(
    session: AsyncSession, runtime: Runtime, principal: Principal, proof_id: str, reason: str
) -> dict[str, Any]:
    row = await _scoped(session, principal, proof_id)
    now = truncate_ms(utcnow())
    result = await session.execute(
        update(Proof)
        .where(Proof.id == row.id, Proof.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        await session.refresh(row)
        raise Conflict(
            "This proof has already been revoked",
            code="already_revoked",
            revoked_at=iso_or_none(row.revoked_at),
            revoked_reason=row.revoked_reason,
        )
    await advance_epoch(session)  # no process answers /validate from its cache any more
    from vouch_server.database import after_commit

    lists = runtime.tokens.status_lists
    environment = row.environment

    async def _drop_cached_list() -> None:
        lists.invalidate(environment)

    after_commit(session, _drop_cached_list)
    runtime.metrics.proof_event(session, type=row.type, environment=environment, event="revoked")
    hook = _hooks.get(row.family)
    callback_url = await hook(session, runtime, row.id, now, reason) if hook is not None else None
    from vouch_server.webhooks import service as webhooks

    await webhooks.emit(
        session,
        runtime,
        project_id=row.project_id,
        environment=row.environment,
        type="proof.revoked",
        data={
            "proof_id": row.id,
            "type": row.type,
            "channel": row.channel,
            "revoked_at": isoformat_ms(now),
            "reason": reason,
        },
        subject_id=row.id,
        callback_url=callback_url,
    )
    return {
        "success": True,
        "proof_id": row.id,
        "verification_id": row.id,
        "revoked_at": isoformat_ms(now),
        "reason": reason,
    }


# -- the revocation list -------------------------------------------------------------------------
def _encode_cursor(revoked_at: datetime, proof_id: str) -> str:
    return base64.urlsafe_b64encode(f"{isoformat_ms(revoked_at)}|{proof_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        instant, _, proof_id = text.partition("|")
        return parse_instant(instant), proof_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            details=[{"field": "cursor", "message": "Invalid cursor", "code": "invalid_string"}]
        ) from exc


def revocation_entries_digest(entries: list[dict[str, Any]]) -> str:
    """What a revocation page signs in place of its entries: SHA-256 of the entries as JSON with
    sorted keys, no whitespace, UTF-8, base64url without padding (docs/proofs.md)."""
    canonical = json.dumps(entries, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (
        base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    )


async def revocation_list(
    session: AsyncSession,
    runtime: Runtime,
    *,
    since: datetime | None,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """Revoked proofs, newest first, for proof.holdings-compatible clients.

    The page is signed as a JWT over a digest of its entries (``revoked_sha256``, see
    ``vouch_client.revocation_entries_digest``) and its paging facts, not over a second copy of the
    entries: a page costs its entries once. Token Status Lists are the scalable read."""
    conditions: list[ColumnElement[bool]] = [Proof.revoked_at.is_not(None)]
    if since is not None:
        conditions.append(Proof.revoked_at >= since)
    if cursor:
        at, last_id = _decode_cursor(cursor)
        conditions.append(
            or_(Proof.revoked_at < at, and_(Proof.revoked_at == at, Proof.id < last_id))
        )
    rows = (
        await session.scalars(
            select(Proof)
            .where(*conditions)
            .order_by(Proof.revoked_at.desc(), Proof.id.desc())
            .limit(limit + 1)
        )
    ).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    entries = [
        {
            "proof_id": r.id,
            "revoked_at": isoformat_ms(r.revoked_at),  # type: ignore[arg-type]
            "reason": r.revoked_reason,
            "proof_type": revoked_proof_type(r),
            "public_proof_id": public_handle(r),
            "type": r.type,
        }
        for r in rows
    ]
    next_cursor = (
        _encode_cursor(rows[-1].revoked_at, rows[-1].id)  # type: ignore[arg-type]
        if has_more and rows
        else None
    )
    since_text = iso_or_none(since)
    issued_at = utcnow()
    # Paging facts are signed too: an altered copy cannot cut the list short unnoticed.
    signature, kid = await runtime.tokens.sign_document(
        session,
        {
            "type": "revocation_list",
            "revoked_sha256": revocation_entries_digest(entries),
            "count": len(entries),
            "since": since_text,
            "cursor": cursor,
            "has_more": has_more,
            "next_cursor": next_cursor,
        },
        REVOCATION_LIST_TTL,
    )
    return {
        "revoked": entries,
        "issued_at": isoformat_ms(issued_at),
        "generated_at": isoformat_ms(issued_at),
        "count": len(entries),
        "signature": signature,
        "kid": kid,
        "has_more": has_more,
        "next_cursor": next_cursor,
        "since": since_text,
    }
