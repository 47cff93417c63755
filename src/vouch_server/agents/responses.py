"""What the agent surface answers, for the OpenAPI description.

Documentation only: the handlers build their bodies with the renderers of ``schemas`` (and
``service``), and these models say what those bodies hold — ZeroProof's field names for
``/v1/verify/*``, vouch's for ``/v1/agents`` and the Web Bot Auth key directory. Nothing is
validated or re-serialised through them (``vouch_server.openapi.documented``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

ChallengeStatus = Literal["pending", "verified", "failed", "expired"]
VerificationMethod = Literal["signed-challenge", "http-message-signature", "web-bot-auth"]


class AgentJwkOut(BaseModel):
    """An agent's Ed25519 public key as a JWK (RFC 8037), named by its thumbprint."""

    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str = Field(description="The 32-byte public key, base64url without padding.")
    kid: str = Field(description="The key's RFC 7638 thumbprint.")


class AgentKeyOut(BaseModel):
    kid: str = Field(description="RFC 7638 thumbprint of the key; the keyid agents sign with.")
    public_key: str = Field(description="The raw 32-byte key, base64url.")
    jwk: AgentJwkOut
    status: Literal["active", "revoked"]
    created_at: str
    revoked_at: str | None
    directory_signature_expires_at: str | None = Field(
        description="Until when the key's own signature lists it in the public key directory."
    )


class AgentOut(BaseModel):
    """A registered agent with every key it has had (revoked ones included)."""

    agent_id: str
    name: str | None
    status: Literal["active", "deleted"]
    created_at: str
    updated_at: str
    deleted_at: str | None
    keys: list[AgentKeyOut]
    test_mode: bool = Field(description="Registered with a test key (lives apart from live).")


class AgentListOut(BaseModel):
    data: list[AgentOut]
    has_more: bool
    next_cursor: str | None = Field(description="Pass as ``cursor`` for the next page.")


class AgentChallengeOut(BaseModel):
    """A one-time challenge: ZeroProof's fields, then what the proof must bind."""

    challenge_id: str
    nonce: str
    expires_in: int = Field(description="Seconds until the challenge expires.")
    timestamp: int = Field(description="When it was issued, in Unix milliseconds.")
    agent_id: str
    action: str
    context: dict[str, Any] | None = Field(
        description="The caller's context object as sent; the proof signs its RFC 8785 digest."
    )
    expires_at: str


class AgentSignedRequestOut(BaseModel):
    """The request components the HTTP message signature covered (only those it covers)."""

    method: str | SkipJsonSchema[None] = None
    authority: str | SkipJsonSchema[None] = None
    path: str | SkipJsonSchema[None] = None
    target_uri: str | SkipJsonSchema[None] = None
    query: str | SkipJsonSchema[None] = None
    signature_agent: str | SkipJsonSchema[None] = Field(
        default=None, description="The Signature-Agent field, when the signature covers it."
    )


class _AgentVerified(BaseModel):
    verified: Literal[True]
    agent_id: str
    action: str
    confidence: float = Field(description="Always 0.99: a valid signature by an active key.")
    timestamp: str = Field(description="When the proof was verified.")
    session_id: str = Field(description="The challenge id; read it at /v1/verify/status/{id}.")
    proof_id: str
    proof_token: str = Field(description="A JWT anyone can check against /.well-known/jwks.json.")
    proof_expires_at: str
    agent_key_id: str = Field(description="Thumbprint of the key that signed.")


class AgentProofVerifiedOut(_AgentVerified):
    """A proof that verified: the challenge is used, and a vouch proof token is minted."""

    method: Literal["signed-challenge"]


class AgentSignatureVerifiedOut(_AgentVerified):
    """A signed HTTP request that verified (challenge-bound, or Web Bot Auth)."""

    method: Literal["http-message-signature", "web-bot-auth"]
    request: AgentSignedRequestOut


class AgentSessionStatusOut(BaseModel):
    """Where a verification session (a challenge) stands."""

    session_id: str
    status: ChallengeStatus
    agent_id: str
    action: str
    created_at: str
    verified_at: str | None
    confidence: float | None
    expires_at: str
    method: VerificationMethod | None
    proof_id: str | None
    failure_reason: str | None = Field(description="Why it failed; set only when failed.")
    proof_revoked_at: str | None


class AgentKeyDirectoryOut(BaseModel):
    """The Web Bot Auth key directory: a JWKS of live agents' keys that signed it."""

    keys: list[AgentJwkOut]
