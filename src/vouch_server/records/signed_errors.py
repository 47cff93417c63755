"""Error responses on ``/v2/`` signed the way Minka's ledger signs them.

Minka's SDK, with ``verifyResponseProofs: true``, checks every response body — errors included —
for ``hash`` and ``meta.proofs`` and a valid proof by the ledger's own signer; a body without them
has its reason replaced by ``crypto.signature-missing``. So an error here is answered as

    {"data": {"reason", "detail", "custom"}, "hash": sha256_hex(stable_stringify(data)),
     "meta": {"proofs": [<system proof, custom {moment, reason, detail}>]}}

The proof's ``custom`` carries the reason and detail, which is where the SDK's
``ProofVerificationClient.error`` reads a signed error from. The envelope itself is still built by
``records.errors.render_minka_error`` wherever the error was raised (a route, the edge's body limit,
the probe guard); this outermost layer only adds the signature, so successful responses pay one
status check and nothing else.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vouch_server.kit.clock import isoformat_ms, utcnow
from vouch_server.records.canonical import UnsafeValue, sha256_hex, stable_stringify
from vouch_server.records.schemas import render_proof
from vouch_server.records.system import system_signer
from vouch_server.runtime import Runtime

log = logging.getLogger(__name__)

PREFIX = "/v2/"


async def sign_error_body(runtime: Runtime, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` (Minka's ``{"data": {...}}``) with ``hash`` and the system signer's proof."""
    data = body["data"]
    hash_ = sha256_hex(stable_stringify(data))
    signer = await system_signer(runtime)
    custom = {"moment": isoformat_ms(utcnow()), "reason": data.get("reason")}
    if isinstance(data.get("detail"), str):
        custom["detail"] = data["detail"]
    proof = signer.sign(hash_, custom)
    return {"data": data, "hash": hash_, "meta": {"proofs": [render_proof(proof)]}}


class SignMinkaErrors:
    def __init__(self, app: ASGIApp, *, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(PREFIX):
            await self.app(scope, receive, send)
            return

        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] < 400:
                    await send(message)
                    return
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await self._send_signed(start, b"".join(chunks), send)

        await self.app(scope, receive, capture)

    async def _send_signed(self, start: Message, raw: bytes, send: Send) -> None:
        body = raw
        try:
            parsed = json.loads(raw)
            data = parsed.get("data") if isinstance(parsed, dict) else None
            if set(parsed) == {"data"} and isinstance(data, dict) and "reason" in data:
                signed = await sign_error_body(self.runtime, parsed)
                body = json.dumps(signed, separators=(",", ":")).encode()
        except (ValueError, UnsafeValue):
            pass
        except Exception:  # an unsigned error is still an answer; never turn it into a crash
            log.warning("records: could not sign an error response", exc_info=True)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
