"""The "verified person" cookie: which verifications this browser completed on vouch's hosted
pages, so that Smart Reuse can let the same person complete a later request's asset from a proof
they already hold (``vouch_server.requests.reuse``).

It is the only evidence of "the same person" vouch accepts for reuse: an integrator's API call
cannot produce it (it is HttpOnly on vouch's origin and signed with a key only vouch holds), so
reuse is never granted on the integrator's word. The value is ``<payload>.<mac>``: the payload a
base64url JSON object ``{"v": [verification ids], "t": issued (Unix seconds)}``, the mac
HMAC-SHA256 (RFC 2104) of it under a key derived from the master secret (HKDF purpose
``verify-person``, apart from the page's CSRF and challenge-cookie key). A cookie whose mac does
not match, that is older than ``MAX_AGE`` or that does not parse names nobody.

``SameSite=Lax`` keeps it off cross-site POSTs (the reuse form and endpoint are POSTs), ``Secure``
whenever vouch is served over https, ``Path=/`` so that the hosted pages and the page's JSON
reads (``/api/v1/verify/request/…``) both see it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable
from datetime import timedelta

from fastapi import Request, Response

from vouch_server.kit.clock import utcnow
from vouch_server.kit.ids import is_object_id
from vouch_server.kit.secretbox import derive_key
from vouch_server.runtime import Runtime

COOKIE = "vouch_person"
MAX_AGE = timedelta(days=30)
MAX_IDS = 20  # the newest completions are kept; a cookie stays far below 4 KB


def _key(runtime: Runtime) -> bytes:
    key = runtime.extras.get("verify_person_key")
    if not isinstance(key, bytes):
        key = derive_key(runtime.settings.master_key, "verify-person")
        runtime.extras["verify_person_key"] = key
    return key


def _mac(runtime: Runtime, payload: str) -> str:
    digest = hmac.new(_key(runtime), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def completed_ids(runtime: Runtime, request: Request) -> list[str]:
    """The verifications this browser completed, newest first; empty for a missing, forged or
    stale cookie."""
    raw = request.cookies.get(COOKIE, "")
    payload, _, signature = raw.rpartition(".")
    if not payload or not hmac.compare_digest(signature, _mac(runtime, payload)):
        return []
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("t"), int):
        return []
    age = utcnow().timestamp() - data["t"]
    if age < -300 or age > MAX_AGE.total_seconds():
        return []
    ids = data.get("v")
    if not isinstance(ids, list):
        return []
    return [i for i in ids if isinstance(i, str) and is_object_id(i)][:MAX_IDS]


def value(runtime: Runtime, ids: Iterable[str]) -> str:
    data = {"v": list(dict.fromkeys(ids))[:MAX_IDS], "t": int(utcnow().timestamp())}
    payload = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    text = payload.decode().rstrip("=")
    return f"{text}.{_mac(runtime, text)}"


def secure(runtime: Runtime, request: Request) -> bool:
    if request.url.scheme == "https":
        return True
    local = request.url.hostname in ("127.0.0.1", "localhost", "::1")
    return runtime.settings.public_url.startswith("https://") and not local


def remember(
    runtime: Runtime, request: Request, response: Response, new_ids: Iterable[str]
) -> None:
    """Add verifications this browser has just completed to its cookie (newest first)."""
    fresh = [i for i in new_ids if is_object_id(i)]
    if not fresh:
        return
    known = completed_ids(runtime, request)
    response.set_cookie(
        COOKIE,
        value(runtime, [*reversed(fresh), *known]),
        max_age=int(MAX_AGE.total_seconds()),
        path="/",
        secure=secure(runtime, request),
        httponly=True,
        samesite="lax",
    )
