"""``vouch_client`` for agent authors against the real app: ``client.confirmations.create / wait``
and ``require_approval`` as a context manager and a decorator, async (ASGI transport) and sync (a
``vouch serve`` process)."""

from __future__ import annotations

import asyncio
import pickle
import threading
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from tests.approval.standins import create_hitl, serve, verify_offline
from tests.fixtures.tenancy import Keys, make_keys
from vouch_client import Approval, ApprovalDenied, AsyncClient, Client, require_approval
from vouch_server.kit.clock import utcnow
from vouch_server.models.delegation import Confirmation
from vouch_server.runtime import Runtime

WEB = [{"type": "web"}]


@pytest.fixture
async def sdk(dapp: FastAPI, dkeys: Keys) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(
        "https://vouch.test", api_key=dkeys.test, transport=httpx.ASGITransport(app=dapp)
    ) as client:
        yield client


def answer_later(dc: httpx.AsyncClient, dkeys: Keys, action: str, text: str | None = None) -> Any:
    """An ``on_request`` hook that has the human answer shortly after the request exists."""
    tasks: list[asyncio.Task[Any]] = []

    def on_request(confirmation: dict[str, Any]) -> None:
        async def respond() -> None:
            await asyncio.sleep(0.2)
            await dc.post(
                f"/api/v1/confirmations/{confirmation['id']}/test-respond",
                json={"action": action, "text": text},
                headers=dkeys.test_headers,
            )

        tasks.append(asyncio.create_task(respond()))

    on_request.tasks = tasks  # type: ignore[attr-defined]
    return on_request


class TestConfirmations:
    async def test_create_then_wait_sees_the_decision(
        self, sdk: AsyncClient, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        hitl = await create_hitl(dc, dkeys.test_headers, WEB)
        created = await sdk.confirmations.create(hitl["id"], "Rotate the API keys?")  # type: ignore[attr-defined]
        assert created["status"] == "pending" and created["approval_url"]
        hook = answer_later(dc, dkeys, "approve", "go")
        hook(created)
        final = await sdk.confirmations.wait(created["id"], timeout=20)  # type: ignore[attr-defined]
        assert final["status"] == "approved" and final["response"]["text"] == "go"

    async def test_wait_returns_pending_when_its_timeout_passes(
        self, sdk: AsyncClient, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        hitl = await create_hitl(dc, dkeys.test_headers, WEB)
        created = await sdk.confirmations.create(hitl["id"], "Rotate?")  # type: ignore[attr-defined]
        final = await sdk.confirmations.wait(created["id"], timeout=1)  # type: ignore[attr-defined]
        assert final["status"] == "pending"


class TestRequireApprovalAsync:
    async def test_context_manager_returns_the_approval_with_its_proof(
        self, sdk: AsyncClient, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        hitl = await create_hitl(dc, dkeys.test_headers, WEB)
        hook = answer_later(dc, dkeys, "approve", "Ship it!")
        async with require_approval(sdk, hitl["id"], "Deploy v2.1?", on_request=hook) as approval:
            assert isinstance(approval, Approval)
            assert approval.comment == "Ship it!"
            assert approval.channel == "test"
        assert approval.proof_token is not None
        claims = await verify_offline(dc, approval.proof_token)
        assert (
            claims["decision"] == "approve"
            and claims["confirmation_id"] == approval.confirmation_id
        )

    async def test_decorator_runs_the_action_only_after_approval(
        self, sdk: AsyncClient, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        hitl = await create_hitl(dc, dkeys.test_headers, WEB)
        ran: list[tuple[str, Approval]] = []
        hook = answer_later(dc, dkeys, "approve")

        @require_approval(
            sdk, hitl["id"], lambda version, **_: f"Deploy {version}?", on_request=hook
        )
        async def deploy(version: str, approval: Approval) -> str:
            ran.append((version, approval))
            return "deployed"

        assert await deploy("v2.1") == "deployed"
        [(version, approval)] = ran
        assert version == "v2.1"
        assert approval.confirmation["message"] == "Deploy v2.1?"

    async def test_denial_raises_with_the_comment_and_skips_the_action(
        self, sdk: AsyncClient, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        hitl = await create_hitl(dc, dkeys.test_headers, WEB)
        ran: list[bool] = []

        @require_approval(
            sdk, hitl["id"], "Drop the table?", on_request=answer_later(dc, dkeys, "deny", "never")
        )
        async def drop() -> None:
            ran.append(True)

        with pytest.raises(ApprovalDenied) as caught:
            await drop()
        assert caught.value.status == "denied" and caught.value.comment == "never"
        assert caught.value.proof_token is not None
        assert "never" in str(caught.value)
        assert ran == []

    async def test_the_requests_timeout_raises(
        self, sdk: AsyncClient, dc: httpx.AsyncClient, dkeys: Keys, dapp: FastAPI
    ) -> None:
        hitl = await create_hitl(dc, dkeys.test_headers, WEB)

        async def expire(confirmation: dict[str, Any]) -> None:
            async with dapp.state.vouch.db.session() as session:
                await session.execute(
                    update(Confirmation)
                    .where(Confirmation.id == confirmation["id"])
                    .values(expires_at=utcnow() - timedelta(seconds=1))
                )

        with pytest.raises(ApprovalDenied) as caught:
            async with require_approval(sdk, hitl["id"], "Deploy?", on_request=expire):
                pytest.fail("must not run")
        assert caught.value.status == "expired" and caught.value.comment == "timeout"
        assert caught.value.channel == "system"

    async def test_its_own_timeout_raises_while_still_pending(
        self, sdk: AsyncClient, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        hitl = await create_hitl(dc, dkeys.test_headers, WEB)
        with pytest.raises(ApprovalDenied) as caught:
            async with require_approval(sdk, hitl["id"], "Deploy?", timeout=1):
                pytest.fail("must not run")
        assert caught.value.status == "pending"

    async def test_a_sync_block_with_an_async_client_is_a_type_error(
        self, sdk: AsyncClient
    ) -> None:
        with pytest.raises(TypeError), require_approval(sdk, "0" * 24, "x"):
            pass


class TestApprovalDenied:
    def test_pickles_with_its_attributes(self) -> None:
        error = ApprovalDenied(
            "denied: no", confirmation_id="c1", status="denied", comment="no", channel="web"
        )
        clone = pickle.loads(pickle.dumps(error))  # noqa: S301 -- bytes we just made
        assert type(clone) is ApprovalDenied and str(clone) == "denied: no"
        assert (clone.status, clone.comment, clone.channel) == ("denied", "no", "web")


@pytest.mark.slow
class TestRequireApprovalSync:
    async def test_the_sync_client_waits_through_long_polls(
        self, settings_factory: Any, backend: str
    ) -> None:
        settings = settings_factory()
        runtime = Runtime.build(settings)
        try:
            keys = await make_keys(runtime)
        finally:
            await runtime.close()
        with serve(settings) as base:
            client = Client(base, api_key=keys.test)
            hitl = httpx.post(
                f"{base}/api/v1/hitl",
                json={"name": "Deploys", "channels": WEB},
                headers=keys.test_headers,
            ).json()

            threads: list[threading.Thread] = []

            def on_request(confirmation: dict[str, Any]) -> None:
                def respond() -> None:
                    threading.Event().wait(0.5)
                    with Client(base, api_key=keys.test) as human:
                        human.confirmations.test_respond(confirmation["id"], "approve", "ok")  # type: ignore[attr-defined]

                threads.append(threading.Thread(target=respond, daemon=True))
                threads[-1].start()

            @require_approval(client, hitl["id"], "Restart the cluster?", on_request=on_request)
            def restart(approval: Approval) -> str:
                return f"restarted ({approval.comment})"

            result = await asyncio.to_thread(restart)
            assert result == "restarted (ok)"
            for thread in threads:
                thread.join(10)
            client.close()
