"""An event committed before a crash is delivered after the restart (the outbox)."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import httpx
import pytest

from tests.fixtures.receiver import run_receiver
from tests.webhooks.test_live_status import _keys, serve, serve_process
from vouch_client import verify_webhook

pytestmark = pytest.mark.slow


class TestKillNine:
    async def test_event_committed_before_kill_9_is_delivered_after_restart(
        self, settings_factory: Any
    ) -> None:
        settings = settings_factory()
        keys = await _keys(settings)
        env = {"VOUCH_ALLOW_PRIVATE_TARGETS": "true"}
        with run_receiver() as receiver:
            # First life: the worker is off, so nothing is delivered before the crash.
            with serve_process(settings, VOUCH_WEBHOOK_WORKER_ENABLED="false", **env) as (
                base,
                proc,
            ):
                async with httpx.AsyncClient(base_url=base, timeout=30) as c:
                    endpoint = (
                        await c.post(
                            "/api/v1/webhook-endpoints",
                            json={"url": receiver.url},
                            headers=keys.test_headers,
                        )
                    ).json()
                    created = (
                        await c.post(
                            "/api/v1/verifications",
                            json={"type": "phone", "channel": "sms", "identifier": "+37069199199"},
                            headers=keys.test_headers,
                        )
                    ).json()
                    done = await c.post(
                        f"/api/v1/verifications/{created['id']}/test-verify",
                        headers=keys.test_headers,
                    )
                    assert done.status_code == 200
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
            assert receiver.requests == []
            # Second life: the worker finds the committed event and delivers it.
            with serve(settings, **env):
                for _ in range(300):  # up to a minute on a loaded machine
                    if receiver.requests:
                        break
                    await asyncio.sleep(0.2)
        assert len(receiver.requests) == 1
        got = receiver.requests[0]
        payload = verify_webhook(endpoint["secret"], got.headers, got.body)
        assert payload["event"] == "verification.completed"
        assert payload["data"]["id"] == created["id"]
