"""One look for every hosted page: the verify page, the single-verification page, the approval
page, the email link page, the OAuth callback and the error pages all extend ``base.html``, load
``/static/hosted.css`` and the brand stylesheet under the same CSP, and show the project's
branding (name, logo, accent) from its primary profile — escaped, and with the logo's origin
allowed for that response only."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import PHONE, create_verification
from tests.web.test_approval_page import web_confirmation
from tests.web.test_verify_page import make_request
from vouch_server.kit.clock import utcnow
from vouch_server.models import Verification
from vouch_server.runtime import Runtime
from vouch_server.web.branding import Branding, logo_origin

PROFILES = "/api/v1/me/profiles"
LOGO = "https://cdn.example:8443/brand/logo.png?v=2"
SHEET = '<link rel="stylesheet" href="/static/hosted.css">'


async def brand(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> None:
    response = await client.post(PROFILES, json=body, headers=headers)
    assert response.status_code == 201, response.text


def assert_one_look(page: httpx.Response, *, accent: str = "1f6feb") -> str:
    """The shared parts every hosted page has; returns its CSP."""
    html = page.text
    assert page.headers["content-type"].startswith("text/html")
    assert SHEET in html
    assert f'<link rel="stylesheet" href="/static/brand/{accent}.css">' in html
    assert 'id="brand-name"' in html
    assert "<style" not in html and "style=" not in html and "<script>" not in html
    csp = page.headers["content-security-policy"]
    for directive in (
        "default-src 'none'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ):
        assert directive in csp, csp
    assert "unsafe-inline" not in csp and "*" not in csp
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex, nofollow">' in html
    return csp


def brand_name(html: str) -> str:
    match = re.search(r'<span id="brand-name" class="brand-name">(.*?)</span>', html)
    assert match, html
    return match.group(1)


class TestEveryPage:
    async def test_every_hosted_page_has_the_stylesheet_and_the_policy(
        self, client: httpx.AsyncClient, dc: httpx.AsyncClient, dkeys: Keys, keys: Keys
    ) -> None:
        request = await make_request(client, keys.test_headers)
        verification = await create_verification(client, keys.test_headers)
        _, approve = await web_confirmation(dc, dkeys)
        pages = {
            "verify": await client.get(f"/verify/{request['id']}"),
            "verification": await client.get(f"/verify/v/{verification['id']}"),
            "approve": await dc.get(approve),
            "approve-refused": await dc.get("/approve/not-a-token"),
            "verify-404": await client.get(f"/verify/{'0' * 24}"),
            "verification-404": await client.get(f"/verify/v/{'0' * 24}"),
            "email-link": await client.get(f"/verify/{verification['id']}/email?token=x"),
            "oauth": await client.get("/oauth/callback/nowhere"),
        }
        for name, page in pages.items():
            csp = assert_one_look(page)
            assert brand_name(page.text) in ("acme", "vouch"), name
            if name.startswith(("verify", "verification")):
                assert "script-src 'self'" in csp and "img-src data:" in csp, name
            else:
                assert "script-src" not in csp and "img-src" not in csp, name
        # Where the project is known, its name; where it is not, vouch's.
        assert brand_name(pages["verify"].text) == "acme"
        assert brand_name(pages["verification"].text) == "acme"
        assert brand_name(pages["verify-404"].text) == "vouch"
        assert brand_name(pages["approve-refused"].text) == "vouch"

    async def test_the_brand_stylesheet_is_css_named_by_its_colour_only(
        self, client: httpx.AsyncClient
    ) -> None:
        sheet = await client.get("/static/brand/aa3300.css")
        assert sheet.status_code == 200
        assert sheet.headers["content-type"] == "text/css; charset=utf-8"
        assert sheet.headers["x-content-type-options"] == "nosniff"
        assert "immutable" in sheet.headers["cache-control"]
        assert sheet.text == ":root{--accent:#aa3300;--on-accent:#ffffff}\n"
        # A light accent gets dark text on it.
        light = await client.get("/static/brand/ffee00.css")
        assert "--on-accent:#111827" in light.text
        for bad in ("red.css", "AA3300.css", "aa33000.css", "aa3300.js", "aa3300", "%3Cx%3E.css"):
            refused = await client.get(f"/static/brand/{bad}")
            assert refused.status_code == 404, bad
            assert not refused.headers["content-type"].startswith("text/css"), bad


class TestBranding:
    async def test_the_primary_profile_brands_the_verify_pages(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        await brand(
            client,
            keys.test_headers,
            display_name="Acme Anvils",
            avatar_url=LOGO,
            theme={"primary_color": "#AA3300"},
        )
        request = await make_request(client, keys.test_headers)
        verification = await create_verification(client, keys.test_headers)
        for path in (f"/verify/{request['id']}", f"/verify/v/{verification['id']}"):
            page = await client.get(path)
            csp = assert_one_look(page, accent="aa3300")
            assert brand_name(page.text) == "Acme Anvils"
            assert "<title>" in page.text and "· Acme Anvils</title>" in page.text
            logo = LOGO.replace("&", "&amp;")
            assert (
                f'<img id="brand-logo" class="brand-logo" src="{logo}" alt="" width="32" '
                'height="32" referrerpolicy="no-referrer">'
            ) in page.text
            # The logo's origin, exactly, and nothing wider; for this response only.
            assert "img-src data: https://cdn.example:8443;" in csp
        plain = await client.get("/verify/" + "0" * 24)
        assert "cdn.example" not in plain.headers["content-security-policy"]

    async def test_the_primary_profile_brands_the_approval_page(
        self, dc: httpx.AsyncClient, dkeys: Keys
    ) -> None:
        await brand(
            dc,
            dkeys.test_headers,
            display_name="Acme",
            business_name="Acme Anvils Ltd",
            is_business=True,
            avatar_url="https://cdn.example/logo.png",
            theme={"primary_color": "#0a7d45"},
        )
        _, path = await web_confirmation(dc, dkeys)
        page = await dc.get(path)
        csp = assert_one_look(page, accent="0a7d45")
        assert brand_name(page.text) == "Acme Anvils Ltd"
        assert 'src="https://cdn.example/logo.png"' in page.text
        assert 'referrerpolicy="no-referrer"' in page.text
        assert csp == (
            "default-src 'none'; style-src 'self'; img-src https://cdn.example; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
        # The decision's answer page keeps the look.
        answered = await dc.post(path, data={"action": "approve"})
        assert answered.status_code == 200
        assert_one_look(answered, accent="0a7d45")
        assert brand_name(answered.text) == "Acme Anvils Ltd"

    async def test_without_a_profile_the_defaults(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        request = await make_request(client, keys.test_headers)
        page = await client.get(f"/verify/{request['id']}")
        assert_one_look(page)
        assert brand_name(page.text) == "acme" and 'id="brand-logo"' not in page.text

    async def test_a_hostile_name_is_text_and_a_hostile_colour_never_arrives(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        refused = await client.post(
            PROFILES,
            json={"display_name": "x", "theme": {"primary_color": "red;}body{display:none"}},
            headers=keys.test_headers,
        )
        assert refused.status_code == 400
        await brand(client, keys.test_headers, display_name='<script>alert("x")</script>')
        request = await make_request(client, keys.test_headers)
        page = await client.get(f"/verify/{request['id']}")
        assert_one_look(page)  # the default accent: the hostile colour was never stored
        assert "<script>alert" not in page.text
        assert brand_name(page.text) == "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"

    async def test_channels_are_written_as_their_products_spell_them(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        request = await make_request(
            client,
            keys.test_headers,
            assets=[{"type": "phone", "allowed_channels": ["whatsapp", "sms", "telegram"]}],
        )
        html = (await client.get(f"/verify/{request['id']}")).text
        options = re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>', html)
        assert options == [("whatsapp", "WhatsApp"), ("sms", "SMS"), ("telegram", "Telegram")]

    def test_values_that_could_break_out_are_dropped(self) -> None:
        assert Branding.safe_color("red;}body{display:none") == "#1f6feb"
        assert Branding(color="#12ab3;}x").hex == "1f6feb"
        assert logo_origin("https://cdn.example/a.png") == "https://cdn.example"
        assert logo_origin("https://cdn.example:443/a.png") == "https://cdn.example"
        for bad in (
            "http://cdn.example/a.png",
            "javascript:alert(1)",
            "https://user:pw@cdn.example/a.png",
            "https://cdn.example;script-src */a.png",
            "https://cdn.example/a.png' 'unsafe-inline",
            "https://*.example/a.png",
            "https://cdn.example:99999/a.png",
        ):
            assert logo_origin(bad) is None, bad
            assert Branding(logo_url=bad).logo is None, bad


class TestSingleVerificationPage:
    async def test_pending_shows_where_to_send_the_code_but_never_the_code(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        created = await create_verification(client, keys.test_headers)
        code = created["challenge"]["code"]
        page = await client.get(f"/verify/v/{created['id']}")
        assert page.status_code == 200
        html = page.text
        assert 'data-events="/verify/v/' + created["id"] + '/events"' in html
        assert 'id="asset-0-status">Waiting' in html
        assert "@vouch_verify_bot" in html  # where to send it
        assert code not in html and "t.me/" not in html
        assert PHONE not in html and PHONE[-4:] in html  # masked, as on the request page
        assert 'id="test-banner"' in html and "<form" not in html

    async def test_a_dns_verification_shows_its_record(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        created = await create_verification(
            client, keys.test_headers, type="domain", channel="dns", identifier="shop.example"
        )
        html = (await client.get(f"/verify/v/{created['id']}")).text
        assert 'id="asset-0-record"' in html and "TXT" in html

    async def test_verified_says_done_and_the_stream_ends(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        created = await create_verification(client, keys.test_headers)
        done = await client.post(
            f"/api/v1/verifications/{created['id']}/test-verify", headers=keys.test_headers
        )
        assert done.status_code == 200
        page = await client.get(f"/verify/v/{created['id']}")
        assert page.status_code == 200 and "Done — verified" in page.text
        assert 'id="asset-0-status">Verified' in page.text
        assert done.json()["proof_token"] not in page.text
        stream = await client.get(f"/verify/v/{created['id']}/events")
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.text == (
            f'event: connected\ndata: {{"id":"{created["id"]}","status":"verified"}}\n\n'
        )

    async def test_expired_is_a_410_page_and_get_writes_nothing(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        created = await create_verification(client, keys.test_headers)
        async with runtime.db.session() as session:
            await session.execute(
                update(Verification)
                .where(Verification.id == created["id"])
                .values(challenge_expires_at=utcnow() - timedelta(seconds=1))
            )
            await session.commit()
        page = await client.get(f"/verify/v/{created['id']}")
        assert page.status_code == 410 and "expired" in page.text
        assert_one_look(page)
        async with runtime.db.session() as session:
            row = await session.get(Verification, created["id"])
            assert row is not None and row.status == "pending"

    @pytest.mark.parametrize("bad", ["0" * 24, "not-an-id", "v"])
    async def test_unknown_ids_are_404_pages(self, client: httpx.AsyncClient, bad: str) -> None:
        page = await client.get(f"/verify/v/{bad}")
        assert page.status_code == 404 and SHEET in page.text
        assert (await client.get(f"/verify/v/{bad}/events")).status_code == 404
