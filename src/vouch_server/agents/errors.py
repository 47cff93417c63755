"""Errors of the agent surface and its renderer: ZeroProof's bodies, exactly.

ZeroProof (seed ``002_…``) answers with two shapes:

    {"error": <short title>, "message": <explanation>}                    most errors
    {"verified": false, "error": <title>, "reason" | "previous_status": …}  a proof that did not verify

Errors raised here carry their exact body; errors raised by shared code (401, 404 route, 405, 413,
400 validation, 429, 500) are mapped onto the first shape by ``render_agent_error``, which
``vouch_server.agents.endpoints`` registers for every path under ``/v1/``.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from vouch_server.errors import Unauthorized, VouchError


class AgentSurfaceError(VouchError):
    """An error whose wire body is fixed by the ZeroProof surface."""

    title: str = "Error"

    def body(self) -> dict[str, Any]:
        return {"error": self.title, "message": self.message}


class ProofFailed(AgentSurfaceError):
    """The proof (or signed request) did not verify; the challenge is now ``failed``."""

    code, status, title = "proof_verification_failed", 400, "Proof verification failed"

    def __init__(self, reason: str, *, keeps_changes: bool = False) -> None:
        super().__init__(reason, keeps_changes=keeps_changes)
        self.reason = reason

    def body(self) -> dict[str, Any]:
        return {"verified": False, "error": self.title, "reason": self.reason}


class ChallengeExpired(AgentSurfaceError):
    code, status, title = "challenge_expired", 400, "Challenge expired"
    message = "The challenge has expired; request a new one"
    # The challenge is recorded as expired even though the request fails.
    keeps_changes = True

    def body(self) -> dict[str, Any]:
        return {"error": self.title, "verified": False}


class ChallengeAlreadyUsed(AgentSurfaceError):
    code, status, title = "challenge_already_used", 400, "Challenge already used"
    message = "Each challenge can only be verified once"

    def __init__(self, previous_status: str) -> None:
        super().__init__()
        self.previous_status = previous_status

    def body(self) -> dict[str, Any]:
        return {"error": self.title, "verified": False, "previous_status": self.previous_status}


class ChallengeNotFound(AgentSurfaceError):
    code, status, title = "challenge_not_found", 404, "Challenge not found"
    message = "Invalid or expired challenge_id"


class SessionNotFound(AgentSurfaceError):
    code, status, title = "session_not_found", 404, "Session not found"
    message = "No verification session has this session_id"


class AgentNotFound(AgentSurfaceError):
    code, status, title = "agent_not_found", 404, "Agent not found"

    def __init__(self, agent_id: str) -> None:
        super().__init__(f"No agent '{agent_id}' is registered in this project")


class AgentKeyNotFound(AgentSurfaceError):
    code, status, title = "agent_key_not_found", 404, "Key not found"

    def __init__(self, kid: str) -> None:
        super().__init__(f"This agent has no key '{kid}'")


class AgentExists(AgentSurfaceError):
    code, status, title = "agent_exists", 409, "Agent already exists"


class KeyInUse(AgentSurfaceError):
    code, status, title = "key_in_use", 409, "Key already registered"


class KeyAlreadyRevoked(AgentSurfaceError):
    code, status, title = "key_already_revoked", 409, "Key already revoked"
    message = "This key has already been revoked"


class NoActiveKey(AgentSurfaceError):
    code, status, title = "no_active_key", 409, "Agent has no active key"


class InvalidPublicKeyError(AgentSurfaceError):
    code, status, title = "invalid_public_key", 400, "Invalid public key"


class InvalidContext(AgentSurfaceError):
    code, status, title = "invalid_context", 400, "Invalid context"


class InvalidDirectorySignature(AgentSurfaceError):
    code, status, title = "invalid_directory_signature", 400, "Invalid directory signature"


# ZeroProof's 401 message (seed ``002_…``), for a missing and for a wrong key alike.
API_KEY_HINT = "Provide API key in X-Api-Key header"


# Titles for errors raised by shared code, keyed by their stable code.
_TITLES = {
    "validation_error": "Invalid request",
    "bad_request": "Bad request",
    "forbidden": "Forbidden",
    "test_mode_required": "Test key required",
    "not_found": "Not found",
    "method_not_allowed": "Method not allowed",
    "conflict": "Conflict",
    "payload_too_large": "Payload too large",
    "unsupported_media_type": "Unsupported media type",
    "rate_limited": "Rate limit exceeded",
    "blocked": "Blocked",
    "service_unavailable": "Service unavailable",
    "temporarily_unavailable": "Service unavailable",
    "internal_error": "Internal server error",
}


def render_agent_error(error: VouchError, request_id: str | None) -> tuple[dict[str, Any], str]:
    """ZeroProof's ``{"error", "message"}`` (or the proof shapes) for every error on ``/v1/``."""
    if isinstance(error, AgentSurfaceError):
        return error.body(), "application/json"
    if isinstance(error, Unauthorized):
        # ZeroProof has one message for every key problem; only the title tells them apart.
        missing = error.message == Unauthorized.message
        body: dict[str, Any] = {
            "error": "Missing API key" if missing else "Invalid API key",
            "message": API_KEY_HINT,
        }
        return body, "application/json"
    title = _TITLES.get(error.code)
    if title is None:
        try:
            title = HTTPStatus(error.status).phrase
        except ValueError:
            title = "Error"
    body = {"error": title, "message": error.message}
    if error.details:
        body["details"] = error.details
    if "retry_after" in error.extra:
        body["retry_after"] = error.extra["retry_after"]
    return body, "application/json"
