"""``/v1/verify/*`` — ZeroProof's agent verification endpoints — ``/v1/agents`` (vouch's key
registration, which ZeroProof left undocumented) and the public Web Bot Auth key directory,
``/.well-known/http-message-signatures-directory`` (draft-meunier-http-message-signatures-directory).

Auth is the integrator's API key in ``X-Api-Key`` (``Authorization: Bearer`` works too). Every
error under ``/v1/`` is rendered in ZeroProof's shapes (``vouch_server.agents.errors``), and every request
counts against ZeroProof's limits: 100 a minute per key, bursts of 20 a second.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from vouch_server.agents import httpsig, service
from vouch_server.agents.errors import render_agent_error
from vouch_server.agents.proof import TOKEN_PATTERN
from vouch_server.agents.responses import (
    AgentChallengeOut,
    AgentKeyDirectoryOut,
    AgentListOut,
    AgentOut,
    AgentProofVerifiedOut,
    AgentSessionStatusOut,
    AgentSignatureVerifiedOut,
)
from vouch_server.agents.schemas import (
    AddKey,
    CreateChallenge,
    DepositDirectorySignature,
    RegisterAgent,
    SubmitProof,
    VerifyHttpSignature,
    render_agent,
    render_challenge,
)
from vouch_server.deps import ApiCaller, PublicCaller, RuntimeDep, Session, runtime_of
from vouch_server.errors import RateLimited
from vouch_server.http import SURFACE_RENDERERS
from vouch_server.openapi import documented
from vouch_server.tenancy.service import Principal

if not any(prefix == "/v1/" for prefix, _ in SURFACE_RENDERERS):
    SURFACE_RENDERERS.append(("/v1/", render_agent_error))
    SURFACE_RENDERERS.sort(key=lambda entry: len(entry[0]), reverse=True)


async def _agent_caller(request: Request, principal: ApiCaller) -> Principal:
    """The API caller, held to ZeroProof's per-key limits (two moving windows)."""
    runtime = runtime_of(request)
    settings = runtime.settings
    for rule, scope in (
        (settings.agent_rate_limit_burst, "agents-burst"),
        (settings.agent_rate_limit, "agents"),
    ):
        state = await runtime.limiter.hit(rule, scope, principal.api_key_id)
        # The headers report the last window checked: the per-minute one, ZeroProof's figure.
        request.state.rate_limit = state
        if not state.allowed:
            raise RateLimited(state.retry_after)
    return principal


AgentCaller = Annotated[Principal, Depends(_agent_caller)]

# ``router`` (what app.py mounts) holds the /v1 routes and the directory at the origin's root.
router = APIRouter(tags=["agents"])
v1 = APIRouter(prefix="/v1", tags=["agents"])


# -- ZeroProof: /v1/verify ---------------------------------------------------------------------
@v1.post("/verify/challenge", **documented(AgentChallengeOut))
async def create_challenge(
    body: CreateChallenge, session: Session, caller: AgentCaller
) -> dict[str, Any]:
    challenge = await service.create_challenge(session, caller, body)
    return render_challenge(challenge)


@v1.post("/verify/proof", **documented(AgentProofVerifiedOut))
async def verify_proof(
    body: SubmitProof, session: Session, runtime: RuntimeDep, caller: AgentCaller
) -> dict[str, Any]:
    return await service.submit_proof(session, runtime, caller, body)


@v1.post("/verify/http-signature", **documented(AgentSignatureVerifiedOut))
async def verify_http_signature(
    body: VerifyHttpSignature, session: Session, runtime: RuntimeDep, caller: AgentCaller
) -> dict[str, Any]:
    return await service.verify_http_signature(session, runtime, caller, body)


@v1.get("/verify/status/{session_id}", **documented(AgentSessionStatusOut))
async def verification_status(
    session_id: str, session: Session, caller: AgentCaller
) -> dict[str, Any]:
    return await service.status(session, caller, session_id)


# -- vouch: /v1/agents ---------------------------------------------------------------------------
@v1.post("/agents", **documented(AgentOut, 201))
async def register_agent(
    body: RegisterAgent, session: Session, caller: AgentCaller
) -> dict[str, Any]:
    agent, keys = await service.register_agent(session, caller, body)
    return render_agent(agent, keys)


@v1.get("/agents", **documented(AgentListOut))
async def list_agents(
    session: Session,
    caller: AgentCaller,
    limit: Annotated[int, Query(gt=0, le=100)] = 20,
    cursor: Annotated[str | None, Query(pattern=TOKEN_PATTERN)] = None,
) -> dict[str, Any]:
    rows, has_more = await service.list_agents(session, caller, limit=limit, after=cursor)
    return {
        "data": [render_agent(agent, keys) for agent, keys in rows],
        "has_more": has_more,
        "next_cursor": rows[-1][0].agent_id if has_more and rows else None,
    }


@v1.get("/agents/{agent_id}", **documented(AgentOut))
async def get_agent(agent_id: str, session: Session, caller: AgentCaller) -> dict[str, Any]:
    agent, keys = await service.get_agent(session, caller, agent_id)
    return render_agent(agent, keys)


@v1.delete("/agents/{agent_id}", **documented(AgentOut))
async def delete_agent(agent_id: str, session: Session, caller: AgentCaller) -> dict[str, Any]:
    agent, keys = await service.delete_agent(session, caller, agent_id)
    return render_agent(agent, keys)


@v1.post("/agents/{agent_id}/keys", **documented(AgentOut, 201))
async def add_key(
    agent_id: str, body: AddKey, session: Session, caller: AgentCaller
) -> dict[str, Any]:
    agent, keys = await service.add_key(session, caller, agent_id, body)
    return render_agent(agent, keys)


@v1.delete("/agents/{agent_id}/keys/{kid}", **documented(AgentOut))
async def revoke_key(
    agent_id: str, kid: str, session: Session, caller: AgentCaller
) -> dict[str, Any]:
    agent, keys = await service.revoke_key(session, caller, agent_id, kid)
    return render_agent(agent, keys)


@v1.put("/agents/{agent_id}/keys/{kid}/directory-signature", **documented(AgentOut))
async def deposit_directory_signature(
    agent_id: str,
    kid: str,
    body: DepositDirectorySignature,
    session: Session,
    runtime: RuntimeDep,
    caller: AgentCaller,
) -> dict[str, Any]:
    agent, keys = await service.deposit_directory_signature(
        session, runtime, caller, agent_id, kid, body
    )
    return render_agent(agent, keys)


router.include_router(v1)


# -- Web Bot Auth: the key directory -------------------------------------------------------------
class KeyDirectoryResponse(JSONResponse):
    """The directory's media type, for the description (the handler builds its own Response)."""

    media_type = httpsig.DIRECTORY_MEDIA_TYPE


@router.get(
    httpsig.DIRECTORY_PATH,
    tags=["public"],
    response_class=KeyDirectoryResponse,
    **documented(AgentKeyDirectoryOut),
)
async def key_directory(session: Session, _public: PublicCaller) -> Response:
    """The JWKS of live agents' keys, each signing the response (the directory draft's binding)."""
    jwks, signature_fields = await service.directory(session)
    return Response(
        json.dumps(jwks, separators=(",", ":")),
        media_type=httpsig.DIRECTORY_MEDIA_TYPE,
        headers={
            **signature_fields,
            # Revocation must show soon; the signatures themselves expire on their own.
            "Cache-Control": "public, max-age=300",
            "Access-Control-Allow-Origin": "*",
        },
    )


# HEAD kept out of the OpenAPI description: a two-method route gives both one operationId.
router.add_api_route(
    httpsig.DIRECTORY_PATH, key_directory, methods=["HEAD"], include_in_schema=False
)
