"""``POST /v1/verify/http-signature``: a request signed per RFC 9421 (Web Bot Auth profile) by an
implementation other than the server's verifier — ``vouch_client.agents`` (written from the RFC's
text with ``cryptography``) and Node.js's built-in crypto — verifies once; altered, replayed or
out-of-challenge ones do not."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import update

from tests.agents.factories import api, challenge, needs_node, node
from tests.fixtures.tenancy import Keys
from vouch_client.agents import AgentKey, WebBotAuth
from vouch_server.kit.clock import utcnow
from vouch_server.models.agents import AgentChallenge
from vouch_server.runtime import Runtime

URL = "https://shop.example/checkout/cart?item=42"
FAILED = "Proof verification failed"


@pytest.fixture
def headers(keys: Keys) -> dict[str, str]:
    return api(keys.test)


@pytest.fixture
async def key(client: httpx.AsyncClient, headers: dict[str, str]) -> AgentKey:
    key = AgentKey.generate()
    response = await client.post(
        "/v1/agents", json={"agent_id": "crawler", "public_key": key.public_jwk}, headers=headers
    )
    assert response.status_code == 201
    return key


def signed(key: AgentKey, nonce: str, method: str = "POST", url: str = URL, **auth: Any) -> Any:
    request = httpx.Request(method, url, json={"buy": 1})
    key.http_auth(nonce, **auth).sign(request)
    return request


def body_of(request: httpx.Request, **changes: Any) -> dict[str, Any]:
    body = {
        "method": request.method,
        "url": str(request.url),
        "headers": dict(request.headers),
    }
    body.update(changes)
    return body


async def verify(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> httpx.Response:
    return await client.post("/v1/verify/http-signature", json=body, headers=headers)


async def _challenge(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    return await challenge(client, headers, agent_id="crawler", action="checkout")


class TestSignedRequest:
    async def test_sdk_signed_request_verifies(
        self, client: httpx.AsyncClient, headers: dict[str, str], key: AgentKey
    ) -> None:
        ch = await _challenge(client, headers)
        request = signed(key, ch["nonce"])
        assert 'tag="web-bot-auth"' in request.headers["signature-input"]
        response = await verify(client, headers, body_of(request))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["verified"] is True
        assert body["agent_id"] == "crawler"
        assert body["action"] == "checkout"
        assert body["confidence"] == 0.99
        assert body["session_id"] == ch["challenge_id"]
        assert body["method"] == "http-message-signature"
        assert body["request"] == {
            "method": "POST",
            "authority": "shop.example",
            "path": "/checkout/cart",
        }
        claims = jwt.decode(body["proof_token"], options={"verify_signature": False})
        assert claims["channel"] == "http-message-signature"
        assert claims["request"]["path"] == "/checkout/cart"
        status = await client.get(f"/v1/verify/status/{ch['challenge_id']}", headers=headers)
        assert status.json()["status"] == "verified"

    async def test_header_pairs_are_accepted(
        self, client: httpx.AsyncClient, headers: dict[str, str], key: AgentKey
    ) -> None:
        ch = await _challenge(client, headers)
        request = signed(key, ch["nonce"])
        pairs = [[k, v] for k, v in request.headers.items()]
        response = await verify(client, headers, body_of(request, headers=pairs))
        assert response.status_code == 200, response.text

    @needs_node
    async def test_node_signed_request_verifies(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        node_key = node({"op": "keygen"})
        await client.post(
            "/v1/agents",
            json={"agent_id": "node-crawler", "public_key": node_key["public_key"]},
            headers=headers,
        )
        ch = await challenge(client, headers, agent_id="node-crawler", action="read")
        now = int(time.time())
        url = "https://News.Example:443/articles/a%20b"
        job = {
            "op": "sign-request",
            "private_jwk": node_key["private_jwk"],
            "method": "GET",
            "url": url,
            "nonce": ch["nonce"],
            "created": now,
            "expires": now + 60,
        }
        signature_headers = node(job)["headers"]
        response = await verify(
            client,
            headers,
            {"method": "GET", "url": url, "headers": {"Accept": "*/*", **signature_headers}},
        )
        assert response.status_code == 200, response.text
        assert response.json()["request"] == {
            "method": "GET",
            "authority": "news.example",
            "path": "/articles/a%20b",
        }
        assert response.json()["agent_key_id"] == node_key["kid"]


class TestAlteredRequest:
    @pytest.mark.parametrize(
        "change",
        [
            {"method": "GET"},
            {"url": "https://shop.example/checkout/other?item=42"},
            {"url": "https://evil.example/checkout/cart?item=42"},
            {"url": "https://shop.example:8443/checkout/cart?item=42"},
        ],
        ids=["method", "path", "authority", "port"],
    )
    async def test_altered_covered_component_fails(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        key: AgentKey,
        change: dict[str, str],
    ) -> None:
        ch = await _challenge(client, headers)
        response = await verify(client, headers, body_of(signed(key, ch["nonce"]), **change))
        assert response.status_code == 400
        body = response.json()
        assert body["verified"] is False
        assert body["error"] == FAILED
        status = await client.get(f"/v1/verify/status/{ch['challenge_id']}", headers=headers)
        assert status.json()["status"] == "failed"

    async def test_uncovered_query_may_change(
        self, client: httpx.AsyncClient, headers: dict[str, str], key: AgentKey
    ) -> None:
        # The profile covers @method, @authority and @path only; the query is not signed.
        ch = await _challenge(client, headers)
        changed = body_of(signed(key, ch["nonce"]), url="https://shop.example/checkout/cart?x=1")
        assert (await verify(client, headers, changed)).status_code == 200

    async def test_tampered_signature_fails(
        self, client: httpx.AsyncClient, headers: dict[str, str], key: AgentKey
    ) -> None:
        ch = await _challenge(client, headers)
        request = signed(key, ch["nonce"])
        label, _, value = request.headers["signature"].partition("=:")
        flipped = ("A" if value[0] != "A" else "B") + value[1:]
        body = body_of(request)
        body["headers"]["signature"] = f"{label}=:{flipped}"
        response = await verify(client, headers, body)
        assert response.status_code == 400
        assert response.json()["error"] == FAILED

    async def test_signature_by_an_unregistered_key_fails(
        self, client: httpx.AsyncClient, headers: dict[str, str], key: AgentKey
    ) -> None:
        ch = await _challenge(client, headers)
        response = await verify(client, headers, body_of(signed(AgentKey.generate(), ch["nonce"])))
        assert response.status_code == 400
        assert "keyid" in response.json()["reason"]

    async def test_signature_without_required_components_fails(
        self, client: httpx.AsyncClient, headers: dict[str, str], key: AgentKey
    ) -> None:
        ch = await _challenge(client, headers)
        request = signed(key, ch["nonce"], components=("@method", "@authority"))
        response = await verify(client, headers, body_of(request))
        assert response.status_code == 400
        assert "@path" in response.json()["reason"]

    async def test_expired_signature_fails(
        self, client: httpx.AsyncClient, headers: dict[str, str], key: AgentKey
    ) -> None:
        ch = await _challenge(client, headers)
        request = httpx.Request("GET", URL)
        WebBotAuth(key, ch["nonce"], lifetime=10, clock=lambda: time.time() - 60).sign(request)
        response = await verify(client, headers, body_of(request))
        assert response.status_code == 400
        assert "expires" in response.json()["reason"]

    async def test_signature_valid_longer_than_a_challenge_fails(
        self, client: httpx.AsyncClient, headers: dict[str, str], key: AgentKey
    ) -> None:
        ch = await _challenge(client, headers)
        response = await verify(client, headers, body_of(signed(key, ch["nonce"], lifetime=3600)))
        assert response.status_code == 400
        assert "5 minutes" in response.json()["reason"]

    async def test_signature_predating_its_challenge_fails(
        self, client: httpx.AsyncClient, headers: dict[str, str], key: AgentKey
    ) -> None:
        ch = await _challenge(client, headers)
        request = httpx.Request("GET", URL)
        WebBotAuth(key, ch["nonce"], clock=lambda: time.time() - 30).sign(request)
        response = await verify(client, headers, body_of(request))
        assert response.status_code == 400
        assert "before its challenge" in response.json()["reason"]


class TestReplay:
    async def test_replayed_request_is_challenge_already_used(
        self, client: httpx.AsyncClient, headers: dict[str, str], key: AgentKey
    ) -> None:
        ch = await _challenge(client, headers)
        body = body_of(signed(key, ch["nonce"]))
        assert (await verify(client, headers, body)).status_code == 200
        again = await verify(client, headers, body)
        assert again.status_code == 400
        assert again.json() == {
            "error": "Challenge already used",
            "verified": False,
            "previous_status": "verified",
        }

    async def test_nonce_that_is_no_challenge_is_the_agents_own_and_used_once(
        self, client: httpx.AsyncClient, headers: dict[str, str], key: AgentKey
    ) -> None:
        # Not a challenge's nonce: the Web Bot Auth profile, where the agent picks its nonce.
        body = body_of(signed(key, "made-up-nonce"))
        response = await verify(client, headers, body)
        assert response.status_code == 200, response.text
        assert response.json()["method"] == "web-bot-auth"
        again = await verify(client, headers, body)
        assert again.status_code == 400
        assert again.json()["error"] == "Challenge already used"

    async def test_challenge_of_another_project_is_not_answered(
        self, client: httpx.AsyncClient, headers: dict[str, str], keys: Keys, key: AgentKey
    ) -> None:
        ch = await _challenge(client, headers)
        response = await verify(client, api(keys.other_test), body_of(signed(key, ch["nonce"])))
        # The other project knows neither the challenge nor the key.
        assert response.status_code == 400
        assert "keyid" in response.json()["reason"]
        status = await client.get(f"/v1/verify/status/{ch['challenge_id']}", headers=headers)
        assert status.json()["status"] == "pending"

    async def test_signature_without_nonce_is_the_web_bot_auth_profile(
        self, client: httpx.AsyncClient, headers: dict[str, str], key: AgentKey
    ) -> None:
        request = signed(key, "n")
        body = body_of(request)
        body["headers"]["signature-input"] = body["headers"]["signature-input"].replace(
            ';nonce="n"', ""
        )
        response = await verify(client, headers, body)
        # The nonce is part of the signature base: removing it breaks the signature.
        assert response.status_code == 400
        assert response.json()["verified"] is False
        assert response.json()["reason"] != "The signature has no nonce"

    async def test_signature_without_the_web_bot_auth_tag_is_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str], key: AgentKey
    ) -> None:
        ch = await _challenge(client, headers)
        body = body_of(signed(key, ch["nonce"]))
        body["headers"]["signature-input"] = body["headers"]["signature-input"].replace(
            'tag="web-bot-auth"', 'tag="other"'
        )
        response = await verify(client, headers, body)
        assert response.status_code == 400
        assert "web-bot-auth" in response.json()["reason"]

    async def test_unsigned_request_is_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await verify(
            client, headers, {"method": "GET", "url": URL, "headers": {"accept": "*/*"}}
        )
        assert response.status_code == 400
        assert response.json()["verified"] is False

    async def test_malformed_signature_input_is_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await verify(
            client,
            headers,
            {
                "method": "GET",
                "url": URL,
                "headers": {"signature-input": "sig1=((", "signature": "sig1=:AA==:"},
            },
        )
        assert response.status_code == 400
        assert "structured field" in response.json()["reason"]

    async def test_expired_challenge_refuses_a_good_signature(
        self, client: httpx.AsyncClient, headers: dict[str, str], key: AgentKey, runtime: Runtime
    ) -> None:
        ch = await _challenge(client, headers)
        async with runtime.db.session() as session:
            await session.execute(
                update(AgentChallenge)
                .where(AgentChallenge.id == ch["challenge_id"])
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        response = await verify(client, headers, body_of(signed(key, ch["nonce"])))
        assert response.status_code == 400
        assert response.json() == {"error": "Challenge expired", "verified": False}
