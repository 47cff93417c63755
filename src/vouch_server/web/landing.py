"""``GET /``: a short page for a person who opens the server's address in a browser — what this
server is, and where its API description and public keys are.

Plain HTML, no style or script, so the default Content Security Policy (``default-src 'none'``)
holds unchanged. The page is the same for every caller and says nothing about the deployment
beyond its address and version.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from vouch_server import __version__
from vouch_server.deps import RuntimeDep

router = APIRouter(include_in_schema=False)


def _has_route(request: Request, path: str) -> bool:
    return any(getattr(route, "path", None) == path for route in request.app.routes)


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def landing(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    links = [
        ("/openapi.json", "OpenAPI description of the HTTP API"),
        ("/.well-known/jwks.json", "public keys that sign live proofs (JWKS)"),
        ("/.well-known/jwks-test.json", "public keys of test-mode proofs (never trust in live)"),
        ("/health", "health check"),
    ]
    if _has_route(request, "/docs"):
        links.insert(0, ("/docs", "interactive API documentation"))
    items = "\n".join(
        f'    <li><a href="{href}">{escape(href)}</a> — {escape(what)}</li>' for href, what in links
    )
    issuer = escape(runtime.settings.effective_issuer)
    body = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>vouch</title>
</head>
<body>
  <h1>vouch</h1>
  <p>A self-hosted trust server: it checks that someone controls a phone number, an email
  address, a domain, a wallet or an account, records consent and approvals, and issues signed
  proofs that anyone can verify offline against the keys below.</p>
  <p>Issuer: <code>{issuer}</code> · version {escape(__version__)}</p>
  <ul>
{items}
  </ul>
  <p>Applications call the API under <code>/api/v1</code> with an API key.</p>
</body>
</html>
"""
    return HTMLResponse(body, headers={"Cache-Control": "public, max-age=300"})
