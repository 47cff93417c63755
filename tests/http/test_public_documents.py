"""What a browser may read from anywhere: the key sets and status lists (HEAD, CORS), the
landing page at ``/``, and the OpenAPI description."""

from __future__ import annotations

import warnings

import httpx
import jwt
import pytest

from tests.fixtures.tenancy import Keys
from tests.fixtures.verifications import verified_proof

ORIGIN = {"Origin": "https://verifier.example"}


class TestKeySets:
    @pytest.mark.parametrize("path", ["/.well-known/jwks.json", "/.well-known/jwks-test.json"])
    async def test_head_is_200_with_headers_and_no_body(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        get = await client.get(path, headers=ORIGIN)
        head = await client.head(path, headers=ORIGIN)
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["access-control-allow-origin"] == "*"
        assert head.headers["content-type"] == get.headers["content-type"]
        assert head.headers["cache-control"] == "public, max-age=86400"

    @pytest.mark.parametrize("path", ["/.well-known/jwks.json", "/.well-known/jwks-test.json"])
    async def test_get_may_be_read_by_any_origin(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        response = await client.get(path, headers=ORIGIN)
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "*"
        assert "keys" in response.json()


class TestStatusLists:
    async def test_get_and_head_carry_the_cors_header(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        proof = await verified_proof(client, keys.test_headers)
        claims = jwt.decode(proof["proof_token"], options={"verify_signature": False})
        path = httpx.URL(claims["status"]["status_list"]["uri"]).path
        get = await client.get(path, headers=ORIGIN)
        head = await client.head(path, headers=ORIGIN)
        assert get.status_code == head.status_code == 200
        assert head.content == b""
        for response in (get, head):
            assert response.headers["access-control-allow-origin"] == "*"


class TestLandingPage:
    async def test_root_is_a_small_html_page_linking_the_api_and_keys(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        page = response.text
        for link in ('href="/openapi.json"', 'href="/.well-known/jwks.json"'):
            assert link in page
        assert "vouch" in page and "https://vouch.test" in page
        # The default policy still holds: the page needs no script or style.
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert "<script" not in page and "<style" not in page

    async def test_docs_are_linked_only_when_served(self, client: httpx.AsyncClient) -> None:
        page = (await client.get("/")).text
        served = (await client.get("/docs")).status_code == 200
        assert ('href="/docs"' in page) is served

    async def test_head_on_root_has_no_body(self, client: httpx.AsyncClient) -> None:
        response = await client.head("/")
        assert response.status_code == 200 and response.content == b""


class TestOpenApi:
    async def test_the_description_builds_without_duplicate_operations(
        self, client: httpx.AsyncClient
    ) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            response = await client.get("/openapi.json")
        assert response.status_code == 200
        paths = response.json()["paths"]
        assert "get" in paths["/.well-known/jwks.json"]
        assert "/metrics" not in paths and "/" not in paths
