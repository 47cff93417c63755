"""Signed records: the rules of creating, updating and signing them (Minka Ledger surface).

Life of a record::

    POST /v2/{resource}           version 1, status "created", owners = its creation signers
    POST …/{id}/proofs            proofs over the current hash; a status changes once its quorum
                                  has signed it, labels change at once; proofs are only appended
    PUT  …/{id}                   version n+1 whose data.parent is version n's hash; proofs restart

Concurrency: every writer of a record first takes its row lock (``repository.lock`` or the
conditional ``repository.advance_version``) and only then reads the state it decides on, so two
proofs for one transition are counted one after the other: the quorum is never skipped and never
applied twice. vouch's ``system`` signer appends its own proof whenever it stores a version or a
status change, stating the status the record has under that hash.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.kit.clock import isoformat_ms, truncate_ms, utcnow
from vouch_server.kit.ids import new_object_id
from vouch_server.models.records import (
    Record,
    RecordProof,
    RecordTransition,
    RecordVersion,
)
from vouch_server.proofs import service as proofs_service
from vouch_server.records import policies as rules
from vouch_server.records import repository
from vouch_server.records.canonical import (
    UnsafeValue,
    check_json_safe,
    record_hash,
    sha256_hex,
    stable_stringify,
)
from vouch_server.records.errors import (
    BodyMalformed,
    Forbidden,
    HashInvalid,
    LabelsPolicyViolation,
    ParentHashInvalid,
    RecordDuplicated,
    RecordNotFound,
    RouteUnknown,
    SignatureInvalid,
    StatusPolicyViolation,
)
from vouch_server.records.schemas import RecordIn, render_proof
from vouch_server.records.signatures import ProofInput, ProofRejected, decode_public, verify_proof
from vouch_server.records.system import SystemSigner
from vouch_server.runtime import Runtime
from vouch_server.tenancy.service import Principal

FAMILY = "record"
PROOF_TYPE = "record_status"

# Built-in resources and their luid prefixes ("$plc." is Minka's own, from its policy vector).
BUILTIN_PREFIXES = {"signers": "sgn", "circles": "cir", "policies": "plc", "resources": "rsc"}
APP_PREFIX = "rec"
RESOURCE_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
HANDLE_RE = re.compile(r"^[^$/\s][^/\s]{0,254}$")
LUID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
RESERVED_SIGNER_HANDLES = frozenset({"system"})


# -- resources ------------------------------------------------------------------------------------
def configured_resources(runtime: Runtime) -> set[str]:
    names = {n.strip() for n in runtime.settings.records_resources.split(",")}
    return {n for n in names if RESOURCE_RE.fullmatch(n) and n not in BUILTIN_PREFIXES}


async def resolve_resource(
    session: AsyncSession, runtime: Runtime, principal: Principal, name: str
) -> str:
    """The resource behind ``/v2/{name}``: built-in, configured server-wide, or declared by the
    project in ``/v2/resources``; anything else is an unknown route."""
    if name in BUILTIN_PREFIXES or name in configured_resources(runtime):
        return name
    if RESOURCE_RE.fullmatch(name):
        declared = await repository.find(session, principal, "resources", name)
        if declared is not None and declared.status in rules.ACTIVE_STATUSES:
            return name
    raise RouteUnknown(f"Unknown resource '{name}'")


def new_luid(resource: str) -> str:
    prefix = BUILTIN_PREFIXES.get(resource, APP_PREFIX)
    return f"${prefix}." + "".join(secrets.choice(LUID_ALPHABET) for _ in range(17))


# -- validation -----------------------------------------------------------------------------------
def _malformed(message: str, field_: str = "data") -> BodyMalformed:
    return BodyMalformed(message, details=[{"field": field_, "message": message}])


def validate_data(resource: str, data: dict[str, Any], *, parent: str | None) -> None:
    try:
        check_json_safe(data, "data")
    except UnsafeValue as exc:
        raise _malformed(exc.message, exc.path) from exc
    handle = data.get("handle")
    if handle is not None and (not isinstance(handle, str) or not HANDLE_RE.fullmatch(handle)):
        raise _malformed(
            "data.handle must be 1-255 characters without '/', whitespace or a leading '$'",
            "data.handle",
        )
    if resource in BUILTIN_PREFIXES and handle is None:
        raise _malformed(f"{resource} records need a data.handle", "data.handle")
    if parent is None and "parent" in data:
        raise _malformed("data.parent names the previous version; a new record has none")
    if resource == "signers":
        public = data.get("public")
        try:
            decode_public(public if isinstance(public, str) else "")
        except ValueError as exc:
            raise _malformed(f"data.public: {exc}", "data.public") from exc
        if data.get("format", "ed25519-raw") != "ed25519-raw":
            raise _malformed("data.format must be 'ed25519-raw'", "data.format")
        if handle in RESERVED_SIGNER_HANDLES:
            raise RecordDuplicated(f"The signer handle '{handle}' is reserved for vouch")
    elif resource == "circles":
        members = data.get("signers", [])
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise _malformed("data.signers must list signer handles or public keys")
    elif resource == "policies":
        try:
            rules.validate_policy(data)
        except rules.PolicyInvalid as exc:
            raise _malformed(str(exc)) from exc
    elif resource == "resources" and (
        not RESOURCE_RE.fullmatch(str(handle)) or handle in BUILTIN_PREFIXES
    ):
        raise _malformed(
            "A resource handle is 2-40 lowercase letters, digits and '-', not a built-in",
            "data.handle",
        )


def _check_custom(custom: dict[str, Any] | None, where: str) -> None:
    if custom is None:
        return
    try:
        check_json_safe(custom, f"{where}.custom")
    except UnsafeValue as exc:
        raise _malformed(exc.message, exc.path) from exc


def _verify_all(proofs: Sequence[ProofInput], record_hash_hex: str) -> None:
    for index, proof in enumerate(proofs):
        _check_custom(proof.custom, f"meta.proofs[{index}]")
        try:
            verify_proof(proof, record_hash_hex)
        except ProofRejected as exc:
            raise SignatureInvalid(str(exc), index=index) from exc


def _envelope(record: Record | None, data: dict[str, Any], **meta: Any) -> dict[str, Any]:
    """What policy filters see: the record as its envelope."""
    base = {
        "status": record.status if record else "created",
        "labels": list(record.labels) if record else [],
        "owners": list(record.owners) if record else [],
    }
    base.update(meta)
    return {
        "luid": record.luid if record else None,
        "hash": record.hash if record else None,
        "data": data,
        "meta": base,
    }


# -- the directory of signers and policies --------------------------------------------------------
@dataclass
class Context:
    """Signers, circles and active policies of the caller's project and environment."""

    directory: rules.Directory
    policies: list[rules.Policy] = field(default_factory=list)


async def load_context(session: AsyncSession, principal: Principal) -> Context:
    rows = await repository.scope_records(session, principal, ["signers", "circles", "policies"])
    signers = [(r.public or "", r.handle, r.status) for r in rows if r.resource == "signers"]
    circles = [
        (r.handle or "", r.status, list(r.data.get("signers", [])))
        for r in rows
        if r.resource == "circles"
    ]
    policies = [
        rules.Policy(r.handle or r.luid, r.data)
        for r in rows
        if r.resource == "policies" and r.status in rules.ACTIVE_STATUSES
    ]
    return Context(rules.Directory.build(signers, circles), policies)


# -- reading --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecordView:
    record: Record
    proofs: Sequence[RecordProof]
    transition: RecordTransition | None


async def get(
    session: AsyncSession, principal: Principal, resource: str, id_or_handle: str
) -> Record:
    record = await repository.find(session, principal, resource, id_or_handle)
    if record is None:
        raise RecordNotFound(f"No record '{id_or_handle}' in {resource}")
    return record


async def view(session: AsyncSession, record: Record) -> RecordView:
    return (await views(session, [record]))[0]


async def views(session: AsyncSession, records: Sequence[Record]) -> list[RecordView]:
    proofs = await repository.current_proofs(session, records)
    transitions = await repository.latest_transitions(session, records)
    return [RecordView(r, proofs[r.id], transitions.get(r.id)) for r in records]


async def list_(
    session: AsyncSession,
    principal: Principal,
    resource: str,
    where: repository.ListFilter,
    *,
    index: int,
    limit: int,
) -> tuple[list[RecordView], bool]:
    rows = await repository.list_records(
        session, principal, resource, where, offset=index * limit, limit=limit + 1
    )
    return await views(session, rows[:limit]), len(rows) > limit


async def changes(
    session: AsyncSession, principal: Principal, resource: str, id_or_handle: str
) -> tuple[Record, list[tuple[RecordVersion, list[RecordProof]]]]:
    record = await get(session, principal, resource, id_or_handle)
    by_hash: dict[str, list[RecordProof]] = {}
    for proof in await repository.all_proofs(session, record.id):
        by_hash.setdefault(proof.hash, []).append(proof)
    return record, [
        (v, by_hash.get(v.hash, [])) for v in await repository.versions(session, record.id)
    ]


def signed_list(system: SystemSigner, items: list[dict[str, Any]], **custom: Any) -> dict[str, Any]:
    """A list as Minka returns one: ``{hash, data, meta: {proofs}}``, signed by ``system``."""
    hash_ = sha256_hex(stable_stringify(items))
    proof = system.sign(hash_, {"moment": isoformat_ms(utcnow()), **custom})
    return {"hash": hash_, "data": items, "meta": {"proofs": [render_proof(proof)]}}


def system_record(system: SystemSigner) -> dict[str, Any]:
    """``GET /v2/signers/system``: vouch's signer, self-signed, so clients can pin its key."""
    data = {"handle": "system", "public": system.public, "format": "ed25519-raw"}
    hash_ = record_hash(data)
    proof = system.sign(hash_, {"status": "active"})
    return {
        "luid": system.luid,
        "hash": hash_,
        "data": data,
        "meta": {
            "proofs": [render_proof(proof)],
            "status": "active",
            "labels": [],
            "owners": [system.public],
            "moment": isoformat_ms(system.created_at),
        },
    }


# -- writing --------------------------------------------------------------------------------------
def _append(record: Record, proof: ProofInput, now: datetime) -> RecordProof:
    record.proof_count += 1
    return RecordProof(
        id=new_object_id(),
        record_id=record.id,
        seq=record.proof_count,
        hash=record.hash,
        method=proof.method,
        public=proof.public,
        digest=proof.digest,
        result=proof.result,
        custom=proof.custom,
        created_at=now,
    )


def _system_proof(system: SystemSigner, record: Record, now: datetime, **extra: Any) -> ProofInput:
    custom = {"luid": record.luid, "moment": isoformat_ms(now), "status": record.status, **extra}
    return system.sign(record.hash, custom)


def _known_signers(
    proofs: Sequence[ProofInput], directory: rules.Directory, *, self_key: str | None = None
) -> None:
    for proof in proofs:
        if proof.public != self_key and not directory.is_active(proof.public):
            raise Forbidden("The proof's signer is unknown or not active", public=proof.public)


def _refuse_system_key(data: dict[str, Any], resource: str, system: SystemSigner) -> None:
    # vouch's own key never becomes a project's signer: its attestations must not turn into votes.
    if resource == "signers" and data.get("public") == system.public:
        raise RecordDuplicated("This public key is vouch's system signer")


async def create(
    session: AsyncSession,
    principal: Principal,
    system: SystemSigner,
    resource: str,
    body: RecordIn,
) -> Record:
    data = body.data
    validate_data(resource, data, parent=None)
    hash_ = record_hash(data)
    if body.hash is not None and body.hash != hash_:
        raise HashInvalid(expected=hash_)
    proofs = [p.to_input() for p in body.meta.proofs]
    _verify_all(proofs, hash_)
    context = await load_context(session, principal)
    # A new signer may sign its own record: that proves it holds the key it registers.
    self_key = data["public"] if resource == "signers" else None
    _refuse_system_key(data, resource, system)
    _known_signers(proofs, context.directory, self_key=self_key)
    create_rules = rules.access_rules(context.policies, "create", resource, _envelope(None, data))
    if create_rules and not any(
        rules.granted(create_rules, p.public, context.directory) for p in proofs
    ):
        # Open unless whitelisted: once an access policy speaks about creating these records,
        # one of the record's signers must be granted it.
        raise Forbidden(f"No signer of this record may create {resource}")

    now = truncate_ms(utcnow())
    record = Record(
        id=new_object_id(),
        project_id=principal.project_id,
        environment=principal.environment,
        resource=resource,
        luid=new_luid(resource),
        handle=data.get("handle"),
        public=self_key,
        hash=hash_,
        data=data,
        status="created",
        labels=[],
        owners=list(dict.fromkeys(p.public for p in proofs)),
        version=1,
        proof_count=0,
        status_seq=0,
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    await _flush_unique(session)
    session.add(
        RecordVersion(
            id=new_object_id(),
            record_id=record.id,
            version=1,
            hash=hash_,
            data=data,
            created_at=now,
        )
    )
    for proof in [*proofs, _system_proof(system, record, now)]:
        session.add(_append(record, proof, now))
    record.status_seq = record.proof_count
    await session.flush()
    return record


async def _flush_unique(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        # Handles (and signer keys) are unique per project and environment; the index decides
        # races between concurrent creators.
        raise RecordDuplicated() from exc


async def update(
    session: AsyncSession,
    principal: Principal,
    system: SystemSigner,
    resource: str,
    id_or_handle: str,
    body: RecordIn,
) -> Record:
    record = await get(session, principal, resource, id_or_handle)
    data = body.data
    parent = data.get("parent")
    if not isinstance(parent, str) or parent != record.hash:
        raise ParentHashInvalid(current=record.hash)
    validate_data(resource, data, parent=parent)
    hash_ = record_hash(data)
    if body.hash is not None and body.hash != hash_:
        raise HashInvalid(expected=hash_)
    proofs = [p.to_input() for p in body.meta.proofs]
    _verify_all(proofs, hash_)
    _refuse_system_key(data, resource, system)
    now = truncate_ms(utcnow())
    try:
        advanced = await repository.advance_version(
            session,
            record.id,
            parent=parent,
            new_hash=hash_,
            data=data,
            handle=data.get("handle"),
            public=data.get("public") if resource == "signers" else None,
            now=now,
        )
    except IntegrityError as exc:
        raise RecordDuplicated() from exc
    if not advanced:
        # Another update won the race for this parent.
        raise ParentHashInvalid()
    await session.refresh(record)
    context = await load_context(session, principal)
    _known_signers(proofs, context.directory)
    envelope = _envelope(record, data)
    update_rules = rules.access_rules(context.policies, "update", resource, envelope)
    if not any(
        p.public in record.owners or rules.granted(update_rules, p.public, context.directory)
        for p in proofs
    ):
        raise Forbidden("An update must be signed by an owner or a signer granted 'update'")
    session.add(
        RecordVersion(
            id=new_object_id(),
            record_id=record.id,
            version=record.version,
            hash=hash_,
            data=data,
            created_at=now,
        )
    )
    for proof in [*proofs, _system_proof(system, record, now, version=record.version)]:
        session.add(_append(record, proof, now))
    record.status_seq = record.proof_count
    await session.flush()
    return record


# -- proofs ---------------------------------------------------------------------------------------
def _votes(proofs: Sequence[RecordProof], system_public: str) -> dict[str, str]:
    """Each signer's latest status request (proofs in order); the system signer never votes."""
    votes: dict[str, str] = {}
    for proof in proofs:
        status = (proof.custom or {}).get("status")
        if proof.public != system_public and isinstance(status, str):
            votes[proof.public] = status
    return votes


@dataclass
class _Decision:
    status: str | None = None
    rule_members: bool = False  # the signer is named by a quorum for the requested status
    labels: list[str] | None = None


async def add_proofs(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    system: SystemSigner,
    resource: str,
    id_or_handle: str,
    proofs: Sequence[ProofInput],
) -> Record:
    record = await get(session, principal, resource, id_or_handle)
    for index, proof in enumerate(proofs):
        _check_custom(proof.custom, f"proofs[{index}]")
    # Lock first, then read: everything below sees the record as no concurrent writer can change it.
    if not await repository.lock(session, record.id):
        raise RecordNotFound(f"No record '{id_or_handle}' in {resource}")
    await session.refresh(record)
    context = await load_context(session, principal)
    for index, proof in enumerate(proofs):
        await _add_one(session, runtime, principal, system, context, record, proof, index)
    await session.flush()
    return record


async def _add_one(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    system: SystemSigner,
    context: Context,
    record: Record,
    proof: ProofInput,
    index: int,
) -> None:
    try:
        verify_proof(proof, record.hash)
    except ProofRejected as exc:
        raise SignatureInvalid(str(exc), index=index, hash=record.hash) from exc
    if await repository.has_proof(session, record.id, proof.public, proof.digest):
        # The very same signature again (a retry, or a replay of an old vote): it is already in
        # the trail, and must not count a second time.
        return
    directory = context.directory
    if not directory.is_active(proof.public):
        raise Forbidden("The proof's signer is unknown or not active", public=proof.public)

    envelope = _envelope(record, record.data)
    decision = _Decision()
    custom = proof.custom or {}
    requested = custom.get("status")
    status_rules: list[rules.StatusRule] = []
    if requested is not None:
        if not isinstance(requested, str) or not rules.STATUS_RE.fullmatch(requested):
            raise _malformed("custom.status must be a status name", "custom.status")
        policies = rules.applicable(context.policies, "status", record.resource, envelope)
        if policies:
            status_rules = rules.status_rules(policies, requested)
            if not status_rules:
                raise StatusPolicyViolation(
                    f"No status policy allows status '{requested}'",
                    requested=requested,
                    policies=[p.handle for p in policies],
                )
            open_rule = any(rule.quorum is None for rule in status_rules)
            decision.rule_members = any(
                proof.public in rule.eligible(directory) for rule in status_rules
            )
            if not open_rule and not decision.rule_members:
                raise Forbidden(
                    f"The signer is not in the quorum for status '{requested}'",
                    public=proof.public,
                )
        decision.status = requested

    owner = proof.public in record.owners
    proof_rules = rules.access_rules(context.policies, "proof", record.resource, envelope)
    permitted = owner or rules.granted(proof_rules, proof.public, directory)
    if not permitted and not (decision.status is not None and decision.rule_members):
        raise Forbidden("The signer may not add proofs to this record", public=proof.public)

    if "labels" in custom:
        if not permitted:
            raise Forbidden("Only owners and granted signers may change labels")
        try:
            new_labels, added = rules.apply_labels(record.labels, custom["labels"])
        except rules.PolicyInvalid as exc:
            raise _malformed(str(exc), "custom.labels") from exc
        label_policies = rules.applicable(context.policies, "labels", record.resource, envelope)
        if label_policies:
            allowed = rules.allowed_labels(label_policies)
            refused = [label for label in added if label not in allowed]
            if refused:
                raise LabelsPolicyViolation(
                    f"Labels not allowed by policy: {', '.join(refused)}",
                    labels=refused,
                    policies=[p.handle for p in label_policies],
                )
        decision.labels = new_labels

    now = truncate_ms(utcnow())
    session.add(_append(record, proof, now))
    if decision.labels is not None and decision.labels != record.labels:
        record.labels = decision.labels
        await repository.replace_labels(session, record.id, decision.labels)
    record.updated_at = now
    if decision.status is None or decision.status == record.status:
        return
    await session.flush()
    votes = _votes(
        await repository.proofs_since(session, record.id, record.hash, record.status_seq),
        system.public,
    )
    if not status_rules:
        agreeing: list[str] | None = [proof.public]  # no status policy: open, one signer suffices
    else:
        agreeing = None
        for rule in status_rules:
            agreeing = rules.quorum_reached(rule, votes, decision.status, directory)
            if agreeing:
                break
    if agreeing:
        await _transition(session, runtime, principal, system, record, decision.status, agreeing)


async def _transition(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    system: SystemSigner,
    record: Record,
    status: str,
    signers: list[str],
) -> None:
    """The status changes: mint the proof token, and the system signer attests the change."""
    now = utcnow().replace(microsecond=0)
    previous = record.status
    transition_id = new_object_id()
    minted = await runtime.tokens.mint(
        session,
        environment=record.environment,
        sub=transition_id,
        type=PROOF_TYPE,
        lifetime=timedelta(days=runtime.settings.records_status_proof_days),
        now=now,
        claims={
            "record": {"luid": record.luid, "resource": record.resource, "handle": record.handle},
            "hash": record.hash,
            "record_status": status,
            "previous_status": previous,
            "signers": signers,
            "verified_at": isoformat_ms(now),
            "user_id": record.project_id,
        },
    )
    session.add(
        RecordTransition(
            id=transition_id,
            record_id=record.id,
            hash=record.hash,
            from_status=previous,
            to_status=status,
            signers=signers,
            token=minted.token,
            issued_at=minted.issued_at,
            expires_at=minted.expires_at,
        )
    )
    await proofs_service.record(
        session,
        proof_id=transition_id,
        project_id=principal.project_id,
        environment=principal.environment,
        family=FAMILY,
        type=PROOF_TYPE,
        channel=None,
        minted=minted,
        verified_at=now,
    )
    record.status = status
    session.add(_append(record, _system_proof(system, record, now, signers=signers), now))
    # Votes for the next change start after this one.
    record.status_seq = record.proof_count


async def _on_proof_revoked(
    session: AsyncSession, runtime: Runtime, proof_id: str, at: datetime, reason: str
) -> str | None:
    """A status proof token was revoked: the transition says so; the record keeps its status."""
    await repository.mark_transition_revoked(session, proof_id, at, reason)
    return None


proofs_service.on_revoked(FAMILY, _on_proof_revoked)
