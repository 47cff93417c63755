"""Signing keys and the JWKS (RFC 7517), with rotation.

Life of a key: it is created and published at once (``/.well-known/jwks.json``), starts signing at
``not_before`` (by default one JWKS cache lifetime later, so verifiers have it before they see
tokens carrying its kid), signs until the next key's ``not_before``, and stays published until the
last token it signed has expired. ``withdrawn_at`` (key compromise) unpublishes it at once.

Private keys are PKCS#8 PEM sealed with AES-256-GCM (``kit.secretbox``), the kid as associated data.
Every process reads the same rows, so a fleet of servers shares keys without a key file to copy.
Key ids follow ``vouch-YYYY-MM-<RFC 7638 thumbprint prefix>``.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from joserfc.jwk import import_key
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vouch.config import Settings
from vouch.kit.clock import utcnow
from vouch.kit.secretbox import SecretBox, derive_key
from vouch.models import Proof, SigningKey

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def _public_key_from_jwk(alg: str, jwk_dict: dict[str, Any]) -> Any:
    text = json.dumps(jwk_dict)
    if alg == "RS256":
        return jwt.algorithms.RSAAlgorithm.from_jwk(text)
    if alg == "ES256":
        return jwt.algorithms.ECAlgorithm.from_jwk(text)
    return jwt.algorithms.OKPAlgorithm.from_jwk(text)


def generate_private_key(alg: str) -> PrivateKey:
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unsupported signing algorithm {alg!r}")


def public_jwk(private_key: PrivateKey) -> dict[str, Any]:
    public = private_key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        data = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        data = jwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        data = jwt.algorithms.OKPAlgorithm.to_jwk(public, as_dict=True)
    return {k: v for k, v in data.items() if k in {"kty", "n", "e", "crv", "x", "y"}}


@dataclass(frozen=True)
class ActiveKey:
    kid: str
    alg: str
    private_key: PrivateKey


@dataclass(frozen=True)
class PublishedKey:
    kid: str
    alg: str
    jwk: dict[str, Any]
    verifier: Any  # cryptography public key, ready for PyJWT


class Keyring:
    """The process's view of the signing keys, reloaded from the database at most every
    ``refresh_seconds`` (or at once when asked for a kid it does not know)."""

    def __init__(self, settings: Settings, refresh_seconds: float = 30.0) -> None:
        self._settings = settings
        self._box = SecretBox(derive_key(settings.master_key, "signing-keys"))
        self._refresh_seconds = refresh_seconds
        self._loaded_at = 0.0
        self._active: ActiveKey | None = None
        self._published: dict[str, PublishedKey] = {}
        self._jwks_body: bytes = b'{"keys":[]}'
        self._private_cache: dict[str, PrivateKey] = {}

    # -- creation and rotation -------------------------------------------------------------
    async def create_key(
        self, session: AsyncSession, *, alg: str | None = None, not_before: datetime | None = None
    ) -> SigningKey:
        alg = alg or self._settings.signing_alg
        private_key = generate_private_key(alg)
        jwk_public = public_jwk(private_key)
        now = utcnow()
        thumb = import_key(jwk_public).thumbprint()  # RFC 7638, base64url
        thumb_hex = base64.urlsafe_b64decode(thumb + "=" * (-len(thumb) % 4)).hex()
        kid = f"vouch-{now:%Y-%m}-{thumb_hex[:12]}"
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        row = SigningKey(
            kid=kid,
            alg=alg,
            public_jwk=jwk_public,
            private_jwk_sealed=self._box.seal(pem, kid.encode()),
            created_at=now,
            not_before=not_before or now,
        )
        session.add(row)
        await session.flush()
        self._loaded_at = 0.0
        return row

    async def ensure_key(self, session: AsyncSession) -> None:
        """Create the first key on a fresh database."""
        existing = await session.scalar(
            select(func.count()).select_from(SigningKey).where(SigningKey.withdrawn_at.is_(None))
        )
        if not existing:
            await self.create_key(session)

    async def rotate(self, session: AsyncSession, *, immediate: bool = False) -> SigningKey:
        lead = 0 if immediate else self._settings.key_publish_lead_seconds
        return await self.create_key(session, not_before=utcnow() + timedelta(seconds=lead))

    async def withdraw(self, session: AsyncSession, kid: str) -> bool:
        row = await session.get(SigningKey, kid)
        if row is None or row.withdrawn_at is not None:
            return False
        row.withdrawn_at = utcnow()
        await session.flush()
        self._loaded_at = 0.0
        return True

    # -- reading -------------------------------------------------------------------------
    async def describe(self, session: AsyncSession) -> list[dict[str, Any]]:
        """Every key with its role, for ``vouch keys list``, oldest first."""
        rows = (await session.scalars(select(SigningKey).order_by(SigningKey.created_at))).all()
        last_exp = await self._last_token_expiry(session)
        now = utcnow()
        active = self._pick_active(rows, now)
        out = []
        for row in rows:
            if row.withdrawn_at is not None:
                role = "withdrawn"
            elif active is not None and row.kid == active.kid:
                role = "signing"
            elif row.not_before > now:
                role = "next"
            elif self._is_published(row, rows, last_exp, now):
                role = "retired (published)"
            else:
                role = "retired"
            out.append(
                {
                    "kid": row.kid,
                    "alg": row.alg,
                    "role": role,
                    "created_at": row.created_at,
                    "not_before": row.not_before,
                    "last_token_expires_at": last_exp.get(row.kid),
                }
            )
        return out

    async def refresh(self, session: AsyncSession, *, force: bool = False) -> None:
        if not force and time.monotonic() - self._loaded_at < self._refresh_seconds:
            return
        rows = (await session.scalars(select(SigningKey).order_by(SigningKey.not_before))).all()
        last_exp = await self._last_token_expiry(session)
        now = utcnow()
        published: dict[str, PublishedKey] = {}
        for row in rows:
            if self._is_published(row, rows, last_exp, now):
                jwk_dict = {**row.public_jwk, "use": "sig", "alg": row.alg, "kid": row.kid}
                published[row.kid] = PublishedKey(
                    row.kid, row.alg, jwk_dict, _public_key_from_jwk(row.alg, row.public_jwk)
                )
        active_row = self._pick_active(rows, now)
        active = None
        if active_row is not None:
            private_key = self._private_cache.get(active_row.kid)
            if private_key is None:
                pem = self._box.open(active_row.private_jwk_sealed, active_row.kid.encode())
                loaded = serialization.load_pem_private_key(pem, password=None)
                if not isinstance(
                    loaded,
                    rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey,
                ):
                    raise TypeError(f"signing key {active_row.kid} has an unsupported type")
                private_key = loaded
                self._private_cache[active_row.kid] = private_key
            active = ActiveKey(active_row.kid, active_row.alg, private_key)
        self._published = published
        self._active = active
        keys = sorted(published.values(), key=lambda k: k.kid != (active.kid if active else ""))
        self._jwks_body = json.dumps(
            {"keys": [k.jwk for k in keys]}, separators=(",", ":")
        ).encode()
        self._loaded_at = time.monotonic()

    async def active(self, session: AsyncSession) -> ActiveKey:
        await self.refresh(session)
        if self._active is None:
            await self.ensure_key(session)
            await self.refresh(session, force=True)
        assert self._active is not None
        return self._active

    async def published_key(self, session: AsyncSession, kid: str) -> PublishedKey | None:
        await self.refresh(session)
        key = self._published.get(kid)
        if key is None:
            await self.refresh(session, force=True)
            key = self._published.get(kid)
        return key

    async def jwks_body(self, session: AsyncSession) -> bytes:
        await self.refresh(session)
        return self._jwks_body

    # -- rules ---------------------------------------------------------------------------
    @staticmethod
    def _pick_active(rows: Any, now: datetime) -> SigningKey | None:
        candidates = [r for r in rows if r.withdrawn_at is None and r.not_before <= now]
        return max(candidates, key=lambda r: (r.not_before, r.created_at), default=None)

    @staticmethod
    def _is_published(
        row: SigningKey, rows: Any, last_exp: dict[str, datetime], now: datetime
    ) -> bool:
        if row.withdrawn_at is not None:
            return False
        successor = any(
            other.withdrawn_at is None
            and other.not_before <= now
            and (other.not_before, other.created_at) > (row.not_before, row.created_at)
            for other in rows
        )
        if not successor:
            return True  # signing now, or waiting to sign
        expiry = last_exp.get(row.kid)
        return expiry is not None and expiry > now

    @staticmethod
    async def _last_token_expiry(session: AsyncSession) -> dict[str, datetime]:
        """When the last token each key signed expires (one index probe per key)."""
        kids = (await session.scalars(select(SigningKey.kid))).all()
        out: dict[str, datetime] = {}
        for kid in kids:
            exp = await session.scalar(select(func.max(Proof.expires_at)).where(Proof.kid == kid))
            if exp is not None:
                out[kid] = exp
        return out
