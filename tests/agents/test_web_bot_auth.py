"""Web Bot Auth (draft-meunier-web-bot-auth-architecture) and its key directory
(draft-meunier-http-message-signatures-directory), signed by an independent RFC 9421 signer — the
``http-message-signatures`` library — with the RFC 9421 Appendix B.1.4 key ``test-key-ed25519``,
never with vouch's own signer."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
    VerificationKey,
    algorithms,
)
from sqlalchemy import func, select

from tests.agents.factories import api, challenge
from tests.fixtures.tenancy import Keys
from vouch_server.models.agents import AgentChallenge
from vouch_server.runtime import Runtime

# RFC 9421 Appendix B.1.4, "test-key-ed25519".
B14_PRIVATE_PEM = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
B14_X = "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"
# RFC 7638 thumbprint of that key (RFC 8037 Appendix A.3 member order), as Web Bot Auth uses it.
B14_KID = "poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U"
B14_JWK = {"kty": "OKP", "crv": "Ed25519", "x": B14_X}

URL = "https://shop.example/articles/42?page=2"
DIRECTORY = "/.well-known/http-message-signatures-directory"
DIRECTORY_URL = "https://vouch.test" + DIRECTORY
FAILED = "Proof verification failed"


def b14_key() -> Ed25519PrivateKey:
    key = load_pem_private_key(B14_PRIVATE_PEM, password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def signer(key: Ed25519PrivateKey | None = None, kid: str = B14_KID) -> HTTPMessageSigner:
    return HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={kid: key or b14_key()}),
    )


def signed_request(
    *,
    components: Sequence[str] = ("@authority",),
    lifetime: timedelta = timedelta(hours=1),
    nonce: str | None = None,
    signature_agent: str | None = None,
    tag: str = "web-bot-auth",
    method: str = "GET",
    url: str = URL,
    key: Ed25519PrivateKey | None = None,
    kid: str = B14_KID,
) -> httpx.Request:
    """A request signed the way the draft describes, by the library (not by vouch)."""
    request = httpx.Request(method, url, headers={"User-Agent": "b14-bot/1.0"})
    if signature_agent is not None:
        request.headers["Signature-Agent"] = signature_agent
    created = datetime.now(UTC)
    signer(key, kid).sign(
        request,
        key_id=kid,
        created=created,
        expires=created + lifetime,
        nonce=nonce,
        label="sig1",
        tag=tag,
        covered_component_ids=components,
    )
    return request


def body_of(request: httpx.Request, **extra: Any) -> dict[str, Any]:
    return {
        "method": request.method,
        "url": str(request.url),
        "headers": [[k, v] for k, v in request.headers.items()],
        **extra,
    }


async def verify(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> httpx.Response:
    return await client.post("/v1/verify/http-signature", json=body, headers=headers)


async def register_b14(
    client: httpx.AsyncClient, headers: dict[str, str], agent_id: str = "b14-bot"
) -> None:
    response = await client.post(
        "/v1/agents", json={"agent_id": agent_id, "public_key": B14_JWK}, headers=headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["keys"][0]["kid"] == B14_KID


async def sessions(runtime: Runtime) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(AgentChallenge)) or 0)


@pytest.fixture
def headers(keys: Keys) -> dict[str, str]:
    return api(keys.test)


@pytest.fixture
async def b14(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    await register_b14(client, headers)


class TestWebBotAuthRequest:
    async def test_authority_only_signature_valid_for_an_hour_verifies(
        self, client: httpx.AsyncClient, headers: dict[str, str], b14: None
    ) -> None:
        request = signed_request()
        assert request.headers["signature-input"].startswith('sig1=("@authority");created=')
        response = await verify(client, headers, body_of(request))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["verified"] is True
        assert body["agent_id"] == "b14-bot"
        assert body["agent_key_id"] == B14_KID
        assert body["method"] == "web-bot-auth"
        assert body["action"] == "request"
        assert body["confidence"] == 0.99
        # Only what the signature covers is reported.
        assert body["request"] == {"authority": "shop.example"}
        claims = jwt.decode(body["proof_token"], options={"verify_signature": False})
        assert claims["channel"] == "web-bot-auth"
        assert claims["request"] == {"authority": "shop.example"}
        status = await client.get(f"/v1/verify/status/{body['session_id']}", headers=headers)
        assert status.status_code == 200
        assert status.json()["status"] == "verified"
        assert status.json()["method"] == "web-bot-auth"

    async def test_integrator_may_name_the_action(
        self, client: httpx.AsyncClient, headers: dict[str, str], b14: None
    ) -> None:
        response = await verify(client, headers, body_of(signed_request(), action="crawl"))
        assert response.status_code == 200, response.text
        assert response.json()["action"] == "crawl"

    async def test_target_uri_instead_of_authority_verifies(
        self, client: httpx.AsyncClient, headers: dict[str, str], b14: None
    ) -> None:
        response = await verify(
            client, headers, body_of(signed_request(components=("@target-uri",)))
        )
        assert response.status_code == 200, response.text
        assert response.json()["request"] == {"target_uri": URL}

    async def test_covered_signature_agent_member_verifies(
        self, client: httpx.AsyncClient, headers: dict[str, str], b14: None
    ) -> None:
        request = signed_request(
            components=("@authority", '"signature-agent";key="sig1"'),
            signature_agent='sig1="https://vouch.test"',
        )
        response = await verify(client, headers, body_of(request))
        assert response.status_code == 200, response.text
        assert response.json()["request"] == {
            "authority": "shop.example",
            "signature_agent": '"https://vouch.test"',
        }

    async def test_legacy_string_signature_agent_covered_whole_verifies(
        self, client: httpx.AsyncClient, headers: dict[str, str], b14: None
    ) -> None:
        request = signed_request(
            components=("@authority", "signature-agent"), signature_agent='"https://vouch.test"'
        )
        response = await verify(client, headers, body_of(request))
        assert response.status_code == 200, response.text

    async def test_same_nonce_twice_is_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str], b14: None
    ) -> None:
        body = body_of(signed_request(nonce="bm9uY2Utb2YtdGhlLWFnZW50"))
        assert (await verify(client, headers, body)).status_code == 200
        again = await verify(client, headers, body)
        assert again.status_code == 400
        assert again.json() == {
            "error": "Challenge already used",
            "verified": False,
            "previous_status": "verified",
        }

    async def test_without_nonce_the_signature_verifies_until_it_expires(
        self, client: httpx.AsyncClient, headers: dict[str, str], b14: None
    ) -> None:
        # The draft leaves replay protection to the nonce; without one, each presentation counts.
        body = body_of(signed_request())
        first = (await verify(client, headers, body)).json()
        second = (await verify(client, headers, body)).json()
        assert first["verified"] is second["verified"] is True
        assert first["session_id"] != second["session_id"]


class TestWebBotAuthRefusals:
    @pytest.mark.parametrize(
        ("request_kwargs", "reason"),
        [
            ({"components": ("@method", "@path")}, '"@authority"'),
            ({"lifetime": timedelta(hours=25)}, "24 hours"),
            ({"signature_agent": '"https://vouch.test"'}, "Signature-Agent"),
            ({"kid": "not-a-registered-thumbprint"}, "keyid"),
        ],
        ids=["no-authority", "over-24-hours", "uncovered-signature-agent", "unknown-keyid"],
    )
    async def test_refused_and_nothing_is_stored(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        b14: None,
        runtime: Runtime,
        request_kwargs: dict[str, Any],
        reason: str,
    ) -> None:
        before = await sessions(runtime)
        response = await verify(client, headers, body_of(signed_request(**request_kwargs)))
        assert response.status_code == 400
        body = response.json()
        assert body["verified"] is False
        assert body["error"] == FAILED
        assert reason in body["reason"]
        assert await sessions(runtime) == before

    async def test_tampered_authority_fails(
        self, client: httpx.AsyncClient, headers: dict[str, str], b14: None
    ) -> None:
        body = body_of(signed_request(), url="https://evil.example/articles/42")
        response = await verify(client, headers, body)
        assert response.status_code == 400
        assert response.json()["error"] == FAILED

    async def test_expired_signature_fails(
        self, client: httpx.AsyncClient, headers: dict[str, str], b14: None
    ) -> None:
        request = httpx.Request("GET", URL)
        created = datetime.now(UTC) - timedelta(hours=2)
        signer().sign(
            request,
            key_id=B14_KID,
            created=created,
            expires=created + timedelta(hours=1),
            tag="web-bot-auth",
            covered_component_ids=("@authority",),
        )
        response = await verify(client, headers, body_of(request))
        assert response.status_code == 400
        assert "expires" in response.json()["reason"]

    async def test_revoked_key_proves_nothing(
        self, client: httpx.AsyncClient, headers: dict[str, str], b14: None
    ) -> None:
        revoked = await client.delete(f"/v1/agents/b14-bot/keys/{B14_KID}", headers=headers)
        assert revoked.status_code == 200
        response = await verify(client, headers, body_of(signed_request()))
        assert response.status_code == 400
        assert "keyid" in response.json()["reason"]

    async def test_key_of_another_project_is_unknown(
        self, client: httpx.AsyncClient, keys: Keys, b14: None
    ) -> None:
        response = await verify(client, api(keys.other_test), body_of(signed_request()))
        assert response.status_code == 400
        assert "keyid" in response.json()["reason"]


class TestChallengeBoundProfileStaysStrict:
    """A signature carrying a challenge's nonce answers that challenge, once, in vouch's profile."""

    async def test_challenge_nonce_with_only_authority_fails_the_challenge(
        self, client: httpx.AsyncClient, headers: dict[str, str], b14: None
    ) -> None:
        ch = await challenge(client, headers, agent_id="b14-bot", action="checkout")
        response = await verify(client, headers, body_of(signed_request(nonce=ch["nonce"])))
        assert response.status_code == 400
        assert '"@method"' in response.json()["reason"]
        status = await client.get(f"/v1/verify/status/{ch['challenge_id']}", headers=headers)
        assert status.json()["status"] == "failed"

    async def test_challenge_nonce_valid_for_an_hour_fails(
        self, client: httpx.AsyncClient, headers: dict[str, str], b14: None
    ) -> None:
        ch = await challenge(client, headers, agent_id="b14-bot", action="checkout")
        request = signed_request(nonce=ch["nonce"], components=("@method", "@authority", "@path"))
        response = await verify(client, headers, body_of(request))
        assert response.status_code == 400
        assert "5 minutes" in response.json()["reason"]

    async def test_challenge_nonce_in_the_strict_profile_verifies_once(
        self, client: httpx.AsyncClient, headers: dict[str, str], b14: None
    ) -> None:
        ch = await challenge(client, headers, agent_id="b14-bot", action="checkout")
        request = signed_request(
            nonce=ch["nonce"],
            components=("@method", "@authority", "@path"),
            lifetime=timedelta(minutes=2),
        )
        body = body_of(request)
        response = await verify(client, headers, body)
        assert response.status_code == 200, response.text
        assert response.json()["session_id"] == ch["challenge_id"]
        assert response.json()["method"] == "http-message-signature"
        assert response.json()["action"] == "checkout"
        assert (await verify(client, headers, body)).json()["error"] == "Challenge already used"


# -- the key directory ----------------------------------------------------------------------------
def directory_signature(
    *,
    authority_url: str = DIRECTORY_URL,
    lifetime: timedelta = timedelta(days=7),
    components: Sequence[str] = ('"@authority";req',),
    tag: str = "http-message-signatures-directory",
) -> dict[str, str]:
    """The agent's signature of the directory response (made with its own key, by the library)."""
    response = httpx.Response(200, request=httpx.Request("GET", authority_url))
    created = datetime.now(UTC)
    signer().sign(
        response,
        key_id=B14_KID,
        created=created,
        expires=created + lifetime,
        label="binding",
        tag=tag,
        covered_component_ids=components,
    )
    return {
        "signature_input": response.headers["signature-input"],
        "signature": response.headers["signature"],
    }


async def deposit(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, str]
) -> httpx.Response:
    return await client.put(
        f"/v1/agents/b14-bot/keys/{B14_KID}/directory-signature", json=body, headers=headers
    )


def library_verifies(response: httpx.Response) -> list[str]:
    """The directory response's signatures, checked with the keys the directory itself lists."""
    keys: dict[str, VerificationKey] = {
        k["kid"]: Ed25519PublicKey.from_public_bytes(
            base64.urlsafe_b64decode(k["x"] + "=" * (-len(k["x"]) % 4))
        )
        for k in response.json()["keys"]
    }
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys=keys, private_keys={}),
    )
    results = verifier.verify(
        response,
        expect_tag="http-message-signatures-directory",
        max_age=None,
        require_components=('"@authority";req',),
    )
    return [str(r.parameters["keyid"]) for r in results]


class TestKeyDirectory:
    async def test_live_key_with_its_signature_is_served_and_the_response_verifies(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        live = api(keys.live)
        await register_b14(client, live)
        deposited = await deposit(client, live, directory_signature())
        assert deposited.status_code == 200, deposited.text
        assert deposited.json()["keys"][0]["directory_signature_expires_at"] is not None

        response = await client.get(DIRECTORY)
        assert response.status_code == 200
        assert response.headers["content-type"] == (
            "application/http-message-signatures-directory+json"
        )
        assert response.json() == {"keys": [{**B14_JWK, "kid": B14_KID}]}
        assert library_verifies(response) == [B14_KID]

    async def test_empty_directory_is_an_empty_key_set(self, client: httpx.AsyncClient) -> None:
        response = await client.get(DIRECTORY)
        assert response.status_code == 200
        assert response.json() == {"keys": []}
        assert "signature" not in response.headers

    async def test_test_mode_keys_are_never_listed(
        self, client: httpx.AsyncClient, headers: dict[str, str], b14: None
    ) -> None:
        assert (await deposit(client, headers, directory_signature())).status_code == 200
        assert (await client.get(DIRECTORY)).json() == {"keys": []}

    async def test_revoked_key_leaves_the_directory(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        live = api(keys.live)
        await register_b14(client, live)
        assert (await deposit(client, live, directory_signature())).status_code == 200
        assert len((await client.get(DIRECTORY)).json()["keys"]) == 1
        await client.delete(f"/v1/agents/b14-bot/keys/{B14_KID}", headers=live)
        response = await client.get(DIRECTORY)
        assert response.json() == {"keys": []}
        assert "signature" not in response.headers

    @pytest.mark.parametrize(
        ("signature_kwargs", "reason"),
        [
            ({"authority_url": "https://elsewhere.example" + DIRECTORY}, "verif"),
            ({"components": ('"@authority";req', "@status")}, "Cover only"),
            ({"tag": "web-bot-auth"}, "tag"),
        ],
        ids=["other-authority", "extra-component", "wrong-tag"],
    )
    async def test_bad_directory_signature_is_refused_and_not_listed(
        self,
        client: httpx.AsyncClient,
        keys: Keys,
        signature_kwargs: dict[str, Any],
        reason: str,
    ) -> None:
        live = api(keys.live)
        await register_b14(client, live)
        response = await deposit(client, live, directory_signature(**signature_kwargs))
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "Invalid directory signature"
        assert reason in response.json()["message"]
        assert (await client.get(DIRECTORY)).json() == {"keys": []}

    async def test_a_tampered_served_directory_fails_the_library_check(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        # The check above can fail: the same response read from another authority does not verify.
        live = api(keys.live)
        await register_b14(client, live)
        await deposit(client, live, directory_signature())
        response = await client.get(DIRECTORY)
        moved = httpx.Response(
            200,
            headers=response.headers,
            content=response.content,
            request=httpx.Request("GET", "https://elsewhere.example" + DIRECTORY),
        )
        with pytest.raises(InvalidSignature):
            library_verifies(moved)


def test_b14_key_is_the_rfc_key() -> None:
    """The PEM above is RFC 9421 B.1.4's: its public half and RFC 7638 thumbprint are these."""
    raw = b14_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    assert x == B14_X
    members = f'{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}'.encode()
    kid = base64.urlsafe_b64encode(hashlib.sha256(members).digest()).rstrip(b"=").decode()
    assert kid == B14_KID
