"""``/verify/v0/…`` — Astral's location verification API (seed ``004_…``).

  POST /verify/v0/stamp    a stamp's internal validity
  POST /verify/v0/proof    a claim + stamps → CredibilityVector (+ EAS attestations with chainId)
  GET  /verify/v0/plugins  the plugins this server verifies

Errors on these paths, ours and the shared ones, are RFC 9457 problem details (``problems``).
Bodies are read and parsed here rather than by FastAPI so that signatures are checked over the
JSON exactly as sent and each kind of bad input gets its own problem type (``schemas``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response

from vouch_server.deps import RuntimeDep, Session
from vouch_server.http import SURFACE_RENDERERS, json_input_problem
from vouch_server.location import canonical, service
from vouch_server.location.auth import LocationCaller
from vouch_server.location.problems import InvalidInput, render_problem
from vouch_server.location.responses import (
    LocationPluginsOut,
    LocationProofOut,
    LocationStampCheckOut,
)
from vouch_server.location.schemas import parse_proof_request, parse_stamp_request
from vouch_server.openapi import documented

PREFIX = "/verify/v0"

if not any(prefix == PREFIX + "/" for prefix, _ in SURFACE_RENDERERS):
    SURFACE_RENDERERS.append((PREFIX + "/", render_problem))
    SURFACE_RENDERERS.sort(key=lambda entry: -len(entry[0]))  # longest prefix first

router = APIRouter(prefix=PREFIX, tags=["location"])


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        value = canonical.parse(raw)
    except (ValueError, RecursionError):
        raise InvalidInput(
            "The request body is not valid JSON", instance=request.url.path
        ) from None
    # A lone surrogate parses, but no stamp holding one can be canonicalized or signed over.
    # (The depth was checked by ``parse``; the walk is needed only where a surrogate can be.)
    if canonical.may_hold_lone_surrogate(raw):
        problem = json_input_problem(value, max_depth=canonical.MAX_DEPTH + 1)
        if problem is not None:
            raise InvalidInput(
                f"The request body is not valid JSON: {problem}", instance=request.url.path
            )
    return value


@router.post("/stamp", **documented(LocationStampCheckOut))
async def verify_stamp(request: Request, _caller: LocationCaller) -> dict[str, Any]:
    body = await _json_body(request)
    parse_stamp_request(body, request.url.path)
    return await asyncio.to_thread(service.verify_stamp, body["stamp"], request.url.path)


@router.post("/proof", **documented(LocationProofOut))
async def verify_proof(
    request: Request, session: Session, runtime: RuntimeDep, caller: LocationCaller
) -> Response:
    body = await _json_body(request)
    parsed = parse_proof_request(body, request.url.path)
    verified = await service.verify_proof(
        session,
        runtime,
        caller,
        proof=body["proof"],
        options=parsed.options,
        instance=request.url.path,
    )
    return Response(verified.encode(), media_type="application/json")


@router.get("/plugins", **documented(LocationPluginsOut))
async def list_plugins(_caller: LocationCaller) -> dict[str, Any]:
    return service.list_plugins()
