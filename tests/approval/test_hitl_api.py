"""HITL configs: create, list, get, update, archive; recipients normalized and validated."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.approval.standins import create_confirmation, create_hitl
from tests.fixtures.tenancy import Keys

TELEGRAM = {"type": "telegram", "config": {"chat_id": "123456789"}}


class TestCreate:
    async def test_seed_example_is_accepted_with_defaults(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        body = await create_hitl(dc, dkeys.test_headers, [TELEGRAM], timeout_seconds=43200)
        assert body["name"] == "Production Deploys"
        assert body["channels"] == [TELEGRAM]
        assert body["timeout_seconds"] == 43200
        assert body["status"] == "active"
        default = await create_hitl(dc, dkeys.test_headers, [TELEGRAM])
        assert default["timeout_seconds"] == 3600

    async def test_recipients_are_normalized(self, dc: httpx.AsyncClient, dkeys: Keys) -> None:
        body = await create_hitl(
            dc,
            dkeys.test_headers,
            [
                {"type": "telegram", "config": {"chat_id": 123456789}},
                {"type": "whatsapp", "config": {"phone_number": "+1 (555) 123-4567"}},
                {"type": "whatsapp", "config": {"bsuid": "US.abcdef1234567890"}},
                {"type": "email", "config": {"address": "Ops@Example.COM"}},
                {"type": "web"},
            ],
        )
        assert body["channels"] == [
            {"type": "telegram", "config": {"chat_id": "123456789"}},
            {"type": "whatsapp", "config": {"phone_number": "+15551234567"}},
            {"type": "whatsapp", "config": {"bsuid": "US.abcdef1234567890"}},
            {"type": "email", "config": {"address": "ops@example.com"}},
            {"type": "web", "config": {}},
        ]

    @pytest.mark.parametrize(
        ("channels", "extra", "field"),
        [
            (
                [{"type": "telegram", "config": {"chat_id": "@ops"}}],
                {},
                "channels.0.config.chat_id",
            ),
            ([{"type": "whatsapp", "config": {}}], {}, "channels.0.config"),
            (
                [{"type": "whatsapp", "config": {"phone_number": "555"}}],
                {},
                "channels.0.config.phone_number",
            ),
            ([{"type": "email", "config": {"address": "nope"}}], {}, "channels.0.config.address"),
            ([{"type": "web", "config": {"url": "x"}}], {}, "channels.0.config.url"),
            ([{"type": "pager"}], {}, "channels.0.type"),
            ([], {}, "channels"),
            ([TELEGRAM, TELEGRAM], {}, "channels.1"),
            ([TELEGRAM], {"timeout_seconds": 59}, "timeout_seconds"),
            ([TELEGRAM], {"timeout_seconds": 86401}, "timeout_seconds"),
        ],
    )
    async def test_invalid_configs_are_refused(
        self,
        dc: httpx.AsyncClient,
        dkeys: Keys,
        channels: list[dict[str, Any]],
        extra: dict[str, Any],
        field: str,
    ) -> None:
        response = await dc.post(
            "/api/v1/hitl",
            json={"name": "x", "channels": channels, **extra},
            headers=dkeys.test_headers,
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "validation_error"
        assert response.json()["error"]["details"][0]["field"] == field


class TestReadUpdateArchive:
    async def test_get_list_patch(self, dc: httpx.AsyncClient, dkeys: Keys) -> None:
        created = await create_hitl(dc, dkeys.test_headers, [TELEGRAM])
        url = f"/api/v1/hitl/{created['id']}"
        assert (await dc.get(url, headers=dkeys.test_headers)).json() == created
        patched = await dc.patch(
            url,
            json={"name": "Wire Approvals", "timeout_seconds": 600},
            headers=dkeys.test_headers,
        )
        assert patched.status_code == 200
        assert patched.json()["name"] == "Wire Approvals"
        assert patched.json()["timeout_seconds"] == 600
        assert patched.json()["channels"] == [TELEGRAM]
        listed = (await dc.get("/api/v1/hitl", headers=dkeys.test_headers)).json()
        assert [h["id"] for h in listed["data"]] == [created["id"]]
        assert listed["pagination"]["total"] == 1

    async def test_archive_keeps_the_config_but_takes_no_new_requests(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        created = await create_hitl(dc, dkeys.test_headers, [TELEGRAM])
        url = f"/api/v1/hitl/{created['id']}"
        archived = await dc.delete(url, headers=dkeys.test_headers)
        assert archived.status_code == 200 and archived.json()["status"] == "archived"
        assert "archived_at" in archived.json()
        refused = await create_confirmation(dc, dkeys.test_headers, created["id"])
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "hitl_archived"
        patch = await dc.patch(url, json={"name": "again"}, headers=dkeys.test_headers)
        assert patch.json()["error"]["code"] == "hitl_archived"
        active = (await dc.get("/api/v1/hitl?status=active", headers=dkeys.test_headers)).json()
        assert active["data"] == []

    async def test_configs_are_scoped_to_project_and_mode(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        created = await create_hitl(dc, dkeys.test_headers, [TELEGRAM])
        for headers in (dkeys.live_headers, dkeys.auth(dkeys.other_test)):
            response = await dc.get(f"/api/v1/hitl/{created['id']}", headers=headers)
            assert response.status_code == 404
            refused = await create_confirmation(dc, headers, created["id"])
            assert refused.status_code == 404

    async def test_no_key_is_401(self, dc: httpx.AsyncClient) -> None:
        response = await dc.get("/api/v1/hitl")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
