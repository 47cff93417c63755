"""``/api/v1/verifications`` over HTTP against the real app and database."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import func, select

from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import PHONE, create_verification
from vouch_server.models import Proof, Verification
from vouch_server.runtime import Runtime

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def count_rows(runtime: Runtime, model: Any) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


class TestCreate:
    async def test_phone_telegram_create_returns_challenge_with_deep_link(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        data = await create_verification(client, keys.test_headers, identifier="+370 691 99199")
        assert re.match(r"^[0-9a-f]{24}$", data["id"])
        assert data["status"] == "pending"
        assert data["identifier"] == PHONE
        challenge = data["challenge"]
        assert re.match(r"^[A-Z0-9]{6}$", challenge["code"])
        assert challenge["instruction"] == challenge["code"]
        assert challenge["deep_link"] == f"https://t.me/vouch_verify_bot?start={challenge['code']}"
        assert challenge["send_to"] == "@vouch_verify_bot"
        assert ISO_MS.match(challenge["expires_at"])
        created = parse_iso(data["created_at"])
        assert parse_iso(challenge["expires_at"]) - created == timedelta(minutes=10)

    @pytest.mark.parametrize(
        ("type_", "channel", "identifier", "ttl"),
        [
            ("email", "email", "John.Doe@Example.COM", 30 * 60),
            ("domain", "dns", "https://www.example.com/", 24 * 3600),
            ("social", "github", "@octocat", 600),
            ("wallet", "ethereum", "0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B", 600),
            ("phone", "whatsapp", "+44 7700 900123", 600),
            ("phone", "sms", "+44 7700 900123", 600),
        ],
    )
    async def test_each_type_gets_its_challenge_ttl(
        self,
        client: httpx.AsyncClient,
        keys: Keys,
        type_: str,
        channel: str,
        identifier: str,
        ttl: int,
    ) -> None:
        data = await create_verification(
            client, keys.test_headers, type=type_, channel=channel, identifier=identifier
        )
        delta = parse_iso(data["challenge_expires_at"]) - parse_iso(data["created_at"])
        assert delta == timedelta(seconds=ttl)

    async def test_wrong_pair_is_invalid_channel_for_type_and_stores_nothing(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        response = await client.post(
            "/api/v1/verifications",
            json={"type": "phone", "channel": "email", "identifier": PHONE},
            headers=keys.test_headers,
        )
        assert response.status_code == 400
        assert response.json()["error"] == {
            "code": "invalid_channel_for_type",
            "message": "Channel 'email' is not valid for verification type 'phone'",
            "request_id": response.headers["x-request-id"],
        }
        assert await count_rows(runtime, Verification) == 0

    @pytest.mark.parametrize(
        ("type_", "channel", "identifier"),
        [
            ("phone", "telegram", "12345"),
            ("email", "email", "not-an-email"),
            ("domain", "dns", "localhost"),
            ("wallet", "ethereum", "0xAb5801a7D398351b8bE11C439e05C5B3259aeC9b"),
            ("wallet", "solana", "0OIl"),
            ("wallet", "bitcoin", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"),
        ],
    )
    async def test_bad_identifier_is_rejected_and_stores_nothing(
        self,
        client: httpx.AsyncClient,
        keys: Keys,
        runtime: Runtime,
        type_: str,
        channel: str,
        identifier: str,
    ) -> None:
        response = await client.post(
            "/api/v1/verifications",
            json={"type": type_, "channel": channel, "identifier": identifier},
            headers=keys.test_headers,
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "invalid_identifier"
        assert await count_rows(runtime, Verification) == 0

    async def test_unknown_type_is_a_validation_error_with_details(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        response = await client.post(
            "/api/v1/verifications",
            json={"type": "fax", "channel": "email", "identifier": "x"},
            headers=keys.test_headers,
        )
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert error["message"] == "Request validation failed"
        assert {
            "field": "type",
            "message": "Invalid enum value",
            "code": "invalid_enum_value",
        } in error["details"]
        assert await count_rows(runtime, Verification) == 0

    @pytest.mark.parametrize(
        "body",
        [
            {"expires_in": 60},
            {"expires_in": 366 * 86400},
            {"proof_expiry_days": 0},
            {"proof_expiry_days": 400},
            {"expires_in": 7200, "proof_expiry_days": 2},
            {"callback_url": "http://127.0.0.1/hook"},
            {"callback_url": "http://metadata.internal/x"},
            {"callback_url": "ftp://example.com/x"},
            {"external_user_id": ""},
            {"identifier": ""},
        ],
    )
    async def test_out_of_range_options_are_validation_errors(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime, body: dict[str, Any]
    ) -> None:
        payload = {"type": "phone", "channel": "telegram", "identifier": PHONE, **body}
        response = await client.post(
            "/api/v1/verifications", json=payload, headers=keys.test_headers
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "validation_error"
        assert response.json()["error"]["details"]
        assert await count_rows(runtime, Verification) == 0

    async def test_options_are_kept_and_returned(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        data = await create_verification(
            client,
            keys.test_headers,
            external_user_id="user_12345",
            client_metadata={"source": "onboarding"},
            callback_url="https://hooks.example.com/vouch",
        )
        fetched = (
            await client.get(f"/api/v1/verifications/{data['id']}", headers=keys.test_headers)
        ).json()
        assert fetched["external_user_id"] == "user_12345"
        assert fetched["client_metadata"] == {"source": "onboarding"}
        assert fetched["callback_url"] == "https://hooks.example.com/vouch"

    async def test_code_is_never_stored_in_clear(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        data = await create_verification(client, keys.test_headers)
        async with runtime.db.session() as session:
            row = await session.get(Verification, data["id"])
        assert row is not None
        assert data["challenge"]["code"] not in repr(row.__dict__)


class TestGet:
    async def test_get_never_returns_the_code(self, client: httpx.AsyncClient, keys: Keys) -> None:
        data = await create_verification(client, keys.test_headers)
        response = await client.get(
            f"/api/v1/verifications/{data['id']}", headers=keys.test_headers
        )
        assert response.status_code == 200
        body = response.json()
        assert "challenge" not in body
        assert data["challenge"]["code"] not in response.text
        assert body["attempts"] == 0 and body["max_attempts"] == 3
        assert body["challenge_expires_at"] == data["challenge"]["expires_at"]

    async def test_unknown_and_malformed_ids_are_not_found(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        for id_ in ("507f1f77bcf86cd799439011", "nope", "../../etc/passwd"):
            response = await client.get(f"/api/v1/verifications/{id_}", headers=keys.test_headers)
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"

    async def test_test_and_live_data_are_isolated(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        test_v = await create_verification(client, keys.test_headers)
        live_v = await create_verification(client, keys.live_headers)
        for headers, foreign in ((keys.live_headers, test_v), (keys.test_headers, live_v)):
            response = await client.get(f"/api/v1/verifications/{foreign['id']}", headers=headers)
            assert response.status_code == 404
        listed = (await client.get("/api/v1/verifications", headers=keys.test_headers)).json()
        assert [v["id"] for v in listed["data"]] == [test_v["id"]]
        other = (
            await client.get("/api/v1/verifications", headers=keys.auth(keys.other_test))
        ).json()
        assert other["data"] == []

    async def test_expired_challenge_is_expired_on_read(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        data = await create_verification(client, keys.test_headers)
        async with runtime.db.session() as session:
            row = await session.get(Verification, data["id"])
            assert row is not None
            row.challenge_expires_at = datetime.now(UTC) - timedelta(seconds=1)
        body = (
            await client.get(f"/api/v1/verifications/{data['id']}", headers=keys.test_headers)
        ).json()
        assert body["status"] == "expired"
        response = await client.post(
            f"/api/v1/verifications/{data['id']}/submit",
            json={"challenge_code": data["challenge"]["code"], "source_identifier": PHONE},
            headers=keys.test_headers,
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "verification_expired"


class TestList:
    @pytest.mark.parametrize(
        "path",
        [
            "/api/v1/verifications",
            "/api/v1/webhook-deliveries",
            "/api/v1/verification-requests",
            "/api/v1/verifications/users",
            "/api/v1/hitl",
            "/api/v1/confirmations",
            "/api/v1/authorizations",
        ],
    )
    async def test_a_page_past_the_deepest_is_a_400_not_a_database_error(
        self, client: httpx.AsyncClient, keys: Keys, path: str
    ) -> None:
        # schemathesis found page=1811255543530636091441085939712 answered 500 (OFFSET overflow).
        from vouch_server.kit.paging import MAX_PAGE

        h = keys.test_headers
        deepest = await client.get(f"{path}?page={MAX_PAGE}", headers=h)
        assert deepest.status_code == 200, deepest.text
        for page in (MAX_PAGE + 1, 2**64, 10**31):
            response = await client.get(f"{path}?page={page}", headers=h)
            assert response.status_code == 400, (page, response.text)
            assert response.json()["error"]["details"][0]["field"] == "page"

    async def test_cursor_walks_every_row_once_newest_first(
        self, client: httpx.AsyncClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import vouch_server.kit.paging as paging

        h = keys.test_headers
        ids = [(await create_verification(client, h))["id"] for _ in range(5)]
        first = (await client.get("/api/v1/verifications?limit=2", headers=h)).json()
        walked = [v["id"] for v in first["data"]]
        cursor = first["pagination"]["nextCursor"]
        # A row created mid-walk is newer than the cursor: it never shifts the pages after it.
        late = (await create_verification(client, h))["id"]
        while cursor:
            page = (
                await client.get(f"/api/v1/verifications?limit=2&cursor={cursor}", headers=h)
            ).json()
            assert "nextPage" not in page["pagination"]
            walked += [v["id"] for v in page["data"]]
            cursor = page["pagination"].get("nextCursor")
            assert page["pagination"]["hasMore"] is (cursor is not None)
        assert walked == list(reversed(ids))
        assert late not in walked
        # total is exact up to the cap, and says so beyond it.
        monkeypatch.setattr(paging, "TOTAL_CAP", 3)
        capped = (await client.get("/api/v1/verifications?limit=2", headers=h)).json()
        assert capped["pagination"]["total"] == 3
        assert capped["pagination"]["totalIsCapped"] is True
        assert capped["pagination"]["hasMore"] is True

    @pytest.mark.parametrize("which", ["unknown", "other-project", "filtered-out"])
    async def test_a_cursor_from_outside_the_list_is_refused(
        self, client: httpx.AsyncClient, keys: Keys, which: str
    ) -> None:
        mine = (await create_verification(client, keys.test_headers))["id"]
        other = (await create_verification(client, keys.auth(keys.other_test)))["id"]
        cursor, query = {
            "unknown": ("ver_doesnotexist", ""),
            "other-project": (other, ""),
            "filtered-out": (mine, "&type=email"),
        }[which]
        response = await client.get(
            f"/api/v1/verifications?cursor={cursor}{query}", headers=keys.test_headers
        )
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert error["details"][0]["field"] == "cursor"

    async def test_pagination_and_filters(self, client: httpx.AsyncClient, keys: Keys) -> None:
        ids = [
            (await create_verification(client, keys.test_headers, external_user_id=f"u{i % 2}"))[
                "id"
            ]
            for i in range(5)
        ]
        email = await create_verification(
            client, keys.test_headers, type="email", channel="email", identifier="a@example.com"
        )
        page1 = (
            await client.get("/api/v1/verifications?limit=2", headers=keys.test_headers)
        ).json()
        assert len(page1["data"]) == 2
        assert page1["pagination"]["hasMore"] is True
        assert page1["pagination"]["total"] == 6
        page3 = (
            await client.get("/api/v1/verifications?limit=2&page=3", headers=keys.test_headers)
        ).json()
        assert page3["pagination"]["hasMore"] is False
        seen = [
            v["id"]
            for p in (1, 2, 3)
            for v in (
                await client.get(
                    f"/api/v1/verifications?limit=2&page={p}", headers=keys.test_headers
                )
            ).json()["data"]
        ]
        assert sorted(seen) == sorted([*ids, email["id"]])
        by_type = (
            await client.get("/api/v1/verifications?type=email", headers=keys.test_headers)
        ).json()
        assert [v["id"] for v in by_type["data"]] == [email["id"]]
        by_user = (
            await client.get("/api/v1/verifications?external_user_id=u1", headers=keys.test_headers)
        ).json()
        assert sorted(v["id"] for v in by_user["data"]) == sorted([ids[1], ids[3]])
        by_channel = (
            await client.get(
                "/api/v1/verifications?channel=telegram&status=pending", headers=keys.test_headers
            )
        ).json()
        assert len(by_channel["data"]) == 5

    @pytest.mark.parametrize("query", ["limit=101", "limit=0", "page=0", "status=done", "type=fax"])
    async def test_bad_query_is_a_validation_error(
        self, client: httpx.AsyncClient, keys: Keys, query: str
    ) -> None:
        response = await client.get(f"/api/v1/verifications?{query}", headers=keys.test_headers)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "validation_error"


class TestSubmit:
    async def submit(
        self, client: httpx.AsyncClient, keys: Keys, id_: str, body: dict[str, Any]
    ) -> httpx.Response:
        return await client.post(
            f"/api/v1/verifications/{id_}/submit", json=body, headers=keys.test_headers
        )

    async def test_relayed_code_with_matching_sender_completes(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        data = await create_verification(client, keys.test_headers)
        response = await self.submit(
            client,
            keys,
            data["id"],
            {"challenge_code": data["challenge"]["code"], "source_identifier": "+370 691 99199"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "verified"
        claims = jwt.decode(body["proof_token"], options={"verify_signature": False})
        assert claims["sub"] == data["id"]

    @pytest.mark.parametrize("channel", ["telegram", "whatsapp", "sms"])
    async def test_live_relayed_sender_is_refused_and_counts_nothing(
        self, client: httpx.AsyncClient, keys: Keys, channel: str
    ) -> None:
        # In live mode only the provider's own signed webhook may say who sent the code: a
        # caller's ``source_identifier`` is its word, not evidence.
        data = await create_verification(client, keys.live_headers, channel=channel)
        response = await client.post(
            f"/api/v1/verifications/{data['id']}/submit",
            json={"challenge_code": data["challenge"]["code"], "source_identifier": PHONE},
            headers=keys.live_headers,
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "unsupported_for_type"
        body = (
            await client.get(f"/api/v1/verifications/{data['id']}", headers=keys.live_headers)
        ).json()
        assert body["status"] == "pending" and body["attempts"] == 0
        assert "proof_token" not in body or body["proof_token"] is None

    async def test_lowercase_code_is_accepted(self, client: httpx.AsyncClient, keys: Keys) -> None:
        data = await create_verification(
            client, keys.test_headers, type="email", channel="email", identifier="a@example.com"
        )
        response = await self.submit(
            client, keys, data["id"], {"code": data["challenge"]["code"].lower()}
        )
        assert response.status_code == 200, response.text

    async def test_bare_code_cannot_prove_a_phone(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        data = await create_verification(client, keys.test_headers)
        response = await self.submit(client, keys, data["id"], {"code": data["challenge"]["code"]})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "validation_error"
        body = (
            await client.get(f"/api/v1/verifications/{data['id']}", headers=keys.test_headers)
        ).json()
        assert body["status"] == "pending" and body["attempts"] == 0

    async def test_right_code_from_wrong_sender_is_a_failed_attempt(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        data = await create_verification(client, keys.test_headers)
        response = await self.submit(
            client,
            keys,
            data["id"],
            {"challenge_code": data["challenge"]["code"], "source_identifier": "+447700900123"},
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "source_mismatch"
        body = (
            await client.get(f"/api/v1/verifications/{data['id']}", headers=keys.test_headers)
        ).json()
        assert body["status"] == "pending" and body["attempts"] == 1

    async def test_wrong_codes_back_off_then_fail_after_three_attempts(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        data = await create_verification(
            client, keys.test_headers, type="email", channel="email", identifier="a@example.com"
        )
        wrong = "AAAAAA" if data["challenge"]["code"] != "AAAAAA" else "BBBBBB"
        first = await self.submit(client, keys, data["id"], {"code": wrong})
        assert first.status_code == 400
        assert first.json()["error"]["code"] == "invalid_code"
        assert first.json()["error"]["attempts_remaining"] == 2
        # Backoff: an immediate retry is refused without counting, even with the right code.
        blocked = await self.submit(client, keys, data["id"], {"code": data["challenge"]["code"]})
        assert blocked.status_code == 429
        assert blocked.json()["error"]["code"] == "too_many_attempts"
        assert int(blocked.headers["retry-after"]) >= 1
        for expected_code in ("invalid_code", "max_attempts_exceeded"):
            await _skip_backoff(runtime, data["id"])
            response = await self.submit(client, keys, data["id"], {"code": wrong})
            assert response.json()["error"]["code"] == expected_code
        await _skip_backoff(runtime, data["id"])
        after = await self.submit(client, keys, data["id"], {"code": data["challenge"]["code"]})
        assert after.status_code == 400
        assert after.json()["error"]["code"] == "verification_failed"
        body = (
            await client.get(f"/api/v1/verifications/{data['id']}", headers=keys.test_headers)
        ).json()
        assert body["status"] == "failed" and body["attempts"] == 3

    async def test_backoff_doubles_between_attempts(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        data = await create_verification(
            client, keys.test_headers, type="email", channel="email", identifier="a@example.com"
        )
        waits = []
        for _ in range(2):
            await self.submit(client, keys, data["id"], {"code": "ZZZZZ9"})
            async with runtime.db.session() as session:
                row = await session.get(Verification, data["id"])
                assert row is not None and row.next_attempt_at is not None
                waits.append((row.next_attempt_at - row.updated_at).total_seconds())
            await _skip_backoff(runtime, data["id"])
        assert waits == [1.0, 2.0]

    async def test_second_correct_code_is_rejected_after_success(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        data = await create_verification(
            client, keys.test_headers, type="email", channel="email", identifier="a@example.com"
        )
        ok = await self.submit(client, keys, data["id"], {"code": data["challenge"]["code"]})
        assert ok.status_code == 200
        again = await self.submit(client, keys, data["id"], {"code": data["challenge"]["code"]})
        assert again.status_code == 400
        assert again.json()["error"]["code"] == "invalid_status"

    async def test_code_methods_not_proven_by_codes_refuse_submit(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        data = await create_verification(
            client,
            keys.test_headers,
            type="wallet",
            channel="ethereum",
            identifier="0xab5801a7d398351b8be11c439e05c5b3259aec9b",
        )
        response = await self.submit(client, keys, data["id"], {"code": data["challenge"]["code"]})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "method_not_supported"


class TestTestVerify:
    async def test_test_key_completes_with_a_real_token(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        data = await create_verification(client, keys.test_headers)
        response = await client.post(
            f"/api/v1/verifications/{data['id']}/test-verify", headers=keys.test_headers
        )
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "verified" and body["test_mode"] is True
        assert body["proof"]["token"] == body["proof_token"]
        assert await count_rows(runtime, Proof) == 1

    async def test_live_key_gets_test_mode_required(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        data = await create_verification(client, keys.live_headers)
        response = await client.post(
            f"/api/v1/verifications/{data['id']}/test-verify", headers=keys.live_headers
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "test_mode_required"
        assert response.json()["error"]["message"] == (
            "This endpoint is only available with test API keys (pk_test_*)"
        )

    async def test_only_pending_verifications(self, client: httpx.AsyncClient, keys: Keys) -> None:
        data = await create_verification(client, keys.test_headers)
        url = f"/api/v1/verifications/{data['id']}/test-verify"
        assert (await client.post(url, headers=keys.test_headers)).status_code == 200
        again = await client.post(url, headers=keys.test_headers)
        assert again.status_code == 400
        assert again.json()["error"]["code"] == "invalid_status"


async def _skip_backoff(runtime: Runtime, id_: str) -> None:
    async with runtime.db.session() as session:
        row = await session.get(Verification, id_)
        assert row is not None
        row.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)


class TestVerifyNow:
    async def test_code_methods_have_nothing_to_check(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        data = await create_verification(client, keys.test_headers)
        response = await client.post(
            f"/api/v1/verifications/{data['id']}/verify", headers=keys.test_headers
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "method_not_supported"
