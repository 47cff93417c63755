"""created_at, updated_at and verified_at keep millisecond precision end to end, and a
verification never reads as verified before it was created; the proof's iat is that instant
floored to the second and exp = iat + lifetime."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import create_verification
from vouch_server.control import service
from vouch_server.kit.clock import parse_instant

MS_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def instants(body: dict[str, Any]) -> tuple[datetime, datetime, datetime]:
    for name in ("created_at", "updated_at", "verified_at"):
        assert MS_INSTANT.match(body[name]), (name, body[name])
    return (
        parse_instant(body["created_at"]),
        parse_instant(body["updated_at"]),
        parse_instant(body["verified_at"]),
    )


async def create_and_verify(client: httpx.AsyncClient, keys: Keys) -> dict[str, Any]:
    created = await create_verification(client, keys.test_headers)
    response = await client.post(
        f"/api/v1/verifications/{created['id']}/test-verify", headers=keys.test_headers
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


class TestCompleteTimestamps:
    async def test_verified_right_after_creation_is_not_earlier_than_created(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        verified = await create_and_verify(client, keys)
        fetched = (
            await client.get(f"/api/v1/verifications/{verified['id']}", headers=keys.test_headers)
        ).json()
        for body in (verified, fetched):
            created_at, updated_at, verified_at = instants(body)
            assert verified_at >= created_at and updated_at >= created_at
        assert fetched["verified_at"] == verified["verified_at"]

    async def test_sub_second_creation_keeps_its_order(
        self, client: httpx.AsyncClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Created late in a second and verified 1.1 ms later in the same second: a whole-second
        # verified_at would read ~0.79 s before created_at.
        second = datetime.now(UTC).replace(microsecond=0)
        clock = {"now": second + timedelta(microseconds=789_456)}
        monkeypatch.setattr(service, "utcnow", lambda: clock["now"])
        created = await create_verification(client, keys.test_headers)
        clock["now"] = second + timedelta(microseconds=790_567)
        verified = (
            await client.post(
                f"/api/v1/verifications/{created['id']}/test-verify", headers=keys.test_headers
            )
        ).json()
        created_at, updated_at, verified_at = instants(verified)
        assert created_at == second + timedelta(milliseconds=789)
        assert verified_at == updated_at == second + timedelta(milliseconds=790)

    async def test_token_iat_is_the_floored_second_and_exp_adds_the_lifetime(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        verified = await create_and_verify(client, keys)
        claims = jwt.decode(verified["proof_token"], options={"verify_signature": False})
        verified_at = parse_instant(verified["verified_at"])
        assert claims["iat"] == int(verified_at.timestamp())
        assert claims["verified_at"] == verified["verified_at"]
        lifetime = parse_instant(verified["proof_expires_at"]) - datetime.fromtimestamp(
            claims["iat"], UTC
        )
        assert claims["exp"] == claims["iat"] + int(lifetime.total_seconds())
        assert lifetime == timedelta(days=30)
