"""Agent proofs: the rules (ZeroProof's "Verify Proof", seed ``002_…``).

A challenge's life:

    pending ──(a proof / signed request that verifies)──────────────► verified
       │──(a proof / signed request that does not verify)──────────► failed
       └──(5 minutes pass; checked on every read)───────────────────► expired

Checks on a proof, in the seed's order: the challenge exists (404), has not expired (400
``Challenge expired``), has not been used (400 ``Challenge already used`` + ``previous_status``),
then the cryptographic check. The outcome is written by one conditional UPDATE
(``WHERE status = 'pending' AND expires_at > now``), so a challenge is used once: of any number of
concurrent proofs, one flips it — to ``verified`` (and one proof token is minted) or ``failed`` —
and the others are told it was already used.

``confidence`` is a constant: see ``CONFIDENCE``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.agents import httpsig, repository
from vouch_server.agents.errors import (
    AgentExists,
    AgentKeyNotFound,
    AgentNotFound,
    ChallengeAlreadyUsed,
    ChallengeExpired,
    ChallengeNotFound,
    InvalidContext,
    InvalidDirectorySignature,
    InvalidPublicKeyError,
    KeyAlreadyRevoked,
    KeyInUse,
    NoActiveKey,
    ProofFailed,
    SessionNotFound,
)
from vouch_server.agents.keys import (
    AgentPublicKey,
    InvalidPublicKey,
    b64url_decode,
    b64url_encode,
    parse_public_key,
)
from vouch_server.agents.proof import (
    CHALLENGE_ID_RE,
    ContextNotCanonical,
    MalformedProof,
    ProofInput,
    context_sha256,
    decode_proof,
    new_challenge_id,
    new_nonce,
)
from vouch_server.agents.schemas import (
    AddKey,
    CreateChallenge,
    DepositDirectorySignature,
    PublicKeyInput,
    RegisterAgent,
    SubmitProof,
    VerifyHttpSignature,
    render_status,
)
from vouch_server.kit.clock import isoformat_ms, truncate_ms, utcnow
from vouch_server.kit.ids import new_object_id
from vouch_server.models.agents import Agent, AgentChallenge, AgentKey
from vouch_server.proofs import service as proofs
from vouch_server.runtime import Runtime
from vouch_server.tenancy.service import Principal

log = logging.getLogger("vouch.agents")

FAMILY = "agent"
TOKEN_TYPE = "agent"  # noqa: S105 -- the proof token's type claim
CHALLENGE_TTL = timedelta(minutes=5)  # the seed's one-time, 5-minute challenge
METHOD_PROOF = "signed-challenge"
METHOD_HTTP_SIGNATURE = "http-message-signature"
METHOD_WEB_BOT_AUTH = "web-bot-auth"
# A Web Bot Auth request names no action; the integrator may pass one.
WEB_BOT_AUTH_ACTION = "request"
# Sessions of Web Bot Auth requests keep, in the nonce column, a value no challenge nonce can be.
WEB_BOT_AUTH_NONCE_PREFIX = "wba:"
DIRECTORY_PARAMS_MAX = 512  # agent_keys.directory_signature_params
# What a successful verification reports as ``confidence``. It is not an estimate and never
# varies: every "verified: true" means the same thing — a valid Ed25519 signature, by a registered
# and unrevoked key of this agent, over this challenge's fresh nonce, action and context. The value
# is 0.99 rather than 1 because ZeroProof's clients read 0.99 as "verified", and because what is
# proven is possession of the key, not that nobody else holds it. Failures carry no confidence.
CONFIDENCE = 0.99


# -- agents and keys ----------------------------------------------------------------------------
async def register_agent(
    session: AsyncSession, principal: Principal, body: RegisterAgent
) -> tuple[Agent, Sequence[AgentKey]]:
    public = _parse_key(body.public_key)
    if await repository.get_agent(session, principal, body.agent_id) is not None:
        raise AgentExists(
            f"Agent '{body.agent_id}' already exists (agent ids are never reused, even after "
            "deletion)"
        )
    await _ensure_key_unused(session, principal, public)
    now = truncate_ms(utcnow())
    agent = Agent(
        id=new_object_id(),
        project_id=principal.project_id,
        environment=principal.environment,
        agent_id=body.agent_id,
        name=body.name,
        created_at=now,
        updated_at=now,
    )
    session.add(agent)
    session.add(_key_row(agent, public, now))
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent registration of the same id or key won
        raise AgentExists(f"Agent '{body.agent_id}' or its key is already registered") from exc
    return agent, await repository.keys_of(session, agent)


async def list_agents(
    session: AsyncSession, principal: Principal, *, limit: int, after: str | None
) -> tuple[list[tuple[Agent, Sequence[AgentKey]]], bool]:
    rows = list(await repository.list_agents(session, principal, after=after, limit=limit + 1))
    has_more = len(rows) > limit
    return [(a, await repository.keys_of(session, a)) for a in rows[:limit]], has_more


async def get_agent(
    session: AsyncSession, principal: Principal, agent_id: str
) -> tuple[Agent, Sequence[AgentKey]]:
    agent = await repository.get_agent(session, principal, agent_id)
    if agent is None:
        raise AgentNotFound(agent_id)
    return agent, await repository.keys_of(session, agent)


async def delete_agent(
    session: AsyncSession, principal: Principal, agent_id: str
) -> tuple[Agent, Sequence[AgentKey]]:
    """Delete (idempotently): every key is revoked, so the agent proves nothing from now on."""
    agent = await repository.get_agent(session, principal, agent_id)
    if agent is None:
        raise AgentNotFound(agent_id)
    now = truncate_ms(utcnow())
    if await repository.mark_agent_deleted(session, agent, now):
        await repository.revoke_keys(session, agent, now)
        await session.refresh(agent)
    return agent, await repository.keys_of(session, agent)


async def add_key(
    session: AsyncSession, principal: Principal, agent_id: str, body: AddKey
) -> tuple[Agent, Sequence[AgentKey]]:
    """Key rotation: add a key; by default the previous keys are revoked in the same step."""
    agent = await _live_agent(session, principal, agent_id)
    public = _parse_key(body.public_key)
    await _ensure_key_unused(session, principal, public)
    now = truncate_ms(utcnow())
    if body.revoke_previous:
        await repository.revoke_keys(session, agent, now)
    session.add(_key_row(agent, public, now))
    try:
        await session.flush()
    except IntegrityError as exc:
        raise KeyInUse("This key is already registered") from exc
    await repository.touch_agent(session, agent, now)
    await session.refresh(agent)
    return agent, await repository.keys_of(session, agent)


async def revoke_key(
    session: AsyncSession, principal: Principal, agent_id: str, kid: str
) -> tuple[Agent, Sequence[AgentKey]]:
    agent = await _live_agent(session, principal, agent_id)
    keys = await repository.keys_of(session, agent)
    key = next((k for k in keys if k.kid == kid), None)
    if key is None:
        raise AgentKeyNotFound(kid)
    now = truncate_ms(utcnow())
    if await repository.revoke_keys(session, agent, now, kid=kid) != 1:
        raise KeyAlreadyRevoked()
    await repository.touch_agent(session, agent, now)
    await session.refresh(agent)
    for row in keys:
        await session.refresh(row)
    return agent, keys


def _parse_key(value: PublicKeyInput) -> AgentPublicKey:
    try:
        return parse_public_key(value)
    except InvalidPublicKey as exc:
        raise InvalidPublicKeyError(str(exc)) from exc


async def _ensure_key_unused(
    session: AsyncSession, principal: Principal, public: AgentPublicKey
) -> None:
    existing = await repository.key_by_kid(session, principal, public.thumbprint)
    if existing is None:
        return
    if existing.revoked_at is not None:
        raise KeyInUse("This key was revoked; a revoked key cannot be registered again")
    raise KeyInUse("This key is already registered to an agent of this project")


def _key_row(agent: Agent, public: AgentPublicKey, now: datetime) -> AgentKey:
    return AgentKey(
        id=new_object_id(),
        agent_pk=agent.id,
        project_id=agent.project_id,
        environment=agent.environment,
        kid=public.thumbprint,
        public_key=public.x,
        created_at=now,
    )


async def _live_agent(session: AsyncSession, principal: Principal, agent_id: str) -> Agent:
    agent = await repository.get_agent(session, principal, agent_id)
    if agent is None or agent.deleted_at is not None:
        raise AgentNotFound(agent_id)
    return agent


# -- challenges -------------------------------------------------------------------------------
async def create_challenge(
    session: AsyncSession, principal: Principal, body: CreateChallenge
) -> AgentChallenge:
    agent = await _live_agent(session, principal, body.agent_id)
    if not await repository.active_keys_of(session, agent.id):
        raise NoActiveKey(
            f"Agent '{agent.agent_id}' has no active key: register one with "
            f"POST /v1/agents/{agent.agent_id}/keys"
        )
    try:
        digest = context_sha256(body.context)
    except ContextNotCanonical as exc:
        raise InvalidContext(
            f"context cannot be canonicalized (RFC 8785): {exc}",
            details=[{"field": "context", "message": str(exc), "code": "invalid_type"}],
        ) from exc
    now = truncate_ms(utcnow())
    challenge = AgentChallenge(
        id=new_challenge_id(),
        project_id=principal.project_id,
        environment=principal.environment,
        agent_pk=agent.id,
        agent_id=agent.agent_id,
        action=body.action,
        context=body.context,
        context_sha256=digest,
        nonce=new_nonce(),
        status="pending",
        created_at=now,
        expires_at=now + CHALLENGE_TTL,
        updated_at=now,
    )
    session.add(challenge)
    await session.flush()
    return challenge


async def status(session: AsyncSession, principal: Principal, session_id: str) -> dict[str, Any]:
    challenge = None
    if CHALLENGE_ID_RE.fullmatch(session_id):
        challenge = await repository.get_challenge(session, principal, session_id)
    if challenge is None:
        raise SessionNotFound()
    now = utcnow()
    if challenge.status == "pending" and challenge.expires_at <= now:
        await repository.expire(session, challenge.id, now)
        await session.refresh(challenge)
    return render_status(challenge, challenge.status)


# -- proofs -----------------------------------------------------------------------------------
async def submit_proof(
    session: AsyncSession, runtime: Runtime, principal: Principal, body: SubmitProof
) -> dict[str, Any]:
    challenge = None
    if CHALLENGE_ID_RE.fullmatch(body.challenge_id):
        challenge = await repository.get_challenge(session, principal, body.challenge_id)
    if challenge is None:
        raise ChallengeNotFound()
    await _ensure_open(session, challenge)
    keys = await _usable_keys(session, challenge)
    try:
        signature = decode_proof(body.proof)
    except MalformedProof:
        await _fail(session, challenge, "Invalid proof format")
    message = ProofInput(
        challenge_id=challenge.id,
        nonce=challenge.nonce,
        agent_id=challenge.agent_id,
        action=challenge.action,
        context_sha256=challenge.context_sha256,
    ).message()
    signer = next((k for k in keys if k.verify(signature, message)), None)
    if signer is None:
        await _fail(
            session,
            challenge,
            "Signature does not verify: wrong key, or signed over another challenge, nonce, "
            "action or context",
        )
    if body.agent_signature is not None:
        # vouch's proof already is the agent's signature; a sent agent_signature must say the
        # same thing (it cannot carry a claim of its own that nobody checked).
        try:
            second = decode_proof(body.agent_signature)
        except MalformedProof:
            await _fail(session, challenge, "Invalid agent_signature format")
        if not signer.verify(second, message):
            await _fail(session, challenge, "agent_signature does not verify")
    return await _complete(
        session, runtime, challenge, kid=signer.thumbprint, method=METHOD_PROOF, claims={}
    )


async def verify_http_signature(
    session: AsyncSession, runtime: Runtime, principal: Principal, body: VerifyHttpSignature
) -> dict[str, Any]:
    """A signed request: challenge-bound when its nonce is a challenge's, else Web Bot Auth."""
    request = httpsig.SignedRequest(body.method, body.url, body.header_lines())
    try:
        params = httpsig.read_params(request)
    except httpsig.SignatureRejected as exc:
        raise ProofFailed(str(exc)) from exc
    challenge = None
    if params.nonce is not None:
        challenge = await repository.get_challenge_by_nonce(session, principal, params.nonce)
    if challenge is None:
        return await _verify_web_bot_auth(
            session, runtime, principal, request, params, body.action or WEB_BOT_AUTH_ACTION
        )
    await _ensure_open(session, challenge)
    keys = await _usable_keys(session, challenge)
    try:
        verified = httpsig.verify_challenge_bound(
            request, {k.thumbprint: k for k in keys}, not_before=challenge.created_at
        )
    except httpsig.SignatureRejected as exc:
        await _fail(session, challenge, str(exc))
    return await _complete(
        session,
        runtime,
        challenge,
        kid=verified.kid,
        method=METHOD_HTTP_SIGNATURE,
        claims={"request": verified.reported()},
    )


async def _verify_web_bot_auth(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    request: httpsig.SignedRequest,
    params: httpsig.SignatureParams,
    action: str,
) -> dict[str, Any]:
    """draft-meunier-web-bot-auth-architecture: the key is found by ``keyid`` alone.

    No challenge exists, so a session is opened for the request and decided at once; a refused
    request leaves nothing behind. A signed ``nonce`` is kept (per project, environment and key)
    so the same nonce is accepted once — the draft's anti-replay; without one, the signature may
    be presented again until it expires, as the draft allows.
    """
    if params.keyid is None:
        raise ProofFailed("The signature has no keyid")
    row = await repository.key_by_kid(session, principal, params.keyid)
    agent = await session.get(Agent, row.agent_pk) if row is not None else None
    if row is None or row.revoked_at is not None or agent is None or agent.deleted_at is not None:
        raise ProofFailed(
            "keyid is not the thumbprint of an active key of an agent of this project"
        )
    public = AgentPublicKey(b64url_decode(row.public_key))
    try:
        verified = httpsig.verify_web_bot_auth(request, {row.kid: public})
    except httpsig.SignatureRejected as exc:
        raise ProofFailed(str(exc)) from exc
    if verified.nonce is None:
        nonce = WEB_BOT_AUTH_NONCE_PREFIX + new_nonce()
    else:
        nonce = _replay_key(principal, row.kid, verified.nonce)
        seen = await repository.get_challenge_by_nonce(session, principal, nonce)
        if seen is not None:
            raise ChallengeAlreadyUsed(seen.status)
    now = truncate_ms(utcnow())
    challenge = AgentChallenge(
        id=new_challenge_id(),
        project_id=principal.project_id,
        environment=principal.environment,
        agent_pk=agent.id,
        agent_id=agent.agent_id,
        action=action,
        context=None,
        context_sha256=context_sha256(None),
        nonce=nonce,
        status="pending",
        created_at=now,
        expires_at=verified.expires,
        updated_at=now,
    )
    session.add(challenge)
    try:
        await session.flush()
    except IntegrityError as exc:  # the same nonce, presented concurrently: one wins
        raise ChallengeAlreadyUsed("verified") from exc
    return await _complete(
        session,
        runtime,
        challenge,
        kid=row.kid,
        method=METHOD_WEB_BOT_AUTH,
        claims={"request": verified.reported()},
    )


def _replay_key(principal: Principal, kid: str, nonce: str) -> str:
    """What a Web Bot Auth nonce is remembered as: one key's nonce in one project and mode."""
    scoped = "\n".join((principal.project_id, principal.environment, kid, nonce))
    digest = hashlib.sha256(scoped.encode("utf-8")).digest()
    return WEB_BOT_AUTH_NONCE_PREFIX + b64url_encode(digest)


# -- the key directory ---------------------------------------------------------------------------
def directory_url(runtime: Runtime) -> str:
    return runtime.settings.public_url.rstrip("/") + httpsig.DIRECTORY_PATH


async def deposit_directory_signature(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    agent_id: str,
    kid: str,
    body: DepositDirectorySignature,
) -> tuple[Agent, Sequence[AgentKey]]:
    """Store the key's own signature of the directory, after checking it; the key is then listed
    in ``/.well-known/http-message-signatures-directory`` (live keys) until it expires."""
    agent = await _live_agent(session, principal, agent_id)
    keys = await repository.keys_of(session, agent)
    key = next((k for k in keys if k.kid == kid), None)
    if key is None:
        raise AgentKeyNotFound(kid)
    if key.revoked_at is not None:
        raise KeyAlreadyRevoked()
    public = AgentPublicKey(b64url_decode(key.public_key))
    try:
        signed = httpsig.verify_directory_signature(
            signature_input=body.signature_input,
            signature=body.signature,
            key=public,
            directory_url=directory_url(runtime),
        )
    except httpsig.SignatureRejected as exc:
        raise InvalidDirectorySignature(str(exc)) from exc
    if signed.expires <= utcnow():
        raise InvalidDirectorySignature("The directory signature has expired")
    if len(signed.params) > DIRECTORY_PARAMS_MAX:
        raise InvalidDirectorySignature("The signature parameters are too long")
    if not await repository.set_directory_signature(
        session, key, params=signed.params, signature=signed.signature, expires_at=signed.expires
    ):
        raise KeyAlreadyRevoked()
    for row in keys:
        await session.refresh(row)
    return agent, keys


async def directory(session: AsyncSession) -> tuple[dict[str, Any], dict[str, str]]:
    """The JWKS of the directory and its ``Signature-Input``/``Signature`` fields.

    Listed: active keys of live agents that have signed the directory and whose signature has
    not expired — each key with the signature that binds it to this directory. A key registered
    in two projects is listed once.
    """
    jwks: list[dict[str, str]] = []
    signatures: list[httpsig.DirectorySignature] = []
    for row in await repository.directory_keys(session, utcnow()):
        if any(k["kid"] == row.kid for k in jwks):
            continue
        if row.directory_signature_params is None or row.directory_signature is None:
            continue
        assert row.directory_signature_expires_at is not None
        jwks.append({**AgentPublicKey(b64url_decode(row.public_key)).jwk, "kid": row.kid})
        signatures.append(
            httpsig.DirectorySignature(
                params=row.directory_signature_params,
                signature=row.directory_signature,
                expires=row.directory_signature_expires_at,
            )
        )
    return {"keys": jwks}, httpsig.directory_signature_fields(signatures)


async def _usable_keys(session: AsyncSession, challenge: AgentChallenge) -> list[AgentPublicKey]:
    agent = await session.get(Agent, challenge.agent_pk)
    if agent is None or agent.deleted_at is not None:
        await _fail(session, challenge, "The agent has been deleted")
    keys = await repository.active_keys_of(session, challenge.agent_pk)
    if not keys:
        await _fail(session, challenge, "The agent has no active key (all revoked)")
    return [AgentPublicKey(b64url_decode(k.public_key)) for k in keys]


async def _ensure_open(session: AsyncSession, challenge: AgentChallenge) -> None:
    """The seed's order: expired first, then already used."""
    now = utcnow()
    if challenge.status == "expired" or challenge.expires_at <= now:
        if challenge.status == "pending":
            await repository.expire(session, challenge.id, now)
        raise ChallengeExpired()
    if challenge.status != "pending":
        raise ChallengeAlreadyUsed(challenge.status)


async def _closed(session: AsyncSession, challenge: AgentChallenge) -> NoReturn:
    """Another request decided this challenge between our read and our update."""
    await session.refresh(challenge)
    await _ensure_open(session, challenge)
    raise ChallengeAlreadyUsed(challenge.status)  # pragma: no cover - _ensure_open raised


async def _fail(session: AsyncSession, challenge: AgentChallenge, reason: str) -> NoReturn:
    reason = reason[:200]
    if await repository.claim(
        session, challenge.id, utcnow(), status="failed", failure_reason=reason
    ):
        log.info(
            "agent proof failed: challenge=%s agent=%s reason=%s",
            challenge.id,
            challenge.agent_id,
            reason,
        )
        raise ProofFailed(reason, keeps_changes=True)
    await _closed(session, challenge)


async def _complete(
    session: AsyncSession,
    runtime: Runtime,
    challenge: AgentChallenge,
    *,
    kid: str,
    method: str,
    claims: dict[str, Any],
) -> dict[str, Any]:
    checked_at = utcnow()
    # Milliseconds, like ``created_at``: whole seconds could put it before the challenge's
    # creation. The token's ``iat`` is its whole second.
    verified_at = truncate_ms(checked_at)
    won = await repository.claim(
        session,
        challenge.id,
        checked_at,
        status="verified",
        verified_at=verified_at,
        method=method,
        key_kid=kid,
        confidence=CONFIDENCE,
    )
    if not won:
        await _closed(session, challenge)
    # The proof id is an ObjectId like every vouch proof's (``/api/v1/proofs/{id}`` takes those);
    # ZeroProof's ``session_id`` (the challenge id) travels as a claim of its own.
    proof_id = new_object_id()
    minted = await runtime.tokens.mint(
        session,
        environment=challenge.environment,
        sub=proof_id,
        type=TOKEN_TYPE,
        lifetime=timedelta(seconds=runtime.settings.agent_proof_lifetime_seconds),
        now=verified_at,
        claims={
            "channel": method,
            "agent_id": challenge.agent_id,
            "action": challenge.action,
            "context_sha256": challenge.context_sha256,
            "agent_key_id": kid,
            "confidence": CONFIDENCE,
            "session_id": challenge.id,
            "verified_at": isoformat_ms(verified_at),
            "user_id": challenge.project_id,
            **claims,
        },
    )
    await repository.attach_proof(session, challenge.id, proof_id)
    await proofs.record(
        session,
        proof_id=proof_id,
        project_id=challenge.project_id,
        environment=challenge.environment,
        family=FAMILY,
        type=TOKEN_TYPE,
        channel=method,
        minted=minted,
        verified_at=verified_at,
    )
    return {
        "verified": True,
        "agent_id": challenge.agent_id,
        "action": challenge.action,
        "confidence": CONFIDENCE,
        "timestamp": isoformat_ms(verified_at),
        "session_id": challenge.id,
        "proof_id": proof_id,
        "proof_token": minted.token,
        "proof_expires_at": isoformat_ms(minted.expires_at),
        "method": method,
        "agent_key_id": kid,
        **claims,
    }


async def _on_proof_revoked(
    session: AsyncSession, _runtime: Runtime, proof_id: str, at: datetime, _reason: str
) -> str | None:
    await repository.mark_proof_revoked(session, proof_id, at)
    return None  # agent challenges have no callback URL of their own


proofs.on_revoked(FAMILY, _on_proof_revoked)
