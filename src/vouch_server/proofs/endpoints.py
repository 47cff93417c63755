"""``/api/v1/proofs`` — validate, status, revoke, and the public revocation list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from vouch_server.deps import ApiCaller, RevocationListReader, RuntimeDep, Session
from vouch_server.errors import NotFound
from vouch_server.openapi import documented
from vouch_server.proofs import service
from vouch_server.proofs.fast_path import IDENTIFIER_MAX, TOKEN_MAX
from vouch_server.proofs.responses import (
    ProofRevokedOut,
    ProofStatusOut,
    ProofValidationOut,
    RevocationListOut,
)
from vouch_server.proofs.service import REVOCATION_PAGE_MAX
from vouch_server.signing import status_list

router = APIRouter(prefix="/api/v1/proofs", tags=["proofs"])
status_list_router = APIRouter(tags=["public"])

RevocationReason = Literal["user_request", "fraud", "key_compromise", "asset_transferred", "other"]


class ValidateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    # The same bounds as the fast path's (``fast_path``), which answers most calls of this route.
    proof_token: str = Field(min_length=1, max_length=TOKEN_MAX)
    identifier: str | None = Field(default=None, min_length=1, max_length=IDENTIFIER_MAX)


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    reason: RevocationReason = "user_request"


@router.post("/validate", **documented(ProofValidationOut))
async def validate_proof(
    body: ValidateRequest, session: Session, runtime: RuntimeDep, caller: ApiCaller
) -> JSONResponse:
    answer = await service.validate(
        session, runtime, body.proof_token, body.identifier, environment=caller.environment
    )
    # The answer is plain JSON already (strings, bools, None): sent as it is, without FastAPI's
    # jsonable_encoder walk over every value on the hottest route.
    return JSONResponse(answer)


# What the fast path (``fast_path``) puts in the scope, so metrics and traces name this route.
validate_route = next(
    r for r in router.routes if getattr(r, "path", None) == "/api/v1/proofs/validate"
)


@router.get("/revoked", **documented(RevocationListOut))
async def revocation_list(
    response: Response,
    session: Session,
    runtime: RuntimeDep,
    _reader: RevocationListReader,
    since: datetime | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(gt=0, le=REVOCATION_PAGE_MAX)] = REVOCATION_PAGE_MAX,
) -> dict[str, Any]:
    from vouch_server.kit.clock import parse_instant

    since_utc = parse_instant(since.isoformat()) if since is not None else None
    response.headers["Cache-Control"] = "public, max-age=300"
    return await service.revocation_list(
        session, runtime, since=since_utc, cursor=cursor, limit=limit
    )


@router.get("/{proof_id}/status", **documented(ProofStatusOut))
async def proof_status(proof_id: str, session: Session, caller: ApiCaller) -> dict[str, Any]:
    # A proof id or its public handle (ph_ctl_…); anything else names no proof.
    if service.resolve_handle(proof_id) is None:
        raise NotFound("Proof not found")
    return await service.status(session, caller, proof_id)


@router.post("/{proof_id}/revoke", **documented(ProofRevokedOut))
async def revoke_proof(
    proof_id: str,
    session: Session,
    runtime: RuntimeDep,
    caller: ApiCaller,
    body: RevokeRequest | None = None,
) -> dict[str, Any]:
    if service.resolve_handle(proof_id) is None:
        raise NotFound("Proof not found")
    reason = body.reason if body is not None else "user_request"
    return await service.revoke(session, runtime, caller, proof_id, reason)


@status_list_router.get(
    "/statuslists/{environment}/{list_no}",
    response_class=Response,
    responses={200: {"content": {status_list.MEDIA_TYPE: {}}}},
)
async def status_list_token(
    environment: str, list_no: str, session: Session, runtime: RuntimeDep
) -> Response:
    """A signed Token Status List (draft-ietf-oauth-status-list §5.1, §8.1). One small document
    answers every proof in the list, so it is not rate-limited per IP like other public reads:
    verifiers fetch it once per ``ttl``."""
    if environment not in ("live", "test") or not list_no.isdigit() or len(list_no) > 9:
        raise NotFound("Status list not found")
    body = await runtime.tokens.status_lists.token(
        session, runtime.tokens, environment, int(list_no)
    )
    return Response(
        body,
        media_type=status_list.MEDIA_TYPE,
        headers={
            "Cache-Control": f"public, max-age={runtime.tokens.status_lists.ttl}",
            "Access-Control-Allow-Origin": "*",
        },
    )


# HEAD on its own route, kept out of the OpenAPI description (a two-method route would give both
# operations one operationId).
status_list_router.add_api_route(
    "/statuslists/{environment}/{list_no}",
    status_list_token,
    methods=["HEAD"],
    response_class=Response,
    include_in_schema=False,
)
