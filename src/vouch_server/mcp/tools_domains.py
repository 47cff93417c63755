"""MCP tools for B2B domain verification (``/api/v1/verifications/domain…``).

``start_domain_verification`` and ``check_domain_verification`` are named as proof.holdings' MCP
server 1.1.0 names them. Their server has no tool for deleting an attempt; their Python SDK 1.2.0
calls it ``delete_domain_verification``, and so does this tool.
"""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from vouch_server.mcp.models import Result
from vouch_server.mcp.tools import Id, _drop_none, call, seg, tool

BASE = "/api/v1/verifications/domain"


@tool("verifications", routes=(f"POST {BASE}",))
async def start_domain_verification(
    ctx: Context,
    domain: Annotated[
        str, Field(min_length=1, max_length=253, description="The domain, e.g. example.com.")
    ],
    customer_id: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=255,
            description="Your id for the business that owns the domain (kept as external_user_id).",
        ),
    ] = None,
    verification_method: Annotated[
        Literal["manual_dns", "http_file"] | None,
        Field(description="manual_dns (a TXT record, the default) or http_file (a file)."),
    ] = None,
) -> Result:
    """Start verifying that one of your customers (a business) controls a domain.

    Returns the verification `id` with both ways to prove it: `dns_record {type, name, value}`
    (a TXT record to publish) and `http_file {path, content}` (a file to serve on the site), and
    `provider` (the DNS host, when recognised from the domain's name servers). Give the customer
    those instructions, then call `check_domain_verification` once they say it is published.
    """
    body = _drop_none(
        domain=domain, customer_id=customer_id, verification_method=verification_method
    )
    return Result.model_validate(await call(ctx, "POST", BASE, body=body))


@tool("verifications", routes=(f"POST {BASE}/{{verification_id}}/check",))
async def check_domain_verification(ctx: Context, verification_id: Id) -> Result:
    """Look for the TXT record (or the file) of a B2B domain verification now.

    Returns `{id, domain, status, verified, verified_at, check_count}`; once verified it also
    carries `proof_token`. While nothing is found, `reason` says why (`dns_record_not_found`,
    `dns_record_mismatch`, `file_not_found`, …): DNS can take minutes to propagate, so try again
    a little later rather than in a tight loop.
    """
    return Result.model_validate(await call(ctx, "POST", f"{BASE}/{seg(verification_id)}/check"))


@tool("verifications", destructive=True, routes=(f"DELETE {BASE}/{{verification_id}}",))
async def delete_domain_verification(ctx: Context, verification_id: Id) -> Result:
    """Delete a B2B domain verification attempt that never produced a proof (pending, failed or
    expired), e.g. one started for the wrong domain.

    Returns `{success, deleted, id, domain, status}`. Nothing is revoked: a verified domain is
    refused with `domain_verified` — use `revoke_proof` to withdraw its proof.
    """
    return Result.model_validate(await call(ctx, "DELETE", f"{BASE}/{seg(verification_id)}"))
