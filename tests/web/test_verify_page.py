"""The hosted verify page ``/verify/{request_id}`` over HTTP against the real app: what it shows
for fixed and open assets, starting an asset through the plain form (Post/Redirect/Get) with its
CSRF token, refusals as HTML pages with their status, test mode, headers, and the event stream."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import PHONE
from vouch_server.kit.clock import utcnow
from vouch_server.models import Verification, VerificationRequest
from vouch_server.runtime import Runtime

REQUESTS = "/api/v1/verification-requests"
REDIRECT = "https://shop.example/after"


async def make_request(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "assets": [{"type": "phone", "allowed_channels": ["telegram", "whatsapp"]}],
        "action_context": {"title": "Confirm your phone", "description": "For order 1042"},
        "redirect_url": REDIRECT,
        **body,
    }
    response = await client.post(REQUESTS, json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


async def verification_count(runtime: Runtime) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Verification)) or 0)


def assert_hosted_headers(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["content-type"].startswith("text/html")


class TestPage:
    async def test_open_asset_shows_context_and_a_form_with_its_channels(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        created = await make_request(client, keys.test_headers)
        assert created["verification_url"] == f"https://vouch.test/verify/{created['id']}"
        page = await client.get(f"/verify/{created['id']}")
        assert page.status_code == 200
        assert_hosted_headers(page)
        html = page.text
        assert "Confirm your phone" in html and "For order 1042" in html
        assert 'id="asset-0-form"' in html and 'name="identifier"' in html
        assert '<option value="telegram"' in html and '<option value="whatsapp"' in html
        assert '<option value="sms"' not in html  # not one of allowed_channels
        assert '<script src="/static/verify.js" defer>' in html
        assert "<script>" not in html  # no inline script

    async def test_fixed_email_asset_says_check_your_inbox_with_the_address_masked(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        created = await make_request(
            client, keys.test_headers, assets=[{"type": "email", "identifier": "jane@example.com"}]
        )
        html = (await client.get(f"/verify/{created['id']}")).text
        assert "Check your inbox" in html
        assert "j***@example.com" in html
        assert "jane@example.com" not in html

    async def test_fixed_domain_asset_shows_its_dns_record_straight_away(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        created = await make_request(
            client,
            keys.test_headers,
            assets=[{"type": "domain", "identifier": "example.com", "channel": "dns"}],
        )
        direct = await client.get(
            f"/api/v1/verifications/{created['assets'][0]['verification_id']}",
            headers=keys.test_headers,
        )
        assert direct.status_code == 200
        html = (await client.get(f"/verify/{created['id']}")).text
        value = re.search(r'id="asset-0-record">([^<]+)<', html)
        assert value is not None and value.group(1).strip()
        assert "TXT" in html

    async def test_fixed_phone_asset_offers_show_my_code_and_then_shows_it(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        created = await make_request(
            client,
            keys.test_headers,
            assets=[{"type": "phone", "identifier": PHONE, "channel": "telegram"}],
        )
        html = (await client.get(f"/verify/{created['id']}")).text
        assert "Show my code" in html and 'name="identifier"' not in html
        before = await verification_count(runtime)
        posted = await client.post(
            f"/verify/{created['id']}",
            data={"csrf": csrf_of(html), "asset": "0", "channel": "telegram"},
        )
        assert posted.status_code == 303
        assert await verification_count(runtime) == before + 1
        page = (await client.get(f"/verify/{created['id']}")).text
        code = re.search(r'id="asset-0-code">(\w+)<', page)
        assert code is not None
        assert f"https://t.me/vouch_verify_bot?start={code.group(1)}" in page
        assert "data:image/png;base64," in page

    async def test_test_request_shows_the_test_banner_and_a_live_one_does_not(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        test = await make_request(client, keys.test_headers)
        live = await make_request(client, keys.live_headers)
        assert 'id="test-banner"' in (await client.get(f"/verify/{test['id']}")).text
        assert "TEST MODE" not in (await client.get(f"/verify/{live['id']}")).text

    async def test_nothing_of_the_project_beyond_the_request_is_shown(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        created = await make_request(
            client,
            keys.test_headers,
            reference_id="order-secret-77",
            client_metadata={"internal": "do-not-show"},
            callback_url="https://hooks.example/cb",
        )
        html = (await client.get(f"/verify/{created['id']}")).text
        for secret in ("order-secret-77", "do-not-show", "hooks.example", keys.test, "pk_"):
            assert secret not in html


class TestStart:
    async def test_form_starts_the_asset_and_redirects_back_to_the_challenge(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        created = await make_request(client, keys.test_headers)
        url = f"/verify/{created['id']}"
        csrf = csrf_of((await client.get(url)).text)
        posted = await client.post(
            url, data={"csrf": csrf, "asset": "0", "identifier": PHONE, "channel": "telegram"}
        )
        assert posted.status_code == 303
        assert posted.headers["location"] == url
        cookie = posted.headers["set-cookie"]
        assert f"Path={url}" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        page = (await client.get(url)).text
        code = re.search(r'id="asset-0-code">(\w+)<', page)
        assert code is not None
        assert "@vouch_verify_bot" in page
        assert f"?start={code.group(1)}" in page
        state = (await client.get(f"{REQUESTS}/{created['id']}", headers=keys.test_headers)).json()
        assert state["assets"][0]["verification_id"] is not None
        assert state["assets"][0]["current_channel"] == "telegram"

    async def test_bad_identifier_shows_the_error_and_creates_nothing(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        created = await make_request(client, keys.test_headers)
        url = f"/verify/{created['id']}"
        csrf = csrf_of((await client.get(url)).text)
        before = await verification_count(runtime)
        posted = await client.post(
            url, data={"csrf": csrf, "asset": "0", "identifier": "not a phone", "channel": "sms"}
        )
        assert posted.status_code in (400, 422)
        assert_hosted_headers(posted)
        assert 'id="asset-0-error"' in posted.text
        assert 'value="not a phone"' in posted.text  # what was typed is kept
        assert await verification_count(runtime) == before
        state = (await client.get(f"{REQUESTS}/{created['id']}", headers=keys.test_headers)).json()
        assert state["assets"][0]["verification_id"] is None

    async def test_a_channel_the_asset_does_not_offer_is_refused(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        created = await make_request(client, keys.test_headers)
        url = f"/verify/{created['id']}"
        csrf = csrf_of((await client.get(url)).text)
        before = await verification_count(runtime)
        posted = await client.post(
            url, data={"csrf": csrf, "asset": "0", "identifier": PHONE, "channel": "sms"}
        )
        assert posted.status_code == 400
        assert "not offered" in posted.text
        assert await verification_count(runtime) == before

    async def test_a_start_refused_after_its_verification_was_made_leaves_nothing(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        # Live email without outbound mail: control makes the verification, then refuses it
        # (channel_not_configured); the page must not commit the half-made verification.
        created = await make_request(
            client, keys.live_headers, assets=[{"type": "email", "allowed_channels": ["email"]}]
        )
        url = f"/verify/{created['id']}"
        csrf = csrf_of((await client.get(url)).text)
        before = await verification_count(runtime)
        posted = await client.post(
            url, data={"csrf": csrf, "asset": "0", "identifier": "jane@example.com"}
        )
        assert posted.status_code == 400
        assert "outbound mail" in posted.text
        assert await verification_count(runtime) == before
        state = (await client.get(f"{REQUESTS}/{created['id']}", headers=keys.live_headers)).json()
        assert state["assets"][0]["verification_id"] is None

    async def test_a_forged_challenge_cookie_is_ignored(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        created = await make_request(client, keys.test_headers)
        url = f"/verify/{created['id']}"
        csrf = csrf_of((await client.get(url)).text)
        posted = await client.post(
            url, data={"csrf": csrf, "asset": "0", "identifier": PHONE, "channel": "telegram"}
        )
        genuine = posted.cookies["vouch_verify"]
        payload, _, _ = genuine.rpartition(".")
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        data["0"]["c"]["deep_link"] = "https://evil.example/phish"
        forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
        client.cookies.set("vouch_verify", f"{forged}.{genuine.rpartition('.')[2]}")
        page = (await client.get(url)).text
        assert "evil.example" not in page
        assert 'id="asset-0-code"' not in page  # nothing trusted: the start form again
        client.cookies.set("vouch_verify", genuine)
        assert 'id="asset-0-code"' in (await client.get(url)).text

    @pytest.mark.parametrize("csrf", [None, "", "forged"])
    async def test_missing_or_wrong_csrf_token_is_403_and_creates_nothing(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime, csrf: str | None
    ) -> None:
        created = await make_request(client, keys.test_headers)
        before = await verification_count(runtime)
        data = {"asset": "0", "identifier": PHONE, "channel": "telegram"}
        if csrf is not None:
            data["csrf"] = csrf
        posted = await client.post(f"/verify/{created['id']}", data=data)
        assert posted.status_code == 403
        assert_hosted_headers(posted)
        assert await verification_count(runtime) == before

    async def test_the_token_of_one_request_does_not_serve_another(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        first = await make_request(client, keys.test_headers)
        second = await make_request(client, keys.test_headers)
        csrf = csrf_of((await client.get(f"/verify/{first['id']}")).text)
        posted = await client.post(
            f"/verify/{second['id']}",
            data={"csrf": csrf, "asset": "0", "identifier": PHONE, "channel": "telegram"},
        )
        assert posted.status_code == 403

    async def test_an_oversized_form_is_refused_before_it_is_read(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        created = await make_request(client, keys.test_headers)
        posted = await client.post(
            f"/verify/{created['id']}", data={"csrf": "x", "identifier": "9" * 20_000}
        )
        assert posted.status_code == 413


class TestRefusals:
    @pytest.mark.parametrize("request_id", ["0" * 24, "not-an-id", "%3Cscript%3E"])
    async def test_unknown_or_malformed_id_is_a_404_page(
        self, client: httpx.AsyncClient, request_id: str
    ) -> None:
        page = await client.get(f"/verify/{request_id}")
        assert page.status_code == 404
        assert_hosted_headers(page)
        assert "This link is not valid" in page.text
        assert "<script" not in page.text

    async def test_cancelled_request_is_a_410_page(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        created = await make_request(client, keys.test_headers)
        cancelled = await client.delete(f"{REQUESTS}/{created['id']}", headers=keys.test_headers)
        assert cancelled.status_code == 200
        page = await client.get(f"/verify/{created['id']}")
        assert page.status_code == 410
        assert_hosted_headers(page)
        assert "cancelled" in page.text

    async def test_expired_request_is_a_410_page(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        created = await make_request(client, keys.test_headers)
        async with runtime.db.session() as session:
            await session.execute(
                update(VerificationRequest)
                .where(VerificationRequest.id == created["id"])
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        page = await client.get(f"/verify/{created['id']}")
        assert page.status_code == 410
        assert "expired" in page.text

    async def test_a_post_to_a_closed_request_is_refused(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        created = await make_request(client, keys.test_headers)
        url = f"/verify/{created['id']}"
        csrf = csrf_of((await client.get(url)).text)
        await client.delete(f"{REQUESTS}/{created['id']}", headers=keys.test_headers)
        before = await verification_count(runtime)
        posted = await client.post(
            url, data={"csrf": csrf, "asset": "0", "identifier": PHONE, "channel": "telegram"}
        )
        assert posted.status_code == 410
        assert await verification_count(runtime) == before


class TestCompleted:
    async def test_completed_request_shows_verified_and_a_continue_link(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        created = await make_request(client, keys.test_headers)
        url = f"/verify/{created['id']}"
        before = (await client.get(url)).text
        assert 'id="continue"' not in before
        done = await client.post(
            f"{REQUESTS}/{created['id']}/assets/0/test-verify",
            json={"identifier": PHONE, "channel": "telegram"},
            headers=keys.test_headers,
        )
        assert done.status_code == 200 and done.json()["status"] == "completed"
        page = await client.get(url)
        assert page.status_code == 200
        assert f'id="continue" class="button primary" href="{REDIRECT}"' in page.text
        assert 'id="asset-0-status">Verified<' in page.text
        assert 'id="asset-0-form"' not in page.text
        assert "+370****9199" in page.text

    async def test_completed_request_without_redirect_has_no_continue_link(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        created = await make_request(client, keys.test_headers, redirect_url=None)
        await client.post(
            f"{REQUESTS}/{created['id']}/assets/0/test-verify",
            json={"identifier": PHONE},
            headers=keys.test_headers,
        )
        page = await client.get(f"/verify/{created['id']}")
        assert "Done" in page.text and 'id="continue"' not in page.text


class TestEvents:
    async def test_stream_of_a_completed_request_says_so_and_ends(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        created = await make_request(client, keys.test_headers)
        await client.post(
            f"{REQUESTS}/{created['id']}/assets/0/test-verify",
            json={"identifier": PHONE},
            headers=keys.test_headers,
        )
        stream = await client.get(f"/verify/{created['id']}/events")
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["cache-control"] == "no-store"
        assert stream.text == (
            f'event: connected\ndata: {{"id":"{created["id"]}","status":"completed"}}\n\n'
        )

    async def test_stream_of_an_unknown_request_is_404(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(f"/verify/{'0' * 24}/events")).status_code == 404


class TestStatic:
    async def test_stylesheet_and_script_are_served_and_nothing_else(
        self, client: httpx.AsyncClient
    ) -> None:
        css = await client.get("/static/hosted.css")
        js = await client.get("/static/verify.js")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert js.status_code == 200 and "EventSource" in js.text
        assert (await client.get("/static/verify_page.py")).status_code == 404
        assert (await client.get("/static/..%2Fverify_page.py")).status_code == 404
