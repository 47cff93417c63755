"""The package's public surface."""

from __future__ import annotations

import ast
import pathlib
import pickle

import pytest

import vouch_client
from vouch_client import (
    BadRequest,
    ClaimMismatch,
    IdentifierMismatch,
    InvalidSignature,
    IssuerMismatch,
    MalformedProof,
    ProofExpired,
    ProofInvalid,
    ProofRevoked,
    ProofTooOld,
    RateLimited,
    TransportError,
    UnknownKey,
)

EXPECTED_ALL = [
    "Agent",
    "AgentKeyInfo",
    "AgentList",
    "Agents",
    "Approval",
    "ApprovalDenied",
    "ApproverKey",
    "ApproverKeys",
    "AsyncAgents",
    "AsyncAuthorizations",
    "AsyncClient",
    "AsyncHitl",
    "AsyncRecords",
    "AsyncTemplates",
    "AsyncVerifier",
    "AsyncWebhooks",
    "AuthenticationError",
    "Authorization",
    "AuthorizationExport",
    "AuthorizationList",
    "Authorizations",
    "BadRequest",
    "CallbackSecret",
    "ChatIdDiscovery",
    "ClaimMismatch",
    "Client",
    "Conflict",
    "DeliveryRetry",
    "EnvironmentMismatch",
    "Hitl",
    "HitlConfig",
    "HitlConfigList",
    "HitlKeys",
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
    "Record",
    "RecordChanges",
    "RecordList",
    "RecordMeta",
    "RecordPage",
    "Records",
    "RetryPolicy",
    "RevocationListPage",
    "RevocationListUnavailable",
    "RevokeReason",
    "RevokedEntry",
    "ServerError",
    "ServerSentEvent",
    "Template",
    "TemplateDeleted",
    "TemplateList",
    "TemplatePreview",
    "TemplateRendering",
    "Templates",
    "TokenLifetimeExceeded",
    "TransportError",
    "UnknownKey",
    "VerificationList",
    "Verifier",
    "VouchError",
    "WebhookDelivery",
    "WebhookDeliveryList",
    "WebhookDeliveryStats",
    "WebhookEndpoint",
    "WebhookEndpointList",
    "WebhookVerificationError",
    "Webhooks",
    "WrongKeyPurpose",
    "__version__",
    "require_approval",
    "verify_webhook",
]

SRC = pathlib.Path(vouch_client.__file__).parent


class TestAll:
    def test_lists_exactly_the_expected_names(self) -> None:
        assert vouch_client.__all__ == EXPECTED_ALL

    def test_every_name_resolves(self) -> None:
        missing = [name for name in vouch_client.__all__ if not hasattr(vouch_client, name)]
        assert missing == []

    def test_public_classes_present_themselves_as_vouch_client(self) -> None:
        assert vouch_client.Verifier.__module__ == "vouch_client"
        assert repr(vouch_client.ProofExpired) == "<class 'vouch_client.ProofExpired'>"


class TestVersion:
    def test_is_0_1_0(self) -> None:
        assert vouch_client.__version__ == "0.1.0"


class TestProofInvalidReason:
    @pytest.mark.parametrize(
        ("error", "reason"),
        [
            (ProofExpired(), "expired"),
            (
                ProofRevoked(revoked_at="2026-02-04T10:00:00.000Z", revoked_reason="fraud"),
                "revoked",
            ),
            (InvalidSignature(), "invalid_signature"),
            (MalformedProof(), "malformed"),
            (IssuerMismatch(), "issuer_mismatch"),
            (ClaimMismatch("type", "phone", "email"), "type_mismatch"),
            (ClaimMismatch("channel", "sms", None), "channel_mismatch"),
            (ProofTooOld(), "too_old"),
            (IdentifierMismatch(), "identifier_mismatch"),
            (UnknownKey(), "unknown_key"),
        ],
    )
    def test_matches_the_server_vocabulary(self, error: ProofInvalid, reason: str) -> None:
        assert isinstance(error, ProofInvalid)
        assert error.reason == reason


class TestPackageImports:
    def test_never_import_the_server_package(self) -> None:
        sources = sorted(SRC.rglob("*.py"))
        assert {p.name for p in sources} >= {"_client.py", "_verifier.py", "__init__.py"}
        offenders = []
        for path in sources:
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                offenders += [
                    f"{path.name}: {n}" for n in names if n == "vouch" or n.startswith("vouch.")
                ]
        assert offenders == []


class TestErrorPickling:
    @pytest.mark.parametrize(
        "error",
        [
            ProofExpired("the proof has expired"),
            ProofRevoked("revoked", revoked_at="2026-02-04T10:00:00.000Z", revoked_reason="fraud"),
            ClaimMismatch("type", "phone", "email"),
            BadRequest(400, "validation_error", "bad", [{"field": "x"}], "req_1"),
            RateLimited(429, "rate_limited", "slow down", retry_after=7),
            TransportError("ConnectError: refused"),
        ],
        ids=lambda e: type(e).__name__,
    )
    def test_round_trips_with_its_attributes(self, error: Exception) -> None:
        clone = pickle.loads(pickle.dumps(error))  # noqa: S301 -- bytes we just made

        assert type(clone) is type(error)
        assert str(clone) == str(error)
        public = {k: v for k, v in vars(error).items() if k != "response"}
        assert {k: v for k, v in vars(clone).items() if k != "response"} == public
