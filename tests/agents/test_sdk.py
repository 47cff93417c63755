"""``vouch_client.agents``: the agent side, checked against the published vectors (RFC 8785 via the
``rfc8785`` package, RFC 8032, RFC 8037 A.3, RFC 9421 B.2.6) and vouch's golden proof."""

from __future__ import annotations

import base64
import math
import random
import re

import httpx
import pytest
import rfc8785

from tests.agents.vectors import (
    PUBLIC_X,
    SECRET,
    VECTOR_CONTEXT,
    VECTOR_INPUT,
    VECTOR_PROOF,
)
from vouch_client import agents
from vouch_client.agents import AgentKey, WebBotAuth, canonical_json, proof_message, signature_base

CHALLENGE = {
    "challenge_id": VECTOR_INPUT.challenge_id,
    "nonce": VECTOR_INPUT.nonce,
    "expires_in": 300,
    "timestamp": 1767225600000,
    "agent_id": "shop-bot-001",
    "action": "purchase",
    "context": VECTOR_CONTEXT,
}

# RFC 9421 appendix B.1.4 (test-key-ed25519) and B.2.6.
RFC9421_SEED = "n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU"
RFC9421_X = "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"
RFC9421_B26_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
    '"content-length");created=1618884473;keyid="test-key-ed25519"'
)
RFC9421_B26_SIGNATURE = (
    "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
)


class TestPublicSurface:
    def test_all_is_exactly_the_agent_api(self) -> None:
        assert agents.__all__ == [
            "PROOF_VERSION",
            "WEB_BOT_AUTH_TAG",
            "AgentKey",
            "WebBotAuth",
            "canonical_json",
            "context_sha256",
            "proof_message",
            "signature_base",
        ]


class TestCanonicalJson:
    @pytest.mark.parametrize(
        "value",
        [
            {"b": 1, "a": [True, False, None], "c": {"z": "é", "y": "\u2028"}},
            {"\U0001f600": 1, "\ue000": 2, "a": 3},  # UTF-16 order puts the emoji first
            {"ctl": '\x00\x1f\x7f"\\\b\f\n\r\t/'},
            [0.0, -0.0, 1.0, -1.5, 1e21, 1e-7, 1e-6, 123456789012345680000.0, 5e-324],
            [2**53 - 1, -(2**53 - 1), 0],
            "plain",
        ],
        ids=["nested", "utf16-order", "escapes", "floats", "ints", "string"],
    )
    def test_matches_the_rfc8785_package(self, value: object) -> None:
        assert canonical_json(value) == rfc8785.dumps(value)

    def test_matches_on_random_doubles(self) -> None:
        rng = random.Random(8785)
        values = [rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30) for _ in range(2000)] + [
            float(rng.randint(-(2**53), 2**53)) for _ in range(200)
        ]
        for value in values:
            assert canonical_json(value) == rfc8785.dumps(value), value

    @pytest.mark.parametrize("value", [2**53, math.nan, math.inf, {1: "a"}, object()])
    def test_refuses_what_json_cannot_carry(self, value: object) -> None:
        with pytest.raises((ValueError, TypeError)):
            canonical_json(value)


class TestProof:
    def test_message_equals_the_servers_golden_message(self) -> None:
        message = proof_message(
            challenge_id=VECTOR_INPUT.challenge_id,
            nonce=VECTOR_INPUT.nonce,
            agent_id="shop-bot-001",
            action="purchase",
            context=VECTOR_CONTEXT,
        )
        assert message == VECTOR_INPUT.message()

    def test_prove_gives_the_golden_proof(self) -> None:
        assert AgentKey.from_seed(SECRET).prove(CHALLENGE) == VECTOR_PROOF

    def test_prove_with_matching_intent_is_the_same_proof(self) -> None:
        key = AgentKey.from_seed(SECRET)
        proof = key.prove(
            CHALLENGE, agent_id="shop-bot-001", action="purchase", context=VECTOR_CONTEXT
        )
        assert proof == VECTOR_PROOF

    @pytest.mark.parametrize(
        ("intent", "fragment"),
        [
            ({"action": "refund"}, "action"),
            ({"agent_id": "other"}, "agent_id"),
            ({"context": {"amount": 1}}, "context"),
        ],
    )
    def test_prove_refuses_a_challenge_for_something_else(
        self, intent: dict[str, object], fragment: str
    ) -> None:
        with pytest.raises(ValueError, match=fragment):
            AgentKey.generate().prove(CHALLENGE, **intent)  # type: ignore[arg-type]

    def test_bare_zeroproof_challenge_needs_the_intent(self) -> None:
        bare = {k: CHALLENGE[k] for k in ("challenge_id", "nonce", "expires_in", "timestamp")}
        with pytest.raises(ValueError, match="agent_id"):
            AgentKey.generate().prove(bare)
        key = AgentKey.from_seed(SECRET)
        proof = key.prove(bare, agent_id="shop-bot-001", action="purchase", context=VECTOR_CONTEXT)
        assert proof == VECTOR_PROOF


class TestAgentKey:
    def test_public_forms_and_rfc8037_thumbprint(self) -> None:
        key = AgentKey.from_seed(SECRET)
        assert key.public_key == PUBLIC_X
        assert key.public_jwk == {"kty": "OKP", "crv": "Ed25519", "x": PUBLIC_X}
        assert key.thumbprint == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"

    def test_private_jwk_round_trips(self) -> None:
        key = AgentKey.generate()
        again = AgentKey.from_jwk(key.private_jwk())
        assert again.public_key == key.public_key
        assert key.private_jwk()["kid"] == key.thumbprint

    def test_jwk_whose_x_is_not_its_d_is_refused(self) -> None:
        jwk = {**AgentKey.generate().private_jwk(), "x": PUBLIC_X}
        with pytest.raises(ValueError, match="does not match"):
            AgentKey.from_jwk(jwk)

    def test_public_jwk_is_not_a_private_key(self) -> None:
        with pytest.raises(ValueError, match="private"):
            AgentKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": PUBLIC_X})


class TestRfc9421:
    def _b26_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            "https://example.com/foo?param=Value&Pet=dog",
            headers={
                "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
                "Content-Type": "application/json",
                "Content-Length": "18",
            },
            content=b'{"hello": "world"}',
        )

    def test_signature_base_of_appendix_b26(self) -> None:
        request = self._b26_request()
        base = signature_base(
            method=request.method,
            url=request.url,
            headers=request.headers,
            components=["date", "@method", "@path", "@authority", "content-type", "content-length"],
            params=';created=1618884473;keyid="test-key-ed25519"',
        )
        assert base == RFC9421_B26_BASE

    def test_rfc_test_key_reproduces_the_b26_signature(self) -> None:
        key = AgentKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "d": RFC9421_SEED, "x": RFC9421_X})
        assert base64.b64encode(key.sign(RFC9421_B26_BASE.encode())).decode() == (
            RFC9421_B26_SIGNATURE
        )

    def test_web_bot_auth_headers(self) -> None:
        key = AgentKey.from_seed(SECRET)
        request = httpx.Request("GET", "https://Shop.Example:443/a/b?q=1")
        WebBotAuth(key, "nonce-1", lifetime=30, clock=lambda: 1_700_000_000).sign(request)
        assert request.headers["signature-input"] == (
            'sig1=("@method" "@authority" "@path");created=1700000000;expires=1700000030'
            ';keyid="kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";alg="ed25519"'
            ';nonce="nonce-1";tag="web-bot-auth"'
        )
        assert re.fullmatch(r"sig1=:[A-Za-z0-9+/]{86}==:", request.headers["signature"])

    def test_signature_agent_is_sent_and_covered(self) -> None:
        key = AgentKey.generate()
        request = httpx.Request("GET", "https://shop.example/")
        key.http_auth("n", signature_agent="https://agent.example").sign(request)
        assert request.headers["signature-agent"] == '"https://agent.example"'
        assert '"signature-agent"' in request.headers["signature-input"]

    async def test_works_as_an_httpx_auth(self) -> None:
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(204)

        key = AgentKey.generate()
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            await client.get("https://shop.example/x", auth=key.http_auth("n"))
        assert 'tag="web-bot-auth"' in seen[0].headers["signature-input"]

    def test_missing_covered_header_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="no date header"):
            signature_base(
                method="GET",
                url="https://a.example/",
                headers={},
                components=["date"],
                params="",
            )
