"""HITL end-to-end encryption: the keys a config's owner and its approvers hold, as vouch keeps
them (proof.holdings' envelope, SDK ``proof_sdk.crypto.hitl_crypto``).

The owner's client makes an RSA-4096 keypair and wraps the private key under a password
(PBKDF2-SHA256, AES-256-GCM); vouch is given the public key, the wrapped private key and its
salt (``PUT /api/v1/hitl/{id}/keys``) and hands them back unchanged. Once a config has a keypair,
every confirmation's ``message`` must be a ciphertext envelope made for that key (its ``kid``);
vouch checks the envelope's form — never its content, which it cannot read — stores it as given
and marks the confirmation ``encrypted``. Approvers who enrolled a key of their own
(``approver-keys``) can be given the content key as well (envelope v2, ``approver_ek``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.approval import configs
from vouch_server.approval.schemas import MAX_ENVELOPE
from vouch_server.errors import BadRequest, NotFound, ValidationFailed
from vouch_server.kit.clock import isoformat_ms, truncate_ms, utcnow
from vouch_server.kit.ids import is_object_id
from vouch_server.models.delegation import Authorization, HitlConfig
from vouch_server.models.hitl import HitlApproverKey, HitlKeypair
from vouch_server.tenancy.service import Principal

MESSAGE_ALG = "RSA-OAEP-256+AES-256-GCM"
PRIVATE_KEY_ALG = "PBKDF2-SHA256+AES-256-GCM"
RSA_BITS = 4096
_WRAPPED_KEY_BYTES = RSA_BITS // 8
_IV_BYTES = 12
_TAG_BYTES = 16
_SALT_BYTES = 16
_KID = re.compile(r"^[a-f0-9]{64}$")
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
MAX_PEM = 4_000
MAX_WRAPPED = 16_000
MAX_SMALL = 200


class PutKeys(BaseModel):
    model_config = ConfigDict(extra="ignore")

    public_key: str = Field(min_length=1, max_length=MAX_PEM)
    # The SDK's ``encrypt_private_key`` envelope, as a JSON string (or the object itself).
    encrypted_private_key: str | dict[str, Any]
    kdf_salt: str = Field(min_length=1, max_length=MAX_SMALL)
    wrapped_dek: str | None = Field(default=None, min_length=1, max_length=MAX_WRAPPED)
    dek_iv: str | None = Field(default=None, min_length=1, max_length=MAX_SMALL)
    dek_tag: str | None = Field(default=None, min_length=1, max_length=MAX_SMALL)
    backup_wrapped_dek: str | None = Field(default=None, min_length=1, max_length=MAX_WRAPPED)
    backup_dek_iv: str | None = Field(default=None, min_length=1, max_length=MAX_SMALL)
    backup_dek_tag: str | None = Field(default=None, min_length=1, max_length=MAX_SMALL)


class PutApproverKey(BaseModel):
    model_config = ConfigDict(extra="ignore")

    public_key: str = Field(min_length=1, max_length=MAX_PEM)


def _b64url_len(value: Any) -> int | None:
    if not isinstance(value, str) or not _B64URL.match(value):
        return None
    try:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError):
        return None


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(details=[{"field": field, "message": message, "code": "invalid"}])


def kid_of(public_key_pem: str, field: str = "public_key") -> str:
    """``kid``: hex SHA-256 of the DER SubjectPublicKeyInfo; the key must be RSA-4096."""
    try:
        key = serialization.load_pem_public_key(public_key_pem.encode("utf-8"))
    except (ValueError, TypeError) as exc:
        raise _invalid(field, "Not a PEM-encoded public key") from exc
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size != RSA_BITS:
        raise _invalid(field, f"The key must be an RSA-{RSA_BITS} public key")
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def _private_key_envelope(raw: str | dict[str, Any], kid: str) -> str:
    """The wrapped private key as stored (JSON text); its form and ``kid`` are checked."""
    text = raw if isinstance(raw, str) else json.dumps(raw, separators=(",", ":"))
    if not text or len(text) > MAX_WRAPPED:
        raise _invalid("encrypted_private_key", f"Must be 1 to {MAX_WRAPPED} characters")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _invalid("encrypted_private_key", "Must be the JSON private key envelope") from exc
    ok = (
        isinstance(obj, dict)
        and set(obj) == {"v", "alg", "iv", "ct", "tag", "salt", "kid"}
        and obj["v"] == 1
        and obj["alg"] == PRIVATE_KEY_ALG
        and _b64url_len(obj["iv"]) == _IV_BYTES
        and _b64url_len(obj["tag"]) == _TAG_BYTES
        and _b64url_len(obj["salt"]) == _SALT_BYTES
        and bool(_b64url_len(obj["ct"]))
    )
    if not ok:
        raise _invalid("encrypted_private_key", f"Not a v1 {PRIVATE_KEY_ALG} private key envelope")
    if obj["kid"] != kid:
        raise _invalid("encrypted_private_key", "Its kid is not the public key's")
    return text


def check_message_envelope(message: str, kid: str) -> None:
    """A confirmation message for an encrypted config: a v1 or v2 ciphertext envelope made for
    the config's key. Raises ``ValidationFailed`` (field ``message``) otherwise."""
    if len(message) > MAX_ENVELOPE:
        raise _invalid("message", f"An envelope is at most {MAX_ENVELOPE} characters")
    try:
        obj = json.loads(message)
    except json.JSONDecodeError as exc:
        raise _invalid(
            "message", "This HITL config is end-to-end encrypted: send a ciphertext envelope"
        ) from exc
    if not isinstance(obj, dict) or obj.get("v") not in (1, 2):
        raise _invalid("message", "Not a v1 or v2 ciphertext envelope")
    allowed = {"v", "alg", "ek", "iv", "ct", "tag", "kid"}
    if obj["v"] == 2:
        allowed.add("approver_ek")
    ok = (
        set(obj) == allowed
        and obj["alg"] == MESSAGE_ALG
        and _b64url_len(obj["ek"]) == _WRAPPED_KEY_BYTES
        and _b64url_len(obj["iv"]) == _IV_BYTES
        and _b64url_len(obj["tag"]) == _TAG_BYTES
        and bool(_b64url_len(obj["ct"]))
        and isinstance(obj["kid"], str)
        and bool(_KID.match(obj["kid"]))
    )
    if ok and obj["v"] == 2:
        wrapped = obj["approver_ek"]
        ok = isinstance(wrapped, dict) and all(
            isinstance(k, str) and _b64url_len(v) == _WRAPPED_KEY_BYTES for k, v in wrapped.items()
        )
    if not ok:
        raise _invalid("message", f"Not a {MESSAGE_ALG} ciphertext envelope")
    if obj["kid"] != kid:
        raise _invalid("message", "The envelope was made for another key (kid)")


# -- storage ----------------------------------------------------------------------------------------
async def keypair_of(session: AsyncSession, hitl_id: str) -> HitlKeypair | None:
    return await session.get(HitlKeypair, hitl_id)


async def keypairs_of(session: AsyncSession, ids: Sequence[str]) -> dict[str, HitlKeypair]:
    if not ids:
        return {}
    rows = await session.scalars(select(HitlKeypair).where(HitlKeypair.hitl_id.in_(list(ids))))
    return {k.hitl_id: k for k in rows}


def render_keys(k: HitlKeypair) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hitl_id": k.hitl_id,
        "public_key": k.public_key,
        "kid": k.kid,
        "encrypted_private_key": k.encrypted_private_key,
        "kdf_salt": k.kdf_salt,
    }
    for name in (
        "wrapped_dek",
        "dek_iv",
        "dek_tag",
        "backup_wrapped_dek",
        "backup_dek_iv",
        "backup_dek_tag",
    ):
        body[name] = getattr(k, name)
    body["created_at"] = isoformat_ms(k.created_at)
    body["updated_at"] = isoformat_ms(k.updated_at)
    return body


async def _open_config(session: AsyncSession, principal: Principal, hitl_id: str) -> HitlConfig:
    config = await configs.get(session, principal, hitl_id)
    if config.status == "archived":
        raise BadRequest("This HITL config is archived", code="hitl_archived")
    return config


async def get(session: AsyncSession, principal: Principal, hitl_id: str) -> HitlKeypair:
    config = await configs.get(session, principal, hitl_id)
    keypair = await keypair_of(session, config.id)
    if keypair is None:
        raise NotFound("This HITL config has no encryption keypair", code="keypair_not_found")
    return keypair


async def put(
    session: AsyncSession, principal: Principal, hitl_id: str, body: PutKeys
) -> HitlKeypair:
    """Store (or replace: a key rotation) the config's keypair, exactly as given."""
    config = await _open_config(session, principal, hitl_id)
    kid = kid_of(body.public_key)
    wrapped = _private_key_envelope(body.encrypted_private_key, kid)
    for trio in (
        ("wrapped_dek", "dek_iv", "dek_tag"),
        ("backup_wrapped_dek", "backup_dek_iv", "backup_dek_tag"),
    ):
        given = [getattr(body, name) is not None for name in trio]
        if any(given) and not all(given):
            raise _invalid(trio[0], f"{', '.join(trio)} go together")
    now = truncate_ms(utcnow())
    row = await keypair_of(session, config.id)
    if row is None:
        row = HitlKeypair(hitl_id=config.id, created_at=now)
        session.add(row)
    row.public_key = body.public_key
    row.kid = kid
    row.encrypted_private_key = wrapped
    row.kdf_salt = body.kdf_salt
    for name in (
        "wrapped_dek",
        "dek_iv",
        "dek_tag",
        "backup_wrapped_dek",
        "backup_dek_iv",
        "backup_dek_tag",
    ):
        setattr(row, name, getattr(body, name))
    row.updated_at = now
    config.updated_at = now
    await session.flush()
    return row


async def delete_(session: AsyncSession, principal: Principal, hitl_id: str) -> dict[str, Any]:
    """Remove the keypair: later confirmations are plain text again (earlier ones stay
    ciphertext, readable only with the removed key)."""
    keypair = await get(session, principal, hitl_id)
    await session.execute(delete(HitlKeypair).where(HitlKeypair.hitl_id == keypair.hitl_id))
    await session.flush()
    return {"hitl_id": keypair.hitl_id, "kid": keypair.kid, "deleted": True}


# -- approvers ----------------------------------------------------------------------------------------
def render_approver_key(k: HitlApproverKey) -> dict[str, Any]:
    return {
        "authorization_id": k.authorization_id,
        "public_key": k.public_key,
        "kid": k.kid,
        "created_at": isoformat_ms(k.created_at),
    }


async def approver_keys(
    session: AsyncSession, principal: Principal, hitl_id: str
) -> dict[str, Any]:
    """Enrolled approvers' public keys, for ``encrypt_message_v2`` (authorization id → key).
    Only approvers whose consent still holds are listed."""
    config = await configs.get(session, principal, hitl_id)
    rows = await session.scalars(
        select(HitlApproverKey)
        .join(Authorization, Authorization.id == HitlApproverKey.authorization_id)
        .where(
            HitlApproverKey.hitl_id == config.id,
            Authorization.status == "active",
            Authorization.expires_at > utcnow(),
        )
        .order_by(HitlApproverKey.created_at, HitlApproverKey.authorization_id)
    )
    data = [render_approver_key(k) for k in rows]
    return {
        "hitl_id": config.id,
        "data": data,
        "approver_keys": {k["authorization_id"]: k["public_key"] for k in data},
    }


async def put_approver_key(
    session: AsyncSession,
    principal: Principal,
    hitl_id: str,
    authorization_id: str,
    body: PutApproverKey,
) -> HitlApproverKey:
    """Enroll an approver's public key, for an active consent given to this config."""
    config = await _open_config(session, principal, hitl_id)
    authorization = (
        await session.scalar(
            select(Authorization).where(
                Authorization.id == authorization_id,
                Authorization.project_id == principal.project_id,
                Authorization.environment == principal.environment,
            )
        )
        if is_object_id(authorization_id)
        else None
    )
    if authorization is None:
        raise NotFound("Authorization not found")
    if authorization.hitl_id != config.id:
        raise BadRequest("This authorization was not given for this HITL config", code="wrong_hitl")
    if authorization.status != "active":
        raise BadRequest(
            f"Only an active authorization can enroll a key (status: {authorization.status})",
            code="invalid_status",
        )
    kid = kid_of(body.public_key)
    row = await session.get(HitlApproverKey, (config.id, authorization.id))
    now = truncate_ms(utcnow())
    if row is None:
        row = HitlApproverKey(hitl_id=config.id, authorization_id=authorization.id)
        session.add(row)
    row.public_key = body.public_key
    row.kid = kid
    row.created_at = now
    await session.flush()
    return row
