"""vouch-sdk: API client and offline proof verifier for the vouch trust server."""

from vouch_sdk._webhooks import WebhookVerificationError, verify_webhook

from ._approvals import Approval, ApprovalDenied, require_approval
from ._client import AsyncClient, Client
from ._errors import (
    AuthenticationError,
    BadRequest,
    ClaimMismatch,
    Conflict,
    IdentifierMismatch,
    InvalidSignature,
    IssuerMismatch,
    JWKSUnavailable,
    MalformedProof,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    ProofExpired,
    ProofInvalid,
    ProofRevoked,
    ProofTooOld,
    RateLimited,
    RevocationListUnavailable,
    ServerError,
    TransportError,
    UnknownKey,
    VouchError,
)
from ._types import (
    JSONWebKeySet,
    Pagination,
    ProofClaims,
    ProofValidation,
    RevocationListPage,
    RevokedEntry,
    RevokeReason,
    VerificationList,
)
from ._verifier import AsyncVerifier, Verifier
from ._version import __version__

__all__ = [
    "Approval",
    "ApprovalDenied",
    "AsyncClient",
    "AsyncVerifier",
    "AuthenticationError",
    "BadRequest",
    "ClaimMismatch",
    "Client",
    "Conflict",
    "IdentifierMismatch",
    "InvalidSignature",
    "IssuerMismatch",
    "JSONWebKeySet",
    "JWKSUnavailable",
    "MalformedProof",
    "NotFound",
    "Pagination",
    "PayloadTooLarge",
    "PermissionDenied",
    "ProofClaims",
    "ProofExpired",
    "ProofInvalid",
    "ProofRevoked",
    "ProofTooOld",
    "ProofValidation",
    "RateLimited",
    "RevocationListPage",
    "RevocationListUnavailable",
    "RevokeReason",
    "RevokedEntry",
    "ServerError",
    "TransportError",
    "UnknownKey",
    "VerificationList",
    "Verifier",
    "VouchError",
    "WebhookVerificationError",
    "__version__",
    "require_approval",
    "verify_webhook",
]

# Present public names as living in the package, like httpx does.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and _obj.__module__.startswith("vouch_sdk."):
        _obj.__module__ = "vouch_sdk"
del _name, _obj
