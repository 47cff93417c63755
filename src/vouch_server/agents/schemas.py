"""Request bodies of the agent surface (ZeroProof ``/v1/verify/*`` and vouch's ``/v1/agents``)
and the renderers of its responses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from vouch_server.agents.keys import AgentPublicKey, b64url_decode
from vouch_server.agents.proof import TOKEN_PATTERN
from vouch_server.kit.clock import iso_or_none, isoformat_ms
from vouch_server.models.agents import Agent, AgentChallenge, AgentKey

PublicKeyInput = str | dict[str, Any]


class RegisterAgent(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "agent_id": "support-bot",
                    "name": "Support bot",
                    "public_key": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                }
            ]
        },
    )

    agent_id: str = Field(pattern=TOKEN_PATTERN)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    public_key: PublicKeyInput = Field(
        description="Ed25519 public key: 32 raw bytes in base64url, or a JWK (kty OKP, crv Ed25519)"
    )


class AddKey(BaseModel):
    model_config = ConfigDict(extra="ignore")

    public_key: PublicKeyInput
    # Rotation normally replaces the key; keep the old ones for an overlap with ``false``.
    revoke_previous: bool = True


class CreateChallenge(BaseModel):
    model_config = ConfigDict(extra="ignore")

    agent_id: str = Field(pattern=TOKEN_PATTERN)
    action: str = Field(pattern=TOKEN_PATTERN)
    context: dict[str, Any] | None = None


class SubmitProof(BaseModel):
    model_config = ConfigDict(extra="ignore")

    challenge_id: str = Field(min_length=1, max_length=64)
    proof: str = Field(min_length=1, max_length=256)
    agent_signature: str | None = Field(default=None, max_length=256)


class VerifyHttpSignature(BaseModel):
    """The agent's request as the integrator received it."""

    model_config = ConfigDict(extra="ignore")

    method: str = Field(pattern=r"^[A-Za-z]{1,16}$")
    url: str = Field(min_length=8, max_length=2048, pattern=r"^[hH][tT][tT][pP][sS]?://")
    # An object, or a list of [name, value] pairs when a field repeats.
    headers: (
        Annotated[dict[str, str], Field(max_length=100)]
        | Annotated[list[tuple[str, str]], Field(max_length=100)]
    )

    # A Web Bot Auth request (no challenge) names no action; say which one it is for.
    action: str | None = Field(default=None, pattern=TOKEN_PATTERN)

    def header_lines(self) -> tuple[tuple[str, str], ...]:
        items = self.headers.items() if isinstance(self.headers, dict) else self.headers
        return tuple((str(name), str(value)) for name, value in items)


class DepositDirectorySignature(BaseModel):
    """The key's signature of the directory response, as the two field values it would send."""

    model_config = ConfigDict(extra="ignore")

    signature_input: str = Field(min_length=1, max_length=1024)
    signature: str = Field(min_length=1, max_length=512)


def render_key(key: AgentKey) -> dict[str, Any]:
    public = AgentPublicKey(b64url_decode(key.public_key))
    return {
        "kid": key.kid,
        "public_key": key.public_key,
        "jwk": {**public.jwk, "kid": key.kid},
        "status": "revoked" if key.revoked_at is not None else "active",
        "created_at": isoformat_ms(key.created_at),
        "revoked_at": iso_or_none(key.revoked_at),
        # Until when the key's directory signature lists it in the Web Bot Auth directory.
        "directory_signature_expires_at": iso_or_none(key.directory_signature_expires_at),
    }


def render_agent(agent: Agent, keys: Sequence[AgentKey]) -> dict[str, Any]:
    return {
        "agent_id": agent.agent_id,
        "name": agent.name,
        "status": "deleted" if agent.deleted_at is not None else "active",
        "created_at": isoformat_ms(agent.created_at),
        "updated_at": isoformat_ms(agent.updated_at),
        "deleted_at": iso_or_none(agent.deleted_at),
        "keys": [render_key(k) for k in keys],
        "test_mode": agent.environment == "test",
    }


def render_challenge(challenge: AgentChallenge) -> dict[str, Any]:
    """ZeroProof's challenge body, plus what the agent needs to build its proof."""
    return {
        "challenge_id": challenge.id,
        "nonce": challenge.nonce,
        "expires_in": int((challenge.expires_at - challenge.created_at).total_seconds()),
        "timestamp": int(challenge.created_at.timestamp() * 1000),
        # vouch additions: the proof binds these, so the agent is handed them with the nonce.
        "agent_id": challenge.agent_id,
        "action": challenge.action,
        "context": challenge.context,
        "expires_at": isoformat_ms(challenge.expires_at),
    }


def render_status(challenge: AgentChallenge, status: str) -> dict[str, Any]:
    return {
        "session_id": challenge.id,
        "status": status,
        "agent_id": challenge.agent_id,
        "action": challenge.action,
        "created_at": isoformat_ms(challenge.created_at),
        "verified_at": iso_or_none(challenge.verified_at),
        "confidence": challenge.confidence,
        "expires_at": isoformat_ms(challenge.expires_at),
        # vouch additions.
        "method": challenge.method,
        "proof_id": challenge.proof_id,
        "failure_reason": challenge.failure_reason if status == "failed" else None,
        "proof_revoked_at": iso_or_none(challenge.proof_revoked_at),
    }
