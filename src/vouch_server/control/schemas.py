"""Request bodies of the verification endpoints (proof.holdings ``CreateVerificationRequest``,
``SubmitChallengeRequest``) and the response renderer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vouch_server.control.catalog import AssetType, Channel
from vouch_server.kit.clock import iso_or_none, isoformat_ms
from vouch_server.models import Verification


class CreateVerification(BaseModel):
    # Unknown keys are ignored, as proof.holdings' own validation does.
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "type": "email",
                    "channel": "email",
                    "identifier": "alice@example.com",
                    "external_user_id": "cust_42",
                }
            ]
        },
    )

    type: AssetType
    channel: Channel
    identifier: str = Field(min_length=1, max_length=500)
    external_user_id: str | None = Field(default=None, min_length=1, max_length=255)
    client_metadata: dict[str, Any] | None = None
    callback_url: str | None = Field(default=None, min_length=1, max_length=2048)
    expires_in: int | None = Field(default=None, description="Proof lifetime in seconds")
    proof_expiry_days: int | None = None
    email_prefix: (
        Literal["admin", "administrator", "webmaster", "hostmaster", "postmaster"] | None
    ) = None
    dns_provider: dict[str, Any] | None = None


class Submission(BaseModel):
    """``{code}`` or ``{challenge_code, source_identifier}``; methods may read further fields."""

    model_config = ConfigDict(extra="allow")

    code: str | None = Field(default=None, max_length=64)
    challenge_code: str | None = Field(default=None, max_length=64)
    source_identifier: str | None = Field(default=None, max_length=500)


def render_verification(v: Verification) -> dict[str, Any]:
    """A verification as GET returns it: never the challenge code."""
    body: dict[str, Any] = {
        "id": v.id,
        "status": v.status,
        "type": v.type,
        "channel": v.channel,
        "identifier": v.identifier,
        "attempts": v.attempts,
        "max_attempts": v.max_attempts,
        "created_at": isoformat_ms(v.created_at),
        "updated_at": isoformat_ms(v.updated_at),
        "challenge_expires_at": isoformat_ms(v.challenge_expires_at),
        "test_mode": v.environment == "test",
    }
    if v.external_user_id is not None:
        body["external_user_id"] = v.external_user_id
    if v.client_metadata is not None:
        body["client_metadata"] = v.client_metadata
    if v.callback_url is not None:
        body["callback_url"] = v.callback_url
    if v.failure_reason is not None and v.status in ("failed", "expired"):
        body["failure_reason"] = v.failure_reason
    if v.verified_at is not None:
        body["verified_at"] = isoformat_ms(v.verified_at)
    if v.proof_token is not None and v.proof_expires_at is not None:
        body["proof_token"] = v.proof_token
        body["proof_expires_at"] = isoformat_ms(v.proof_expires_at)
        # proof.holdings' OpenAPI nests the same facts under ``proof``; both are served.
        body["proof"] = {"token": v.proof_token, "expires_at": isoformat_ms(v.proof_expires_at)}
    if v.revoked_at is not None:
        body["revoked_at"] = iso_or_none(v.revoked_at)
        body["revoked_reason"] = v.revoked_reason
    return body
