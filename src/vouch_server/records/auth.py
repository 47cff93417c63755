"""Minka SDK authentication on ``/v2/``: a bearer JWT signed by a registered signer.

``@minka/ledger-sdk`` (``new LedgerSdk({server, ledger, secure: {iss, aud, exp, keyPair}})``)
sends ``Authorization: Bearer <JWT>`` with

    header   {"alg": "EdDSA", "kid": <the signer's public key, base64 raw 32 bytes>}
    payload  {iat, exp, iss, aud, sub, jti?, hsh}

and ``hsh`` = ``sha256_hex(stable_stringify({method, url, body, headers}))`` + ``":x-ledger"`` when
the request carries the ledger header (``BaseClient.buildRequestHash``): the request it was made
for. vouch accepts such a token in place of an API key when every one of these holds:

- ``aud`` names a ledger of this server: ``<project id>.<environment>`` (``proj_….test`` or
  ``proj_….live``); an ``X-Ledger`` header, when present, must say the same;
- ``kid`` is the public key (or the handle) of a signer registered, and active, in that project
  and environment (``/v2/signers``), and the signature verifies under its key (RFC 8037 Ed25519);
- ``iat`` is not in the future and ``exp`` is in the future (60 s leeway each), and the token
  lives at most ``MAX_LIFETIME``;
- ``hsh`` matches this request (method, URL as the client addressed it, JSON body, protected
  headers), so a token cannot be moved to another request;
- it is used once: by its ``jti`` when it has one, and — for a write without ``jti`` — by the
  token itself. A read without ``jti`` may be repeated until it expires: it is bound to that one
  URL by ``hsh`` and changes nothing.

Everything the caller then does is still decided by the signatures on the records (owners,
policies), exactly as with an API key; the JWT only stands in for the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.errors import Unauthorized
from vouch_server.kit.clock import utcnow
from vouch_server.models.records import Record, RecordJwtUse
from vouch_server.records.canonical import UnsafeValue, sha256_hex, stable_stringify
from vouch_server.records.policies import ACTIVE_STATUSES
from vouch_server.tenancy.service import Principal

LEEWAY = 60  # seconds, on iat and exp
MAX_LIFETIME = 3600  # seconds between iat and exp
ENVIRONMENTS = ("test", "live")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and not token.startswith("pk_")


def ledger_handle(project_id: str, environment: str) -> str:
    """The ``aud`` (and ``X-Ledger``) that names a project's records in one environment."""
    return f"{project_id}.{environment}"


def _refuse(reason: str) -> Unauthorized:
    return Unauthorized(f"Invalid signer JWT: {reason}")


def _public_key(public: str) -> Ed25519PublicKey | None:
    """A signer's raw 32-byte Ed25519 key from its base64 text, or None when it is not one."""
    try:
        raw = base64.b64decode(public.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None
    return Ed25519PublicKey.from_public_bytes(raw) if len(raw) == 32 else None


def _scope_of(aud: Any, ledger_header: str | None) -> tuple[str, str]:
    if not isinstance(aud, str):
        raise _refuse("aud must name the ledger")
    if ledger_header is not None and ledger_header != aud:
        raise _refuse("aud and X-Ledger name different ledgers")
    project_id, _, environment = aud.rpartition(".")
    if not project_id or environment not in ENVIRONMENTS:
        raise _refuse("aud must be '<project id>.test' or '<project id>.live'")
    return project_id, environment


async def _request_hash_candidates(request: Request, public_url: str) -> list[str]:
    """What ``hsh`` may be for this request: the SDK hashes the URL it addressed, which is this
    server's address as the client saw it (directly, or the operator's public URL behind a
    proxy)."""
    body: Any = None
    raw = await request.body()
    if raw:
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise _refuse("the body is not JSON, so hsh cannot cover it") from exc
    if isinstance(body, dict | list) and not body:
        body = None
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    urls = dict.fromkeys(
        [str(request.url), public_url.rstrip("/") + target, target]
    )  # ordered, without repeats
    return [_hash_for(request, url, body) for url in urls]


def _hash_for(request: Request, url: str, body: Any) -> str:
    ledger = request.headers.get("x-ledger")
    headers = {"x-ledger": ledger} if ledger is not None else None
    text = stable_stringify(
        {"method": request.method, "url": url, "body": body, "headers": headers}
    )
    return sha256_hex(text) + (":x-ledger" if ledger is not None else "")


async def _spend(session: AsyncSession, key: str, expires: datetime) -> None:
    """Record one use; a second use of the same key (even concurrent) is refused."""
    now = utcnow()
    await session.execute(delete(RecordJwtUse).where(RecordJwtUse.expires_at < now))
    session.add(RecordJwtUse(key=key, expires_at=expires))
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _refuse("this token was already used") from exc


async def authenticate_signer_jwt(
    request: Request, session: AsyncSession, token: str, *, public_url: str
) -> Principal:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise _refuse("malformed") from exc
    if header.get("alg") != "EdDSA":
        raise _refuse("alg must be EdDSA")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _refuse("kid must name the signer (its public key or its handle)")
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise _refuse("malformed") from exc
    project_id, environment = _scope_of(unverified.get("aud"), request.headers.get("x-ledger"))

    # The SDK's kid is the signer's public key, or its handle (``JwtConfig.kid``).
    by_key = _public_key(kid) is not None
    signer = await session.scalar(
        select(Record).where(
            Record.project_id == project_id,
            Record.environment == environment,
            Record.resource == "signers",
            (Record.public if by_key else Record.handle) == kid,
        )
    )
    public_key = _public_key(signer.public or "") if signer is not None else None
    if signer is None or public_key is None or signer.status not in ACTIVE_STATUSES:
        raise _refuse("kid is not an active signer of this ledger")
    kid = str(signer.public)
    try:
        claims = jwt.decode(
            token,
            public_key,
            algorithms=["EdDSA"],
            audience=ledger_handle(project_id, environment),
            leeway=LEEWAY,
            options={"require": ["iat", "exp", "iss", "aud", "hsh"]},
        )
    except jwt.PyJWTError as exc:
        raise _refuse(str(exc)) from exc
    if not isinstance(claims["iss"], str) or not isinstance(claims["hsh"], str):
        raise _refuse("iss and hsh must be strings")
    iat, exp = claims["iat"], claims["exp"]
    if not 0 < exp - iat <= MAX_LIFETIME:
        raise _refuse(f"exp must follow iat by at most {MAX_LIFETIME} s")
    try:
        candidates = await _request_hash_candidates(request, public_url)
    except UnsafeValue as exc:
        raise _refuse("the body cannot be hashed") from exc
    if claims["hsh"] not in candidates:
        raise _refuse("hsh does not match this request")

    expires = datetime.fromtimestamp(exp + LEEWAY, UTC)
    jti = claims.get("jti")
    if jti is not None:
        if not isinstance(jti, str) or not jti:
            raise _refuse("jti must be a string")
        await _spend(session, _use_key("jti", project_id, environment, kid, jti), expires)
    elif request.method in WRITE_METHODS:
        await _spend(session, _use_key("token", project_id, environment, kid, token), expires)
    return Principal(project_id, environment, api_key_id=f"signer:{kid}")


def _use_key(kind: str, *parts: str) -> str:
    return hashlib.sha256("\n".join((kind, *parts)).encode("utf-8")).hexdigest()
