"""Public data types: verified proof claims and API response shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, Required, TypedDict

__all__ = [
    "JSONWebKeySet",
    "Pagination",
    "ProofClaims",
    "ProofValidation",
    "RevocationListPage",
    "RevokeReason",
    "RevokedEntry",
    "VerificationList",
]

RevokeReason = Literal["user_request", "fraud", "key_compromise", "asset_transferred", "other"]


@dataclass(frozen=True, slots=True)
class ProofClaims:
    """The claims of a proof token that passed every check.

    ``sub`` is the proof id (which is also the verification id). Claims a
    proof family does not carry (for example ``channel`` on some non-control
    proofs) are ``None``; everything the token contained is in ``raw``.
    """

    iss: str
    sub: str
    iat: int
    exp: int
    type: str
    jti: str | None = None
    proof_schema_version: str | None = None
    channel: str | None = None
    identifier_hash: str | None = None
    verified_at: str | None = None
    user_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def proof_id(self) -> str:
        """Alias for ``sub``."""
        return self.sub


class RevokedEntry(TypedDict):
    proof_id: str
    revoked_at: str
    reason: str


class RevocationListPage(TypedDict):
    """One page of ``GET /api/v1/proofs/revoked``, as sent (not verified).

    Only the ``revoked`` array inside the ``signature`` JWT is trustworthy;
    :class:`vouch_client.Verifier` checks it for you.
    """

    revoked: list[RevokedEntry]
    issued_at: str
    count: int
    signature: str
    kid: str
    has_more: bool
    next_cursor: str | None


class Pagination(TypedDict):
    hasMore: bool
    nextCursor: NotRequired[str | None]
    total: int
    page: int
    limit: int


class VerificationList(TypedDict):
    data: list[dict[str, Any]]
    pagination: Pagination


class ProofValidation(TypedDict, total=False):
    """``{"valid": true, "verification": {...}}`` or ``{"valid": false, "reason", "message"}``."""

    valid: Required[bool]
    verification: dict[str, Any]
    reason: str
    message: str


class JSONWebKeySet(TypedDict):
    keys: list[dict[str, Any]]
