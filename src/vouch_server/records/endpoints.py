"""``/v2/{resource}…`` — signed records with quorum, wire-compatible with Minka Ledger.

  POST /v2/{resource}                    create (``{data, hash?, meta?: {proofs}}``)
  GET  /v2/{resource}                    list; filters ``meta.status``, ``meta.labels``,
                                         ``data.<field>`` (``.$eq``, ``.$in``); ``limit``, ``index``
  GET  /v2/{resource}/{id}               by luid (``$…``) or handle
  PUT  /v2/{resource}/{id}               new version; ``data.parent`` = current hash
  GET  /v2/{resource}/{id}/changes       every version, hash-chained, with its proofs
  POST /v2/{resource}/{id}/proofs        add one proof (or a list, all or nothing)

Errors on these paths, whoever raises them, render as Minka's ``{"data": {reason, detail,
custom}}`` (``records.errors``). Lists are signed by vouch's ``system`` signer: ``hash`` is the
record hash of ``data`` and ``meta.proofs`` holds the system proof over it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Request

from vouch_server.deps import (
    RuntimeDep,
    Session,
    _api_caller,
    _rate_limit,
    client_ip,
    presented_key,
    runtime_of,
)
from vouch_server.errors import Unauthorized
from vouch_server.http import SURFACE_RENDERERS, json_input_problem
from vouch_server.openapi import authenticates_key, documented
from vouch_server.records import service
from vouch_server.records.auth import authenticate_signer_jwt, looks_like_jwt
from vouch_server.records.errors import BodyMalformed, RecordsError, render_minka_error
from vouch_server.records.repository import ListFilter
from vouch_server.records.responses import RecordChangesOut, RecordEnvelope, RecordListOut
from vouch_server.records.schemas import ProofIn, RecordIn, render_record, render_version
from vouch_server.records.system import system_signer
from vouch_server.tenancy.service import Principal

PREFIX = "/v2/"
if not any(prefix == PREFIX for prefix, _ in SURFACE_RENDERERS):
    SURFACE_RENDERERS.append((PREFIX, render_minka_error))
    SURFACE_RENDERERS.sort(key=lambda entry: len(entry[0]), reverse=True)


@authenticates_key
async def _records_caller(request: Request, session: Session) -> Principal:
    """An API key, or a Minka SDK bearer JWT signed by a registered signer (``records.auth``);
    both are rate limited as API keys are, and failures per IP."""
    token = presented_key(request)
    if not token or not looks_like_jwt(token):
        return await _api_caller(request, session)
    runtime = runtime_of(request)
    settings = runtime.settings
    try:
        principal = await authenticate_signer_jwt(
            request, session, token, public_url=settings.public_url
        )
    except Unauthorized:
        await _rate_limit(
            request, settings.rate_limit_auth_failures, "authfail", client_ip(request)
        )
        raise
    await _rate_limit(request, settings.rate_limit_api, "key", principal.api_key_id)
    request.state.principal = principal
    return principal


ApiCaller = Annotated[Principal, Depends(_records_caller)]


async def _reject_unsafe_json(request: Request, _caller: ApiCaller) -> None:
    """Refuses, as ``api.body-malformed``, a JSON body nested deeper than ``MAX_JSON_DEPTH`` or
    holding a lone surrogate: neither can be hashed (RFC 8785) nor stored, and both used to fail
    deep inside as a 500. Bodies that are not JSON at all are left to FastAPI's own parser. The
    caller is authenticated first (the same, cached dependency as the route's), so a request
    without a key is answered 401 whatever its body."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    try:
        value = await request.json()
    except (ValueError, RecursionError):
        return
    problem = json_input_problem(value)
    if problem is not None:
        raise BodyMalformed(problem, details=[{"field": "body", "message": problem}])


router = APIRouter(prefix="/v2", tags=["records"], dependencies=[Depends(_reject_unsafe_json)])

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
FIELD_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class QueryInvalid(RecordsError):
    code, status, message = "api.query-invalid", 400, "The query string is invalid"


def _query_error(name: str, message: str) -> QueryInvalid:
    return QueryInvalid(message, details=[{"field": name, "message": message}])


# Paging: ``limit``/``index``, or Minka's own ``page.limit``/``page.index`` (what its SDK sends).
PAGING = {"limit", "index", "page.limit", "page.index"}


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        raw = request.query_params.get(f"page.{name}")
        name = f"page.{name}"
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise _query_error(name, f"{name} must be an integer from {low} to {high}")
    return int(raw)


def parse_filters(request: Request) -> ListFilter:
    statuses: list[str] = []
    labels: list[str] = []
    data: list[tuple[list[str], list[str]]] = []
    for key, value in request.query_params.multi_items():
        if key in PAGING:
            continue
        path, op = key, "$eq"
        if key.endswith((".$eq", ".$in")):
            path, op = key[:-4], key[-3:]
        values = value.split(",") if op == "$in" else [value]
        if path == "meta.status":
            statuses.extend(values)
        elif path == "meta.labels" and op == "$eq":
            labels.append(value)
        elif path.startswith("data."):
            parts = path.split(".")[1:]
            if len(parts) > 8 or not all(FIELD_RE.fullmatch(p) for p in parts):
                raise _query_error(key, "data filters name fields with letters, digits, _ and -")
            data.append((parts, values))
        else:
            raise _query_error(
                key, "Filter on meta.status, meta.labels or data.<field> (optionally .$eq/.$in)"
            )
    return ListFilter(statuses=statuses, labels=labels, data=data)


# Examples that exist on every server (the system signer), so a fuzzer's example cases reach 2xx.
Resource = Annotated[str, Path(examples=["signers"])]
RecordId = Annotated[str, Path(examples=["system"])]


@router.post("/{resource}", **documented(RecordEnvelope, 201))
async def create_record(
    resource: str, body: RecordIn, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    system = await system_signer(runtime)
    name = await service.resolve_resource(session, runtime, caller, resource)
    record = await service.create(session, caller, system, name, body)
    view = await service.view(session, record)
    return render_record(view.record, view.proofs, view.transition)


@router.get("/{resource}", **documented(RecordListOut))
async def list_records(
    resource: Resource, request: Request, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    system = await system_signer(runtime)
    name = await service.resolve_resource(session, runtime, caller, resource)
    limit = _int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    index = _int_param(request, "index", 0, 0, 1_000_000)
    rows, has_more = await service.list_(
        session, caller, name, parse_filters(request), index=index, limit=limit
    )
    items = [render_record(v.record, v.proofs, v.transition) for v in rows]
    page = {"index": index, "limit": limit, "hasMore": has_more}
    return {**service.signed_list(system, items, resource=name, page=page), "page": page}


@router.get("/{resource}/{record_id}", **documented(RecordEnvelope))
async def get_record(
    resource: Resource,
    record_id: RecordId,
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
) -> dict[str, Any]:
    system = await system_signer(runtime)
    name = await service.resolve_resource(session, runtime, caller, resource)
    if name == "signers" and record_id in ("system", system.luid):
        return service.system_record(system)
    view = await service.view(session, await service.get(session, caller, name, record_id))
    return render_record(view.record, view.proofs, view.transition)


@router.put("/{resource}/{record_id}", **documented(RecordEnvelope))
async def update_record(
    resource: str,
    record_id: str,
    body: RecordIn,
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
) -> dict[str, Any]:
    system = await system_signer(runtime)
    name = await service.resolve_resource(session, runtime, caller, resource)
    record = await service.update(session, caller, system, name, record_id, body)
    view = await service.view(session, record)
    return render_record(view.record, view.proofs, view.transition)


@router.get("/{resource}/{record_id}/changes", **documented(RecordChangesOut))
async def record_changes(
    resource: str, record_id: str, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> dict[str, Any]:
    system = await system_signer(runtime)
    name = await service.resolve_resource(session, runtime, caller, resource)
    record, versions = await service.changes(session, caller, name, record_id)
    items = [render_version(record, version, proofs) for version, proofs in versions]
    return service.signed_list(system, items, luid=record.luid)


@router.post("/{resource}/{record_id}/proofs", **documented(RecordEnvelope))
async def add_proofs(
    resource: str,
    record_id: str,
    body: Annotated[ProofIn | list[ProofIn], Body()],
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
) -> dict[str, Any]:
    system = await system_signer(runtime)
    name = await service.resolve_resource(session, runtime, caller, resource)
    proofs = [p.to_input() for p in (body if isinstance(body, list) else [body])]
    if not proofs or len(proofs) > 20:
        raise BodyMalformed("Send one proof, or a list of 1 to 20 proofs")
    record = await service.add_proofs(session, runtime, caller, system, name, record_id, proofs)
    view = await service.view(session, record)
    return render_record(view.record, view.proofs, view.transition)
