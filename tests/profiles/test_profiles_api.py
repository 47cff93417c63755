"""``/api/v1/me/profiles`` and the public reads over HTTP: tenancy, bad input, what a public
profile shows (chosen proofs only, masked as chosen, gone once revoked or expired), escaping,
test mode, and the branding the primary profile gives the hosted pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import PHONE, live_proof, verified_proof
from vouch_server.kit.clock import utcnow
from vouch_server.profiles import service as profile_service
from vouch_server.runtime import Runtime
from vouch_server.web.branding import DEFAULT_COLOR, load_branding

ME = "/api/v1/me/profiles"


async def _create(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    response = await client.post(ME, json=body, headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def _error(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return body["error"]


class TestOwnerCrud:
    async def test_create_list_update_delete_and_one_primary(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        first = await _create(client, keys.test_headers, display_name="Acme", username="acme-co")
        assert first["is_primary"] is True and first["test_mode"] is True
        assert first["public_url"] == "https://vouch.test/@acme-co"
        assert len(first["profile_id"]) == 10 and first["profile_id"] != first["id"]
        second = await _create(client, keys.test_headers, display_name="Acme Labs")
        assert second["is_primary"] is False

        made = await client.post(f"{ME}/{second['id']}/primary", headers=keys.test_headers)
        assert made.status_code == 200 and made.json()["is_primary"] is True
        listed = (await client.get(ME, headers=keys.test_headers)).json()["data"]
        assert [p["is_primary"] for p in listed] == [False, True]

        patched = await client.patch(
            f"{ME}/{first['id']}",
            json={"bio": "We sell anvils", "theme": {"primary_color": "#aa3300"}},
            headers=keys.test_headers,
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["bio"] == "We sell anvils"
        assert patched.json()["theme"] == {"primary_color": "#aa3300"}
        again = await client.patch(
            f"{ME}/{first['id']}",
            json={"theme": {"font_style": "classic"}},
            headers=keys.test_headers,
        )
        assert again.json()["theme"] == {"primary_color": "#aa3300", "font_style": "classic"}

        gone = await client.delete(f"{ME}/{second['id']}", headers=keys.test_headers)
        assert gone.status_code == 200 and gone.json()["deleted"] is True
        # The primary one was deleted: the remaining profile takes over.
        left = (await client.get(ME, headers=keys.test_headers)).json()["data"]
        assert [(p["id"], p["is_primary"]) for p in left] == [(first["id"], True)]
        missing = await client.get(f"{ME}/{second['id']}", headers=keys.test_headers)
        assert _error(missing, 404)["code"] == "profile_not_found"


class TestTenancy:
    async def test_another_project_or_environment_cannot_see_or_change_a_profile(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        mine = await _create(client, keys.test_headers, display_name="Mine")
        other = Keys.auth(keys.other_test)
        for headers in (other, keys.live_headers):
            assert (await client.get(ME, headers=headers)).json()["data"] == []
            for method, path, body in (
                ("GET", f"{ME}/{mine['id']}", None),
                ("PATCH", f"{ME}/{mine['id']}", {"display_name": "Stolen"}),
                ("POST", f"{ME}/{mine['id']}/primary", None),
                ("PUT", f"{ME}/{mine['id']}/proofs", {"proofs": []}),
                ("DELETE", f"{ME}/{mine['id']}", None),
            ):
                response = await client.request(method, path, json=body, headers=headers)
                assert _error(response, 404)["code"] == "profile_not_found"
        still = (await client.get(f"{ME}/{mine['id']}", headers=keys.test_headers)).json()
        assert still["display_name"] == "Mine"

    async def test_no_key_is_refused(self, client: httpx.AsyncClient) -> None:
        assert _error(await client.get(ME), 401)["code"] == "unauthorized"

    async def test_a_profile_cannot_show_another_projects_asset(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        theirs = await verified_proof(client, Keys.auth(keys.other_test))
        mine = await _create(client, keys.test_headers, display_name="Mine")
        response = await client.put(
            f"{ME}/{mine['id']}/proofs",
            json={"proofs": [{"asset_id": theirs["id"]}]},
            headers=keys.test_headers,
        )
        assert _error(response)["code"] == "validation_error"
        assert (await client.get(f"{ME}/{mine['id']}", headers=keys.test_headers)).json()[
            "proofs"
        ] == []


class TestBadInput:
    @pytest.mark.parametrize(
        "body",
        [
            {"avatar_url": "http://example.com/a.png"},
            {"avatar_url": "javascript:alert(1)"},
            {"avatar_url": "https://user:pw@example.com/a.png"},
            {"theme": {"primary_color": "red"}},
            {"theme": {"primary_color": "#fff;}body{x"}},
            {"username": "admin"},
            {"username": "vouch-support"},
            {"username": "a b"},
            {"username": "x"},
            {"custom_links": [{"title": "Home", "url": "javascript:alert(1)"}]},
            {"display_name": "x" * 101},
            {"bio": "x" * 501},
            {"unknown_field": 1},
            {"proofs": [{"asset_id": "not-an-id"}]},
            {"proofs": [{"asset_id": "0" * 24, "mask_level": "none"}]},
        ],
    )
    async def test_refused_with_the_envelope_and_nothing_changes(
        self, client: httpx.AsyncClient, keys: Keys, body: dict[str, Any]
    ) -> None:
        _error(await client.post(ME, json=body, headers=keys.test_headers))
        assert (await client.get(ME, headers=keys.test_headers)).json()["data"] == []
        made = await _create(client, keys.test_headers, display_name="Kept")
        _error(await client.patch(f"{ME}/{made['id']}", json=body, headers=keys.test_headers))
        after = (await client.get(f"{ME}/{made['id']}", headers=keys.test_headers)).json()
        assert after == made

    async def test_a_taken_username_is_a_conflict_across_projects(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        await _create(client, keys.test_headers, username="anvils")
        response = await client.post(
            ME, json={"username": "Anvils"}, headers=Keys.auth(keys.other_test)
        )
        assert _error(response, 409)["code"] == "username_taken"
        check = (await client.get("/api/v1/profiles/check-username/anvils")).json()
        assert check["available"] is False
        assert (await client.get("/api/v1/profiles/check-username/root")).json()[
            "available"
        ] is False
        free = (await client.get("/api/v1/profiles/check-username/free-name")).json()
        assert free == {"username": "free-name", "available": True}


async def _public_profile(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys, **profile: Any
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    shown = await live_proof(client, runtime, keys.live_headers)
    other = await live_proof(client, runtime, keys.live_headers, identifier="+37069100000")
    made = await _create(
        client,
        keys.live_headers,
        display_name="Acme",
        username="acme",
        proofs=[{"asset_id": shown["id"], "mask_level": "partial", "label": "Support line"}],
        **profile,
    )
    return made, shown, other


class TestPublicProfile:
    async def test_shows_only_the_chosen_proof_masked(
        self, client: httpx.AsyncClient, runtime: Runtime, keys: Keys
    ) -> None:
        made, _, _ = await _public_profile(client, runtime, keys)
        by_name = await client.get("/api/v1/profiles/u/acme")
        assert by_name.status_code == 200, by_name.text
        public = by_name.json()
        by_id = (await client.get(f"/api/v1/profiles/p/{made['profile_id']}")).json()
        assert by_id == public
        assert public["test_mode"] is False and public["display_name"] == "Acme"
        assert len(public["proofs"]) == 1
        (proof,) = public["proofs"]
        assert proof["label"] == "Support line" and proof["type"] == "phone"
        assert proof["identifier"] == "+370****9199"
        assert PHONE not in by_name.text and "+37069100000" not in by_name.text
        assert "channel" not in proof  # show_proof_channels is off by default
        # The internal id is not a public handle.
        assert (await client.get(f"/api/v1/profiles/p/{made['id']}")).status_code == 404

    @pytest.mark.parametrize(("level", "shown"), [("full", PHONE), ("hidden", None)])
    async def test_mask_levels(
        self, client: httpx.AsyncClient, runtime: Runtime, keys: Keys, level: str, shown: Any
    ) -> None:
        made, proof, _ = await _public_profile(client, runtime, keys)
        await client.put(
            f"{ME}/{made['id']}/proofs",
            json={"proofs": [{"asset_id": proof["id"], "mask_level": level}]},
            headers=keys.live_headers,
        )
        (item,) = (await client.get("/api/v1/profiles/u/acme")).json()["proofs"]
        assert item["identifier"] == shown

    async def test_a_revoked_proof_disappears_from_json_page_and_badge(
        self, client: httpx.AsyncClient, runtime: Runtime, keys: Keys
    ) -> None:
        _, proof, _ = await _public_profile(client, runtime, keys)
        assert (await client.get("/api/v1/profiles/badge/acme")).json()["verified_count"] == 1
        assert "1 verified" in (await client.get("/badge/acme")).text
        assert "Support line" in (await client.get("/@acme")).text
        revoked = await client.post(
            f"/api/v1/proofs/{proof['id']}/revoke",
            json={"reason": "user_request"},
            headers=keys.live_headers,
        )
        assert revoked.status_code == 200, revoked.text
        assert (await client.get("/api/v1/profiles/u/acme")).json()["proofs"] == []
        assert (await client.get("/api/v1/profiles/badge/acme")).json()["verified_count"] == 0
        assert "0 verified" in (await client.get("/badge/acme")).text
        page = (await client.get("/@acme")).text
        assert "Support line" not in page and "+370****9199" not in page

    async def test_an_expired_proof_disappears(
        self,
        client: httpx.AsyncClient,
        runtime: Runtime,
        keys: Keys,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        await _public_profile(client, runtime, keys)
        assert len((await client.get("/api/v1/profiles/u/acme")).json()["proofs"]) == 1
        later = utcnow() + timedelta(days=400)
        monkeypatch.setattr(profile_service, "utcnow", lambda: later)
        assert (await client.get("/api/v1/profiles/u/acme")).json()["proofs"] == []

    async def test_an_unlisted_profile_is_not_served(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        made = await _create(client, keys.live_headers, username="hidden-co", is_public=False)
        assert (await client.get("/api/v1/profiles/u/hidden-co")).status_code == 404
        assert (await client.get(f"/api/v1/profiles/p/{made['profile_id']}")).status_code == 404
        assert (await client.get("/@hidden-co")).status_code == 404
        badge = (await client.get("/api/v1/profiles/badge/hidden-co")).json()
        assert badge["state"] == "no_public_record" and badge["verified_count"] == 0


class TestPages:
    async def test_markup_in_name_and_bio_is_escaped_under_a_strict_csp(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
        made = await _create(
            client, keys.live_headers, display_name=evil, bio=evil, username="evil-co"
        )
        for path in ("/@evil-co", f"/p/{made['profile_id']}"):
            page = await client.get(path)
            assert page.status_code == 200
            assert "<script>" not in page.text and "<img src=x" not in page.text
            assert "&lt;script&gt;" in page.text
            csp = page.headers["content-security-policy"]
            assert "script-src" not in csp and "default-src 'none'" in csp
            assert "style-src 'self'" in csp and "unsafe-inline" not in csp
            assert "<style" not in page.text and " style=" not in page.text
        snippet = (await client.get("/api/v1/profiles/badge/evil-co")).json()["snippets"]["html"]
        assert "<script" not in snippet

    async def test_theme_stylesheet_carries_only_validated_colours(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        made = await _create(
            client,
            keys.live_headers,
            theme={"primary_color": "#aa3300", "background_type": "gradient",
                   "gradient_start": "#000000", "gradient_end": "#ffffff"},
        )  # fmt: skip
        css = await client.get(f"/p/{made['profile_id']}/theme.css")
        assert css.headers["content-type"].startswith("text/css")
        assert "--accent:#aa3300" in css.text
        assert "linear-gradient(135deg,#000000,#ffffff)" in css.text

    async def test_a_test_profile_is_marked_as_test_everywhere(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        proof = await verified_proof(client, keys.test_headers)
        made = await _create(
            client,
            keys.test_headers,
            display_name="Acme",
            username="acme-test",
            proofs=[{"asset_id": proof["id"]}],
        )
        public = (await client.get("/api/v1/profiles/u/acme-test")).json()
        assert public["test_mode"] is True and public["proofs"][0]["test_mode"] is True
        page = await client.get(f"/p/{made['profile_id']}")
        assert 'id="test-banner"' in page.text and "<title>[TEST] Acme" in page.text
        assert "noindex" in page.headers["x-robots-tag"]
        assert "Verified</span>" not in page.text
        badge = await client.get("/badge/acme-test")
        assert badge.headers["content-type"].startswith("image/svg+xml")
        assert "TEST" in badge.text and "verified<" not in badge.text.replace("not verified", "")
        assert (await client.get("/api/v1/profiles/badge/acme-test")).json()["test_mode"] is True

    async def test_unknown_profile_pages_are_html_404s(self, client: httpx.AsyncClient) -> None:
        for path in ("/@nobody-here", "/p/zzzzzzzzzz"):
            page = await client.get(path)
            assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")


class TestBranding:
    async def test_the_primary_profile_brands_the_project_live_first(
        self, client: httpx.AsyncClient, runtime: Runtime, keys: Keys
    ) -> None:
        async with runtime.db.session() as session:
            plain = await load_branding(session, keys.project_id)
        assert plain.name == "acme" and plain.color == DEFAULT_COLOR and plain.logo_url is None
        await _create(
            client,
            keys.test_headers,
            display_name="Acme (test)",
            theme={"primary_color": "#111111"},
        )
        async with runtime.db.session() as session:
            assert (await load_branding(session, keys.project_id)).name == "Acme (test)"
        await _create(
            client,
            keys.live_headers,
            display_name="Acme",
            business_name="Acme Anvils Ltd",
            is_business=True,
            avatar_url="https://cdn.example/acme.png",
            theme={"primary_color": "#aa3300"},
        )
        async with runtime.db.session() as session:
            branding = await load_branding(session, keys.project_id)
        assert branding.name == "Acme Anvils Ltd"
        assert branding.logo_url == "https://cdn.example/acme.png"
        assert branding.color == "#aa3300"
