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
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
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
# progress notification every round.
LONG_POLL_ROUND_SECONDS = 20
MAX_WAIT_SECONDS = 3600
# Polling (when the server offers no event stream) backs off like proof.holdings' wait tools.
POLL_BACKOFF = 1.5
MAX_POLL_INTERVAL_SECONDS = 30.0
MAX_POLL_JITTER_SECONDS = 0.5
# An event stream carries a heartbeat every 30 s by default; four missed ones mean it is dead.
EVENT_TIMEOUT = httpx.Timeout(30.0, read=120.0)


@dataclass(frozen=True)
class ToolSpec:
    fn: Callable[..., Awaitable[Any]]
    name: str
    family: str
    public: bool
    local_only: bool
    annotations: ToolAnnotations
    routes: tuple[str, ...]

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
    routes: tuple[str, ...] = (),
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Register a tool. ``routes`` names the HTTP operations it performs (``"GET /v1/agents"``,
    path templates as the app declares them), so a test can check that every operation of the
    app has a tool."""

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
                routes=routes,
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


def inbound_request(ctx: Context) -> Any:
    """The HTTP request that carried this call (Streamable HTTP), else None (stdio)."""
    try:
        return ctx.request_context.request
    except ValueError:  # pragma: no cover - tools run inside a request
        return None


def presented_key(ctx: Context) -> str | None:
    """The bearer key of the HTTP request that carried this call (Streamable HTTP), else None."""
    headers = getattr(inbound_request(ctx), "headers", None)
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
    answers: tuple[int, ...] = (),
) -> Any:
    """One request to vouch as the caller; the decoded JSON body, or a :class:`VouchToolError`
    (except for the statuses in ``answers``, whose body is an answer: /health's 503)."""
    connector = connector_of(ctx)
    async with connector.client(presented_key(ctx), inbound_request(ctx)) as http:
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
    if response.status_code in answers:
        return response.json()
    return raise_for_response(response)


def _drop_none(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


# -- waiting ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pacing:
    """How the wait tools tell time and pause between polls (a test passes its own clock)."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep
    jitter: Callable[[], float] = field(default=lambda: random.uniform(0, MAX_POLL_JITTER_SECONDS))


def pacing_of(ctx: Context) -> Pacing:
    pacing = getattr(ctx.mcp_server, "pacing", None)
    return pacing if isinstance(pacing, Pacing) else Pacing()


PENDING = frozenset({"pending"})


def _pending(body: Any, open_statuses: frozenset[str] = PENDING) -> bool:
    return isinstance(body, Mapping) and body.get("status") in open_statuses


async def _sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
    """``(event, data)`` pairs of a Server-Sent Events stream (HTML Living Standard,
    "Server-sent events" §9.2.6: a blank line dispatches; ``data`` lines join with newlines;
    lines starting with ``:`` are comments). ``data`` is decoded JSON where it parses."""
    event, data = "message", list[str]()
    async for line in response.aiter_lines():
        if not line:
            if data:
                text = "\n".join(data)
                try:
                    decoded: Any = json.loads(text)
                except ValueError:
                    decoded = text
                yield event, decoded
            event, data = "message", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value or "message"
        elif name == "data":
            data.append(value)


async def _follow_events(
    ctx: Context,
    path: str,
    remaining: float,
    progress: Callable[[], Awaitable[None]],
    open_statuses: frozenset[str] = PENDING,
) -> bool:
    """Follow the server's event stream for a resource until it says the resource left
    "pending", the stream ends, or ``remaining`` seconds pass (all ``True``). ``False`` when the
    server offers no stream (an older server, the per-project stream cap): poll instead."""
    if remaining <= 0:
        return True
    connector = connector_of(ctx)
    with anyio.move_on_after(remaining):
        async with connector.client(presented_key(ctx), inbound_request(ctx)) as http:
            try:
                async with http.stream(
                    "GET", path, headers={"Accept": "text/event-stream"}, timeout=EVENT_TIMEOUT
                ) as response:
                    kind = response.headers.get("content-type", "")
                    if response.status_code != 200 or not kind.startswith("text/event-stream"):
                        return False
                    async for event, data in _sse_events(response):
                        if event == "status_changed" and not _pending(data, open_statuses):
                            return True
                        await progress()
            except httpx.HTTPError:
                # Dropped mid-way (a proxy's idle timeout, a restart): the polls take over.
                return False
    return True


async def wait_until_settled(
    ctx: Context,
    path: str,
    *,
    timeout: float,  # noqa: ASYNC109 - the wait's own budget, not an I/O timeout
    interval: float,
    long_poll: bool,
    waiting: str,
    open_statuses: frozenset[str] = PENDING,
    events: bool = True,
) -> tuple[Any, float]:
    """Wait for the resource at ``path`` to leave "pending", up to ``timeout`` seconds.

    First the server's own events (``{path}/events``, Server-Sent Events), so a change in any
    vouch process arrives at once; where there are none, polls that back off from ``interval``
    by ×1.5 up to 30 s (plus up to 0.5 s of jitter), as proof.holdings' wait tools do. With
    ``long_poll`` each poll asks the server to hold it (``?wait=N``) until something happens.
    A progress notification goes out with every event and every poll; cancelling the call ends
    the wait at its next await. ``open_statuses`` are the statuses that keep it waiting;
    ``events=False`` for a resource the server has no event stream for. Returns the last body
    read and the seconds waited.
    """
    pacing = pacing_of(ctx)
    started = pacing.now()

    def waited() -> float:
        return pacing.now() - started

    async def progress() -> None:
        await ctx.report_progress(round(min(waited(), timeout), 3), timeout, waiting)

    body = await call(ctx, "GET", path)
    if not _pending(body, open_statuses):
        return body, waited()
    await progress()
    if events and await _follow_events(
        ctx, f"{path}/events", timeout - waited(), progress, open_statuses
    ):
        body = await call(ctx, "GET", path)
        if not _pending(body, open_statuses) or waited() >= timeout:
            return body, waited()
    while True:
        remaining = timeout - waited()
        if remaining <= 0:
            return body, waited()
        ask = max(0, min(LONG_POLL_ROUND_SECONDS, math.floor(remaining))) if long_poll else 0
        round_started = pacing.now()
        body = await call(ctx, "GET", path, params={"wait": ask} if ask else None)
        if not _pending(body, open_statuses):
            return body, waited()
        await progress()
        if ask and pacing.now() - round_started >= ask:
            continue  # the server held the poll: ask again at once
        remaining = timeout - waited()
        if remaining <= 0:
            return body, waited()
        await pacing.sleep(min(interval + pacing.jitter(), remaining))
        interval = min(interval * POLL_BACKOFF, MAX_POLL_INTERVAL_SECONDS)


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
@tool("verifications", routes=("POST /api/v1/verifications",))
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


@tool("verifications", read_only=True, routes=("GET /api/v1/verifications/{verification_id}",))
async def get_verification(ctx: Context, verification_id: Id) -> Verification:
    """Read one verification: its status (pending, verified, failed, expired, revoked), attempts,
    and, once verified, `proof_token`.

    The challenge code is never shown again after create. To block until it completes, use
    `wait_for_verification` instead of calling this in a loop.
    """
    return Verification.model_validate(
        await call(ctx, "GET", f"/api/v1/verifications/{seg(verification_id)}")
    )


@tool("verifications", read_only=True, routes=("GET /api/v1/verifications",))
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


@tool("verifications", routes=("POST /api/v1/verifications/{verification_id}/submit",))
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


@tool("verifications", routes=("POST /api/v1/verifications/{verification_id}/verify",))
async def trigger_verification(ctx: Context, verification_id: Id) -> Result:
    """Check a DNS or HTTP domain verification now, instead of waiting for the background check.

    Use it after the person says they published the TXT record or the file. Returns the
    verification with `check` (what was found). If still pending, wait a little for DNS to
    propagate and try again.
    """
    return Result.model_validate(
        await call(ctx, "POST", f"/api/v1/verifications/{seg(verification_id)}/verify")
    )


@tool("verifications", routes=("POST /api/v1/verifications/{verification_id}/resend",))
async def resend_verification(ctx: Context, verification_id: Id) -> Result:
    """Send the email code and magic link again (email verifications that are still pending).

    Returns `{success, message, expires_at}`. Rate limited: do not call it repeatedly.
    """
    return Result.model_validate(
        await call(ctx, "POST", f"/api/v1/verifications/{seg(verification_id)}/resend")
    )


@tool("verifications", routes=("POST /api/v1/verifications/{verification_id}/test-verify",))
async def test_verify(ctx: Context, verification_id: Id) -> Verification:
    """Test mode only (pk_test_ key): complete a pending verification as if the person had.

    Returns the verified verification with a test `proof_token` (claim `test: true`, signed by
    the test key — never evidence of anything). Live keys get `test_mode_required`.
    """
    return Verification.model_validate(
        await call(ctx, "POST", f"/api/v1/verifications/{seg(verification_id)}/test-verify")
    )


@tool(
    "verifications",
    read_only=True,
    routes=(
        "GET /api/v1/verifications/{verification_id}",
        "GET /api/v1/verifications/{verification_id}/events",
    ),
)
async def wait_for_verification(
    ctx: Context,
    verification_id: Id,
    timeout_seconds: Annotated[
        float, Field(gt=0, le=MAX_WAIT_SECONDS, description="How long to wait at most.")
    ] = 120,
    poll_interval_seconds: Annotated[
        float,
        Field(
            ge=0.05,
            le=60,
            description="First pause between polls, if the server offers no event stream "
            "(then ×1.5 up to 30 s).",
        ),
    ] = 2,
) -> VerificationWait:
    """Block until a verification leaves "pending" (verified, failed, expired) or the timeout
    passes, sending progress notifications meanwhile. Cancellable.

    Returns the verification with `timed_out` (true if still pending). Not an error when it
    times out: decide whether to wait again or tell the person. When verified, use
    `proof_token`.
    """
    body, waited = await wait_until_settled(
        ctx,
        f"/api/v1/verifications/{seg(verification_id)}",
        timeout=timeout_seconds,
        interval=poll_interval_seconds,
        long_poll=False,
        waiting="verification still pending",
    )
    return VerificationWait.model_validate(
        {**body, "timed_out": _pending(body), "waited_seconds": round(waited, 3)}
    )


# -- verification requests (several assets, one link) ---------------------------------------------
RequestAssetType = Literal["phone", "email", "domain", "social", "wallet", "account"]
REQUEST_OPEN = frozenset({"pending", "partial"})


@tool("verification-requests", routes=("POST /api/v1/verification-requests",))
async def create_verification_request(
    ctx: Context,
    assets: Annotated[
        list[dict[str, Any]],
        Field(
            min_length=1,
            max_length=10,
            description='1–10 assets, each {"type": "phone"|"email"|…, "identifier"?: fixed '
            'value or omitted for the person to give, "allowed_channels"?: ["telegram", …], '
            '"required"?: true}.',
        ),
    ],
    reference_id: Annotated[
        str | None, Field(max_length=255, description="Your own id for this request.")
    ] = None,
    action_type: Annotated[
        Literal["verification", "2fa", "login", "custom", "confirmation", "authorization"] | None,
        Field(description="What the person is verifying for (shown on the hosted page)."),
    ] = None,
    action_context: Annotated[
        dict[str, Any] | None,
        Field(description="{title, description, amount, currency, entity} shown to the person."),
    ] = None,
    partial_ok: Annotated[
        bool | None,
        Field(description="Announce the request as partial once required assets are done."),
    ] = None,
    redirect_url: Annotated[str | None, Field(max_length=2048)] = None,
    callback_url: Annotated[
        str | None, Field(max_length=2048, description="HTTPS URL to notify on completion.")
    ] = None,
    expires_in: Annotated[
        int | None, Field(gt=0, le=604_800, description="Seconds (default 1 day, at most 7).")
    ] = None,
    client_metadata: Annotated[dict[str, Any] | None, Field()] = None,
) -> Result:
    """Ask one person to prove several assets at once (e.g. their phone *and* email) through a
    single link.

    Returns the request (status "pending") with `verification_url`: send that link to the
    person, then call `wait_for_request`. With a test key, `test_verify_request_asset`
    completes an asset without a person. When it is "completed", `get_request_proofs` gives
    one signed proof token per asset.
    """
    body = _drop_none(
        assets=assets,
        reference_id=reference_id,
        action_type=action_type,
        action_context=action_context,
        partial_ok=partial_ok,
        redirect_url=redirect_url,
        callback_url=callback_url,
        expires_in=expires_in,
        client_metadata=client_metadata,
    )
    return Result.model_validate(
        await call(ctx, "POST", "/api/v1/verification-requests", body=body)
    )


@tool(
    "verification-requests",
    read_only=True,
    routes=("GET /api/v1/verification-requests/{request_id}",),
)
async def get_verification_request(ctx: Context, request_id: Id) -> Result:
    """Read one verification request: its status (pending, partial, completed, expired,
    cancelled), each asset's progress, and `verification_url`. To block until it finishes, use
    `wait_for_request`."""
    return Result.model_validate(
        await call(ctx, "GET", f"/api/v1/verification-requests/{seg(request_id)}")
    )


@tool(
    "verification-requests",
    read_only=True,
    routes=("GET /api/v1/verification-requests/by-reference/{reference_id}",),
)
async def get_request_by_reference(
    ctx: Context, reference_id: Annotated[str, Field(min_length=1, max_length=255)]
) -> Result:
    """Find a verification request by the `reference_id` you gave it at creation (your order,
    signup or ticket id). Returns the request as `get_verification_request` does."""
    return Result.model_validate(
        await call(ctx, "GET", f"/api/v1/verification-requests/by-reference/{seg(reference_id)}")
    )


@tool("verification-requests", read_only=True, routes=("GET /api/v1/verification-requests",))
async def list_verification_requests(
    ctx: Context,
    page: PageNo = 1,
    limit: Limit = 20,
    status: Literal["pending", "partial", "completed", "expired", "cancelled", "active"]
    | None = None,
    reference_id: Annotated[str | None, Field(max_length=255)] = None,
) -> Page:
    """List this project's verification requests, newest first (`active` = pending or
    partial). Returns `data` and `pagination`; page on with `page` = `pagination.nextPage`."""
    params = {"page": page, "limit": limit, "status": status, "reference_id": reference_id}
    return Page.model_validate(
        await call(ctx, "GET", "/api/v1/verification-requests", params=params)
    )


@tool(
    "verification-requests",
    destructive=True,
    routes=("DELETE /api/v1/verification-requests/{request_id}",),
)
async def cancel_verification_request(ctx: Context, request_id: Id) -> Result:
    """Cancel a verification request that is still open: its link stops working. Returns
    `{id, success, status: "cancelled", cancelled_at}`; a finished request cannot be
    cancelled."""
    return Result.model_validate(
        await call(ctx, "DELETE", f"/api/v1/verification-requests/{seg(request_id)}")
    )


@tool(
    "verification-requests",
    read_only=True,
    routes=("GET /api/v1/verification-requests/{request_id}/proofs",),
)
async def get_request_proofs(ctx: Context, request_id: Id) -> Result:
    """The signed proofs of a verification request's completed assets: one entry per asset with
    `type`, `identifier`, `channel`, `verified_at` and `proof_token` (check each with
    `validate_proof` or `verify_proof_offline`)."""
    return Result.model_validate(
        await call(ctx, "GET", f"/api/v1/verification-requests/{seg(request_id)}/proofs")
    )


@tool(
    "verification-requests",
    routes=("POST /api/v1/verification-requests/{request_id}/assets/{index}/test-verify",),
)
async def test_verify_request_asset(
    ctx: Context,
    request_id: Id,
    index: Annotated[int, Field(ge=0, lt=10, description="The asset's position, from 0.")],
    identifier: Annotated[
        str | None,
        Field(max_length=500, description="For an asset the person identifies: its value."),
    ] = None,
) -> Result:
    """Test mode only (pk_test_ key): complete one asset of a request as if the person had.
    Returns the request; when every required asset is done its status is "completed"."""
    body = _drop_none(identifier=identifier)
    return Result.model_validate(
        await call(
            ctx,
            "POST",
            f"/api/v1/verification-requests/{seg(request_id)}/assets/{index}/test-verify",
            body=body,
        )
    )


@tool(
    "verification-requests",
    read_only=True,
    routes=("GET /api/v1/verification-requests/{request_id}",),
)
async def wait_for_request(
    ctx: Context,
    request_id: Id,
    timeout_seconds: Annotated[
        float, Field(gt=0, le=MAX_WAIT_SECONDS, description="How long to wait at most.")
    ] = 300,
) -> Result:
    """Block until a verification request is completed, expired or cancelled, or the timeout
    passes, sending progress notifications meanwhile. Cancellable.

    Returns the request with `timed_out` (true if still pending or partial): not an error; wait
    again or remind the person. When completed, call `get_request_proofs`.
    """
    body, waited = await wait_until_settled(
        ctx,
        f"/api/v1/verification-requests/{seg(request_id)}",
        timeout=timeout_seconds,
        interval=2.0,
        long_poll=False,
        waiting="verification request still open",
        open_statuses=REQUEST_OPEN,
        events=False,
    )
    return Result.model_validate(
        {
            **body,
            "timed_out": _pending(body, REQUEST_OPEN),
            "waited_seconds": round(waited, 3),
        }
    )


@tool("verifications", read_only=True, routes=("GET /api/v1/verifications/users",))
async def list_verified_users(ctx: Context, page: PageNo = 1, limit: Limit = 20) -> Page:
    """The people (by your `external_user_id`) who hold verified assets, with what they proved.
    Use it to reuse a verification instead of asking the person again."""
    params = {"page": page, "limit": limit}
    return Page.model_validate(await call(ctx, "GET", "/api/v1/verifications/users", params=params))


@tool(
    "verifications",
    read_only=True,
    routes=("GET /api/v1/verifications/users/{external_user_id}",),
)
async def get_verified_user(
    ctx: Context, external_user_id: Annotated[str, Field(min_length=1, max_length=255)]
) -> Result:
    """One person's verified assets (by your `external_user_id`): type, identifier, channel,
    when verified and until when. Empty when they have proved nothing yet."""
    return Result.model_validate(
        await call(ctx, "GET", f"/api/v1/verifications/users/{seg(external_user_id)}")
    )


# -- multi-channel verifications and phone-first sessions -----------------------------------------
PhoneChannel = Literal["whatsapp", "telegram", "sms"]


@tool("verifications", routes=("POST /api/v1/verifications/multi-channel",))
async def create_multi_channel_verification(
    ctx: Context,
    identifier: Annotated[
        str, Field(min_length=1, max_length=500, description="The phone, E.164 (+14155550100).")
    ],
    channels: Annotated[
        list[PhoneChannel],
        Field(min_length=1, max_length=4, description="Offer these channels at once."),
    ],
    external_user_id: Annotated[str | None, Field(max_length=255)] = None,
    client_metadata: Annotated[dict[str, Any] | None, Field()] = None,
    proof_expiry_days: Annotated[int | None, Field(ge=1, le=365)] = None,
) -> Result:
    """Verify one phone number over several channels in parallel (e.g. WhatsApp and Telegram)
    and let the person use whichever they have: the first channel completed wins and the
    others are ended.

    Returns the group (`id` starting `vg_`) with one challenge per channel: show them all to
    the person, then poll `get_multi_channel_verification_status`.
    """
    body = _drop_none(
        type="phone",
        identifier=identifier,
        channels=channels,
        external_user_id=external_user_id,
        client_metadata=client_metadata,
        proof_expiry_days=proof_expiry_days,
    )
    return Result.model_validate(
        await call(ctx, "POST", "/api/v1/verifications/multi-channel", body=body)
    )


@tool(
    "verifications",
    read_only=True,
    routes=("GET /api/v1/verifications/multi-channel/{group_id}/status",),
)
async def get_multi_channel_verification_status(ctx: Context, group_id: Id) -> Result:
    """Read a multi-channel verification: its status, each channel's verification, and once
    one channel won, the winning verification with its `proof_token`."""
    return Result.model_validate(
        await call(ctx, "GET", f"/api/v1/verifications/multi-channel/{seg(group_id)}/status")
    )


@tool("sessions", routes=("POST /api/v1/sessions",))
async def create_session(
    ctx: Context,
    channel: Annotated[
        PhoneChannel, Field(description="Where the person sends the message that proves it.")
    ] = "telegram",
    client_metadata: Annotated[dict[str, Any] | None, Field()] = None,
) -> Result:
    """Start a phone-first session: you do not know the person's number yet; they open the
    deep link or scan the QR code (or text the SMS code) and vouch learns the number from the
    channel itself.

    Returns the session (`id` starting `sess_`) with `deep_link`, `qr_code` (base64 PNG),
    `qr_text` and, for sms, the code and numbers. Show them to the person, then call
    `wait_for_session`.
    """
    body = _drop_none(channel=channel, client_metadata=client_metadata)
    return Result.model_validate(await call(ctx, "POST", "/api/v1/sessions", body=body))


@tool("sessions", read_only=True, routes=("GET /api/v1/sessions/{session_id}",))
async def get_session(ctx: Context, session_id: Id) -> Result:
    """Read a phone-first session: pending, verified (with `phone_number`, `verified_at`,
    `verification_id` and `proof {token, expires_at}`) or expired."""
    return Result.model_validate(await call(ctx, "GET", f"/api/v1/sessions/{seg(session_id)}"))


@tool("sessions", read_only=True, routes=("GET /api/v1/sessions/{session_id}",))
async def wait_for_session(
    ctx: Context,
    session_id: Id,
    timeout_seconds: Annotated[
        float, Field(gt=0, le=MAX_WAIT_SECONDS, description="How long to wait at most.")
    ] = 300,
) -> Result:
    """Block until a phone-first session is verified or expired, or the timeout passes, sending
    progress notifications meanwhile. Cancellable. Returns the session with `timed_out` (true
    if still pending: not an error)."""
    body, waited = await wait_until_settled(
        ctx,
        f"/api/v1/sessions/{seg(session_id)}",
        timeout=timeout_seconds,
        interval=2.0,
        long_poll=False,
        waiting="waiting for the person to message the channel",
        events=False,
    )
    return Result.model_validate(
        {**body, "timed_out": _pending(body), "waited_seconds": round(waited, 3)}
    )


# -- proofs ---------------------------------------------------------------------------------------
@tool("proofs", read_only=True, routes=("POST /api/v1/proofs/validate",))
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


@tool("proofs", read_only=True, routes=("GET /api/v1/proofs/{proof_id}/status",))
async def get_proof_status(ctx: Context, proof_id: Id) -> Result:
    """Quick status of a proof by id (the verification or confirmation id), without the JWT.

    Returns `{proof_id, status, is_valid, is_revoked, revoked_at, expires_at, is_expired, …}`.
    """
    return Result.model_validate(await call(ctx, "GET", f"/api/v1/proofs/{seg(proof_id)}/status"))


@tool("proofs", destructive=True, routes=("POST /api/v1/proofs/{proof_id}/revoke",))
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


@tool("proofs", read_only=True, routes=("GET /api/v1/proofs/revoked",))
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


@tool(
    "proofs",
    public=True,
    read_only=True,
    routes=(
        "GET /.well-known/jwks.json",
        "GET /.well-known/jwks-test.json",
        "GET /statuslists/{environment}/{list_no}",
    ),
)
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
    async with connector.client(None, inbound_request(ctx)) as http:
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


@tool(
    "proofs",
    public=True,
    read_only=True,
    routes=("GET /.well-known/jwks.json", "GET /.well-known/jwks-test.json"),
)
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


@tool(
    "proofs",
    public=True,
    read_only=True,
    routes=("GET /statuslists/{environment}/{list_no}",),
)
async def get_status_list(
    ctx: Context,
    environment: Annotated[Literal["live", "test"], Field(description="Which issuer key.")],
    list_no: Annotated[int, Field(ge=0, le=1_000_000, description="The list's number.")],
) -> Result:
    """One signed Token Status List (IETF draft-ietf-oauth-status-list), the revocation bits a
    proof token's `status.status_list.uri` points to: `{token}`, a JWT. Needs no key.
    `verify_proof_offline` reads it for you; use this only to inspect or cache the list."""
    body = await call(ctx, "GET", f"/statuslists/{environment}/{list_no}")
    token = body.get("text") if isinstance(body, Mapping) else None
    return Result.model_validate({"token": token} if token else body)


@tool("server", public=True, read_only=True, routes=("GET /health",))
async def get_health(ctx: Context) -> Result:
    """Whether the vouch server is up: `{status: healthy|unhealthy, version, services:
    {database, redis}}`. Needs no key. Use it when tools fail with `vouch_unreachable` or
    `vouch_timeout`, before telling the user the server is down."""
    return Result.model_validate(await call(ctx, "GET", "/health", answers=(503,)))


# -- authorizations (Proof of Delegation: consent to be contacted) -----------------------------
@tool("authorizations", routes=("POST /api/v1/authorizations",))
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


@tool("authorizations", read_only=True, routes=("GET /api/v1/authorizations/{authorization_id}",))
async def get_authorization(ctx: Context, authorization_id: Id) -> Result:
    """Read one authorization: pending, active (consent given), denied, revoked or expired.
    Only an active one lets live confirmations reach that recipient."""
    return Result.model_validate(
        await call(ctx, "GET", f"/api/v1/authorizations/{seg(authorization_id)}")
    )


@tool("authorizations", read_only=True, routes=("GET /api/v1/authorizations",))
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


@tool(
    "authorizations", destructive=True, routes=("DELETE /api/v1/authorizations/{authorization_id}",)
)
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


@tool("authorizations", read_only=True, routes=("GET /api/v1/authorizations/export",))
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


@tool("authorizations", routes=("POST /api/v1/authorizations/{authorization_id}/test-respond",))
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


@tool("hitl", routes=("POST /api/v1/hitl",))
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


@tool("hitl", read_only=True, routes=("GET /api/v1/hitl/{hitl_id}",))
async def get_hitl(ctx: Context, hitl_id: Id) -> Result:
    """Read one HITL config: its name, channels, timeout and status (active or archived). Use its
    `id` with `create_confirmation`."""
    return Result.model_validate(await call(ctx, "GET", f"/api/v1/hitl/{seg(hitl_id)}"))


@tool("hitl", read_only=True, routes=("GET /api/v1/hitl",))
async def list_hitl(
    ctx: Context,
    page: PageNo = 1,
    limit: Limit = 20,
    status: Literal["active", "archived"] | None = None,
) -> Page:
    """List HITL configs (paged). Reuse an existing one rather than creating duplicates."""
    params = {"page": page, "limit": limit, "status": status}
    return Page.model_validate(await call(ctx, "GET", "/api/v1/hitl", params=params))


@tool("hitl", routes=("PATCH /api/v1/hitl/{hitl_id}",))
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


@tool("hitl", destructive=True, routes=("DELETE /api/v1/hitl/{hitl_id}",))
async def delete_hitl(ctx: Context, hitl_id: Id) -> Result:
    """Archive a HITL config: no new confirmations can use it; past ones are kept."""
    return Result.model_validate(await call(ctx, "DELETE", f"/api/v1/hitl/{seg(hitl_id)}"))


# -- confirmations ------------------------------------------------------------------------------
@tool("confirmations", routes=("POST /api/v1/confirmations",))
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


@tool("confirmations", read_only=True, routes=("GET /api/v1/confirmations/{confirmation_id}",))
async def get_confirmation(ctx: Context, confirmation_id: Id) -> Confirmation:
    """Read one confirmation: pending, approved, denied or expired, the response and the proof.
    To block until a decision, use `wait_for_confirmation`."""
    return Confirmation.model_validate(
        await call(ctx, "GET", f"/api/v1/confirmations/{seg(confirmation_id)}")
    )


@tool("confirmations", read_only=True, routes=("GET /api/v1/confirmations",))
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


@tool("confirmations", routes=("POST /api/v1/confirmations/{confirmation_id}/approval-link",))
async def get_confirmation_approval_link(ctx: Context, confirmation_id: Id) -> Result:
    """A signed, single-use link to the hosted approval page, for a confirmation of any HITL
    config. Give `approval_url` to the human who decides; then `wait_for_confirmation`. A
    decision made through it is recorded with channel "web"."""
    return Result.model_validate(
        await call(ctx, "POST", f"/api/v1/confirmations/{seg(confirmation_id)}/approval-link")
    )


@tool(
    "confirmations",
    read_only=True,
    routes=(
        "GET /api/v1/confirmations/{confirmation_id}",
        "GET /api/v1/confirmations/{confirmation_id}/events",
    ),
)
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
    body, waited = await wait_until_settled(
        ctx,
        f"/api/v1/confirmations/{seg(confirmation_id)}",
        timeout=timeout_seconds,
        interval=2.0,
        long_poll=True,
        waiting="waiting for a human decision",
    )
    return ConfirmationWait.model_validate(
        {
            **body,
            "timed_out": _pending(body),
            "approved": body.get("status") == "approved",
            "waited_seconds": round(waited, 3),
        }
    )


@tool("confirmations", routes=("POST /api/v1/confirmations/{confirmation_id}/test-respond",))
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
@tool("webhooks", read_only=True, routes=("GET /api/v1/webhook-endpoints",))
async def list_webhook_endpoints(ctx: Context) -> Page:
    """The project's webhook endpoints (URL, events, enabled) in `data`. Check here before
    `create_webhook_endpoint` so you do not register the same URL twice."""
    return Page.model_validate(await call(ctx, "GET", "/api/v1/webhook-endpoints"))


@tool("webhooks", routes=("POST /api/v1/webhook-endpoints",))
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


@tool("webhooks", read_only=True, routes=("GET /api/v1/webhook-endpoints/{endpoint_id}",))
async def get_webhook_endpoint(ctx: Context, endpoint_id: Id) -> Result:
    """Read one webhook endpoint: URL, subscribed events, enabled flag (never the secret). To
    change it, `update_webhook_endpoint`."""
    return Result.model_validate(
        await call(ctx, "GET", f"/api/v1/webhook-endpoints/{seg(endpoint_id)}")
    )


@tool("webhooks", routes=("PATCH /api/v1/webhook-endpoints/{endpoint_id}",))
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


@tool("webhooks", destructive=True, routes=("DELETE /api/v1/webhook-endpoints/{endpoint_id}",))
async def delete_webhook_endpoint(ctx: Context, endpoint_id: Id) -> Result:
    """Remove a webhook endpoint; nothing more is delivered to it."""
    return Result.model_validate(
        await call(ctx, "DELETE", f"/api/v1/webhook-endpoints/{seg(endpoint_id)}")
    )


@tool("webhooks", routes=("POST /api/v1/webhook-endpoints/{endpoint_id}/rotate-secret",))
async def rotate_webhook_endpoint_secret(ctx: Context, endpoint_id: Id) -> Result:
    """Issue a new signing secret for an endpoint (shown once); update the receiver with it."""
    return Result.model_validate(
        await call(ctx, "POST", f"/api/v1/webhook-endpoints/{seg(endpoint_id)}/rotate-secret")
    )


@tool("webhooks", read_only=True, routes=("GET /api/v1/webhook-deliveries/stats",))
async def get_webhook_stats(ctx: Context) -> Result:
    """Delivery counts by status (pending, delivered, failed) — a quick health check."""
    return Result.model_validate(await call(ctx, "GET", "/api/v1/webhook-deliveries/stats"))


@tool("webhooks", read_only=True, routes=("GET /api/v1/webhook-deliveries",))
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


@tool("webhooks", read_only=True, routes=("GET /api/v1/webhook-deliveries/{delivery_id}",))
async def get_webhook_delivery(ctx: Context, delivery_id: Id) -> Result:
    """Read one webhook delivery: event, URL, attempts, last response status and error. If it
    failed and the receiver is fixed, `retry_webhook_delivery`."""
    return Result.model_validate(
        await call(ctx, "GET", f"/api/v1/webhook-deliveries/{seg(delivery_id)}")
    )


@tool("webhooks", routes=("POST /api/v1/webhook-deliveries/{delivery_id}/retry",))
async def retry_webhook_delivery(ctx: Context, delivery_id: Id) -> Result:
    """Queue a failed webhook delivery to be sent again, signed afresh. Returns `{success,
    delivery}`; follow up with `get_webhook_delivery`."""
    return Result.model_validate(
        await call(ctx, "POST", f"/api/v1/webhook-deliveries/{seg(delivery_id)}/retry")
    )


@tool("webhooks", routes=("POST /api/v1/webhook-endpoints/callback-secret/rotate",))
async def rotate_callback_secret(ctx: Context) -> Result:
    """Issue (first call) or rotate the secret that signs the notifications vouch sends to a
    verification's own `callback_url`. Returns `{secret, previous_secret_expires_at}`; the
    secret is shown only here: store it where the receiver checks signatures. The previous
    secret keeps working until `previous_secret_expires_at`."""
    return Result.model_validate(
        await call(ctx, "POST", "/api/v1/webhook-endpoints/callback-secret/rotate")
    )


# -- channel credentials (bring your own channel) ---------------------------------------------
CredentialChannel = Annotated[
    Literal[
        "telegram",
        "whatsapp",
        "sms",
        "email",
        "oauth-github",
        "oauth-google",
        "oauth-facebook",
        "oauth-x",
        "oauth-linkedin",
        "oauth-instagram",
        "oauth-youtube",
        "oauth-tiktok",
        "oauth-coinbase",
        "oauth-kraken",
    ],
    Field(description="telegram, whatsapp, sms (Twilio), email (SMTP) or oauth-<provider>."),
]
CREDENTIALS_PATH = "/api/v1/channels/{channel}/credentials"


@tool("channels", read_only=True, routes=(f"GET {CREDENTIALS_PATH}",))
async def get_channel_credentials(ctx: Context, channel: CredentialChannel) -> Result:
    """Whether this project sends on a channel with its own provider account ("bring your own
    channel") instead of the server's: `{configured, public, webhook_url?}`. `public` holds the
    non-secret facts (bot username, phone number, sender address); secrets are never shown.
    `webhook_url` is the address to register with the provider for inbound messages."""
    return Result.model_validate(
        await call(ctx, "GET", CREDENTIALS_PATH.format(channel=seg(channel)))
    )


@tool("channels", idempotent=True, routes=(f"PUT {CREDENTIALS_PATH}",))
async def set_channel_credentials(
    ctx: Context,
    channel: CredentialChannel,
    credentials: Annotated[
        dict[str, str],
        Field(
            max_length=10,
            description="telegram: bot_token, bot_username, webhook_secret · whatsapp: "
            "phone_number, phone_number_id, access_token, app_secret, verify_token · sms: "
            "account_sid, auth_token, numbers (REGION=+E164,…) · email: smtp_url "
            "(smtp[s]://user:pass@host:port), email_from · oauth-*: client_id, client_secret.",
        ),
    ],
) -> Result:
    """Store the project's own provider account for a channel, sealed at rest; it replaces the
    server's account for this project's messages. Every field of the channel is required and
    unknown fields are refused. Returns the stored description (never the secrets) and, for
    telegram, whatsapp and sms, `webhook_url`: register it with the provider so replies reach
    vouch. Ask the user for secrets directly; do not invent them."""
    return Result.model_validate(
        await call(ctx, "PUT", CREDENTIALS_PATH.format(channel=seg(channel)), body=credentials)
    )


@tool("channels", destructive=True, routes=(f"DELETE {CREDENTIALS_PATH}",))
async def delete_channel_credentials(ctx: Context, channel: CredentialChannel) -> Result:
    """Forget the project's own account for a channel: its messages go through the server's
    account again. Returns `{deleted: true}`; `not_found` when nothing was stored."""
    await call(ctx, "DELETE", CREDENTIALS_PATH.format(channel=seg(channel)))
    return Result.model_validate({"deleted": True, "channel": channel})


# -- templates: vouch_server.mcp.tools_templates -------------------------------------------------


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


@tool("agents", routes=("POST /v1/agents",))
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


@tool("agents", read_only=True, routes=("GET /v1/agents",))
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


@tool("agents", read_only=True, routes=("GET /v1/agents/{agent_id}",))
async def get_agent(ctx: Context, agent_id: AgentId) -> Result:
    """Read one registered agent: its name and public keys (current and revoked). Use it to
    check which key an agent must sign with."""
    return Result.model_validate(await call(ctx, "GET", f"/v1/agents/{seg(agent_id)}"))


@tool("agents", routes=("POST /v1/verify/challenge",))
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


@tool("agents", routes=("POST /v1/verify/proof",))
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


@tool("agents", read_only=True, routes=("GET /v1/verify/status/{session_id}",))
async def get_agent_verification_status(
    ctx: Context, session_id: Annotated[str, Field(min_length=1, max_length=64)]
) -> Result:
    """Status of an agent verification session (by challenge id): pending, verified, failed or
    expired, and the proof once verified. Use after `verify_agent_proof` when you only kept
    the id."""
    return Result.model_validate(await call(ctx, "GET", f"/v1/verify/status/{seg(session_id)}"))


@tool("agents", routes=("POST /v1/agents/{agent_id}/keys",))
async def add_agent_key(
    ctx: Context,
    agent_id: AgentId,
    public_key: Annotated[
        str | dict[str, Any],
        Field(description="The new Ed25519 public key: base64url raw key, or a public JWK."),
    ],
    revoke_previous: Annotated[
        bool,
        Field(description="Revoke the agent's other keys (rotation); false keeps them (overlap)."),
    ] = True,
) -> Result:
    """Give a registered agent a new signing key, e.g. to rotate it. Returns the agent with
    every key and its status; the new key's `kid` is what `revoke_agent_key` takes."""
    body = {"public_key": public_key, "revoke_previous": revoke_previous}
    return Result.model_validate(
        await call(ctx, "POST", f"/v1/agents/{seg(agent_id)}/keys", body=body)
    )


@tool("agents", destructive=True, routes=("DELETE /v1/agents/{agent_id}/keys/{kid}",))
async def revoke_agent_key(
    ctx: Context,
    agent_id: AgentId,
    kid: Annotated[str, Field(min_length=1, max_length=128, description="The key's kid.")],
) -> Result:
    """Revoke one of an agent's keys for good (a leaked key file): proofs signed with it fail
    from now on. Returns the agent with its keys."""
    return Result.model_validate(
        await call(ctx, "DELETE", f"/v1/agents/{seg(agent_id)}/keys/{seg(kid)}")
    )


@tool("agents", destructive=True, routes=("DELETE /v1/agents/{agent_id}",))
async def delete_agent(ctx: Context, agent_id: AgentId) -> Result:
    """Retire a registered agent and revoke all its keys: it can no longer prove who it is.
    Confirm with your operator first. Returns the agent as it now stands."""
    return Result.model_validate(await call(ctx, "DELETE", f"/v1/agents/{seg(agent_id)}"))


@tool("agents", routes=("POST /v1/verify/http-signature",))
async def verify_agent_http_signature(
    ctx: Context,
    method: Annotated[str, Field(pattern=r"^[A-Za-z]{1,16}$", description="e.g. GET")],
    url: Annotated[
        str, Field(min_length=8, max_length=2048, description="The full URL it requested.")
    ],
    headers: Annotated[
        dict[str, str],
        Field(
            max_length=100,
            description="The request's headers as received, with Signature, Signature-Input "
            "and Signature-Agent.",
        ),
    ],
    action: Annotated[
        str | None, Field(max_length=128, description="The action this request is for.")
    ] = None,
) -> Result:
    """Check an HTTP request an agent signed (RFC 9421 HTTP Message Signatures, Web Bot Auth):
    pass what your server received. Returns `{verified, agent_id, …}` and, when verified, a
    proof token, as `verify_agent_proof` does for challenges."""
    body = _drop_none(method=method, url=url, headers=headers, action=action)
    return Result.model_validate(await call(ctx, "POST", "/v1/verify/http-signature", body=body))


@tool(
    "agents",
    idempotent=True,
    routes=("PUT /v1/agents/{agent_id}/keys/{kid}/directory-signature",),
)
async def set_agent_directory_signature(
    ctx: Context,
    agent_id: AgentId,
    kid: Annotated[str, Field(min_length=1, max_length=128)],
    signature_input: Annotated[str, Field(min_length=1, max_length=1024)],
    signature: Annotated[str, Field(min_length=1, max_length=512)],
) -> Result:
    """Deposit a key's own signature of the public key directory (the `Signature-Input` and
    `Signature` field values it would send), so the key is listed at
    /.well-known/http-message-signatures-directory until the signature expires. The
    signature is made where the key is held (over the directory response, tag
    http-message-signatures-directory); vouch checks it before storing."""
    body = {"signature_input": signature_input, "signature": signature}
    return Result.model_validate(
        await call(
            ctx,
            "PUT",
            f"/v1/agents/{seg(agent_id)}/keys/{seg(kid)}/directory-signature",
            body=body,
        )
    )


@tool(
    "agents",
    public=True,
    read_only=True,
    routes=("GET /.well-known/http-message-signatures-directory",),
)
async def get_agent_key_directory(ctx: Context) -> Result:
    """The public directory of live agents' signing keys (a JWKS, Web Bot Auth's
    http-message-signatures-directory): what a website checks an agent's signed request
    against. Needs no key."""
    return Result.model_validate(
        await call(ctx, "GET", "/.well-known/http-message-signatures-directory")
    )


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


@tool("records", routes=("POST /v2/{resource}",))
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


@tool("records", idempotent=True, routes=("PUT /v2/{resource}/{record_id}",))
async def update_record(
    ctx: Context,
    resource: Resource,
    record_id: RecordId,
    data: Annotated[dict[str, Any], Field(description="The record's new data, whole.")],
    proofs: RecordProofs = [],  # noqa: B006  (pydantic copies defaults)
    hash: Annotated[str | None, Field(max_length=64, description="The data's hash, hex.")] = None,
) -> Result:
    """Replace a signed record's data with a new version, signed over its new hash (the
    policy decides who may). Returns the record as it now stands; the old version stays in
    `get_record_changes`."""
    body = _drop_none(data=data, hash=hash, meta={"proofs": proofs})
    return Result.model_validate(
        await call(ctx, "PUT", f"/v2/{seg(resource)}/{seg(record_id)}", body=body)
    )


@tool("records", read_only=True, routes=("GET /v2/{resource}/{record_id}",))
async def get_record(ctx: Context, resource: Resource, record_id: RecordId) -> Result:
    """Read one signed record `{luid, hash, data, meta}`: its signer proofs, status and, once
    the quorum is met, `meta.statusProof.token` (verify it with `verify_proof_offline`)."""
    return Result.model_validate(await call(ctx, "GET", f"/v2/{seg(resource)}/{seg(record_id)}"))


@tool("records", read_only=True, routes=("GET /v2/{resource}",))
async def list_records(
    ctx: Context,
    resource: Resource,
    limit: Limit = 20,
    index: Annotated[int, Field(ge=0, le=1_000_000, description="Items to skip.")] = 0,
    status: Annotated[
        str | None, Field(max_length=64, description="Only records with this meta.status.")
    ] = None,
) -> Result:
    """List the records of a collection: `data` holds the records, each with its proofs and
    status; `page.hasMore` says whether to call again with `index` + `limit`. Use `get_record`
    for one, `get_record_changes` for its history."""
    params = {"limit": limit, "index": index, "meta.status": status}
    return Result.model_validate(await call(ctx, "GET", f"/v2/{seg(resource)}", params=params))


@tool("records", routes=("POST /v2/{resource}/{record_id}/proofs",))
async def add_record_proof(
    ctx: Context, resource: Resource, record_id: RecordId, proofs: RecordProofs
) -> Result:
    """Append signer proofs to a record (e.g. a second signer toward quorum). Returns the record
    as it now stands."""
    return Result.model_validate(
        await call(ctx, "POST", f"/v2/{seg(resource)}/{seg(record_id)}/proofs", body=proofs)
    )


@tool("records", read_only=True, routes=("GET /v2/{resource}/{record_id}/changes",))
async def get_record_changes(ctx: Context, resource: Resource, record_id: RecordId) -> Result:
    """A record's history: every version and status change, with its proofs."""
    return Result.model_validate(
        await call(ctx, "GET", f"/v2/{seg(resource)}/{seg(record_id)}/changes")
    )


# -- location (Astral surface) ------------------------------------------------------------------
@tool("location", read_only=True, routes=("POST /verify/v0/stamp",))
async def verify_location_stamp(
    ctx: Context,
    stamp: Annotated[
        dict[str, Any], Field(description="One signed location stamp (Astral format).")
    ],
) -> Result:
    """Check one location stamp: its signature and internal consistency. Returns the plugin's
    verdict (`valid`, `signaturesValid`, …)."""
    return Result.model_validate(await call(ctx, "POST", "/verify/v0/stamp", body={"stamp": stamp}))


@tool("location", routes=("POST /verify/v0/proof",))
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


@tool("location", public=True, read_only=True, routes=("GET /verify/v0/plugins",))
async def list_location_plugins(ctx: Context) -> Result:
    """The location evidence plugins this server understands (names, versions, what they
    check). Needs no key."""
    return Result.model_validate(await call(ctx, "GET", "/verify/v0/plugins"))


# Families whose tools live in their own modules register here, once everything above exists.
# (Each module imports ``tool`` and ``call`` from this one; one import line per module below.)
from vouch_server.mcp import tools_profiles  # noqa: E402, F401

from vouch_server.mcp import tools_templates  # noqa: E402, F401  # isort: skip
from vouch_server.mcp import tools_hitl  # noqa: E402, F401  # isort: skip
from vouch_server.mcp import tools_domains  # noqa: E402, F401  # isort: skip
