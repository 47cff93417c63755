"""The baseline server of the HTTP benchmarks: a bare FastAPI app on uvicorn doing the least a
proof check can do — read the JSON body, ``jwt.decode`` the token with one known key, answer
JSON. ``VOUCH_BENCH_JWKS`` names a JWKS file; every key in it is accepted by ``kid``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jwt
from fastapi import FastAPI, Request

app = FastAPI()
_KEYS: dict[str, Any] = {}
_ISSUER = os.environ.get("VOUCH_BENCH_ISSUER", "")


def _load() -> None:
    for jwk in json.loads(Path(os.environ["VOUCH_BENCH_JWKS"]).read_text())["keys"]:
        _KEYS[jwk["kid"]] = jwt.PyJWK(jwk)


@app.post("/validate")
async def validate(request: Request) -> dict[str, Any]:
    if not _KEYS:
        _load()
    token = (await request.json())["proof_token"]
    key = _KEYS[jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(token, key.key, algorithms=[key.algorithm_name], issuer=_ISSUER)
    return {"valid": True, "sub": claims["sub"]}
