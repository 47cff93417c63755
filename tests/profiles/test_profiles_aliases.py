"""The public avatar route and the per-profile template routes over plain HTTP: headers, the
redirect, data-URI checks on the way in, and keys."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.fixtures.tenancy import Keys
from tests.profiles.test_profiles_sdk import PNG, PNG_URI

ME = "/api/v1/me/profiles"


async def _made(client: httpx.AsyncClient, keys: Keys, **body: object) -> dict[str, str]:
    response = await client.post(ME, json=body, headers=keys.test_headers)
    assert response.status_code == 201, response.text
    data: dict[str, str] = response.json()
    return data


class TestAvatar:
    async def test_data_uri_avatar_is_served_with_its_type_and_a_closed_csp(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        made = await _made(client, keys, avatar_url=PNG_URI)
        response = await client.get(f"/api/v1/profiles/p/{made['profile_id']}/avatar")
        assert response.status_code == 200
        assert response.content == PNG
        assert response.headers["content-type"] == "image/png"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"

    async def test_https_avatar_is_a_302_to_it(self, client: httpx.AsyncClient, keys: Keys) -> None:
        made = await _made(client, keys, avatar_url="https://cdn.example/a.png")
        response = await client.get(f"/api/v1/profiles/p/{made['id']}/avatar")
        assert response.status_code == 302
        assert response.headers["location"] == "https://cdn.example/a.png"

    async def test_no_avatar_private_or_unknown_is_404(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        bare = await _made(client, keys, display_name="No picture")
        private = await _made(client, keys, avatar_url=PNG_URI, is_public=False)
        for handle, code in (
            (bare["profile_id"], "avatar_not_found"),
            (private["profile_id"], "profile_not_found"),
            (private["id"], "profile_not_found"),
            ("x" * 40, "profile_not_found"),
        ):
            response = await client.get(f"/api/v1/profiles/p/{handle}/avatar")
            assert response.status_code == 404, handle
            assert response.json()["error"]["code"] == code

    @pytest.mark.parametrize(
        "avatar",
        [
            # An SVG can carry script: not accepted as a data URI.
            "data:image/svg+xml;base64," + base64.b64encode(b"<svg></svg>").decode(),
            # Declared PNG, holds something else: refused, so nosniff never serves a lie.
            "data:image/png;base64," + base64.b64encode(b"<html><script>").decode(),
            "data:image/png;base64,not base64!",
            "data:text/html;base64," + base64.b64encode(PNG).decode(),
            "data:image/png;base64," + base64.b64encode(PNG * 40).decode(),  # > 2048 chars
        ],
    )
    async def test_bad_data_uris_are_refused_and_nothing_is_made(
        self, client: httpx.AsyncClient, keys: Keys, avatar: str
    ) -> None:
        response = await client.post(ME, json={"avatar_url": avatar}, headers=keys.test_headers)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "validation_error"
        assert (await client.get(ME, headers=keys.test_headers)).json()["total"] == 0

    async def test_the_public_page_may_show_a_data_uri_avatar(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        made = await _made(client, keys, avatar_url=PNG_URI)
        page = await client.get(f"/p/{made['profile_id']}")
        assert page.status_code == 200
        assert "img-src https: data:;" in page.headers["content-security-policy"]


class TestRetiredTemplates:
    async def test_410_with_a_key_401_without(self, client: httpx.AsyncClient, keys: Keys) -> None:
        made = await _made(client, keys)
        base = f"{ME}/{made['id']}/templates"
        calls = [
            ("GET", base),
            ("PUT", f"{base}/sms/verification_request"),
            ("DELETE", f"{base}/sms/verification_request"),
            ("POST", f"{base}/preview"),
        ]
        for method, path in calls:
            response = await client.request(method, path, headers=keys.test_headers, json={})
            assert response.status_code == 410, (method, path, response.text)
            error = response.json()["error"]
            assert error["code"] == "endpoint_retired"
            assert "/api/v1/templates" in error["message"]
            anonymous = await client.request(method, path)
            assert anonymous.status_code == 401
