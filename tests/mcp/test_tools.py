"""The MCP tools, driven by the official MCP client over Streamable HTTP (``/mcp`` of a live
``vouch``) and over stdio (``vouch mcp`` as a subprocess against the same server)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from mcp.types import CallToolResult

from mcp import Client
from tests.mcp.conftest import Live
from vouch_server.mcp.server import offered

Connect = Callable[[Live, "str | None"], Client]
PHONE = "+14155550123"


def text_of(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def ok(client: Client, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await client.call_tool(name, arguments or {})
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    return result.structured_content


class TestListing:
    async def test_every_tool_has_a_schema_and_a_description(
        self, live: Live, connect: Connect
    ) -> None:
        async with connect(live, live.keys.test) as client:
            tools = (await client.list_tools()).tools
        names = {t.name for t in tools}
        assert {
            "create_verification",
            "wait_for_verification",
            "create_confirmation",
            "wait_for_confirmation",
            "validate_proof",
            "revoke_proof",
            "verify_proof_offline",
        } <= names
        for t in tools:
            assert t.description and len(t.description) > 40, t.name
            assert t.input_schema["type"] == "object", t.name
            assert t.output_schema is not None and t.output_schema["type"] == "object", t.name

    async def test_local_key_files_are_read_over_stdio_only(
        self, live: Live, connect: Connect
    ) -> None:
        async with connect(live, live.keys.test) as client:
            names = {t.name for t in (await client.list_tools()).tools}
        stdio = connect.__name__ == "stdio_client"
        assert ("prove_agent_challenge" in names) is stdio
        expected = {s.name for s in offered(public=False, transport="stdio" if stdio else "http")}
        assert names == expected


class TestVerificationFlow:
    async def test_create_test_verify_then_validate_and_verify_offline(
        self, live: Live, connect: Connect
    ) -> None:
        async with connect(live, live.keys.test) as client:
            created = await ok(
                client,
                "create_verification",
                {"type": "phone", "channel": "telegram", "identifier": PHONE},
            )
            assert created["status"] == "pending" and created["challenge"]
            verified = await ok(client, "test_verify", {"verification_id": created["id"]})
            assert verified["status"] == "verified" and verified["test_mode"] is True
            waited = await ok(client, "wait_for_verification", {"verification_id": created["id"]})
            assert waited["timed_out"] is False and waited["status"] == "verified"
            token = verified["proof_token"]
            validation = await ok(
                client, "validate_proof", {"proof_token": token, "identifier": PHONE}
            )
            assert validation["valid"] is True
            offline = await ok(
                client, "verify_proof_offline", {"proof_token": token, "allow_test": True}
            )
            assert offline["valid"] is True, offline
            assert offline["claims"]["sub"] == created["id"] and offline["test"] is True
            refused = await ok(client, "verify_proof_offline", {"proof_token": token})
            assert refused["valid"] is False and refused["reason"] == "environment_mismatch"

            await ok(client, "revoke_proof", {"proof_id": created["id"], "reason": "fraud"})
            after = await ok(
                client, "verify_proof_offline", {"proof_token": token, "allow_test": True}
            )
            assert after["valid"] is False and after["reason"] == "revoked"

    async def test_a_pending_wait_times_out_without_an_error(
        self, live: Live, connect: Connect
    ) -> None:
        async with connect(live, live.keys.test) as client:
            created = await ok(
                client,
                "create_verification",
                {"type": "phone", "channel": "telegram", "identifier": PHONE},
            )
            progress: list[float] = []

            async def on_progress(value: float, total: float | None, message: str | None) -> None:
                progress.append(value)

            result = await client.call_tool(
                "wait_for_verification",
                {
                    "verification_id": created["id"],
                    "timeout_seconds": 0.2,
                    "poll_interval_seconds": 0.05,
                },
                progress_callback=on_progress,
            )
            assert not result.is_error, text_of(result)
            assert result.structured_content is not None
            assert result.structured_content["timed_out"] is True
            assert result.structured_content["status"] == "pending"
            assert progress


class TestErrors:
    async def test_a_vouch_error_is_a_tool_error_with_its_code(
        self, live: Live, connect: Connect
    ) -> None:
        async with connect(live, live.keys.test) as client:
            missing = await client.call_tool("get_verification", {"verification_id": "nope"})
            assert missing.is_error
            assert "[not_found]" in text_of(missing) and "HTTP 404" in text_of(missing)
            # The server is still up after an error.
            assert (await client.list_tools()).tools

    async def test_live_key_cannot_test_verify(self, live: Live, connect: Connect) -> None:
        async with connect(live, live.keys.live) as client:
            result = await client.call_tool("test_verify", {"verification_id": "anything"})
        assert result.is_error and "[test_mode_required]" in text_of(result)

    async def test_bad_arguments_are_a_tool_error(self, live: Live, connect: Connect) -> None:
        async with connect(live, live.keys.test) as client:
            result = await client.call_tool(
                "create_verification",
                {"type": "passport", "channel": "telegram", "identifier": "x"},
            )
            assert result.is_error and "type" in text_of(result)
            result = await client.call_tool("get_verification", {"verification_id": ".."})
            assert result.is_error and "[invalid_argument]" in text_of(result)

    async def test_other_surfaces_errors_carry_their_codes(
        self, live: Live, connect: Connect
    ) -> None:
        async with connect(live, live.keys.test) as client:
            record = await client.call_tool(
                "get_record", {"resource": "wallets", "record_id": "missing"}
            )
            agent = await client.call_tool("get_agent", {"agent_id": "no-such-agent"})
        assert record.is_error and "[api.route-unknown]" in text_of(record)
        assert agent.is_error and "HTTP 404" in text_of(agent)


class TestConfirmationFlow:
    async def test_a_human_decides_on_the_approval_page_while_the_agent_waits(
        self, live: Live, connect: Connect
    ) -> None:
        async with connect(live, live.keys.test) as client:
            hitl = await ok(
                client, "create_hitl", {"name": "Production deploys", "channels": [{"type": "web"}]}
            )
            confirmation = await ok(
                client,
                "create_confirmation",
                {"hitl_id": hitl["id"], "message": "Deploy v2.1 to production?"},
            )
            assert confirmation["status"] == "pending"
            link = await ok(
                client, "get_confirmation_approval_link", {"confirmation_id": confirmation["id"]}
            )
            waiting = asyncio.Event()

            async def on_progress(value: float, total: float | None, message: str | None) -> None:
                waiting.set()

            call = asyncio.create_task(
                client.call_tool(
                    "wait_for_confirmation",
                    {"confirmation_id": confirmation["id"], "timeout_seconds": 30},
                    progress_callback=on_progress,
                )
            )
            await asyncio.wait_for(waiting.wait(), 30)
            assert not call.done()
            path = link["url"].removeprefix(live.url)
            page = await live.http.post(path, data={"action": "approve", "comment": "go"})
            assert page.status_code == 200, page.text
            result = await asyncio.wait_for(call, 30)
            assert not result.is_error, text_of(result)
            decided = result.structured_content
            assert decided is not None
            assert decided["approved"] is True and decided["timed_out"] is False
            assert decided["response"]["action"] == "approve"
            offline = await ok(
                client,
                "verify_proof_offline",
                {"proof_token": decided["proof_token"], "allow_test": True},
            )
            assert offline["valid"] is True, offline
            assert offline["claims"]["sub"] == confirmation["id"]

    async def test_a_wait_can_be_cancelled_and_the_server_keeps_serving(
        self, live: Live, connect: Connect
    ) -> None:
        async with connect(live, live.keys.test) as client:
            hitl = await ok(
                client, "create_hitl", {"name": "Deploys", "channels": [{"type": "web"}]}
            )
            confirmation = await ok(
                client, "create_confirmation", {"hitl_id": hitl["id"], "message": "Ship it?"}
            )
            waiting = asyncio.Event()

            async def on_progress(value: float, total: float | None, message: str | None) -> None:
                waiting.set()

            call = asyncio.create_task(
                client.call_tool(
                    "wait_for_confirmation",
                    {"confirmation_id": confirmation["id"], "timeout_seconds": 600},
                    progress_callback=on_progress,
                )
            )
            await asyncio.wait_for(waiting.wait(), 30)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            again = await ok(client, "get_confirmation", {"confirmation_id": confirmation["id"]})
            assert again["status"] == "pending"
            # Deciding ends the server's side of the abandoned long poll at once.
            decided = await ok(
                client,
                "test_respond_confirmation",
                {"confirmation_id": confirmation["id"], "action": "deny"},
            )
            assert decided["status"] == "denied"


class TestVerificationRequestFlow:
    async def test_a_two_asset_request_completes_and_its_proofs_verify(
        self, live: Live, connect: Connect
    ) -> None:
        async with connect(live, live.keys.test) as client:
            created = await ok(
                client,
                "create_verification_request",
                {
                    "assets": [
                        {"type": "phone", "identifier": PHONE, "allowed_channels": ["telegram"]},
                        {"type": "email", "allowed_channels": ["email"]},
                    ],
                    "reference_id": f"order-{connect.__name__}",
                },
            )
            request_id = created["id"]
            assert created["status"] == "pending" and created["verification_url"]
            short = await ok(
                client, "wait_for_request", {"request_id": request_id, "timeout_seconds": 0.2}
            )
            assert short["timed_out"] is True and short["status"] == "pending"
            await ok(client, "test_verify_request_asset", {"request_id": request_id, "index": 0})
            await ok(
                client,
                "test_verify_request_asset",
                {"request_id": request_id, "index": 1, "identifier": "ana@example.com"},
            )
            done = await ok(client, "wait_for_request", {"request_id": request_id})
            assert done["timed_out"] is False and done["status"] == "completed"
            found = await ok(
                client, "get_request_by_reference", {"reference_id": f"order-{connect.__name__}"}
            )
            assert found["id"] == request_id
            listed = await ok(client, "list_verification_requests", {"status": "completed"})
            assert request_id in {item["id"] for item in listed["data"]}
            proofs = await ok(client, "get_request_proofs", {"request_id": request_id})
            tokens = [p["proof_token"] for p in proofs["proofs"]]
            assert len(tokens) == 2
            for token in tokens:
                checked = await ok(
                    client, "verify_proof_offline", {"proof_token": token, "allow_test": True}
                )
                assert checked["valid"] is True, checked
            refused = await client.call_tool(
                "cancel_verification_request", {"request_id": request_id}
            )
            assert refused.is_error, "a completed request cannot be cancelled"

    async def test_an_open_request_is_cancelled(self, live: Live, connect: Connect) -> None:
        async with connect(live, live.keys.test) as client:
            created = await ok(
                client,
                "create_verification_request",
                {"assets": [{"type": "email", "allowed_channels": ["email"]}]},
            )
            cancelled = await ok(
                client, "cancel_verification_request", {"request_id": created["id"]}
            )
            assert cancelled["status"] == "cancelled"
            waited = await ok(client, "wait_for_request", {"request_id": created["id"]})
            assert waited["timed_out"] is False and waited["status"] == "cancelled"


class TestMultiChannelFlow:
    async def test_the_first_channel_completed_wins(self, live: Live, connect: Connect) -> None:
        async with connect(live, live.keys.test) as client:
            group = await ok(
                client,
                "create_multi_channel_verification",
                {"identifier": PHONE, "channels": ["telegram", "whatsapp"]},
            )
            assert group["group_id"].startswith("vg_")
            first = group["channels"][0]["verification_id"]
            await ok(client, "test_verify", {"verification_id": first})
            status = await ok(
                client, "get_multi_channel_verification_status", {"group_id": group["group_id"]}
            )
            assert status["status"] == "verified" and status["verification_id"] == first
            assert status["winning_channel"] == "telegram"
            loser = group["channels"][1]["verification_id"]
            late = await client.call_tool("test_verify", {"verification_id": loser})
            assert late.is_error, "the other channel was ended when the first one won"
