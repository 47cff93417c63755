"""``POST /api/v1/verifications/multi-channel`` and ``GET …/{group_id}/status``: one phone over
several channels, each an ordinary verification; the first completion wins the group and the
other channels can no longer complete."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import PHONE
from tests.multichannel.helpers import ALL, URL, create_group, group_status, proofs_and_completions
from vouch_server.control import service as control
from vouch_server.errors import RetryLater
from vouch_server.kit.clock import utcnow
from vouch_server.models import Verification, VerificationGroup
from vouch_server.runtime import Runtime


def _png(data_url: str) -> bytes:
    prefix = "data:image/png;base64,"
    assert data_url.startswith(prefix)
    return base64.b64decode(data_url[len(prefix) :])


class TestCreate:
    async def test_one_verification_per_channel_under_a_vg_id(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        created = await create_group(
            cc,
            ckeys.test_headers,
            identifier="+370 691 99199",
            external_user_id="user_1",
            client_metadata={"order": 7},
        )
        assert created["group_id"].startswith("vg_") and len(created["group_id"]) == 27
        assert created["type"] == "phone" and created["identifier"] == PHONE
        assert created["status"] == "pending"
        assert created["external_user_id"] == "user_1"
        assert [c["channel"] for c in created["channels"]] == ALL
        ids = {c["verification_id"] for c in created["channels"]}
        assert len(ids) == 3
        telegram, whatsapp, sms = created["channels"]
        assert telegram["deep_link"].startswith("https://t.me/vouch_test_bot?start=")
        assert whatsapp["deep_link"].startswith("https://wa.me/15550001111?text=")
        assert whatsapp["phone_number"] == "+15550001111"
        assert sms["sms_message"] == sms["code"] and sms["sms_dids"] == {"US": "+13125550100"}
        for block in created["channels"]:
            assert block["status"] == "pending"
            assert block["qr_text"] == block["deep_link"]
            assert _png(block["qr_code"]).startswith(b"\x89PNG\r\n\x1a\n")
            assert block["code"] in block["deep_link"]
            # Each channel is an ordinary verification of the same number.
            single = await cc.get(
                f"/api/v1/verifications/{block['verification_id']}", headers=ckeys.test_headers
            )
            assert single.json()["identifier"] == PHONE
            assert single.json()["channel"] == block["channel"]
            assert single.json()["external_user_id"] == "user_1"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"channels": []}, "channels"),
            ({"channels": ["telegram"] * 5}, "channels"),
            ({"channels": ["email"]}, "channels.0"),
            ({"channels": ["telegram", "sms", "telegram"]}, "channels.2"),
            ({"type": "email"}, "type"),
            ({"identifier": ""}, "identifier"),
            ({"proof_expiry_days": 0}, "proof_expiry_days"),
        ],
    )
    async def test_bad_input_is_a_validation_error_with_details_and_creates_nothing(
        self,
        client: httpx.AsyncClient,
        keys: Keys,
        runtime: Runtime,
        body: dict[str, Any],
        field: str,
    ) -> None:
        payload = {"type": "phone", "identifier": PHONE, "channels": ["telegram"], **body}
        response = await client.post(URL, json=payload, headers=keys.test_headers)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert field in [d["field"] for d in error["details"]], error
        listed = await client.get("/api/v1/verifications", headers=keys.test_headers)
        assert listed.json()["data"] == []

    async def test_an_invalid_phone_is_invalid_identifier(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await client.post(
            URL,
            json={"type": "phone", "identifier": "not a phone", "channels": ["sms"]},
            headers=keys.test_headers,
        )
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "invalid_identifier"
        assert error["details"][0]["field"] == "identifier"

    async def test_needs_a_key_and_other_projects_see_nothing(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        created = await create_group(client, keys.test_headers)
        path = f"{URL}/{created['group_id']}/status"
        assert (await client.post(URL, json={})).status_code == 401
        assert (await client.get(path)).status_code == 401
        other = await client.get(path, headers=keys.auth(keys.other_test))
        assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
        # Test and live data are apart too.
        assert (await client.get(path, headers=keys.live_headers)).status_code == 404
        assert (
            await client.get(f"{URL}/vg_nope/status", headers=keys.test_headers)
        ).status_code == 404


class TestFirstCompletionWins:
    async def test_test_verify_of_one_channel_completes_the_group_and_ends_the_others(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        created = await create_group(client, keys.test_headers)
        telegram, whatsapp, sms = (c["verification_id"] for c in created["channels"])
        won = await client.post(
            f"/api/v1/verifications/{whatsapp}/test-verify", headers=keys.test_headers
        )
        assert won.status_code == 200, won.text

        # The other channels were ended in the winner's transaction (read through control's own
        # endpoint, which knows nothing of groups) ...
        for loser_id in (telegram, sms):
            loser = await client.get(f"/api/v1/verifications/{loser_id}", headers=keys.test_headers)
            assert loser.json()["status"] == "expired"
            assert loser.json()["failure_reason"] == "superseded_by_other_channel"
        # ... so a late completion of a losing channel mints nothing.
        late = await client.post(
            f"/api/v1/verifications/{telegram}/test-verify", headers=keys.test_headers
        )
        assert late.status_code == 400
        assert late.json()["error"]["code"] == "verification_expired"

        status = await group_status(client, keys.test_headers, created["group_id"])
        assert status["status"] == "verified"
        assert status["winning_channel"] == "whatsapp"
        assert status["verification_id"] == whatsapp
        assert status["proof"]["token"] == won.json()["proof_token"]
        assert status["verified_at"] == won.json()["verified_at"]
        by_channel = {c["channel"]: c["status"] for c in status["channels"]}
        assert by_channel == {"telegram": "expired", "whatsapp": "verified", "sms": "expired"}
        assert await proofs_and_completions(runtime, [telegram, whatsapp, sms]) == (1, 1)

    async def test_a_losing_channel_completed_after_the_group_was_won_rolls_back(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        """The race on PostgreSQL, made deterministic: the group was won while another channel
        was still pending (its transaction held its row, so the winner skipped it). Completing
        that channel now — control's own completion, as a provider message ends in — mints a
        proof inside its transaction and is then refused, so nothing of it is committed."""
        created = await create_group(client, keys.test_headers, channels=["telegram", "sms"])
        telegram, sms = (c["verification_id"] for c in created["channels"])
        async with runtime.db.session() as session:
            await session.execute(
                update(VerificationGroup)
                .where(VerificationGroup.id == created["group_id"])
                .values(status="verified", winning_verification_id=telegram)
            )
        with pytest.raises(RetryLater):
            async with runtime.db.session() as session:
                verification = await session.get(Verification, sms)
                assert verification is not None
                await control.complete(session, runtime, verification)
        assert await proofs_and_completions(runtime, [sms]) == (0, 0)
        # Reading the group ends the straggler: it can never win.
        status = await group_status(client, keys.test_headers, created["group_id"])
        assert {c["channel"]: c["status"] for c in status["channels"]}["sms"] == "expired"

    async def test_a_channel_completed_by_a_provider_message_wins(
        self, cc: httpx.AsyncClient, ckeys: Keys, capp: Any
    ) -> None:
        from tests.channels.test_whatsapp import notification
        from tests.channels.test_whatsapp import post as post_whatsapp

        created = await create_group(cc, ckeys.live_headers, channels=["telegram", "whatsapp"])
        code = created["channels"][1]["code"]
        response = await post_whatsapp(cc, notification(f"My code is {code}"))
        assert response.status_code == 200, response.text
        status = await group_status(cc, ckeys.live_headers, created["group_id"])
        assert status["status"] == "verified" and status["winning_channel"] == "whatsapp"
        assert [c["status"] for c in status["channels"]] == ["expired", "verified"]
        ids = [c["verification_id"] for c in created["channels"]]
        assert await proofs_and_completions(capp.state.vouch, ids) == (1, 1)

    async def test_a_message_from_another_number_wins_nothing(
        self, cc: httpx.AsyncClient, ckeys: Keys
    ) -> None:
        from tests.channels.test_whatsapp import notification
        from tests.channels.test_whatsapp import post as post_whatsapp

        created = await create_group(cc, ckeys.live_headers, channels=["whatsapp", "sms"])
        code = created["channels"][0]["code"]
        await post_whatsapp(cc, notification(code, wa_id="14155550100"))
        status = await group_status(cc, ckeys.live_headers, created["group_id"])
        assert status["status"] == "pending" and "proof" not in status


class TestExpiry:
    async def test_the_group_expires_when_every_channel_has_expired(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        created = await create_group(client, keys.test_headers, channels=["telegram", "sms"])
        ids = [c["verification_id"] for c in created["channels"]]
        async with runtime.db.session() as session:
            await session.execute(
                update(Verification)
                .where(Verification.id == ids[0])
                .values(challenge_expires_at=utcnow() - timedelta(seconds=1))
            )
        half = await group_status(client, keys.test_headers, created["group_id"])
        assert half["status"] == "pending"
        assert [c["status"] for c in half["channels"]] == ["expired", "pending"]
        async with runtime.db.session() as session:
            await session.execute(
                update(Verification)
                .where(Verification.id == ids[1])
                .values(challenge_expires_at=utcnow() - timedelta(seconds=1))
            )
        done = await group_status(client, keys.test_headers, created["group_id"])
        assert done["status"] == "expired" and done["winning_channel"] is None
        assert "proof" not in done
