"""The hosted verify page in a real browser (headless Chromium, driven by Playwright) against a
real ``vouch serve``: a person opens ``verification_url``, enters a phone number and sees the
code, deep link and QR code; the assets completed through the API's test-verify show up on the
open page over its event stream, and once the request is completed the browser goes on to
``redirect_url`` — with no Content Security Policy violation on the way.

Needs Chromium at /usr/bin/chromium (Debian package ``chromium``) and Playwright for Python;
skipped with the reason when either is missing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.approval.standins import serve
from tests.fixtures.tenancy import make_keys
from tests.fixtures.verifications import PHONE
from vouch_server.runtime import Runtime

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Every CSP violation, whichever page it happens on, reaches the console (which outlives
# navigations); Chromium's own "Refused to …" messages are caught there too.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP-VIOLATION " + e.violatedDirective + " " + e.blockedURI);
});
"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and shutil.which("chromium") is None,
        reason="Chromium is not installed at /usr/bin/chromium (apt-get install chromium)",
    ),
]


class TestVerifyPageInChromium:
    async def test_start_see_live_updates_and_go_on_to_redirect_url(
        self, settings_factory: Any, tmp_path: Path
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
            async with httpx.AsyncClient(base_url=base, headers=keys.test_headers) as api:
                created = (
                    await api.post(
                        "/api/v1/verification-requests",
                        json={
                            "assets": [
                                {"type": "phone", "allowed_channels": ["telegram", "whatsapp"]},
                                {"type": "email", "identifier": "jane@example.com"},
                            ],
                            "action_context": {
                                "title": "Confirm your contact details",
                                "description": "Needed before we ship order 1042",
                            },
                            "redirect_url": f"{base}/",
                        },
                    )
                ).json()
                url = created["verification_url"].replace("https://vouch.test", base)
                console: list[str] = []
                async with playwright_api.async_playwright() as p:
                    browser = await p.chromium.launch(
                        executable_path=CHROMIUM
                        if Path(CHROMIUM).exists()
                        else shutil.which("chromium"),
                        args=CHROMIUM_ARGS,
                    )
                    try:
                        context = await browser.new_context(viewport={"width": 390, "height": 844})
                        await context.add_init_script(REPORT_VIOLATIONS)
                        page = await context.new_page()
                        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
                        response = await page.goto(url)
                        assert response is not None and response.status == 200
                        expect = playwright_api.expect
                        await expect(page.locator("#test-banner")).to_be_visible()
                        await expect(page.locator("#title")).to_have_text(
                            "Confirm your contact details"
                        )
                        await expect(page.locator("#asset-1-challenge")).to_contain_text(
                            "Check your inbox"
                        )
                        # The stylesheet from /static/hosted.css applies (style-src 'self').
                        color = await page.eval_on_selector(
                            "#asset-0-start", "b => getComputedStyle(b).backgroundColor"
                        )
                        assert color == "rgb(31, 111, 235)"  # vouch's default accent

                        # Start the open asset through the plain form.
                        await page.fill("#asset-0-identifier", PHONE)
                        await page.select_option("#asset-0-channel", "telegram")
                        await page.click("#asset-0-start")
                        code = page.locator("#asset-0-code")
                        await expect(code).to_be_visible()
                        assert (await code.inner_text()).strip().isalnum()
                        link = page.locator("#asset-0-link")
                        await expect(link).to_be_visible()
                        href = await link.get_attribute("href")
                        assert href is not None
                        assert href.startswith("https://t.me/vouch_verify_bot?start=")
                        # The layout fits a phone's width: nothing scrolls sideways.
                        overflow = await page.evaluate(
                            "document.documentElement.scrollWidth - window.innerWidth"
                        )
                        assert overflow <= 0
                        shot = tmp_path / "verify-mobile.png"
                        await page.screenshot(path=str(shot), full_page=True)
                        assert shot.stat().st_size > 5_000
                        # On a desktop width the QR code shows beside the deep link.
                        await page.set_viewport_size({"width": 1200, "height": 900})
                        qr = page.locator("#asset-0-challenge .qr img")
                        await expect(qr).to_be_visible()
                        assert await qr.evaluate("i => i.naturalWidth") > 100
                        await page.screenshot(path=str(tmp_path / "verify-desktop.png"))

                        # The first asset completes elsewhere: the open page shows it.
                        done = await api.post(
                            f"/api/v1/verification-requests/{created['id']}/assets/0/test-verify"
                        )
                        assert done.status_code == 200 and done.json()["status"] == "partial"
                        await expect(page.locator("#asset-0-status")).to_have_text("Verified")
                        await expect(page.locator("#status")).to_contain_text("1 of 2 verified")
                        assert page.url == url

                        # The last one completes the request: the browser goes on.
                        done = await api.post(
                            f"/api/v1/verification-requests/{created['id']}/assets/1/test-verify"
                        )
                        assert done.json()["status"] == "completed"
                        await page.wait_for_url(f"{base}/")
                    finally:
                        await browser.close()
        violations = [m for m in console if "CSP-VIOLATION" in m or "Content Security" in m]
        assert not violations, violations
