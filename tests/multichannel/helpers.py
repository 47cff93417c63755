"""Small helpers shared by the multi-channel tests."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from tests.fixtures.verifications import PHONE
from vouch_server.models import Proof, WebhookEvent
from vouch_server.runtime import Runtime

URL = "/api/v1/verifications/multi-channel"
ALL = ["telegram", "whatsapp", "sms"]


async def create_group(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    payload = {"type": "phone", "identifier": PHONE, "channels": ALL, **body}
    response = await client.post(URL, json=payload, headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def group_status(
    client: httpx.AsyncClient, headers: dict[str, str], group_id: str
) -> dict[str, Any]:
    response = await client.get(f"{URL}/{group_id}/status", headers=headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def proofs_and_completions(runtime: Runtime, ids: list[str]) -> tuple[int, int]:
    """Proofs minted for these verifications, and ``verification.completed`` events queued."""
    async with runtime.db.session() as session:
        proofs = await session.scalar(
            select(func.count()).select_from(Proof).where(Proof.id.in_(ids))
        )
        events = await session.scalar(
            select(func.count())
            .select_from(WebhookEvent)
            .where(WebhookEvent.subject_id.in_(ids), WebhookEvent.type == "verification.completed")
        )
    return int(proofs or 0), int(events or 0)
