"""Exceptions raised by the verifier and the API clients."""

from __future__ import annotations

from typing import Any

import httpx

__all__ = [
    "AuthenticationError",
    "BadRequest",
    "ClaimMismatch",
    "Conflict",
    "IdentifierMismatch",
    "InvalidSignature",
    "IssuerMismatch",
    "JWKSUnavailable",
    "MalformedProof",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "ProofExpired",
    "ProofInvalid",
    "ProofRevoked",
    "ProofTooOld",
    "RateLimited",
    "RevocationListUnavailable",
    "ServerError",
    "TransportError",
    "UnknownKey",
    "VouchError",
]


def _rebuild(cls: type[Exception], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Exception:
    """Unpickle an exception whose constructor takes keyword arguments."""
    return cls(*args, **kwargs)


# --------------------------------------------------------------------------- verifier


class ProofInvalid(Exception):
    """The proof token must not be trusted.

    ``reason`` is a stable machine-readable string, the same vocabulary the
    server uses in ``POST /api/v1/proofs/validate`` responses.
    """

    reason: str = "invalid"

    def __init__(self, message: str = "", *, reason: str | None = None) -> None:
        if reason is not None:
            self.reason = reason
        super().__init__(message or self.reason)

    @property
    def message(self) -> str:
        return str(self.args[0])


class MalformedProof(ProofInvalid):
    """The token is not a well-formed vouch proof (bad encoding, missing claims)."""

    reason = "malformed"


class InvalidSignature(ProofInvalid):
    """The signature does not verify, or the algorithm is not acceptable."""

    reason = "invalid_signature"


class UnknownKey(ProofInvalid):
    """The token's ``kid`` is not in the issuer's key set."""

    reason = "unknown_key"


class ProofExpired(ProofInvalid):
    """The ``exp`` claim has passed."""

    reason = "expired"


class IssuerMismatch(ProofInvalid):
    """The ``iss`` claim is not the expected issuer."""

    reason = "issuer_mismatch"


class ProofRevoked(ProofInvalid):
    """The proof appears in the issuer's signed revocation list."""

    reason = "revoked"

    def __init__(
        self,
        message: str = "",
        *,
        revoked_at: str | None = None,
        revoked_reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.revoked_at = revoked_at
        self.revoked_reason = revoked_reason

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {"revoked_at": self.revoked_at, "revoked_reason": self.revoked_reason}
        return (_rebuild, (type(self), (self.message,), kwargs))


class ProofSuspended(ProofRevoked):
    """The proof's slot in the issuer's Token Status List says *suspended*."""

    reason = "suspended"


class EnvironmentMismatch(ProofInvalid):
    """A test-mode proof met a live verifier (``reason == "test_proof"``), or the reverse
    (``reason == "live_proof"``). A test proof proves nothing about a real person."""

    reason = "test_proof"


class KeyRevoked(ProofInvalid):
    """The key that signed the token was withdrawn by the issuer (a JWKS tombstone)."""

    reason = "key_revoked"


class WrongKeyPurpose(ProofInvalid):
    """The signing key is published for another purpose (e.g. ``status-list``)."""

    reason = "wrong_key_purpose"


class OutsideKeyWindow(ProofInvalid):
    """``iat`` lies outside the signing key's ``not_before``/``not_after`` window."""

    reason = "outside_key_window"


class TokenLifetimeExceeded(ProofInvalid):
    """``exp`` lies beyond ``iat`` plus the signing key's ``max_token_lifetime``."""

    reason = "token_lifetime_exceeded"


class ClaimMismatch(ProofInvalid):
    """A claim (``type`` or ``channel``) differs from the expected value.

    ``reason`` is ``"<claim>_mismatch"``, e.g. ``"type_mismatch"``.
    """

    reason = "claim_mismatch"

    def __init__(self, claim: str, expected: str, actual: str | None) -> None:
        super().__init__(
            f"expected {claim} {expected!r}, got {actual!r}", reason=f"{claim}_mismatch"
        )
        self.claim = claim
        self.expected = expected
        self.actual = actual

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.claim, self.expected, self.actual))


class ProofTooOld(ProofInvalid):
    """The proof was issued longer ago than the requested ``max_age``."""

    reason = "too_old"


class IdentifierMismatch(ProofInvalid):
    """The proof was not issued for the given identifier."""

    reason = "identifier_mismatch"


class RevocationListUnavailable(Exception):
    """The revocation list could not be fetched or did not verify.

    Raised instead of accepting a proof whose revocation status is unknown
    (fail closed). Retry later, or construct the verifier with
    ``check_revocation=False`` if that trade-off is acceptable.
    """


class JWKSUnavailable(Exception):
    """The issuer's key set could not be fetched or parsed."""


# --------------------------------------------------------------------------- API client


class VouchError(Exception):
    """An error returned by the vouch API (non-2xx), or a failed request.

    ``status_code`` is ``None`` only for :class:`TransportError`.
    """

    def __init__(
        self,
        status_code: int | None,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        request_id: str | None = None,
        *,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(f"{status_code} {code}: {message}" if status_code else message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details: list[dict[str, Any]] = details or []
        self.request_id = request_id
        self.response = response

    def _kwargs(self) -> dict[str, Any]:
        return {}

    def __reduce__(self) -> tuple[Any, ...]:
        # The httpx.Response is dropped: it does not survive pickling.
        args = (self.status_code, self.code, self.message, self.details, self.request_id)
        return (_rebuild, (type(self), args, self._kwargs()))


class BadRequest(VouchError):
    """400 — validation failed (``validation_error``, ``invalid_code``, …)."""


class AuthenticationError(VouchError):
    """401 — missing or invalid API key."""


class PermissionDenied(VouchError):
    """403 — e.g. ``forbidden`` or ``test_mode_required``."""


class NotFound(VouchError):
    """404 — the resource does not exist (or is not visible to this key)."""


class Conflict(VouchError):
    """409 — the request conflicts with the resource's current state."""


class PayloadTooLarge(VouchError):
    """413 — the request body is too large."""


class RateLimited(VouchError):
    """429 — slow down; ``retry_after`` is the suggested wait in seconds, if known."""

    def __init__(
        self,
        status_code: int | None,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        request_id: str | None = None,
        *,
        response: httpx.Response | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(status_code, code, message, details, request_id, response=response)
        self.retry_after = retry_after

    def _kwargs(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}


class ServerError(VouchError):
    """5xx — the server failed."""


class TransportError(VouchError):
    """The request did not complete (connection error, timeout, …)."""

    def __init__(self, message: str) -> None:
        super().__init__(None, "transport_error", message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message,))
