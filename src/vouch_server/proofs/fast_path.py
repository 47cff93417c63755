"""``POST /api/v1/proofs/validate`` answered without FastAPI's router (issue 14, P2).

Validation is the route relying parties call on every request they serve, and FastAPI's
machinery around it (matching ~200 routes, solving four dependencies, building a ``Request``,
validating the body model) cost about three times the check itself. This layer sits just inside
the edge layers (request id, body limit, security and rate-limit headers, metrics, the probe
guard all still run) and answers the common case directly with the same code the route calls:
``tenancy.authenticate`` (cached under the revocation epoch), the per-key rate limit and
``proofs.service.validate``, in one unit of work.

Anything out of the ordinary is handed to the route unchanged, its body replayed: another
content type, a body that is not a JSON object or whose fields the route's model would refuse,
a missing or unknown key (the route applies the failed-key limit and answers 401). So every
error a caller can see comes from the one place that writes it, and the fast path can only
ever produce the route's own 200 answer or its 429.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vouch_server.errors import RateLimited
from vouch_server.http import error_response, scope_presented_key
from vouch_server.kit.epoch import current_epoch
from vouch_server.proofs import service
from vouch_server.runtime import Runtime
from vouch_server.tenancy.service import authenticate, cached_principal

PATH = "/api/v1/proofs/validate"
# The route's request model (``endpoints.ValidateRequest``): these bounds must stay the same.
TOKEN_MAX = 8192
IDENTIFIER_MAX = 500


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            media_type = value.partition(b";")[0].strip().lower()
            return bool(media_type == b"application/json")
    return False


def parse_body(raw: bytes) -> tuple[str, str | None] | None:
    """``(proof_token, identifier)`` when the route's model would accept ``raw`` as it is;
    None for anything the route must judge (and word the error for) itself."""
    try:
        body = json.loads(raw)
    except ValueError:  # also UnicodeDecodeError
        return None
    if not isinstance(body, dict):
        return None
    token = body.get("proof_token")
    if not isinstance(token, str) or not 1 <= len(token) <= TOKEN_MAX:
        return None
    identifier = body.get("identifier")
    if identifier is not None and (
        not isinstance(identifier, str) or not 1 <= len(identifier) <= IDENTIFIER_MAX
    ):
        return None
    return token, identifier


class ValidateFastPath:
    def __init__(self, app: ASGIApp, *, runtime: Runtime, route: Any) -> None:
        self.app = app
        self.runtime = runtime
        # The route this layer answers for, put in the scope as the router would, so metrics and
        # traces name its template.
        self.route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != PATH
            or scope["method"] != "POST"
            or not _is_json(scope)
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()  # the edge's receive: the body limit holds
            if message["type"] != "http.request":
                return  # the client left before its body arrived: nobody to answer
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        if not await self._answer(scope, raw, receive, send):
            await self.app(scope, _replay(raw, receive), send)

    async def _answer(self, scope: Scope, raw: bytes, receive: Receive, send: Send) -> bool:
        """Answer the request and return True, or return False with nothing sent."""
        parsed = parse_body(raw)
        key = scope_presented_key(scope)
        if parsed is None or key is None:
            return False
        token, identifier = parsed
        runtime = self.runtime
        # From memory first: one epoch read (no SQL on SQLite), then the key and the proof from
        # the caches filled under that epoch. A unit of work is opened only for what they miss.
        engine = runtime.db.engine
        epoch = await current_epoch(engine)
        principal = cached_principal(engine.sync_engine, key, epoch)
        if principal is None:
            async with runtime.db.session() as session:
                principal = await authenticate(session, key)
            if principal is None:
                return False  # the route counts the failure against the caller's address
        state = await runtime.limiter.hit(
            runtime.settings.rate_limit_api, "key", principal.api_key_id
        )
        scope.setdefault("state", {})["rate_limit"] = state
        scope["route"] = self.route
        response: Response
        if not state.allowed:
            request_id = scope["state"].get("request_id")
            response = error_response(RateLimited(state.retry_after), PATH, request_id)
        else:
            environment = principal.environment
            answer = service.validate_cached(
                runtime, engine.sync_engine, epoch, token, identifier, environment=environment
            )
            if answer is None:
                async with runtime.db.session() as session:
                    answer = await service.validate(
                        session, runtime, token, identifier, environment=environment
                    )
            response = JSONResponse(answer)
        await response(scope, receive, send)
        return True


def _replay(raw: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the route the body already read, then the connection's own."""
    pending: list[Message] = [{"type": "http.request", "body": raw, "more_body": False}]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed
