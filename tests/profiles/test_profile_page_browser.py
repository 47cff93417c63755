"""A public profile page in a real browser (headless Chromium, driven by Playwright) against a
real ``vouch serve``: ``/@{username}`` shows the profile's name, bio and its chosen proof (masked),
takes its accent colour from the same-origin theme stylesheet, and raises no Content Security
Policy violation. Once the proof is revoked, a reload no longer shows it.

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
from vouch_server.runtime import Runtime

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
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


class TestProfilePageInChromium:
    async def test_profile_and_proof_visible_without_csp_violation(
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
                made = await api.post(
                    "/api/v1/verifications",
                    json={"type": "email", "channel": "email", "identifier": "jane@example.com"},
                )
                assert made.status_code == 201, made.text
                asset = made.json()
                done = await api.post(f"/api/v1/verifications/{asset['id']}/test-verify")
                assert done.status_code == 200, done.text
                profile = await api.post(
                    "/api/v1/me/profiles",
                    json={
                        "display_name": "Jane <b>Doe</b>",
                        "bio": "Maker of small things",
                        "username": "jane-doe",
                        "theme": {"primary_color": "#aa3300"},
                        "custom_links": [{"title": "Shop", "url": "https://shop.example/"}],
                        "proofs": [{"asset_id": asset["id"], "label": "Work email"}],
                    },
                )
                assert profile.status_code == 201, profile.text

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
                        response = await page.goto(f"{base}/@jane-doe")
                        assert response is not None and response.status == 200
                        expect = playwright_api.expect
                        # The markup in the name is text, not elements.
                        await expect(page.locator("#name")).to_have_text("Jane <b>Doe</b>")
                        await expect(page.locator("#bio")).to_have_text("Maker of small things")
                        await expect(page.locator("#test-banner")).to_be_visible()
                        proof = page.locator("#proof-0")
                        await expect(proof).to_be_visible()
                        await expect(proof).to_contain_text("Work email")
                        await expect(proof).to_contain_text("j***@example.com")
                        assert "jane@example.com" not in await page.content()
                        # The theme stylesheet (same origin) applies the accent colour.
                        color = await page.eval_on_selector(
                            "#links a", "a => getComputedStyle(a).backgroundColor"
                        )
                        assert color == "rgb(138, 143, 153)"  # test profiles: muted links
                        border = await page.eval_on_selector(
                            "main", "m => getComputedStyle(m).borderTopColor"
                        )
                        assert border == "rgb(170, 51, 0)"
                        overflow = await page.evaluate(
                            "document.documentElement.scrollWidth - window.innerWidth"
                        )
                        assert overflow <= 0
                        await page.screenshot(path=str(tmp_path / "profile.png"), full_page=True)

                        revoked = await api.post(
                            f"/api/v1/proofs/{asset['id']}/revoke", json={"reason": "other"}
                        )
                        assert revoked.status_code == 200, revoked.text
                        await page.reload()
                        await expect(page.locator("#no-proofs")).to_be_visible()
                        assert await page.locator("#proof-0").count() == 0
                    finally:
                        await browser.close()
        violations = [m for m in console if "CSP-VIOLATION" in m or "Content Security" in m]
        assert not violations, violations
