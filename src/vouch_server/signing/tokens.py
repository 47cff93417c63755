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

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.config import Settings
from vouch_server.kit.clock import utcnow
from vouch_server.signing import status_list
from vouch_server.signing.keys import PURPOSE_PROOF, PURPOSE_STATUS_LIST, Keyring

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

    async def verify(self, session: AsyncSession, token: str) -> VerifiedToken:
        """Signature (by a published *proof* key of either environment), ``iss`` and ``exp``;
        raises ``TokenInvalid`` with the reason."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid("malformed", "Proof token is not a well-formed JWT") from exc
        kid = header.get("kid")
        alg = header.get("alg")
        if not isinstance(kid, str) or alg not in ALLOWED_ALGORITHMS:
            raise TokenInvalid("invalid_signature", "Proof token is not signed by a vouch key")
        key = await self.keyring.published_key(session, kid)
        if key is None or key.alg != alg or key.purpose != PURPOSE_PROOF:
            raise TokenInvalid("invalid_signature", "Proof token is not signed by a vouch key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.verifier,
                algorithms=[key.alg],
                issuer=self.settings.effective_issuer,
                options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenInvalid("expired", "Proof token has expired") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenInvalid("issuer_mismatch", "Proof token was issued by someone else") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenInvalid("invalid_signature", "Proof token signature is invalid") from exc
        except jwt.DecodeError as exc:
            raise TokenInvalid("malformed", "Proof token could not be decoded") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid("malformed", f"Proof token is invalid: {exc}") from exc
        return VerifiedToken(claims, key.environment)


def epoch_to_datetime(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)
