"""Signing keys and the JWKS (RFC 7517), with rotation, key purposes and validity windows.

Keys come in two *environments* and two *purposes*:

- ``live`` keys are published at ``/.well-known/jwks.json``; ``test`` keys only at
  ``/.well-known/jwks-test.json``. A token minted with a ``pk_test_`` key is signed by a test key,
  so a verifier holding the production key set cannot accept it.
- ``proof`` keys sign proof tokens; ``status-list`` keys sign Token Status Lists
  (draft-ietf-oauth-status-list §5.1). Each published JWK says which in ``proof_purpose``, with
  its signing window ``not_before``/``not_after`` and ``max_token_lifetime`` (epoch seconds and
  seconds) — the members proof.holdings' offline verifiers read to apply their rotation rules.

Life of a key: it is created and published at once, starts signing at ``not_before`` (by default
one JWKS cache lifetime later, so verifiers have it before they see tokens carrying its kid) and
signs until ``not_after``. The window is fixed at creation (``key_signing_window_days``) and only
ever narrowed — a rotation narrows the old key's ``not_after`` to its successor's ``not_before``
— because verifiers refuse a key set that widens a window they have seen. Before a window ends a
successor is created on its own. A key stays published until the last token it signed has
expired. ``withdrawn_at`` (key compromise) unpublishes it at once and lists it in
``proof_tombstones`` (``{kid, revoked_at}``) for a year, so verifiers answer ``key_revoked``.

Private keys are PKCS#8 PEM sealed with AES-256-GCM (``kit.secretbox``), the kid as associated data.
Every process reads the same rows, so a fleet of servers shares keys without a key file to copy.
Key ids follow ``vouch-YYYY-MM-<RFC 7638 thumbprint prefix>`` (test keys: ``vouch-test-…``).
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

from vouch_server.config import Settings
from vouch_server.kit.clock import utcnow
from vouch_server.kit.secretbox import SecretBox, derive_key
from vouch_server.models import Proof, SigningKey

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

ENVIRONMENTS = ("live", "test")
PURPOSE_PROOF = "proof"
PURPOSE_STATUS_LIST = "status-list"
PURPOSES = (PURPOSE_PROOF, PURPOSE_STATUS_LIST)
# How long a withdrawn key stays listed as a tombstone (proof.holdings' verifiers keep one a year).
TOMBSTONE_RETENTION = timedelta(days=365)
# Status list tokens live this long at most; a status-list key stays published this long after
# its window ends.
STATUS_LIST_TOKEN_LIFETIME = timedelta(minutes=10)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


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
    environment: str = "live"
    purpose: str = PURPOSE_PROOF
    not_after: datetime | None = None


@dataclass(frozen=True)
class PublishedKey:
    kid: str
    alg: str
    jwk: dict[str, Any]
    verifier: Any  # cryptography public key, ready for PyJWT
    environment: str = "live"
    purpose: str = PURPOSE_PROOF


class Keyring:
    """The process's view of the signing keys, reloaded from the database at most every
    ``refresh_seconds`` (or at once when asked for a kid it does not know)."""

    def __init__(self, settings: Settings, refresh_seconds: float = 30.0) -> None:
        self._settings = settings
        self._box = SecretBox(derive_key(settings.master_key, "signing-keys"))
        self._refresh_seconds = refresh_seconds
        self._loaded_at = 0.0
        self._active: dict[tuple[str, str], ActiveKey] = {}
        self._published: dict[str, PublishedKey] = {}
        self._jwks_body: dict[str, bytes] = {env: b'{"keys":[]}' for env in ENVIRONMENTS}
        self._private_cache: dict[str, PrivateKey] = {}

    @property
    def signing_window(self) -> timedelta:
        return timedelta(days=self._settings.key_signing_window_days)

    @property
    def max_token_lifetime(self) -> timedelta:
        return timedelta(days=self._settings.max_token_lifetime_days)

    def _not_after(self, row: SigningKey) -> datetime:
        return row.not_after or row.not_before + self.signing_window

    # -- creation and rotation -------------------------------------------------------------
    async def create_key(
        self,
        session: AsyncSession,
        *,
        alg: str | None = None,
        not_before: datetime | None = None,
        environment: str = "live",
        purpose: str = PURPOSE_PROOF,
    ) -> SigningKey:
        if environment not in ENVIRONMENTS or purpose not in PURPOSES:
            raise ValueError(f"unknown key environment/purpose {environment!r}/{purpose!r}")
        alg = alg or self._settings.signing_alg
        private_key = generate_private_key(alg)
        jwk_public = public_jwk(private_key)
        now = utcnow()
        thumb = import_key(jwk_public).thumbprint()  # RFC 7638, base64url
        thumb_hex = base64.urlsafe_b64decode(thumb + "=" * (-len(thumb) % 4)).hex()
        prefix = "vouch" if environment == "live" else "vouch-test"
        kid = f"{prefix}-{now:%Y-%m}-{thumb_hex[:12]}"
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        start = (not_before or now).replace(microsecond=0)
        row = SigningKey(
            kid=kid,
            alg=alg,
            environment=environment,
            purpose=purpose,
            public_jwk=jwk_public,
            private_jwk_sealed=self._box.seal(pem, kid.encode()),
            created_at=now,
            not_before=start,
            not_after=start + self.signing_window,
        )
        session.add(row)
        await session.flush()
        self._loaded_at = 0.0
        return row

    async def ensure_key(self, session: AsyncSession) -> None:
        """Create a signing key for every environment and purpose that has none usable now."""
        rows = (await session.scalars(select(SigningKey))).all()
        now = utcnow()
        for environment in ENVIRONMENTS:
            for purpose in PURPOSES:
                group = [r for r in rows if r.environment == environment and r.purpose == purpose]
                if self._pick_active(group, now) is None:
                    await self.create_key(session, environment=environment, purpose=purpose)

    async def rotate(
        self,
        session: AsyncSession,
        *,
        immediate: bool = False,
        environment: str = "live",
        purpose: str = PURPOSE_PROOF,
    ) -> SigningKey:
        """Create the next key of a group; the current key's window ends where the next begins."""
        lead = 0 if immediate else self._settings.key_publish_lead_seconds
        start = (utcnow() + timedelta(seconds=lead)).replace(microsecond=0)
        rows = await self._group(session, environment, purpose)
        for row in rows:
            if row.withdrawn_at is None and self._not_after(row) > start:
                # Narrowed, never widened; a key not yet signing ends before it starts.
                row.not_after = max(min(self._not_after(row), start), row.not_before)
        await session.flush()
        return await self.create_key(
            session, not_before=start, environment=environment, purpose=purpose
        )

    async def withdraw(self, session: AsyncSession, kid: str) -> bool:
        row = await session.get(SigningKey, kid)
        if row is None or row.withdrawn_at is not None:
            return False
        row.withdrawn_at = utcnow()
        await session.flush()
        self._loaded_at = 0.0
        return True

    async def _group(
        self, session: AsyncSession, environment: str, purpose: str
    ) -> list[SigningKey]:
        return list(
            (
                await session.scalars(
                    select(SigningKey).where(
                        SigningKey.environment == environment, SigningKey.purpose == purpose
                    )
                )
            ).all()
        )

    # -- reading -------------------------------------------------------------------------
    async def describe(self, session: AsyncSession) -> list[dict[str, Any]]:
        """Every key with its role, for ``vouch keys list``, oldest first."""
        rows = (await session.scalars(select(SigningKey).order_by(SigningKey.created_at))).all()
        last_exp = await self._last_token_expiry(session)
        now = utcnow()
        out = []
        for row in rows:
            group = [
                r for r in rows if r.environment == row.environment and r.purpose == row.purpose
            ]
            active = self._pick_active(group, now)
            if row.withdrawn_at is not None:
                role = "withdrawn"
            elif active is not None and row.kid == active.kid:
                role = "signing"
            elif row.not_before > now:
                role = "next"
            elif self._is_published(row, last_exp, now):
                role = "retired (published)"
            else:
                role = "retired"
            out.append(
                {
                    "kid": row.kid,
                    "alg": row.alg,
                    "environment": row.environment,
                    "purpose": row.purpose,
                    "role": role,
                    "created_at": row.created_at,
                    "not_before": row.not_before,
                    "not_after": self._not_after(row),
                    "withdrawn_at": row.withdrawn_at,
                    "last_token_expires_at": last_exp.get(row.kid),
                }
            )
        return out

    async def refresh(self, session: AsyncSession, *, force: bool = False) -> None:
        if not force and time.monotonic() - self._loaded_at < self._refresh_seconds:
            return
        rows = (await session.scalars(select(SigningKey).order_by(SigningKey.not_before))).all()
        now = utcnow()
        if await self._schedule_successors(session, rows, now):
            rows = (await session.scalars(select(SigningKey).order_by(SigningKey.not_before))).all()
        last_exp = await self._last_token_expiry(session)
        published: dict[str, PublishedKey] = {}
        tombstones: dict[str, list[dict[str, Any]]] = {env: [] for env in ENVIRONMENTS}
        for row in rows:
            if row.withdrawn_at is not None:
                if row.withdrawn_at + TOMBSTONE_RETENTION > now:
                    tombstones[row.environment].append(
                        {"kid": row.kid, "revoked_at": _epoch(row.withdrawn_at)}
                    )
                continue
            if self._is_published(row, last_exp, now):
                jwk_dict = {
                    **row.public_jwk,
                    "use": "sig",
                    "alg": row.alg,
                    "kid": row.kid,
                    "proof_purpose": row.purpose,
                    "not_before": _epoch(row.not_before),
                    "not_after": _epoch(self._not_after(row)),
                    "max_token_lifetime": int(self._lifetime_cap(row.purpose).total_seconds()),
                }
                published[row.kid] = PublishedKey(
                    row.kid,
                    row.alg,
                    jwk_dict,
                    _public_key_from_jwk(row.alg, row.public_jwk),
                    row.environment,
                    row.purpose,
                )
        actives: dict[tuple[str, str], ActiveKey] = {}
        for environment in ENVIRONMENTS:
            for purpose in PURPOSES:
                group = [r for r in rows if r.environment == environment and r.purpose == purpose]
                active_row = self._pick_active(group, now)
                if active_row is not None:
                    actives[(environment, purpose)] = ActiveKey(
                        active_row.kid,
                        active_row.alg,
                        self._private_key(active_row),
                        environment,
                        purpose,
                        self._not_after(active_row),
                    )
        self._published = published
        self._active = actives
        signing = {key.kid for key in actives.values()}
        for environment in ENVIRONMENTS:
            keys = sorted(
                (k for k in published.values() if k.environment == environment),
                key=lambda k: (k.kid not in signing, k.purpose, k.kid),
            )
            document: dict[str, Any] = {"keys": [k.jwk for k in keys]}
            if tombstones[environment]:
                document["proof_tombstones"] = tombstones[environment]
            self._jwks_body[environment] = json.dumps(document, separators=(",", ":")).encode()
        self._loaded_at = time.monotonic()

    def _private_key(self, row: SigningKey) -> PrivateKey:
        private_key = self._private_cache.get(row.kid)
        if private_key is None:
            pem = self._box.open(row.private_jwk_sealed, row.kid.encode())
            loaded = serialization.load_pem_private_key(pem, password=None)
            if not isinstance(
                loaded, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
            ):
                raise TypeError(f"signing key {row.kid} has an unsupported type")
            private_key = loaded
            self._private_cache[row.kid] = private_key
        return private_key

    async def _schedule_successors(self, session: AsyncSession, rows: Any, now: datetime) -> bool:
        """Create the next key of any group whose signing key's window ends within the publish
        lead and that has no successor yet, so rotation happens without an operator."""
        lead = timedelta(seconds=self._settings.key_publish_lead_seconds)
        created = False
        for environment in ENVIRONMENTS:
            for purpose in PURPOSES:
                group = [r for r in rows if r.environment == environment and r.purpose == purpose]
                active = self._pick_active(group, now)
                if active is None:
                    continue
                ends = self._not_after(active)
                if ends - now > lead:
                    continue
                if any(r.withdrawn_at is None and r.not_before > active.not_before for r in group):
                    continue
                await self.create_key(
                    session, not_before=max(ends, now), environment=environment, purpose=purpose
                )
                created = True
        return created

    async def active(
        self, session: AsyncSession, environment: str = "live", purpose: str = PURPOSE_PROOF
    ) -> ActiveKey:
        await self.refresh(session)
        key = self._active.get((environment, purpose))
        if key is None or (key.not_after is not None and key.not_after <= utcnow()):
            await self.ensure_key(session)
            await self.refresh(session, force=True)
            key = self._active.get((environment, purpose))
        assert key is not None
        return key

    async def published_key(self, session: AsyncSession, kid: str) -> PublishedKey | None:
        await self.refresh(session)
        key = self._published.get(kid)
        if key is None:
            await self.refresh(session, force=True)
            key = self._published.get(kid)
        return key

    def cached_published_key(self, kid: str) -> PublishedKey | None:
        """``published_key`` from memory alone: the key while the loaded set is fresh and holds
        it; None when only the database can tell (stale set, unknown kid)."""
        if time.monotonic() - self._loaded_at >= self._refresh_seconds:
            return None
        return self._published.get(kid)

    async def jwks_body(self, session: AsyncSession, environment: str = "live") -> bytes:
        await self.refresh(session)
        return self._jwks_body[environment]

    # -- rules ---------------------------------------------------------------------------
    def _lifetime_cap(self, purpose: str) -> timedelta:
        if purpose == PURPOSE_STATUS_LIST:
            return STATUS_LIST_TOKEN_LIFETIME
        return self.max_token_lifetime

    def _pick_active(self, rows: Any, now: datetime) -> SigningKey | None:
        candidates = [
            r for r in rows if r.withdrawn_at is None and r.not_before <= now < self._not_after(r)
        ]
        return max(candidates, key=lambda r: (r.not_before, r.created_at), default=None)

    def _is_published(self, row: SigningKey, last_exp: dict[str, datetime], now: datetime) -> bool:
        if row.withdrawn_at is not None:
            return False
        if now < self._not_after(row):
            return True  # signing now, or waiting to sign
        if row.purpose == PURPOSE_STATUS_LIST:
            return now < self._not_after(row) + STATUS_LIST_TOKEN_LIFETIME
        expiry = last_exp.get(row.kid)
        return expiry is not None and expiry > now

    @staticmethod
    async def _last_token_expiry(session: AsyncSession) -> dict[str, datetime]:
        """When the last token each key signed expires (one index probe per key)."""
        kids = (
            await session.scalars(select(SigningKey.kid).where(SigningKey.purpose == PURPOSE_PROOF))
        ).all()
        out: dict[str, datetime] = {}
        for kid in kids:
            exp = await session.scalar(select(func.max(Proof.expires_at)).where(Proof.kid == kid))
            if exp is not None:
                out[kid] = exp
        return out
