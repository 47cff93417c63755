"""The hosted verify pages in a real browser (headless Chromium, driven by Playwright) against a
real ``vouch serve`` wired to the Telegram and WhatsApp stand-ins (issue 15):

- the request page ``/verify/{request_id}`` carries the project's branding — the primary
  profile's name, its https logo and its accent colour on the primary button — fits a phone's
  width and raises no Content Security Policy violation (the logo's origin is allowed, nothing
  else);
- a person opens ``verification_url``, starts one phone asset on Telegram and another on
  WhatsApp, and completes them the way the providers report it — a Bot API update (``/start
  <code>`` then the person's own contact) with the webhook's secret token, and a Cloud API
  notification carrying the code, signed with the app secret — not through test-verify; the open
  page shows each over its event stream, then goes on to ``redirect_url``;
- the single-verification page ``/verify/v/{verification_id}`` shows a pending verification and
  turns to done when it is completed over the Telegram stand-in.

Needs Chromium at /usr/bin/chromium (Debian package ``chromium``) and Playwright for Python;
skipped with the reason when either is missing."""

from __future__ import annotations

import shutil
import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.approval.standins import (
    CHAT_ID,
    post_telegram,
    post_whatsapp,
    serve,
    tg_message,
    wa_text,
)
from tests.fixtures.providers import FakeApi
from tests.fixtures.tenancy import Keys, make_keys
from vouch_server.config import Settings
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
EXPECT_MS = 5_000  # every expect on a live change is bounded

LOGO = "https://cdn.example/brand/acme-logo.png"
BRAND = {
    "display_name": "Acme Anvils",
    "avatar_url": LOGO,
    "theme": {"primary_color": "#aa3300"},
}
BRAND_RGB = "rgb(170, 51, 0)"
TG_PHONE = "+37069199199"  # the Telegram user's own number (their shared contact)
WA_PHONE = "+37069100000"  # the WhatsApp sender's number (Meta's ``from``)


def _png(size: int = 8) -> bytes:
    """A small orange PNG: what the logo's host answers inside the browser (no network here)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xaa\x33\x00" * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


LOGO_PNG = _png()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and shutil.which("chromium") is None,
        reason="Chromium is not installed at /usr/bin/chromium (apt-get install chromium)",
    ),
]


async def _keys(settings: Settings) -> Keys:
    runtime = Runtime.build(settings)
    try:
        return await make_keys(runtime)
    finally:
        await runtime.close()


@asynccontextmanager
async def chromium(
    playwright_api: Any, console: list[str], logo_requests: list[str]
) -> AsyncIterator[Any]:
    """A phone-sized page whose console (and every CSP violation) lands in ``console``; the
    logo's host is answered by the browser itself, and each request for it recorded."""
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=CHROMIUM_ARGS,
        )
        try:
            context = await browser.new_context(viewport={"width": 390, "height": 844})
            await context.add_init_script(REPORT_VIOLATIONS)

            async def logo(route: Any) -> None:
                logo_requests.append(route.request.url)
                await route.fulfill(status=200, content_type="image/png", body=LOGO_PNG)

            await context.route("https://cdn.example/**", logo)
            page = await context.new_page()
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            yield page
        finally:
            await browser.close()


def violations(console: list[str]) -> list[str]:
    return [m for m in console if "CSP-VIOLATION" in m or "Content Security" in m]


async def no_sideways_scroll(page: Any) -> None:
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


async def screenshot(page: Any, path: Path) -> None:
    await page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000, "the screenshot is (nearly) blank"


async def telegram_proves(client: httpx.AsyncClient, code: str, phone: str) -> None:
    """What the bot receives: the deep link's ``/start <code>``, then the person's own contact
    (the bot asks for it), each with the webhook's secret token."""
    started = await post_telegram(client, tg_message(f"/start {code}"))
    assert started.status_code == 200, started.text
    update = tg_message("")
    message = update["message"]
    del message["text"]
    message["contact"] = {
        "phone_number": phone.lstrip("+"),
        "first_name": "Ona",
        "user_id": CHAT_ID,
    }
    shared = await post_telegram(client, update)
    assert shared.status_code == 200, shared.text


class TestRequestPageInChromium:
    async def test_branded_page_fits_a_phone_without_csp_violation(
        self, settings_factory: Any, tmp_path: Path
    ) -> None:
        playwright_api = pytest.importorskip(
            "playwright.async_api", reason="Playwright for Python is not installed"
        )
        settings = settings_factory()
        keys = await _keys(settings)
        with serve(settings) as base:
            async with httpx.AsyncClient(base_url=base, headers=keys.test_headers) as api:
                profile = await api.post("/api/v1/me/profiles", json=BRAND)
                assert profile.status_code == 201, profile.text
                created = await api.post(
                    "/api/v1/verification-requests",
                    json={
                        "assets": [{"type": "phone", "allowed_channels": ["telegram"]}],
                        "action_context": {"title": "Confirm your phone number"},
                    },
                )
                assert created.status_code == 201, created.text
                url = created.json()["verification_url"].replace("https://vouch.test", base)

                console: list[str] = []
                logo_requests: list[str] = []
                async with chromium(playwright_api, console, logo_requests) as page:
                    expect = playwright_api.expect
                    response = await page.goto(url)
                    assert response is not None and response.status == 200
                    csp = response.headers["content-security-policy"]
                    assert "img-src data: https://cdn.example;" in csp, csp

                    await expect(page.locator("#brand-name")).to_have_text(
                        "Acme Anvils", timeout=EXPECT_MS
                    )
                    assert await page.title() == "Confirm your phone number · Acme Anvils"
                    logo = page.locator("#brand-logo")
                    await expect(logo).to_be_visible(timeout=EXPECT_MS)
                    await expect(logo).to_have_attribute("src", LOGO, timeout=EXPECT_MS)
                    # The logo was fetched from its own origin and drawn (CSP let it through).
                    await page.wait_for_function(
                        "() => document.getElementById('brand-logo').naturalWidth > 0",
                        timeout=EXPECT_MS,
                    )
                    assert logo_requests == [LOGO]

                    start = page.locator("#asset-0-start")
                    await expect(start).to_be_visible(timeout=EXPECT_MS)
                    accent = await start.evaluate("b => getComputedStyle(b).backgroundColor")
                    assert accent == BRAND_RGB  # from /static/brand/aa3300.css
                    text = await start.evaluate("b => getComputedStyle(b).color")
                    assert text == "rgb(255, 255, 255)"  # white reads on this accent
                    edge = await page.eval_on_selector(
                        "#verify", "m => getComputedStyle(m).borderTopColor"
                    )
                    assert edge == BRAND_RGB

                    await no_sideways_scroll(page)
                    await screenshot(page, tmp_path / "branded-mobile.png")
                    # Started, with a code and a deep link: still a phone's width.
                    await page.fill("#asset-0-identifier", TG_PHONE)
                    await page.click("#asset-0-start")
                    await expect(page.locator("#asset-0-code")).to_be_visible(timeout=EXPECT_MS)
                    await expect(page.locator("#brand-name")).to_have_text("Acme Anvils")
                    await no_sideways_scroll(page)
                    await screenshot(page, tmp_path / "branded-started-mobile.png")
        assert not violations(console), violations(console)

    async def test_assets_completed_over_telegram_and_whatsapp_update_the_page_and_redirect(
        self, settings_factory: Any, fake_api: FakeApi, tmp_path: Path
    ) -> None:
        playwright_api = pytest.importorskip(
            "playwright.async_api", reason="Playwright for Python is not installed"
        )
        settings = settings_factory()
        keys = await _keys(settings)
        with serve(settings, fake_api) as base:
            async with (
                httpx.AsyncClient(base_url=base, headers=keys.test_headers) as api,
                httpx.AsyncClient(base_url=base) as provider,
            ):
                assert (await api.post("/api/v1/me/profiles", json=BRAND)).status_code == 201
                created = (
                    await api.post(
                        "/api/v1/verification-requests",
                        json={
                            "assets": [
                                {"type": "phone", "allowed_channels": ["telegram"]},
                                {"type": "phone", "allowed_channels": ["whatsapp"]},
                            ],
                            "action_context": {"title": "Confirm both numbers"},
                            "redirect_url": f"{base}/",
                        },
                    )
                ).json()
                url = created["verification_url"].replace("https://vouch.test", base)

                console: list[str] = []
                async with chromium(playwright_api, console, []) as page:
                    expect = playwright_api.expect
                    response = await page.goto(url)
                    assert response is not None and response.status == 200
                    await expect(page.locator("#status")).to_contain_text(
                        "0 of 2 verified", timeout=EXPECT_MS
                    )

                    # The person starts each asset and reads its code off the page.
                    await page.fill("#asset-0-identifier", TG_PHONE)
                    await page.click("#asset-0-start")
                    tg_code = page.locator("#asset-0-code")
                    await expect(tg_code).to_be_visible(timeout=EXPECT_MS)
                    tg_link = await page.locator("#asset-0-link").get_attribute("href")
                    code0 = (await tg_code.inner_text()).strip()
                    assert tg_link is not None and tg_link.endswith(f"?start={code0}")

                    await page.fill("#asset-1-identifier", WA_PHONE)
                    await page.click("#asset-1-start")
                    wa_code = page.locator("#asset-1-code")
                    await expect(wa_code).to_be_visible(timeout=EXPECT_MS)
                    code1 = (await wa_code.inner_text()).strip()
                    wa_link = await page.locator("#asset-1-link").get_attribute("href")
                    assert wa_link == f"https://wa.me/15550001111?text={code1}"
                    await expect(page.locator("#asset-1-challenge")).to_contain_text(
                        "Send this code to +15550001111 on WhatsApp:"
                    )
                    await expect(page.locator("#asset-0-code")).to_have_text(code0)
                    await expect(page.locator("#asset-1-status")).to_have_text("Waiting")
                    await screenshot(page, tmp_path / "two-channels-started.png")

                    # Telegram reports the person: the open page shows it, the other waits.
                    await telegram_proves(provider, code0, TG_PHONE)
                    await expect(page.locator("#asset-0-status")).to_have_text(
                        "Verified", timeout=EXPECT_MS
                    )
                    await expect(page.locator("#status")).to_contain_text(
                        "1 of 2 verified", timeout=EXPECT_MS
                    )
                    await expect(page.locator("#asset-1-status")).to_have_text("Waiting")
                    assert page.url == url
                    await screenshot(page, tmp_path / "telegram-verified.png")

                    # A WhatsApp message with the code from the number completes the request:
                    # the browser goes on by itself.
                    sent = await post_whatsapp(provider, wa_text(code1, wa_id=WA_PHONE[1:]))
                    assert sent.status_code == 200, sent.text
                    await page.wait_for_url(f"{base}/", timeout=EXPECT_MS)

                final = (await api.get(f"/api/v1/verification-requests/{created['id']}")).json()
                assert final["status"] == "completed", final
        assert not violations(console), violations(console)


class TestSingleVerificationPageInChromium:
    async def test_pending_then_done_when_telegram_reports_it(
        self, settings_factory: Any, fake_api: FakeApi, tmp_path: Path
    ) -> None:
        playwright_api = pytest.importorskip(
            "playwright.async_api", reason="Playwright for Python is not installed"
        )
        settings = settings_factory()
        keys = await _keys(settings)
        with serve(settings, fake_api) as base:
            async with (
                httpx.AsyncClient(base_url=base, headers=keys.test_headers) as api,
                httpx.AsyncClient(base_url=base) as provider,
            ):
                assert (await api.post("/api/v1/me/profiles", json=BRAND)).status_code == 201
                made = await api.post(
                    "/api/v1/verifications",
                    json={"type": "phone", "channel": "telegram", "identifier": TG_PHONE},
                )
                assert made.status_code == 201, made.text
                verification = made.json()
                code = verification["challenge"]["code"]

                console: list[str] = []
                async with chromium(playwright_api, console, []) as page:
                    expect = playwright_api.expect
                    response = await page.goto(f"{base}/verify/v/{verification['id']}")
                    assert response is not None and response.status == 200
                    await expect(page.locator("#brand-name")).to_have_text(
                        "Acme Anvils", timeout=EXPECT_MS
                    )
                    await expect(page.locator("#title")).to_have_text("Verify your phone number")
                    await expect(page.locator("#asset-0-status")).to_have_text("Waiting")
                    await expect(page.locator("#asset-0-send")).to_contain_text(
                        "@vouch_approvals_bot"
                    )
                    assert code not in await page.content()  # the code is never on this page
                    await expect(page.locator("#live-note")).to_be_visible()
                    await no_sideways_scroll(page)
                    await screenshot(page, tmp_path / "verification-pending.png")

                    await telegram_proves(provider, code, TG_PHONE)
                    await expect(page.locator("#asset-0-status")).to_have_text(
                        "Verified", timeout=EXPECT_MS
                    )
                    await expect(page.locator("#status")).to_contain_text(
                        "Done — verified", timeout=EXPECT_MS
                    )
                    # Nothing is left to follow: the page no longer says it updates itself.
                    await expect(page.locator("#live-note")).to_have_count(0, timeout=EXPECT_MS)
                    await screenshot(page, tmp_path / "verification-done.png")

                polled = (await api.get(f"/api/v1/verifications/{verification['id']}")).json()
                assert polled["status"] == "verified", polled
        assert not violations(console), violations(console)
