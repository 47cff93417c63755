"""Social and exchange accounts: the OAuth 2.0 code flow with PKCE against a provider stand-in on
loopback, and the ``/oauth/callback/{provider}`` page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.control.methods.conftest import Build, Env
from tests.control.methods.standins import OAuthProviderStandIn, s256
from vouch_server.control.methods import get_method
from vouch_server.control.methods.oauth import PROVIDERS, OAuthMethod
from vouch_server.control.oauth_endpoints import PAGE_HEADERS

CLIENT_ID = "vouch-test-client"
CLIENT_SECRET = "s3cr3t/with:odd&chars"


@pytest.fixture
def provider() -> Iterator[OAuthProviderStandIn]:
    with OAuthProviderStandIn(CLIENT_ID, CLIENT_SECRET) as stand_in:
        stand_in.profiles = {
            "octocat": {"login": "Octocat", "id": 583231},
            "hubot": {"login": "hubot", "id": 480938},
        }
        yield stand_in


async def github_env(build: Build, provider: OAuthProviderStandIn, **extra: Any) -> Env:
    return await build(**provider.settings("github"), **extra)


async def sign_in(env: Env, deep_link: str, user: str) -> httpx.Response:
    """The person's browser: the provider's consent (as ``user``), then the redirect to vouch."""
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(f"{deep_link}&login_as={user}")
    assert consent.status_code == 302, consent.text
    location = urlsplit(consent.headers["location"])
    assert f"{location.scheme}://{location.netloc}" == "https://vouch.test"
    return await env.client.get(f"{location.path}?{location.query}")


def link_params(deep_link: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(deep_link).query).items()}


class TestRegistration:
    def test_every_social_and_account_channel_is_an_oauth_method(self) -> None:
        for type_, channels in (
            (
                "social",
                ("github", "google", "facebook", "x", "linkedin", "instagram", "youtube", "tiktok"),
            ),
            ("account", ("coinbase", "kraken")),
        ):
            for channel in channels:
                assert isinstance(get_method(type_, channel), OAuthMethod)
                assert channel in PROVIDERS

    def test_providers_have_https_endpoints_preconfigured(self) -> None:
        for provider in PROVIDERS.values():
            assert provider.authorize_url.startswith("https://")
            assert provider.token_url.startswith("https://")
            assert provider.userinfo_url is None or provider.userinfo_url.startswith("https://")


class TestCreate:
    async def test_live_create_without_credentials_is_channel_not_configured(
        self, build: Build
    ) -> None:
        env = await build()
        response = await env.create("social", "github", "octocat", live=True)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "channel_not_configured"
        assert "VOUCH_OAUTH_GITHUB_CLIENT_ID" in error["message"]
        assert await env.verifications() == 0

    async def test_test_mode_without_credentials_creates_without_a_link(self, build: Build) -> None:
        env = await build()
        data = await env.created("social", "github", "octocat")
        assert "deep_link" not in data["challenge"]
        done = await env.client.post(
            f"/api/v1/verifications/{data['id']}/test-verify", headers=env.headers()
        )
        assert done.json()["status"] == "verified"

    async def test_the_deep_link_is_the_authorization_url_with_state_and_pkce(
        self, build: Build, provider: OAuthProviderStandIn
    ) -> None:
        env = await github_env(build, provider)
        response = await env.create("social", "github", "@Octocat", live=True)
        assert response.status_code == 201, response.text
        data = response.json()
        link = data["challenge"]["deep_link"]
        assert data["deep_link"] == link
        assert link.startswith(f"{provider.base_url}/authorize?")
        params = link_params(link)
        assert params["response_type"] == "code"
        assert params["client_id"] == CLIENT_ID
        assert params["redirect_uri"] == "https://vouch.test/oauth/callback/github"
        assert params["scope"] == "read:user"
        assert params["code_challenge_method"] == "S256"
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", params["code_challenge"])
        verification_id, _, secret = params["state"].partition(".")
        assert verification_id == data["id"] and len(secret) >= 43
        state = (await env.row(data["id"])).method_state
        assert secret not in str(state)  # only its digest is kept

    async def test_states_and_challenges_differ_between_verifications(
        self, build: Build, provider: OAuthProviderStandIn
    ) -> None:
        env = await github_env(build, provider)
        first = link_params((await env.created("social", "github", "octocat"))["deep_link"])
        second = link_params((await env.created("social", "github", "octocat"))["deep_link"])
        assert first["state"] != second["state"]
        assert first["code_challenge"] != second["code_challenge"]


class TestCallback:
    async def test_signing_in_as_the_account_completes_with_a_proof(
        self, build: Build, provider: OAuthProviderStandIn
    ) -> None:
        env = await github_env(build, provider)
        data = await env.created("social", "github", "octocat")
        page = await sign_in(env, data["deep_link"], "octocat")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "Account verified" in page.text
        verified = await env.get(data["id"])
        assert verified["status"] == "verified"
        assert verified["proof_token"].startswith("eyJ")
        assert await env.proofs() == 1

    async def test_the_page_has_strict_security_headers(
        self, build: Build, provider: OAuthProviderStandIn
    ) -> None:
        env = await github_env(build, provider)
        data = await env.created("social", "github", "octocat")
        page = await sign_in(env, data["deep_link"], "octocat")
        for name, value in PAGE_HEADERS.items():
            assert page.headers[name] == value
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert "frame-ancestors 'none'" in csp
        # The one look of every hosted page: the shared stylesheet, no inline style.
        assert "style-src 'self'" in csp and "unsafe-inline" not in csp
        assert '<link rel="stylesheet" href="/static/hosted.css">' in page.text
        assert "<style" not in page.text and "style=" not in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cache-control"] == "no-store"
        assert "<script" not in page.text

    async def test_signing_in_as_another_account_is_refused(
        self, build: Build, provider: OAuthProviderStandIn
    ) -> None:
        env = await github_env(build, provider)
        data = await env.created("social", "github", "octocat")
        page = await sign_in(env, data["deep_link"], "hubot")
        assert page.status_code == 400
        assert "Not verified" in page.text
        assert "as hubot, not octocat" in page.text
        after = await env.get(data["id"])
        assert after["status"] == "pending" and after["attempts"] == 1
        assert await env.proofs() == 0

    async def test_a_wrong_state_is_refused_and_changes_nothing(
        self, build: Build, provider: OAuthProviderStandIn
    ) -> None:
        env = await github_env(build, provider)
        data = await env.created("social", "github", "octocat")
        async with httpx.AsyncClient() as browser:
            consent = await browser.get(data["deep_link"] + "&login_as=octocat")
        query = parse_qs(urlsplit(consent.headers["location"]).query)
        forged = data["id"] + ".forged-secret-of-the-right-length-0123456789abc"
        page = await env.client.get(
            "/oauth/callback/github", params={"code": query["code"][0], "state": forged}
        )
        assert page.status_code == 400
        assert "not valid" in page.text
        assert provider.token_requests == 0  # the code was never redeemed
        after = await env.get(data["id"])
        assert after["status"] == "pending" and after["attempts"] == 0
        assert await env.proofs() == 0

    @pytest.mark.parametrize(
        "state",
        ["", "garbage", "0" * 24 + ".x", "not-an-id.secret"],
        ids=["empty", "garbage", "unknown-id", "bad-id"],
    )
    async def test_malformed_or_unknown_states_are_refused(
        self, build: Build, provider: OAuthProviderStandIn, state: str
    ) -> None:
        env = await github_env(build, provider)
        page = await env.client.get("/oauth/callback/github", params={"code": "c", "state": state})
        assert page.status_code == 400
        assert page.headers["content-security-policy"] == PAGE_HEADERS["Content-Security-Policy"]

    async def test_a_state_sent_to_another_providers_callback_is_refused(
        self, build: Build, provider: OAuthProviderStandIn
    ) -> None:
        env = await build(**provider.settings("github"), **provider.settings("x"))
        data = await env.created("social", "github", "octocat")
        state = link_params(data["deep_link"])["state"]
        page = await env.client.get("/oauth/callback/x", params={"code": "c", "state": state})
        assert page.status_code == 400
        assert provider.token_requests == 0

    async def test_a_declined_authorization_changes_nothing(
        self, build: Build, provider: OAuthProviderStandIn
    ) -> None:
        env = await github_env(build, provider)
        data = await env.created("social", "github", "octocat")
        state = link_params(data["deep_link"])["state"]
        page = await env.client.get(
            "/oauth/callback/github", params={"error": "access_denied", "state": state}
        )
        assert page.status_code == 400
        assert "access_denied" in page.text
        assert (await env.get(data["id"]))["attempts"] == 0

    async def test_a_replayed_callback_does_not_verify_twice(
        self, build: Build, provider: OAuthProviderStandIn
    ) -> None:
        env = await github_env(build, provider)
        data = await env.created("social", "github", "octocat")
        async with httpx.AsyncClient() as browser:
            consent = await browser.get(data["deep_link"] + "&login_as=octocat")
        location = urlsplit(consent.headers["location"])
        url = f"{location.path}?{location.query}"
        assert (await env.client.get(url)).status_code == 200
        again = await env.client.get(url)
        assert again.status_code == 400
        assert await env.proofs() == 1

    async def test_an_unreachable_provider_is_retry_later_without_an_attempt(
        self, build: Build, provider: OAuthProviderStandIn
    ) -> None:
        settings = provider.settings("github")
        settings["oauth_github_token_url"] = "http://127.0.0.1:9/token"  # discard port
        env = await build(**settings, oauth_timeout_seconds=2)
        data = await env.created("social", "github", "octocat")
        page = await sign_in(env, data["deep_link"], "octocat")
        assert page.status_code == 503
        assert (await env.get(data["id"]))["attempts"] == 0

    async def test_an_unknown_provider_path_is_not_found(self, build: Build) -> None:
        env = await build()
        page = await env.client.get("/oauth/callback/myspace", params={"code": "c", "state": "s"})
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")

    async def test_the_message_is_escaped(
        self, build: Build, provider: OAuthProviderStandIn
    ) -> None:
        env = await github_env(build, provider)
        data = await env.created("social", "github", "octocat")
        state = link_params(data["deep_link"])["state"]
        page = await env.client.get(
            "/oauth/callback/github",
            params={"error": "<script>alert(1)</script>", "state": state},
        )
        assert "<script>" not in page.text
        assert "&lt;script&gt;" in page.text


class TestProviders:
    async def test_client_secret_basic_providers_send_the_credentials_in_the_header(
        self, build: Build
    ) -> None:
        with OAuthProviderStandIn(CLIENT_ID, CLIENT_SECRET, client_auth="basic") as x:
            x.profiles = {"jack": {"data": {"id": "12", "name": "jack", "username": "Jack"}}}
            env = await build(**x.settings("x"))
            data = await env.created("social", "x", "https://x.com/jack")
            page = await sign_in(env, data["deep_link"], "jack")
            assert page.status_code == 200, page.text
            token_request = next(r for r in x.server.requests if r.path == "/token")
            assert "client_secret" not in token_request.form()
            assert token_request.headers["authorization"].startswith("Basic ")

    @pytest.mark.parametrize(("verified", "status"), [(True, 200), (False, 400)])
    async def test_google_counts_only_a_verified_email(
        self, build: Build, verified: bool, status: int
    ) -> None:
        with OAuthProviderStandIn(CLIENT_ID, CLIENT_SECRET) as google:
            google.profiles = {
                "alice": {"sub": "1", "email": "Alice@Example.com", "email_verified": verified}
            }
            env = await build(**google.settings("google"))
            data = await env.created("social", "google", "alice@example.com")
            assert link_params(data["deep_link"])["scope"] == "openid email"
            page = await sign_in(env, data["deep_link"], "alice")
            assert page.status_code == status

    async def test_youtube_matches_the_channel_handle(self, build: Build) -> None:
        with OAuthProviderStandIn(CLIENT_ID, CLIENT_SECRET) as google:
            google.profiles = {
                "creator": {
                    "items": [
                        {"id": "UCBR8-60-B28hp2BmDPdntcQ", "snippet": {"customUrl": "@YouTube"}}
                    ]
                }
            }
            env = await build(**google.settings("youtube"))
            for identifier in ("@youtube", "UCBR8-60-B28hp2BmDPdntcQ"):
                data = await env.created("social", "youtube", identifier)
                page = await sign_in(env, data["deep_link"], "creator")
                assert page.status_code == 200, page.text

    async def test_tiktok_uses_client_key(self, build: Build) -> None:
        with OAuthProviderStandIn(CLIENT_ID, CLIENT_SECRET) as tiktok:
            tiktok.client_id_param = "client_key"
            tiktok.profiles = {"dancer": {"data": {"user": {"open_id": "x", "username": "dancer"}}}}
            env = await build(**tiktok.settings("tiktok"))
            data = await env.created("social", "tiktok", "@dancer")
            assert "client_key" in link_params(data["deep_link"])
            assert (await sign_in(env, data["deep_link"], "dancer")).status_code == 200

    async def test_coinbase_accounts_match_by_email_or_id(self, build: Build) -> None:
        with OAuthProviderStandIn(CLIENT_ID, CLIENT_SECRET) as coinbase:
            coinbase.profiles = {
                "satoshi": {"data": {"id": "9da7a204-544e-5fd1", "email": "satoshi@example.com"}}
            }
            env = await build(**coinbase.settings("coinbase"))
            for identifier in ("satoshi@example.com", "9da7a204-544e-5fd1"):
                data = await env.created("account", "coinbase", identifier)
                assert (await sign_in(env, data["deep_link"], "satoshi")).status_code == 200

    async def test_kraken_needs_a_profile_endpoint(self, build: Build) -> None:
        env = await build(oauth_kraken_client_id="id", oauth_kraken_client_secret="secret")
        response = await env.create("account", "kraken", "trader@example.com", live=True)
        assert response.status_code == 400
        assert "VOUCH_OAUTH_KRAKEN_USERINFO_URL" in response.json()["error"]["message"]


class TestSubmitRelay:
    async def test_an_integrator_may_relay_the_callback_with_submit(
        self, build: Build, provider: OAuthProviderStandIn
    ) -> None:
        env = await github_env(build, provider)
        data = await env.created("social", "github", "octocat")
        async with httpx.AsyncClient() as browser:
            consent = await browser.get(data["deep_link"] + "&login_as=octocat")
        query = {k: v[0] for k, v in parse_qs(urlsplit(consent.headers["location"]).query).items()}
        response = await env.submit(
            data["id"], {"state": query["state"], "authorization_code": query["code"]}
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "verified"

    async def test_submit_with_a_wrong_state_is_invalid_state_without_an_attempt(
        self, build: Build, provider: OAuthProviderStandIn
    ) -> None:
        env = await github_env(build, provider)
        data = await env.created("social", "github", "octocat")
        response = await env.submit(
            data["id"], {"state": data["id"] + ".nope", "authorization_code": "abc"}
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_state"
        assert (await env.get(data["id"]))["attempts"] == 0

    async def test_a_code_submission_is_not_how_accounts_complete(
        self, build: Build, provider: OAuthProviderStandIn
    ) -> None:
        env = await github_env(build, provider)
        data = await env.created("social", "github", "octocat")
        response = await env.submit(data["id"], {"code": "ABC123"})
        assert response.json()["error"]["code"] == "method_not_supported"


class TestPkce:
    def test_the_challenge_is_s256_of_the_verifier(self) -> None:
        from vouch_server.control.methods.oauth import code_challenge

        # RFC 7636 Appendix B.
        verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        assert s256(verifier) == code_challenge(verifier)


class TestProjectOwnClient:
    async def test_a_projects_own_oauth_client_is_used_for_link_and_callback(
        self, build: Build, provider: OAuthProviderStandIn
    ) -> None:
        # The server has the provider's endpoints but no client of its own.
        server_wide = {
            k: v
            for k, v in provider.settings("github").items()
            if not k.endswith(("client_id", "client_secret"))
        }
        env = await build(**server_wide)
        refused = await env.create("social", "github", "octocat", live=True)
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "channel_not_configured"
        stored = await env.client.put(
            "/api/v1/channels/oauth-github/credentials",
            json={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
            headers=env.headers(live=True),
        )
        assert stored.status_code == 200
        assert CLIENT_SECRET not in stored.text
        assert stored.json()["public"] == {"client_id": CLIENT_ID}
        data = await env.created("social", "github", "octocat", live=True)
        assert link_params(data["deep_link"])["client_id"] == CLIENT_ID
        page = await sign_in(env, data["deep_link"], "octocat")
        assert "Account verified" in page.text
        assert (await env.get(data["id"], live=True))["status"] == "verified"
