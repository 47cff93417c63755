"""Proof tokens: JWTs (RFC 7519) signed with the keyring's active key, verified against the
published keys.

Header ``{alg, typ: "JWT", kid}``. Claims common to every family: ``iss``, ``sub`` (the proof id),
``iat``, ``exp``, ``jti``, ``proof_schema_version: "1.0"``, ``type``, ``status`` (the proof's
Token Status List slot, see ``signing.status_list``); each family adds its own.

Test mode is never trust: a proof minted for a ``pk_test_`` key is signed by the *test* proof key
(published only at ``/.well-known/jwks-test.json``) and carries ``test: true``. Its claims are
otherwise in the same format as a live proof's.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_client import jws
from vouch_server.config import Settings
from vouch_server.kit.clock import utcnow
from vouch_server.signing import status_list
from vouch_server.signing.keys import PURPOSE_PROOF, PURPOSE_STATUS_LIST, Keyring, PublishedKey

if TYPE_CHECKING:
    from vouch_server.observability.metrics import Metrics

PROOF_SCHEMA_VERSION = "1.0"
ALLOWED_ALGORITHMS = ["RS256", "ES256", "EdDSA"]


@dataclass(frozen=True)
class MintedToken:
    token: str
    jti: str
    kid: str
    issued_at: datetime
    expires_at: datetime
    status_idx: int | None = None


@dataclass(frozen=True)
class VerifiedToken:
    claims: dict[str, Any]
    environment: str  # of the key that signed it


class TokenInvalid(Exception):
    """Why a token did not verify; ``reason`` is the stable code shown to API clients."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class TokenService:
    def __init__(
        self, settings: Settings, keyring: Keyring, *, metrics: Metrics | None = None
    ) -> None:
        self.settings = settings
        self.keyring = keyring
        self.metrics = metrics
        self.status_lists = status_list.StatusLists(settings)

    async def mint(
        self,
        session: AsyncSession,
        *,
        environment: str,
        sub: str,
        type: str,
        lifetime: timedelta,
        claims: dict[str, Any],
        now: datetime | None = None,
    ) -> MintedToken:
        """Sign a proof for ``environment`` (``live`` or ``test``), with a fresh status slot."""
        if lifetime > self.keyring.max_token_lifetime:
            raise ValueError(f"a proof may live at most {self.keyring.max_token_lifetime}")
        key = await self.keyring.active(session, environment, PURPOSE_PROOF)
        issued = (now or utcnow()).replace(microsecond=0)
        expires = issued + lifetime
        jti = secrets.token_hex(16)
        index = await status_list.allocate_index(session)
        payload = {
            "iss": self.settings.effective_issuer,
            "sub": sub,
            "iat": int(issued.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": jti,
            "proof_schema_version": PROOF_SCHEMA_VERSION,
            "type": type,
            **claims,
            "status": status_list.reference(self.settings, environment, index),
        }
        if environment == "test":
            payload["test"] = True
        token = jwt.encode(
            payload, key.private_key, algorithm=key.alg, headers={"kid": key.kid, "typ": "JWT"}
        )
        if self.metrics is not None:
            self.metrics.proof_event(session, type=type, environment=environment, event="minted")
        return MintedToken(token, jti, key.kid, issued, expires, index)

    async def sign_document(
        self,
        session: AsyncSession,
        claims: dict[str, Any],
        lifetime: timedelta,
        environment: str = "live",
    ) -> tuple[str, str]:
        """Sign a server statement that is not a proof (e.g. a revocation-list page digest)."""
        key = await self.keyring.active(session, environment, PURPOSE_PROOF)
        now = int(utcnow().timestamp())
        payload = {
            "iss": self.settings.effective_issuer,
            "iat": now,
            "exp": now + int(lifetime.total_seconds()),
            **claims,
        }
        token = jwt.encode(
            payload, key.private_key, algorithm=key.alg, headers={"kid": key.kid, "typ": "JWT"}
        )
        return token, key.kid

    async def sign_status_list(
        self, session: AsyncSession, environment: str, claims: dict[str, Any]
    ) -> str:
        """A Status List Token (draft-ietf-oauth-status-list §5.1) with the status-list key."""
        key = await self.keyring.active(session, environment, PURPOSE_STATUS_LIST)
        payload = {"iss": self.settings.effective_issuer, **claims}
        return jwt.encode(
            payload,
            key.private_key,
            algorithm=key.alg,
            headers={"kid": key.kid, "typ": status_list.TOKEN_TYPE},
        )

    async def verify(
        self, session: AsyncSession, token: str, *, now: datetime | None = None
    ) -> VerifiedToken:
        """Signature (by a published *proof* key of either environment), ``iss`` and ``exp``;
        raises ``TokenInvalid`` with the reason.

        The compact JWS is verified by ``vouch_client.jws`` (strict base64url, RFC 7518 parameters
        on ``cryptography``'s primitives), the SDK's own verifier; the claims are checked here
        exactly as PyJWT's ``decode`` checked them before (``check_claims``)."""
        kid, alg = _signing_header(token)
        key = await self.keyring.published_key(session, kid)
        return self._verify_with(token, alg, key, now)

    def verify_cached(self, token: str, *, now: datetime | None = None) -> VerifiedToken | None:
        """``verify`` with the keys in memory: the same outcome, or None when only the database
        can name the key (the loaded set is stale or lacks the ``kid``)."""
        kid, alg = _signing_header(token)
        key = self.keyring.cached_published_key(kid)
        if key is None:
            return None
        return self._verify_with(token, alg, key, now)

    def _verify_with(
        self, token: str, alg: str, key: PublishedKey | None, now: datetime | None
    ) -> VerifiedToken:
        if key is None or key.alg != alg or key.purpose != PURPOSE_PROOF:
            raise TokenInvalid("invalid_signature", "Proof token is not signed by a vouch key")
        try:
            claims = jws.verify_compact(token, key.alg, key.verifier)
        except jws.BadSignature as exc:
            raise TokenInvalid("invalid_signature", "Proof token signature is invalid") from exc
        except jws.MalformedJWS as exc:
            raise TokenInvalid("malformed", "Proof token could not be decoded") from exc
        check_claims(claims, (now or utcnow()).timestamp(), issuer=self.settings.effective_issuer)
        return VerifiedToken(claims, key.environment)


def _signing_header(token: str) -> tuple[str, str]:
    """The ``kid`` and ``alg`` of a proof token's protected header, or ``TokenInvalid``."""
    try:
        header = jws.read_header(token)
    except jws.MalformedJWS as exc:
        raise TokenInvalid("malformed", "Proof token is not a well-formed JWT") from exc
    kid = header.get("kid")
    alg = header.get("alg")
    if kid is not None and not isinstance(kid, str):  # as PyJWT's header check refused it
        raise TokenInvalid("malformed", "Proof token is not a well-formed JWT")
    if not isinstance(kid, str) or alg not in ALLOWED_ALGORITHMS:
        raise TokenInvalid("invalid_signature", "Proof token is not signed by a vouch key")
    return kid, alg


# Seconds of clock difference allowed on exp, nbf and iat (PyJWT's default, which the server
# used before: its own clock both mints and checks, so none is needed).
LEEWAY_SECONDS = 0.0
REQUIRED_CLAIMS = ("exp", "iat", "iss", "sub")


def _numeric_date(claims: dict[str, Any], name: str) -> float:
    value = claims[name]
    # RFC 7519 §2 NumericDate: a finite JSON number (not true, not a numeric string, not the
    # NaN/Infinity Python's json reads and PyJWT's int() refused).
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TokenInvalid("malformed", f"Proof token is invalid: {name} is not a NumericDate")
    return value


def check_claims(
    claims: dict[str, Any], now: float, *, issuer: str, leeway: float = LEEWAY_SECONDS
) -> None:
    """The registered claims of a verified proof token, in the order and with the outcomes of
    PyJWT's ``decode(..., issuer=, options={"require": [exp, iat, iss, sub], "verify_aud":
    False})``: required claims present, ``iat`` and ``nbf`` not in the future, ``exp`` not
    passed, ``iss`` ours, ``sub`` and ``jti`` strings. ``aud`` is not checked (proofs carry
    none)."""
    for name in REQUIRED_CLAIMS:
        if claims.get(name) is None:
            raise TokenInvalid("malformed", f'Proof token is invalid: it has no "{name}" claim')
    if _numeric_date(claims, "iat") > now + leeway:
        raise TokenInvalid("malformed", "Proof token is invalid: it is not yet valid (iat)")
    if "nbf" in claims and _numeric_date(claims, "nbf") > now + leeway:
        raise TokenInvalid("malformed", "Proof token is invalid: it is not yet valid (nbf)")
    if _numeric_date(claims, "exp") <= now - leeway:
        raise TokenInvalid("expired", "Proof token has expired")
    if claims["iss"] != issuer:
        raise TokenInvalid("issuer_mismatch", "Proof token was issued by someone else")
    for name in ("sub", "jti"):
        if name in claims and not isinstance(claims[name], str):
            raise TokenInvalid("malformed", f"Proof token is invalid: {name} is not a string")


def epoch_to_datetime(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)
