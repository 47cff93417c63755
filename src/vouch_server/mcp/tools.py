"""The MCP tools: one per vouch operation, each a thin call to the vouch HTTP API.

Names follow proof.holdings' MCP server where the operation is the same (``create_verification``,
``wait_for_verification``, ``create_confirmation``, ``wait_for_confirmation``, ``validate_proof``,
``revoke_proof``, …), so prompts written for their server work here. Each tool's docstring is its
description, written for the model: when to use it, what comes back, what to do next.

``TOOLS`` is the registry :func:`vouch_server.mcp.server.build_server` installs from; a tool marked
``public`` needs no API key (public mode), one marked ``local_only`` reads the caller's own files
and is offered over stdio only.
"""

from __future__ import annotations

import inspect
import json
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import quote

import anyio
import httpx
from mcp.server.mcpserver import Context
from mcp.types import ToolAnnotations
from pydantic import Field

from vouch_server.mcp.api import Connector, VouchToolError, raise_for_response
from vouch_server.mcp.models import (
    AgentProof,
    Confirmation,
    ConfirmationWait,
    OfflineVerification,
    Page,
    ProofValidation,
    Result,
    Verification,
    VerificationWait,
)

# The server holds a confirmation long poll for at most 60 s; shorter rounds give the client a
# progress notification (and a chance to cancel) every round.
LONG_POLL_ROUND_SECONDS = 20
MAX_WAIT_SECONDS = 3600


@dataclass(frozen=True)
class ToolSpec:
    fn: Callable[..., Awaitable[Any]]
    name: str
    family: str
    public: bool
    local_only: bool
    annotations: ToolAnnotations

    @property
    def description(self) -> str:
        return inspect.cleandoc(self.fn.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.description.split("\n\n", 1)[0].replace("\n", " ")


TOOLS: list[ToolSpec] = []


def tool(
    family: str,
    *,
    public: bool = False,
    local_only: bool = False,
    read_only: bool = False,
    destructive: bool = False,
    idempotent: bool = False,
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    def register(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        TOOLS.append(
            ToolSpec(
                fn=fn,
                name=fn.__name__,
                family=family,
                public=public,
                local_only=local_only,
                annotations=ToolAnnotations(
                    read_only_hint=read_only,
                    destructive_hint=destructive,
                    idempotent_hint=idempotent or read_only,
                    open_world_hint=False,
                ),
            )
        )
        return fn

    return register


# -- calling vouch ------------------------------------------------------------------------------
def connector_of(ctx: Context) -> Connector:
    connector = getattr(ctx.mcp_server, "connector", None)
    if connector is None:  # pragma: no cover - every server is built by build_server
        raise VouchToolError("server_misconfigured", "this MCP server has no vouch connection")
    return connector  # type: ignore[no-any-return]


def presented_key(ctx: Context) -> str | None:
    """The bearer key of the HTTP request that carried this call (Streamable HTTP), else None."""
    try:
        headers = ctx.headers
    except ValueError:
        return None
    if not headers:
        return None
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def seg(value: str) -> str:
    """One path segment, escaped: an id a model passes can never climb to another route."""
    if value in ("", ".", ".."):
        raise VouchToolError("invalid_argument", f"{value!r} is not a valid id")
    return quote(value, safe="")


def _clean(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {k: v for k, v in params.items() if v is not None}


async def call(
    ctx: Context,
    method: str,
    path: str,
    *,
    body: Any = None,
    params: Mapping[str, Any] | None = None,
) -> Any:
    """One request to vouch as the caller; the decoded JSON body, or a :class:`VouchToolError`."""
    connector = connector_of(ctx)
    async with connector.client(presented_key(ctx)) as http:
        try:
            response = await http.request(
                method,
                path,
                params=_clean(params),
                **({"json": body} if body is not None else {}),
            )
        except httpx.TimeoutException as exc:
            raise VouchToolError(
                "vouch_timeout", f"vouch at {connector.base_url} did not answer in time"
            ) from exc
        except httpx.HTTPError as exc:
            raise VouchToolError(
                "vouch_unreachable", f"cannot reach vouch at {connector.base_url}: {exc}"
            ) from exc
    return raise_for_response(response)


def _drop_none(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


Id = Annotated[str, Field(min_length=1, max_length=128, description="The id vouch returned.")]
PageNo = Annotated[int, Field(ge=1, description="Page number, from 1.")]
Limit = Annotated[int, Field(ge=1, le=100, description="Items per page (at most 100).")]
AssetType = Literal["phone", "email", "domain", "social", "wallet", "account", "telegram_bot"]
AssetChannel = Literal[
    "whatsapp",
    "telegram",
    "sms",
    "email",
    "dns",
    "http",
    "auto",
    "github",
    "google",
    "facebook",
    "x",
    "linkedin",
    "instagram",
    "youtube",
    "tiktok",
    "ethereum",
    "solana",
    "bitcoin",
    "coinbase",
    "kraken",
    "telegram_bot_token",
]
RevokeReason = Literal["user_request", "fraud", "key_compromise", "asset_transferred", "other"]


# -- verifications (Proof of Control) -----------------------------------------------------------
@tool("verifications")
async def create_verification(
    ctx: Context,
    type: Annotated[AssetType, Field(description="What kind of asset the person claims.")],
    channel: Annotated[
        AssetChannel,
        Field(
            description="How control is proved: phone → whatsapp|telegram|sms; email → email; "
            "domain → dns|http|email|auto; wallet → ethereum|solana|bitcoin; social → the "
            "network; account → coinbase|kraken; telegram_bot → telegram_bot_token."
        ),
    ],
    identifier: Annotated[
        str,
        Field(
            min_length=1,
            max_length=500,
            description="The asset: E.164 phone (+14155550100), email address, domain, wallet "
            "address, handle…",
        ),
    ],
    external_user_id: Annotated[
        str | None, Field(max_length=255, description="Your own id for the person.")
    ] = None,
    client_metadata: Annotated[
        dict[str, Any] | None, Field(description="Any JSON you want echoed back.")
    ] = None,
    callback_url: Annotated[
        str | None, Field(max_length=2048, description="HTTPS URL to notify on completion.")
    ] = None,
    proof_expiry_days: Annotated[
        int | None, Field(ge=1, le=365, description="Lifetime of the proof token.")
    ] = None,
    email_prefix: Annotated[
        Literal["admin", "administrator", "webmaster", "hostmaster", "postmaster"] | None,
        Field(description="Domain via email only: which mailbox receives the code."),
    ] = None,
) -> Verification:
    """Start proving that a person controls an asset (phone, email, domain, wallet, social or
    exchange account, Telegram bot).

    Use this when you need evidence that someone controls an identifier *right now*. Returns the
    verification (status "pending") with a `challenge`: what the person must do (send a code to
    a number, open a deep link, publish a DNS record, sign a message…). Tell the person exactly
    that, then call `wait_for_verification`. With a test key (pk_test_…), call `test_verify`
    to complete it without a person. When it is verified, `proof_token` is a signed JWT: check
    it with `validate_proof` or `verify_proof_offline`.
    """
    body = _drop_none(
        type=type,
        channel=channel,
        identifier=identifier,
        external_user_id=external_user_id,
        client_metadata=client_metadata,
        callback_url=callback_url,
        proof_expiry_days=proof_expiry_days,
        email_prefix=email_prefix,
    )
    return Verification.model_validate(await call(ctx, "POST", "/api/v1/verifications", body=body))


@tool("verifications", read_only=True)
async def get_verification(ctx: Context, verification_id: Id) -> Verification:
    """Read one verification: its status (pending, verified, failed, expired, revoked), attempts,
    and, once verified, `proof_token`.

    The challenge code is never shown again after create. To block until it completes, use
    `wait_for_verification` instead of calling this in a loop.
    """
    return Verification.model_validate(
        await call(ctx, "GET", f"/api/v1/verifications/{seg(verification_id)}")
    )


@tool("verifications", read_only=True)
async def list_verifications(
    ctx: Context,
    page: PageNo = 1,
    limit: Limit = 20,
    status: Literal["pending", "verified", "failed", "expired", "revoked"] | None = None,
    type: AssetType | None = None,
    channel: AssetChannel | None = None,
    external_user_id: Annotated[str | None, Field(max_length=255)] = None,
) -> Page:
    """List this project's verifications, newest first, optionally filtered.

    Returns `data` (verifications) and `pagination`; when `pagination.hasMore` is true, call
    again with `page` = `pagination.nextPage`.
    """
    params = {
        "page": page,
        "limit": limit,
        "status": status,
        "type": type,
        "channel": channel,
        "external_user_id": external_user_id,
    }
    return Page.model_validate(await call(ctx, "GET", "/api/v1/verifications", params=params))


@tool("verifications")
async def submit_verification_code(
    ctx: Context,
    verification_id: Id,
    code: Annotated[
        str,
        Field(
            min_length=1,
            max_length=64,
            description="The code the person received or read back (or the bot token for "
            "telegram_bot).",
        ),
    ],
    source_identifier: Annotated[
        str | None,
        Field(max_length=500, description="Where the code came from, if the method needs it."),
    ] = None,
) -> Verification:
    """Submit the code the person gives you for a pending verification.

    Use it for flows where the person tells *you* a code (email OTP, telegram_bot token). A wrong
    code counts an attempt; after `max_attempts` the verification fails. Returns the
    verification; on success its status is "verified" and it carries `proof_token`.
    """
    body = _drop_none(code=code, source_identifier=source_identifier)
    return Verification.model_validate(
        await call(ctx, "POST", f"/api/v1/verifications/{seg(verification_id)}/submit", body=body)
    )


@tool("verifications")
async def trigger_verification(ctx: Context, verification_id: Id) -> Result:
    """Check a DNS or HTTP domain verification now, instead of waiting for the background check.

    Use it after the person says they published the TXT record or the file. Returns the
    verification with `check` (what was found). If still pending, wait a little for DNS to
    propagate and try again.
    """
    return Result.model_validate(
        await call(ctx, "POST", f"/api/v1/verifications/{seg(verification_id)}/verify")
    )


@tool("verifications")
async def resend_verification(ctx: Context, verification_id: Id) -> Result:
    """Send the email code and magic link again (email verifications that are still pending).

    Returns `{success, message, expires_at}`. Rate limited: do not call it repeatedly.
    """
    return Result.model_validate(
        await call(ctx, "POST", f"/api/v1/verifications/{seg(verification_id)}/resend")
    )


@tool("verifications")
async def test_verify(ctx: Context, verification_id: Id) -> Verification:
    """Test mode only (pk_test_ key): complete a pending verification as if the person had.

    Returns the verified verification with a test `proof_token` (claim `test: true`, signed by
    the test key — never evidence of anything). Live keys get `test_mode_required`.
    """
    return Verification.model_validate(
        await call(ctx, "POST", f"/api/v1/verifications/{seg(verification_id)}/test-verify")
    )


@tool("verifications", read_only=True)
async def wait_for_verification(
    ctx: Context,
    verification_id: Id,
    timeout_seconds: Annotated[
        float, Field(gt=0, le=MAX_WAIT_SECONDS, description="How long to wait at most.")
    ] = 120,
    poll_interval_seconds: Annotated[
        float, Field(ge=0.05, le=60, description="How often to look.")
    ] = 2,
) -> VerificationWait:
    """Block until a verification leaves "pending" (verified, failed, expired) or the timeout
    passes, sending progress notifications meanwhile. Cancellable.

    Returns the verification with `timed_out` (true if still pending). Not an error when it
    times out: decide whether to wait again or tell the person. When verified, use
    `proof_token`.
    """
    path = f"/api/v1/verifications/{seg(verification_id)}"
    started = time.monotonic()
    while True:
        body = await call(ctx, "GET", path)
        waited = time.monotonic() - started
        pending = body.get("status") == "pending"
        if not pending or waited >= timeout_seconds:
            return VerificationWait.model_validate(
                {**body, "timed_out": pending, "waited_seconds": round(waited, 3)}
            )
        await ctx.report_progress(waited, timeout_seconds, "verification still pending")
        await anyio.sleep(min(poll_interval_seconds, timeout_seconds - waited))


# -- proofs ---------------------------------------------------------------------------------------
@tool("proofs", read_only=True)
async def validate_proof(
    ctx: Context,
    proof_token: Annotated[str, Field(min_length=1, max_length=8192, description="The JWT.")],
    identifier: Annotated[
        str | None,
        Field(max_length=500, description="Also check the proof is for this identifier."),
    ] = None,
) -> ProofValidation:
    """Ask the vouch server whether a proof token is valid right now (signature, expiry,
    revocation, and optionally that it is for `identifier`).

    Returns `{valid: true, …facts}` or `{valid: false, reason, message}` — an invalid proof is an
    answer, not an error. To check without an API key or without trusting the server's answer,
    use `verify_proof_offline`.
    """
    body = _drop_none(proof_token=proof_token, identifier=identifier)
    return ProofValidation.model_validate(
        await call(ctx, "POST", "/api/v1/proofs/validate", body=body)
    )


@tool("proofs", read_only=True)
async def get_proof_status(ctx: Context, proof_id: Id) -> Result:
    """Quick status of a proof by id (the verification or confirmation id), without the JWT.

    Returns `{proof_id, status, is_valid, is_revoked, revoked_at, expires_at, is_expired, …}`.
    """
    return Result.model_validate(await call(ctx, "GET", f"/api/v1/proofs/{seg(proof_id)}/status"))


@tool("proofs", destructive=True)
async def revoke_proof(
    ctx: Context,
    proof_id: Id,
    reason: Annotated[RevokeReason, Field(description="Why it no longer holds.")] = "user_request",
) -> Result:
    """Revoke a proof for good (irreversible): every later validation and offline check sees it
    revoked.

    Use when the asset changed hands, the proof was obtained by fraud, or the person asks.
    Confirm with the person (or your operator) before calling it. Returns the revocation;
    revoking twice answers `already_revoked`.
    """
    return Result.model_validate(
        await call(ctx, "POST", f"/api/v1/proofs/{seg(proof_id)}/revoke", body={"reason": reason})
    )


@tool("proofs", read_only=True)
async def list_revoked_proofs(
    ctx: Context,
    since: Annotated[
        str | None, Field(description="ISO 8601 instant: only revocations after it.")
    ] = None,
    cursor: Annotated[str | None, Field(max_length=200)] = None,
    limit: Annotated[int, Field(ge=1, le=1000)] = 1000,
) -> Result:
    """The signed revocation list: `revoked` entries `{proof_id, revoked_at, reason}`, with a
    signature over them. Page on with `cursor` while `has_more` is true."""
    params = {"since": since, "cursor": cursor, "limit": limit}
    return Result.model_validate(await call(ctx, "GET", "/api/v1/proofs/revoked", params=params))


def _unverified_claims(token: str) -> dict[str, Any] | None:
    import jwt

    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return claims if isinstance(claims, dict) else None


@tool("proofs", public=True, read_only=True)
async def verify_proof_offline(
    ctx: Context,
    proof_token: Annotated[str, Field(min_length=1, max_length=8192, description="The JWT.")],
    allow_test: Annotated[
        bool,
        Field(description="Accept test-mode proofs (signed by the test key). Never in production."),
    ] = False,
    issuer: Annotated[
        str | None, Field(description="Expected `iss`; defaults to the token's own.")
    ] = None,
    expected_type: Annotated[
        str | None, Field(description="Require this `type` claim (e.g. phone, confirmation).")
    ] = None,
    identifier: Annotated[
        str | None, Field(description="Require the proof to be for this identifier.")
    ] = None,
    check_revocation: Annotated[
        bool, Field(description="Also read the issuer's signed status list.")
    ] = True,
) -> OfflineVerification:
    """Verify a proof token locally, with no API key: fetch the issuer's public keys (JWKS),
    check the signature, expiry, key window and (by default) the signed revocation status.

    Use it to check a proof someone hands you, or to double-check a proof vouch returned.
    Returns `{valid, reason?, test, claims?}`; `valid: false` is an answer, not an error. A proof
    with `test: true` is never evidence: it is refused unless `allow_test` is set.
    """
    from vouch_client import AsyncVerifier, JWKSUnavailable, ProofInvalid, RevocationListUnavailable

    connector = connector_of(ctx)
    peek = _unverified_claims(proof_token)
    test = bool(peek and peek.get("test") is True)
    name = "jwks-test.json" if test else "jwks.json"
    jwks_url = f"{connector.base_url}/.well-known/{name}"

    def answer(valid: bool, **extra: Any) -> OfflineVerification:
        return OfflineVerification.model_validate(
            {"valid": valid, "test": test, "jwks_url": jwks_url, **extra}
        )

    if peek is None:
        return answer(False, reason="malformed", message="not a JWT")
    if test and not allow_test:
        return answer(
            False,
            reason="environment_mismatch",
            message="a test-mode proof; pass allow_test only when testing",
        )
    expected_issuer = issuer or peek.get("iss")
    if not isinstance(expected_issuer, str) or not expected_issuer:
        return answer(False, reason="issuer_mismatch", message="the token names no issuer")
    async with connector.client(None) as http:
        verifier = AsyncVerifier(
            connector.base_url,
            issuer=expected_issuer,
            test=test,
            check_revocation=check_revocation,
            http_client=http,
        )
        try:
            claims = await verifier.verify(proof_token, type=expected_type, identifier=identifier)
        except ProofInvalid as exc:
            return answer(False, reason=exc.reason, message=str(exc))
        except RevocationListUnavailable as exc:
            return answer(False, reason="status_unavailable", message=str(exc))
        except JWKSUnavailable as exc:
            return answer(False, reason="jwks_unavailable", message=str(exc))
    return answer(True, claims=claims.raw)


@tool("proofs", public=True, read_only=True)
async def get_jwks(
    ctx: Context,
    environment: Annotated[
        Literal["live", "test"], Field(description="live keys, or the test-mode keys.")
    ] = "live",
) -> Result:
    """The issuer's public signing keys (JWKS), as published at /.well-known/jwks.json (live) or
    /.well-known/jwks-test.json (test). Needs no key. For checking a token, prefer
    `verify_proof_offline`, which fetches these itself."""
    name = "jwks-test.json" if environment == "test" else "jwks.json"
    return Result.model_validate(await call(ctx, "GET", f"/.well-known/{name}"))


# -- authorizations (Proof of Delegation: consent to be contacted) -----------------------------
@tool("authorizations")
async def create_authorization(
    ctx: Context,
    channel: Literal["telegram", "whatsapp", "sms", "email"],
    recipient: Annotated[
        str,
        Field(
            min_length=1,
            max_length=320,
            description="Telegram chat id, E.164 phone, WhatsApp BSUID or email address.",
        ),
    ],
    business_name: Annotated[
        str, Field(min_length=1, max_length=100, description="Who is asking, as shown.")
    ],
    scope: Annotated[str, Field(max_length=64, pattern=r"^[a-z0-9_.:-]+$")] = "confirmations",
    expires_in: Annotated[
        int, Field(ge=3600, le=7_776_000, description="Seconds the consent holds once given.")
    ] = 7_776_000,
) -> Result:
    """Ask a person for consent to be contacted on a channel (needed before live confirmations
    reach them there).

    Returns the authorization (status "pending", and a deep link for some channels). The person
    allows or denies on the channel; check with `get_authorization`. In test mode,
    `test_respond_authorization` decides it.
    """
    body = {
        "channel": channel,
        "recipient": recipient,
        "business_name": business_name,
        "scope": scope,
        "expires_in": expires_in,
    }
    return Result.model_validate(await call(ctx, "POST", "/api/v1/authorizations", body=body))


@tool("authorizations", read_only=True)
async def get_authorization(ctx: Context, authorization_id: Id) -> Result:
    """Read one authorization: pending, active (consent given), denied, revoked or expired.
    Only an active one lets live confirmations reach that recipient."""
    return Result.model_validate(
        await call(ctx, "GET", f"/api/v1/authorizations/{seg(authorization_id)}")
    )


@tool("authorizations", read_only=True)
async def list_authorizations(
    ctx: Context,
    page: PageNo = 1,
    limit: Limit = 20,
    status: Literal["pending", "active", "denied", "revoked", "expired"] | None = None,
    channel: Literal["telegram", "whatsapp", "sms", "email"] | None = None,
    recipient: Annotated[str | None, Field(max_length=320)] = None,
) -> Page:
    """List consent records, optionally by status, channel or recipient (paged)."""
    params = {
        "page": page,
        "limit": limit,
        "status": status,
        "channel": channel,
        "recipient": recipient,
    }
    return Page.model_validate(await call(ctx, "GET", "/api/v1/authorizations", params=params))


@tool("authorizations", destructive=True)
async def revoke_authorization(
    ctx: Context,
    authorization_id: Id,
    reason: Annotated[str | None, Field(max_length=32)] = None,
) -> Result:
    """Withdraw a consent: no further confirmations go to that recipient on that channel."""
    return Result.model_validate(
        await call(
            ctx,
            "DELETE",
            f"/api/v1/authorizations/{seg(authorization_id)}",
            params={"reason": reason},
        )
    )


@tool("authorizations", read_only=True)
async def export_authorizations(
    ctx: Context,
    status: Literal["pending", "active", "denied", "revoked", "expired"] | None = None,
    since: Annotated[str | None, Field(max_length=40, description="ISO 8601 start.")] = None,
    until: Annotated[str | None, Field(max_length=40, description="ISO 8601 end.")] = None,
) -> Result:
    """Export consent records as JSON (an audit trail of who consented, when, on what)."""
    params = {"format": "json", "status": status, "from": since, "to": until}
    return Result.model_validate(
        await call(ctx, "GET", "/api/v1/authorizations/export", params=params)
    )


@tool("authorizations")
async def test_respond_authorization(
    ctx: Context, authorization_id: Id, action: Literal["allow", "deny"]
) -> Result:
    """Test mode only (pk_test_ key): answer a pending authorization as the person would
    (`allow` makes it active, `deny` denied). Returns the authorization."""
    return Result.model_validate(
        await call(
            ctx,
            "POST",
            f"/api/v1/authorizations/{seg(authorization_id)}/test-respond",
            body={"action": action},
        )
    )


# -- HITL configs (Proof of Action) ---------------------------------------------------------------
HitlChannels = Annotated[
    list[dict[str, Any]],
    Field(
        min_length=1,
        max_length=10,
        description='Where approvers are asked, e.g. [{"type": "web"}], '
        '[{"type": "telegram", "config": {"chat_id": "123"}}], '
        '[{"type": "whatsapp", "config": {"phone_number": "+14155550100"}}], '
        '[{"type": "email", "config": {"address": "ops@example.com"}}].',
    ),
]


@tool("hitl")
async def create_hitl(
    ctx: Context,
    name: Annotated[str, Field(min_length=1, max_length=100, description="e.g. Production")],
    channels: HitlChannels,
    timeout_seconds: Annotated[
        int, Field(ge=60, le=86_400, description="Default time a human has to decide.")
    ] = 3600,
) -> Result:
    """Create a human-in-the-loop config: who is asked, on which channels, with what timeout.

    Do this once per kind of decision (e.g. "Production deploys"); then `create_confirmation`
    with its `id` whenever you need a human's approval. A "web" channel gives you an approval
    link to hand to a person.
    """
    body = {"name": name, "channels": channels, "timeout_seconds": timeout_seconds}
    return Result.model_validate(await call(ctx, "POST", "/api/v1/hitl", body=body))


@tool("hitl", read_only=True)
async def get_hitl(ctx: Context, hitl_id: Id) -> Result:
    """Read one HITL config: its name, channels, timeout and status (active or archived). Use its
    `id` with `create_confirmation`."""
    return Result.model_validate(await call(ctx, "GET", f"/api/v1/hitl/{seg(hitl_id)}"))


@tool("hitl", read_only=True)
async def list_hitl(
    ctx: Context,
    page: PageNo = 1,
    limit: Limit = 20,
    status: Literal["active", "archived"] | None = None,
) -> Page:
    """List HITL configs (paged). Reuse an existing one rather than creating duplicates."""
    params = {"page": page, "limit": limit, "status": status}
    return Page.model_validate(await call(ctx, "GET", "/api/v1/hitl", params=params))


@tool("hitl")
async def update_hitl(
    ctx: Context,
    hitl_id: Id,
    name: Annotated[str | None, Field(min_length=1, max_length=100)] = None,
    channels: Annotated[list[dict[str, Any]] | None, Field(min_length=1, max_length=10)] = None,
    timeout_seconds: Annotated[int | None, Field(ge=60, le=86_400)] = None,
) -> Result:
    """Change a HITL config's name, channels or timeout (only the fields you pass)."""
    body = _drop_none(name=name, channels=channels, timeout_seconds=timeout_seconds)
    return Result.model_validate(
        await call(ctx, "PATCH", f"/api/v1/hitl/{seg(hitl_id)}", body=body)
    )


@tool("hitl", destructive=True)
async def delete_hitl(ctx: Context, hitl_id: Id) -> Result:
    """Archive a HITL config: no new confirmations can use it; past ones are kept."""
    return Result.model_validate(await call(ctx, "DELETE", f"/api/v1/hitl/{seg(hitl_id)}"))


# -- confirmations ------------------------------------------------------------------------------
@tool("confirmations")
async def create_confirmation(
    ctx: Context,
    hitl_id: Annotated[str, Field(min_length=1, max_length=64, description="From create_hitl.")],
    message: Annotated[
        str,
        Field(
            min_length=1,
            max_length=2000,
            description="What the human is asked to approve, specific and self-contained.",
        ),
    ],
    timeout_seconds: Annotated[
        int | None, Field(ge=60, le=86_400, description="Overrides the config's timeout.")
    ] = None,
    proof_expiry_days: Annotated[int | None, Field(ge=1, le=365)] = None,
) -> Confirmation:
    """Ask a human to approve or deny an action before you take it (deploy, payment, deletion…).

    Returns the confirmation (status "pending"), the channels it went to and, for a web channel,
    `approval_url` to give the human. Next: call `wait_for_confirmation` and act only if it
    returns `approved: true`. The decision comes with a signed proof (`proof_token`).
    """
    body = _drop_none(
        hitl_id=hitl_id,
        message=message,
        timeout_seconds=timeout_seconds,
        proof_expiry_days=proof_expiry_days,
    )
    return Confirmation.model_validate(await call(ctx, "POST", "/api/v1/confirmations", body=body))


@tool("confirmations", read_only=True)
async def get_confirmation(ctx: Context, confirmation_id: Id) -> Confirmation:
    """Read one confirmation: pending, approved, denied or expired, the response and the proof.
    To block until a decision, use `wait_for_confirmation`."""
    return Confirmation.model_validate(
        await call(ctx, "GET", f"/api/v1/confirmations/{seg(confirmation_id)}")
    )


@tool("confirmations", read_only=True)
async def list_confirmations(
    ctx: Context,
    page: PageNo = 1,
    limit: Limit = 20,
    status: Literal["pending", "approved", "denied", "expired"] | None = None,
    hitl_id: Annotated[str | None, Field(max_length=64)] = None,
    since: Annotated[str | None, Field(max_length=40, description="ISO 8601 start.")] = None,
    until: Annotated[str | None, Field(max_length=40, description="ISO 8601 end.")] = None,
) -> Page:
    """List confirmations, optionally by status, HITL config or time range (paged)."""
    params = {
        "page": page,
        "limit": limit,
        "status": status,
        "hitl_id": hitl_id,
        "from": since,
        "to": until,
    }
    return Page.model_validate(await call(ctx, "GET", "/api/v1/confirmations", params=params))


@tool("confirmations")
async def get_confirmation_approval_link(ctx: Context, confirmation_id: Id) -> Result:
    """A signed, single-use link to the hosted approval page (the HITL config needs a "web"
    channel). Give `url` to the human who decides; then `wait_for_confirmation`."""
    return Result.model_validate(
        await call(ctx, "POST", f"/api/v1/confirmations/{seg(confirmation_id)}/approval-link")
    )


@tool("confirmations", read_only=True)
async def wait_for_confirmation(
    ctx: Context,
    confirmation_id: Id,
    timeout_seconds: Annotated[
        float, Field(gt=0, le=MAX_WAIT_SECONDS, description="How long to wait at most.")
    ] = 300,
) -> ConfirmationWait:
    """Block until a human approves or denies the confirmation (or it expires), up to
    `timeout_seconds`, sending progress notifications meanwhile. Cancellable.

    Returns the confirmation with `approved` (true only for an approval), `timed_out` (true if
    no one decided yet: wait again or tell your operator) and, when decided, `response` and the
    signed `proof_token`. Never proceed with the action unless `approved` is true.
    """
    path = f"/api/v1/confirmations/{seg(confirmation_id)}"
    started = time.monotonic()
    while True:
        waited = time.monotonic() - started
        remaining = timeout_seconds - waited
        await ctx.report_progress(waited, timeout_seconds, "waiting for a human decision")
        wait = max(0, min(LONG_POLL_ROUND_SECONDS, math.floor(remaining)))
        body = await call(ctx, "GET", path, params={"wait": wait})
        waited = time.monotonic() - started
        pending = body.get("status") == "pending"
        if not pending or waited >= timeout_seconds or wait == 0:
            return ConfirmationWait.model_validate(
                {
                    **body,
                    "timed_out": pending,
                    "approved": body.get("status") == "approved",
                    "waited_seconds": round(waited, 3),
                }
            )


@tool("confirmations")
async def test_respond_confirmation(
    ctx: Context,
    confirmation_id: Id,
    action: Literal["approve", "deny"],
    text: Annotated[str | None, Field(max_length=1000)] = None,
) -> Confirmation:
    """Test mode only (pk_test_ key): decide a pending confirmation as the human would. Returns
    the decided confirmation with its test proof; a `wait_for_confirmation` in progress
    returns at once."""
    body = _drop_none(action=action, text=text)
    return Confirmation.model_validate(
        await call(
            ctx, "POST", f"/api/v1/confirmations/{seg(confirmation_id)}/test-respond", body=body
        )
    )


# -- webhooks ---------------------------------------------------------------------------------
@tool("webhooks", read_only=True)
async def list_webhook_endpoints(ctx: Context) -> Page:
    """The project's webhook endpoints (URL, events, enabled) in `data`. Check here before
    `create_webhook_endpoint` so you do not register the same URL twice."""
    return Page.model_validate(await call(ctx, "GET", "/api/v1/webhook-endpoints"))


@tool("webhooks")
async def create_webhook_endpoint(
    ctx: Context,
    url: Annotated[str, Field(min_length=1, max_length=2048, description="Public HTTPS URL.")],
    events: Annotated[
        list[str],
        Field(max_length=50, description="Event types, e.g. verification.verified; [] = all."),
    ] = [],  # noqa: B006  (pydantic copies defaults)
    description: Annotated[str | None, Field(max_length=255)] = None,
    enabled: bool = True,
) -> Result:
    """Register a URL to receive signed event notifications. The response shows the signing
    `secret` once: store it where the receiver can read it."""
    body = _drop_none(url=url, events=events, description=description, enabled=enabled)
    return Result.model_validate(await call(ctx, "POST", "/api/v1/webhook-endpoints", body=body))


@tool("webhooks", read_only=True)
async def get_webhook_endpoint(ctx: Context, endpoint_id: Id) -> Result:
    """Read one webhook endpoint: URL, subscribed events, enabled flag (never the secret). To
    change it, `update_webhook_endpoint`."""
    return Result.model_validate(
        await call(ctx, "GET", f"/api/v1/webhook-endpoints/{seg(endpoint_id)}")
    )


@tool("webhooks")
async def update_webhook_endpoint(
    ctx: Context,
    endpoint_id: Id,
    url: Annotated[str | None, Field(min_length=1, max_length=2048)] = None,
    events: Annotated[list[str] | None, Field(max_length=50)] = None,
    description: Annotated[str | None, Field(max_length=255)] = None,
    enabled: bool | None = None,
) -> Result:
    """Change a webhook endpoint's URL, events, description or enabled flag."""
    body = _drop_none(url=url, events=events, description=description, enabled=enabled)
    return Result.model_validate(
        await call(ctx, "PATCH", f"/api/v1/webhook-endpoints/{seg(endpoint_id)}", body=body)
    )


@tool("webhooks", destructive=True)
async def delete_webhook_endpoint(ctx: Context, endpoint_id: Id) -> Result:
    """Remove a webhook endpoint; nothing more is delivered to it."""
    return Result.model_validate(
        await call(ctx, "DELETE", f"/api/v1/webhook-endpoints/{seg(endpoint_id)}")
    )


@tool("webhooks")
async def rotate_webhook_endpoint_secret(ctx: Context, endpoint_id: Id) -> Result:
    """Issue a new signing secret for an endpoint (shown once); update the receiver with it."""
    return Result.model_validate(
        await call(ctx, "POST", f"/api/v1/webhook-endpoints/{seg(endpoint_id)}/rotate-secret")
    )


@tool("webhooks", read_only=True)
async def get_webhook_stats(ctx: Context) -> Result:
    """Delivery counts by status (pending, delivered, failed) — a quick health check."""
    return Result.model_validate(await call(ctx, "GET", "/api/v1/webhook-deliveries/stats"))


@tool("webhooks", read_only=True)
async def list_webhook_deliveries(
    ctx: Context,
    page: PageNo = 1,
    limit: Limit = 20,
    status: Literal["pending", "delivered", "failed"] | None = None,
    event_type: Annotated[str | None, Field(max_length=64)] = None,
    verification_id: Annotated[str | None, Field(max_length=64)] = None,
) -> Page:
    """List webhook deliveries (attempts, response status, errors), paged. Use it to find
    failed deliveries, then `retry_webhook_delivery`."""
    params = {
        "page": page,
        "limit": limit,
        "status": status,
        "event_type": event_type,
        "verification_id": verification_id,
    }
    return Page.model_validate(await call(ctx, "GET", "/api/v1/webhook-deliveries", params=params))


@tool("webhooks", read_only=True)
async def get_webhook_delivery(ctx: Context, delivery_id: Id) -> Result:
    """Read one webhook delivery: event, URL, attempts, last response status and error. If it
    failed and the receiver is fixed, `retry_webhook_delivery`."""
    return Result.model_validate(
        await call(ctx, "GET", f"/api/v1/webhook-deliveries/{seg(delivery_id)}")
    )


@tool("webhooks")
async def retry_webhook_delivery(ctx: Context, delivery_id: Id) -> Result:
    """Queue a failed webhook delivery to be sent again, signed afresh. Returns `{success,
    delivery}`; follow up with `get_webhook_delivery`."""
    return Result.model_validate(
        await call(ctx, "POST", f"/api/v1/webhook-deliveries/{seg(delivery_id)}/retry")
    )


# -- templates ------------------------------------------------------------------------------------
TemplateChannel = Annotated[str, Field(min_length=1, max_length=32, description="e.g. telegram")]
MessageType = Annotated[
    str, Field(min_length=1, max_length=64, description="e.g. verification_request")
]


@tool("templates", read_only=True)
async def list_templates(ctx: Context) -> Result:
    """The project's message templates per channel and message type, and the `{{variables}}`
    they may use."""
    return Result.model_validate(await call(ctx, "GET", "/api/v1/templates"))


@tool("templates", read_only=True)
async def get_template(ctx: Context, channel: TemplateChannel, message_type: MessageType) -> Result:
    """Read the template used for one channel and message type (yours or the default)."""
    return Result.model_validate(
        await call(ctx, "GET", f"/api/v1/templates/{seg(channel)}/{seg(message_type)}")
    )


@tool("templates", idempotent=True)
async def update_template(
    ctx: Context,
    channel: TemplateChannel,
    message_type: MessageType,
    body: Annotated[
        str, Field(min_length=1, max_length=2000, description="Text with {{variables}}.")
    ],
) -> Result:
    """Set the text sent for one channel and message type. Preview it first with
    `preview_template`."""
    return Result.model_validate(
        await call(
            ctx,
            "PUT",
            f"/api/v1/templates/{seg(channel)}/{seg(message_type)}",
            body={"body": body},
        )
    )


@tool("templates", destructive=True)
async def delete_template(
    ctx: Context, channel: TemplateChannel, message_type: MessageType
) -> Result:
    """Drop your template for one channel and message type; the default applies again."""
    return Result.model_validate(
        await call(ctx, "DELETE", f"/api/v1/templates/{seg(channel)}/{seg(message_type)}")
    )


@tool("templates", read_only=True)
async def preview_template(
    ctx: Context,
    body: Annotated[str | None, Field(min_length=1, max_length=2000)] = None,
    channel: Annotated[str | None, Field(max_length=32)] = None,
    message_type: Annotated[str | None, Field(max_length=64)] = None,
    variables: Annotated[dict[str, Any] | None, Field(description="Sample values.")] = None,
) -> Result:
    """Render a template text (or the stored one for channel + message_type) with sample
    variables, without sending anything. Returns `rendered`."""
    payload = _drop_none(
        body=body, channel=channel, message_type=message_type, variables=variables or {}
    )
    return Result.model_validate(await call(ctx, "POST", "/api/v1/templates/preview", body=payload))


# -- agents (agent proofs, ZeroProof surface) ---------------------------------------------------
AgentId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,127}$",
        description="The agent's id, as registered.",
    ),
]


@tool("agents")
async def register_agent(
    ctx: Context,
    agent_id: AgentId,
    public_key: Annotated[
        str | dict[str, Any],
        Field(description="Ed25519 public key: base64url raw key, or a public JWK."),
    ],
    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None,
) -> Result:
    """Register an AI agent and its Ed25519 public key, so it can later prove who it is.

    Next: `create_agent_challenge` for an action, sign it (`prove_agent_challenge` with the
    agent's key file), then `verify_agent_proof`.
    """
    body = _drop_none(agent_id=agent_id, public_key=public_key, name=name)
    return Result.model_validate(await call(ctx, "POST", "/v1/agents", body=body))


@tool("agents", read_only=True)
async def list_agents(
    ctx: Context,
    limit: Limit = 20,
    cursor: Annotated[str | None, Field(max_length=128)] = None,
) -> Result:
    """List registered agents (cursor paged: pass the returned cursor to get the next page).
    Use it to find an agent's id before `create_agent_challenge`."""
    return Result.model_validate(
        await call(ctx, "GET", "/v1/agents", params={"limit": limit, "cursor": cursor})
    )


@tool("agents", read_only=True)
async def get_agent(ctx: Context, agent_id: AgentId) -> Result:
    """Read one registered agent: its name and public keys (current and revoked). Use it to
    check which key an agent must sign with."""
    return Result.model_validate(await call(ctx, "GET", f"/v1/agents/{seg(agent_id)}"))


@tool("agents")
async def create_agent_challenge(
    ctx: Context,
    agent_id: AgentId,
    action: Annotated[
        str, Field(min_length=1, max_length=128, description="What the agent wants to do.")
    ],
    context: Annotated[
        dict[str, Any] | None, Field(description="Facts bound into the proof (JSON).")
    ] = None,
) -> Result:
    """Start an agent identity check for one action: returns a challenge (`challenge_id`,
    `nonce`, expiry). The agent signs it (`prove_agent_challenge`), then `verify_agent_proof`."""
    body = _drop_none(agent_id=agent_id, action=action, context=context)
    return Result.model_validate(await call(ctx, "POST", "/v1/verify/challenge", body=body))


@tool("agents", local_only=True, read_only=True)
async def prove_agent_challenge(
    ctx: Context,
    key_file: Annotated[
        str,
        Field(min_length=1, description="Path to the agent's private JWK (vouch agents keygen)."),
    ],
    challenge: Annotated[
        dict[str, Any], Field(description="The whole object create_agent_challenge returned.")
    ],
    context: Annotated[
        dict[str, Any] | None, Field(description="The context, if the challenge omits it.")
    ] = None,
) -> AgentProof:
    """Sign a challenge with a local agent key file (stdio only; nothing is sent anywhere).

    Returns `{challenge_id, proof}`: pass them to `verify_agent_proof`.
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from vouch_server.agents.keys import b64url_decode
    from vouch_server.agents.proof import ContextNotCanonical, ProofInput, context_sha256

    try:
        jwk = json.loads(await (await anyio.Path(key_file).expanduser()).read_text())
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise ValueError("not an Ed25519 JWK")
        key = Ed25519PrivateKey.from_private_bytes(b64url_decode(jwk["d"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise VouchToolError(
            "invalid_key_file", f"{key_file}: not a private Ed25519 JWK ({exc})"
        ) from exc
    try:
        message = ProofInput(
            challenge_id=str(challenge["challenge_id"]),
            nonce=str(challenge["nonce"]),
            agent_id=str(challenge["agent_id"]),
            action=str(challenge["action"]),
            context_sha256=context_sha256(
                context if context is not None else challenge.get("context")
            ),
        ).message()
    except KeyError as exc:
        raise VouchToolError("invalid_challenge", f"the challenge has no {exc}") from exc
    except ContextNotCanonical as exc:
        raise VouchToolError("invalid_challenge", f"context: {exc}") from exc
    return AgentProof(challenge_id=str(challenge["challenge_id"]), proof=key.sign(message).hex())


@tool("agents")
async def verify_agent_proof(
    ctx: Context,
    challenge_id: Annotated[str, Field(min_length=1, max_length=64)],
    proof: Annotated[str, Field(min_length=1, max_length=256, description="Signature, hex.")],
    agent_signature: Annotated[str | None, Field(max_length=256)] = None,
) -> Result:
    """Check an agent's signed answer to a challenge. Returns `{verified, …}`; when verified, a
    signed proof token the agent can show for that action."""
    body = _drop_none(challenge_id=challenge_id, proof=proof, agent_signature=agent_signature)
    return Result.model_validate(await call(ctx, "POST", "/v1/verify/proof", body=body))


@tool("agents", read_only=True)
async def get_agent_verification_status(
    ctx: Context, session_id: Annotated[str, Field(min_length=1, max_length=64)]
) -> Result:
    """Status of an agent verification session (by challenge id): pending, verified, failed or
    expired, and the proof once verified. Use after `verify_agent_proof` when you only kept
    the id."""
    return Result.model_validate(await call(ctx, "GET", f"/v1/verify/status/{seg(session_id)}"))


# -- records (signed records, Minka surface) ---------------------------------------------------
Resource = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z][a-z0-9-]*$",
        description="The record collection, e.g. wallets.",
    ),
]
RecordId = Annotated[
    str, Field(min_length=1, max_length=128, description="The record's luid/handle.")
]
RecordProofs = Annotated[
    list[dict[str, Any]],
    Field(
        max_length=50,
        description="Signer proofs {method, public, digest, result, custom} over the record hash.",
    ),
]


@tool("records")
async def create_record(
    ctx: Context,
    resource: Resource,
    data: Annotated[dict[str, Any], Field(description="The record's data.")],
    proofs: RecordProofs = [],  # noqa: B006  (pydantic copies defaults)
    hash: Annotated[str | None, Field(max_length=64, description="The data's hash, hex.")] = None,
) -> Result:
    """Create a signed record: `data` plus the signers' proofs over its hash. Returns the record
    `{luid, hash, data, meta}`; once the policy's quorum of signers stands behind it, its
    `meta.statusProof.token` is a proof anyone can verify offline."""
    body = _drop_none(data=data, hash=hash, meta={"proofs": proofs})
    return Result.model_validate(await call(ctx, "POST", f"/v2/{seg(resource)}", body=body))


@tool("records", read_only=True)
async def get_record(ctx: Context, resource: Resource, record_id: RecordId) -> Result:
    """Read one signed record `{luid, hash, data, meta}`: its signer proofs, status and, once
    the quorum is met, `meta.statusProof.token` (verify it with `verify_proof_offline`)."""
    return Result.model_validate(await call(ctx, "GET", f"/v2/{seg(resource)}/{seg(record_id)}"))


@tool("records", read_only=True)
async def list_records(ctx: Context, resource: Resource) -> Result:
    """List the records of a collection: `data` holds the records, each with its proofs and
    status. Use `get_record` for one, `get_record_changes` for its history."""
    return Result.model_validate(await call(ctx, "GET", f"/v2/{seg(resource)}"))


@tool("records")
async def add_record_proof(
    ctx: Context, resource: Resource, record_id: RecordId, proofs: RecordProofs
) -> Result:
    """Append signer proofs to a record (e.g. a second signer toward quorum). Returns the record
    as it now stands."""
    return Result.model_validate(
        await call(ctx, "POST", f"/v2/{seg(resource)}/{seg(record_id)}/proofs", body=proofs)
    )


@tool("records", read_only=True)
async def get_record_changes(ctx: Context, resource: Resource, record_id: RecordId) -> Result:
    """A record's history: every version and status change, with its proofs."""
    return Result.model_validate(
        await call(ctx, "GET", f"/v2/{seg(resource)}/{seg(record_id)}/changes")
    )


# -- location (Astral surface) ------------------------------------------------------------------
@tool("location", read_only=True)
async def verify_location_stamp(
    ctx: Context,
    stamp: Annotated[
        dict[str, Any], Field(description="One signed location stamp (Astral format).")
    ],
) -> Result:
    """Check one location stamp: its signature and internal consistency. Returns the plugin's
    verdict (`valid`, `signaturesValid`, …)."""
    return Result.model_validate(await call(ctx, "POST", "/verify/v0/stamp", body={"stamp": stamp}))


@tool("location")
async def verify_location_proof(
    ctx: Context,
    proof: Annotated[
        dict[str, Any],
        Field(description="{claim: {location, radius, time, …}, stamps: [signed stamps]}"),
    ],
    options: Annotated[dict[str, Any] | None, Field(description="Verification options.")] = None,
) -> Result:
    """Weigh evidence (stamps) for a location claim. Returns a credibility vector and, when the
    evidence supports the claim, a signed attestation."""
    body = _drop_none(proof=proof, options=options)
    return Result.model_validate(await call(ctx, "POST", "/verify/v0/proof", body=body))


@tool("location", public=True, read_only=True)
async def list_location_plugins(ctx: Context) -> Result:
    """The location evidence plugins this server understands (names, versions, what they
    check). Needs no key."""
    return Result.model_validate(await call(ctx, "GET", "/verify/v0/plugins"))
