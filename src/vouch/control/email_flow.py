"""Email verifications, both directions (channels issue — email part)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vouch.errors import BadRequest
from vouch.runtime import Runtime
from vouch.tenancy.service import Principal


async def resend(
    session: AsyncSession, runtime: Runtime, principal: Principal, verification_id: str
) -> dict[str, Any]:
    """``POST /api/v1/verifications/{id}/resend``: send the code and a magic link by email."""
    raise BadRequest("Email sending is not available yet", code="method_not_supported")
