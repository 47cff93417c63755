"""The approval page in a real browser (headless Chromium, driven by Playwright): an agent's
``require_approval`` call blocks on a real ``vouch serve``; a person opens the link, adds a
comment and approves; the agent's call returns the approval with a proof that verifies offline.

Needs Chromium at /usr/bin/chromium (Debian package ``chromium``) and Playwright for Python;
skipped with the reason when either is missing."""

from __future__ import annotations

import asyncio
import queue
import shutil
import threading
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.approval.standins import serve
from tests.fixtures.tenancy import make_keys
from vouch_client import Approval, Client, require_approval
from vouch_server.runtime import Runtime

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and shutil.which("chromium") is None,
        reason="Chromium is not installed at /usr/bin/chromium (apt-get install chromium)",
    ),
]


class TestApprovalPageInChromium:
    async def test_open_comment_approve_and_the_agent_call_returns(
        self, settings_factory: Any, backend: str
    ) -> None:
        playwright_api = pytest.importorskip(
            "playwright.async_api", reason="Playwright for Python is not installed"
        )
        settings = settings_factory()
        runtime = Runtime.build(settings)
        try:
            keys = await make_keys(runtime)
        finally:
            await runtime.close()

        with serve(settings) as base:
            hitl = httpx.post(
                f"{base}/api/v1/hitl",
                json={"name": "Production Deploys", "channels": [{"type": "web"}]},
                headers=keys.test_headers,
            ).json()
            links: queue.Queue[str] = queue.Queue()
            outcome: dict[str, Any] = {}

            def agent() -> None:
                with Client(base, api_key=keys.test) as client:
                    try:
                        with require_approval(
                            client,
                            hitl["id"],
                            "Deploy v2.1 to production?",
                            on_request=lambda c: links.put(c["approval_url"]),
                        ) as approval:
                            outcome["approval"] = approval
                    except Exception as exc:  # reported by the assertions below
                        outcome["error"] = exc

            thread = threading.Thread(target=agent, daemon=True)
            thread.start()
            url = (await asyncio.to_thread(links.get, True, 30)).replace("https://vouch.test", base)

            console: list[str] = []
            async with playwright_api.async_playwright() as p:
                browser = await p.chromium.launch(
                    executable_path=CHROMIUM
                    if Path(CHROMIUM).exists()
                    else shutil.which("chromium"),
                    args=CHROMIUM_ARGS,
                )
                try:
                    page = await browser.new_page()
                    page.on("console", lambda message: console.append(message.text))
                    response = await page.goto(url)
                    assert response is not None and response.status == 200
                    assert await page.inner_text("#request") == "Deploy v2.1 to production?"
                    # The shared stylesheet applies (style-src 'self'): the button wears the accent.
                    color = await page.eval_on_selector(
                        "#approve", "b => getComputedStyle(b).backgroundColor"
                    )
                    assert color == "rgb(31, 111, 235)"  # vouch's default accent
                    await page.fill("#comment", "Looks good — ship it")
                    await page.click("#approve")
                    await page.wait_for_selector("#notice")
                    assert await page.inner_text("#notice") == "Approved. Thank you."
                finally:
                    await browser.close()

            await asyncio.to_thread(thread.join, 30)
            assert "error" not in outcome, outcome.get("error")
            approval: Approval = outcome["approval"]
            assert approval.comment == "Looks good — ship it"
            assert approval.channel == "web"
            assert not [m for m in console if "Content Security Policy" in m]

            # A pk_test_ key made this approval, so its proof is signed by a test key: published
            # only in the test key set, never in the live one.
            live_jwks = httpx.get(f"{base}/.well-known/jwks.json").json()
            test_jwks = httpx.get(f"{base}/.well-known/jwks-test.json").json()
        assert approval.proof_token is not None
        header = jwt.get_unverified_header(approval.proof_token)
        assert header["kid"] not in {k["kid"] for k in live_jwks["keys"]}
        matching = [k for k in test_jwks["keys"] if k["kid"] == header["kid"]]
        assert len(matching) == 1, header
        key = matching[0]
        claims = jwt.decode(
            approval.proof_token,
            jwt.PyJWK(key).key,
            algorithms=[header["alg"]],
            issuer="https://vouch.test",
        )
        assert claims["decision"] == "approve" and claims["channel"] == "web"
        assert claims["test"] is True
