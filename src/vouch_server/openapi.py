"""The OpenAPI document as the server really behaves, and a local Swagger UI.

FastAPI's generated document says every operation may answer ``422`` with its own
``HTTPValidationError``; vouch never sends that: a body or parameter that does not validate gets
``400`` with vouch's error envelope (``errors.py``). This module rewrites the generated document
once, at first request:

- ``422`` is replaced by ``400`` and every error status an operation can answer is declared with
  the one ``Error`` schema: ``400`` for writes, ``401``, ``403`` and ``429`` for keyed operations, ``404``
  where the path or a keyed call's body names an object, ``409`` for keyed writes, ``413``
  where there is a body (the body-size limit), ``429`` for every rate-limited operation; event
  streams and the CSV export declare their media types;
- ``securitySchemes`` for the two ways to present a key (``Authorization: Bearer`` and
  ``X-API-Key``), and ``security`` on exactly the operations whose dependencies authenticate a
  key (found by walking each route's dependency tree, not by path);
- the document is served at ``/openapi.json`` and, as proof.holdings serves it, at
  ``/api/openapi.json``.

``/docs`` is Swagger UI from the ``swagger-ui-bundle`` wheel, served from this origin (no CDN) under
a CSP with no inline script: the page loads its initializer from ``/docs/static/vouch-init.js``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel
from starlette.staticfiles import StaticFiles

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Error",
    "description": "vouch's error envelope, on every error of every /api/v1 operation.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable, machine-readable reason."},
                "message": {"type": "string", "description": "For people; may change."},
                "details": {
                    "type": "array",
                    "description": "One entry per field that failed validation.",
                    "items": {"type": "object", "additionalProperties": True},
                },
                "request_id": {"type": "string"},
            },
            "additionalProperties": True,
        }
    },
}
SECURITY_SCHEMES: dict[str, Any] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key (pk_test_… or pk_live_…) as a bearer token.",
    },
    "apiKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "The same API key in the X-API-Key header.",
    },
}
_DESCRIPTIONS = {
    "400": "The request is malformed or a field is invalid (details name each).",
    "401": "No API key, or one that is unknown or revoked.",
    "403": "This key may not do this (a test-mode operation with a live key, another project's object).",
    "404": "No such object for this key's project and environment.",
    "409": "The object is not in a state that allows this.",
    "413": "The body is larger than this operation accepts.",
    "429": "Rate limited; Retry-After says when to try again.",
}
_WRITES = {"post", "put", "patch", "delete"}
# Operations whose 200 is (also) something other than JSON.
_OTHER_CONTENT = {
    ("/api/v1/authorizations/export", "get"): "text/csv",
    ("/.well-known/http-message-signatures-directory", "get"): (
        "application/http-message-signatures-directory+json"
    ),
}
_STREAM = "text/event-stream"


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


KEY_MARK = "__vouch_authenticates_key__"


F = TypeVar("F", bound=Callable[..., Any])


def authenticates_key(fn: F) -> F:
    """Mark a dependency that requires an API key (its operations get ``security``)."""
    setattr(fn, KEY_MARK, True)
    return fn


def keyed_operations(app: FastAPI) -> set[tuple[str, str]]:
    """(path, method) of every operation that authenticates an API key."""
    out: set[tuple[str, str]] = set()
    for context in routing.iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, routing.APIRoute):
            continue
        if any(getattr(call, KEY_MARK, False) for call in _calls(route.dependant)):
            for method in context.methods or ():
                out.add((str(context.path_format), method.lower()))
    return out


class EventStreamResponse(StreamingResponse):
    """A Server-Sent Events stream (``response_class=`` so the document names its media type)."""

    media_type = "text/event-stream"


def documented(
    model: type[BaseModel], status: int = 200, description: str = "OK"
) -> dict[str, Any]:
    """Route keyword arguments that document ``model`` as the operation's ``status`` answer.

    Documentation only: the handler's own dict is sent as it is (``response_model=None``), so
    no validation or re-serialisation is added to a hot path. schemathesis's
    ``response_schema_conformance`` (``tests/http/test_schemathesis.py``) checks that what is sent
    matches what is documented. Use as ``@router.get(path, **documented(Model))``.
    """
    return {
        "response_model": None,
        "status_code": status,
        "responses": {status: {"model": model, "description": description}},
    }


def bare_responses(spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(method, path, status) of every 2xx JSON answer documented only as "some object"."""
    out = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for status, answer in op.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                for media, content in answer.get("content", {}).items():
                    schema = content.get("schema") or {}
                    if (
                        "json" in media
                        and "$ref" not in schema
                        and not schema.get("properties")
                        and not schema.get("items")
                        and not schema.get("anyOf")
                        and not schema.get("oneOf")
                    ):
                        out.append((method, path, status))
    return out


def _error(status: str, envelope: bool) -> dict[str, Any]:
    if not envelope:  # /v1, /v2 and /verify/v0 answer in their originals' own error formats
        return {"description": _DESCRIPTIONS[status] + " (in this surface's own error format)"}
    return {
        "description": _DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def rewrite(spec: dict[str, Any], keyed: set[tuple[str, str]]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Error"] = ERROR_SCHEMA
    components["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            had_validation = responses.pop("422", None) is not None
            ok = responses.get("200")
            extra = _STREAM if path.endswith("/events") else _OTHER_CONTENT.get((path, method))
            if ok is not None and extra is not None:
                schema = {"type": "object"} if extra.endswith("+json") else {"type": "string"}
                # A route that documents its own schema under this media type keeps it.
                ok.setdefault("content", {}).setdefault(extra, {"schema": schema})
            statuses = []
            # A write may read its body raw (the location and agent surfaces do), so each one
            # can answer 400 whether or not FastAPI saw a body model.
            if had_validation or "requestBody" in operation or method in _WRITES:
                statuses.append("400")
            if (path, method) in keyed:
                operation["security"] = [{"bearerAuth": []}, {"apiKeyHeader": []}]
                statuses += ["401", "403", "429"]
            # An object named in the path, or in the body of a keyed call (hitl_id, agent_id…).
            if "{" in path or (path, method) in keyed:
                statuses.append("404")
            if method in _WRITES and (path, method) in keyed:
                statuses.append("409")
            if "requestBody" in operation:
                statuses.append("413")
            if path.startswith("/api/v1") and "429" not in statuses:
                statuses.append("429")
            envelope = path.startswith("/api/v1")
            for status in statuses:
                responses.setdefault(status, _error(status, envelope))
    return spec


SWAGGER_DIR = Path(__import__("swagger_ui_bundle").swagger_ui_path)
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vouch API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css">
</head><body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/static/vouch-init.js"></script>
</body></html>
"""
_INIT = 'window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});\n'
# Swagger UI sets inline styles on its own elements and draws icons from data: URIs; it runs no
# inline script and talks only to this origin.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


def install(app: FastAPI) -> None:
    cached: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if "spec" not in cached:
            generated = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            cached["spec"] = rewrite(generated, keyed_operations(app))
        spec: dict[str, Any] = cached["spec"]
        return spec

    app.openapi = openapi  # type: ignore[method-assign]

    async def document() -> JSONResponse:
        return JSONResponse(openapi())

    async def docs() -> HTMLResponse:
        return HTMLResponse(_PAGE, headers={"Content-Security-Policy": DOCS_CSP})

    async def init() -> Response:
        return Response(_INIT, media_type="text/javascript")

    # Added after every router, so these never shadow an API route.
    app.add_api_route("/api/openapi.json", document, methods=["GET"], include_in_schema=False)
    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)
    app.add_api_route("/docs/static/vouch-init.js", init, methods=["GET"], include_in_schema=False)
    app.mount("/docs/static", StaticFiles(directory=SWAGGER_DIR), name="swagger-ui")
