"""MCP tools for the HITL lifecycle, encryption keys and Telegram chat-id discovery, named as
proof.holdings' MCP server names them where it has one (``request_hitl_authorization``,
``get_hitl_keys``, ``upload_hitl_keys``, ``delete_hitl_keys``, ``create_chat_id_discovery``,
``poll_chat_id_discovery``)."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from vouch_server.mcp.models import Result
from vouch_server.mcp.tools import call, seg, tool

Id = Annotated[str, Field(min_length=1, max_length=64, description="A HITL config id.")]
Pem = Annotated[str, Field(min_length=1, max_length=4000, description="PEM public key (RSA-4096).")]


@tool("hitl", routes=("POST /api/v1/hitl/{hitl_id}/authorize",))
async def request_hitl_authorization(ctx: Context, hitl_id: Id) -> Result:
    """Send a consent request to every recipient of the config not yet asked."""
    return Result.model_validate(await call(ctx, "POST", f"/api/v1/hitl/{seg(hitl_id)}/authorize"))


@tool("hitl", routes=("POST /api/v1/hitl/{hitl_id}/finalize",))
async def finalize_hitl(ctx: Context, hitl_id: Id) -> Result:
    """Make a pending config active and ask its recipients for consent."""
    return Result.model_validate(await call(ctx, "POST", f"/api/v1/hitl/{seg(hitl_id)}/finalize"))


@tool("hitl-keys", read_only=True, routes=("GET /api/v1/hitl/{hitl_id}/keys",))
async def get_hitl_keys(ctx: Context, hitl_id: Id) -> Result:
    """The config's end-to-end encryption keypair (public key, wrapped private key)."""
    return Result.model_validate(await call(ctx, "GET", f"/api/v1/hitl/{seg(hitl_id)}/keys"))


@tool("hitl-keys", routes=("PUT /api/v1/hitl/{hitl_id}/keys",))
async def upload_hitl_keys(
    ctx: Context,
    hitl_id: Id,
    public_key: Pem,
    encrypted_private_key: Annotated[str, Field(min_length=1, max_length=16000)],
    kdf_salt: Annotated[str, Field(min_length=1, max_length=200)],
) -> Result:
    """Upload a client-made keypair; the server never gets the password."""
    body = {
        "public_key": public_key,
        "encrypted_private_key": encrypted_private_key,
        "kdf_salt": kdf_salt,
    }
    return Result.model_validate(
        await call(ctx, "PUT", f"/api/v1/hitl/{seg(hitl_id)}/keys", body=body)
    )


@tool("hitl-keys", destructive=True, routes=("DELETE /api/v1/hitl/{hitl_id}/keys",))
async def delete_hitl_keys(ctx: Context, hitl_id: Id) -> Result:
    """Remove the keypair; later confirmations are plain text."""
    return Result.model_validate(await call(ctx, "DELETE", f"/api/v1/hitl/{seg(hitl_id)}/keys"))


@tool("hitl-keys", read_only=True, routes=("GET /api/v1/hitl/{hitl_id}/approver-keys",))
async def get_hitl_approver_keys(ctx: Context, hitl_id: Id) -> Result:
    """Enrolled approvers' public keys, by authorization id (envelope v2)."""
    return Result.model_validate(
        await call(ctx, "GET", f"/api/v1/hitl/{seg(hitl_id)}/approver-keys")
    )


@tool("hitl-keys", routes=("PUT /api/v1/hitl/{hitl_id}/approver-keys/{authorization_id}",))
async def enroll_hitl_approver_key(
    ctx: Context,
    hitl_id: Id,
    authorization_id: Annotated[str, Field(min_length=1, max_length=64)],
    public_key: Pem,
) -> Result:
    """Enroll the public key of an approver who consented to this config."""
    path = f"/api/v1/hitl/{seg(hitl_id)}/approver-keys/{seg(authorization_id)}"
    return Result.model_validate(await call(ctx, "PUT", path, body={"public_key": public_key}))


@tool("hitl", routes=("POST /api/v1/hitl/chat-id-discovery",))
async def create_chat_id_discovery(ctx: Context) -> Result:
    """A Telegram deep link and QR code that reveal the chat id of whoever opens it."""
    return Result.model_validate(await call(ctx, "POST", "/api/v1/hitl/chat-id-discovery"))


@tool(
    "hitl",
    read_only=True,
    routes=(
        "GET /api/v1/hitl/chat-id-discovery/{token}",
        "GET /api/v1/hitl/chat-id-discovery/{token}/events",
    ),
)
async def poll_chat_id_discovery(
    ctx: Context, token: Annotated[str, Field(min_length=1, max_length=64)]
) -> Result:
    """pending, completed (with chat_id) or expired."""
    return Result.model_validate(
        await call(ctx, "GET", f"/api/v1/hitl/chat-id-discovery/{seg(token)}")
    )
