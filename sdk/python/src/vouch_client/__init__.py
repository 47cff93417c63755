"""vouch-client: API client and offline proof verifier for the vouch trust server."""

from vouch_client._webhooks import WebhookVerificationError, verify_webhook

from ._approvals import Approval, ApprovalDenied, require_approval
from ._client import AsyncClient, Client, RetryPolicy
from ._errors import (
    AuthenticationError,
    BadRequest,
    ClaimMismatch,
    Conflict,
    EnvironmentMismatch,
    IdentifierMismatch,
    InvalidSignature,
    IssuerMismatch,
    JWKSUnavailable,
    KeyRevoked,
    MalformedProof,
    NotFound,
    OutsideKeyWindow,
    PayloadTooLarge,
    PermissionDenied,
    ProofExpired,
    ProofInvalid,
    ProofRevoked,
    ProofSuspended,
    ProofTooOld,
    RateLimited,
    RevocationListUnavailable,
    ServerError,
    TokenLifetimeExceeded,
    TransportError,
    UnknownKey,
    VouchError,
    WrongKeyPurpose,
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
    "EnvironmentMismatch",
    "IdentifierMismatch",
    "InvalidSignature",
    "IssuerMismatch",
    "JSONWebKeySet",
    "JWKSUnavailable",
    "KeyRevoked",
    "MalformedProof",
    "NotFound",
    "OutsideKeyWindow",
    "Pagination",
    "PayloadTooLarge",
    "PermissionDenied",
    "ProofClaims",
    "ProofExpired",
    "ProofInvalid",
    "ProofRevoked",
    "ProofSuspended",
    "ProofTooOld",
    "ProofValidation",
    "RateLimited",
    "RetryPolicy",
    "RevocationListPage",
    "RevocationListUnavailable",
    "RevokeReason",
    "RevokedEntry",
    "ServerError",
    "TokenLifetimeExceeded",
    "TransportError",
    "UnknownKey",
    "VerificationList",
    "Verifier",
    "VouchError",
    "WebhookVerificationError",
    "WrongKeyPurpose",
    "__version__",
    "require_approval",
    "verify_webhook",
]

# Present public names as living in the package, like httpx does.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and _obj.__module__.startswith("vouch_client."):
        _obj.__module__ = "vouch_client"
del _name, _obj
