"""AsyncVerifier: the same checks as Verifier, over httpx.AsyncClient."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sdk_fakes import ISSUER, NOW, FakeVouch, SigningKey, cached_key, iso, proof_claims, sha256_hex

from vouch_client import (
    AsyncVerifier,
    ClaimMismatch,
    IdentifierMismatch,
    InvalidSignature,
    IssuerMismatch,
    ProofExpired,
    ProofRevoked,
    ProofTooOld,
    RevocationListUnavailable,
    UnknownKey,
)

PROOF_ID = "65a1b2c3d4e5f60718293a4b"


class TestAsyncVerifierVerify:
    async def test_valid_token_returns_its_claims(
        self, make_async_verifier: Any, any_key: SigningKey
    ) -> None:
        claims = await make_async_verifier().verify(
            any_key.sign(proof_claims()),
            type="email",
            channel="email_otp",
            max_age=60,
            identifier="alice@example.com",
        )

        assert claims.sub == PROOF_ID
        assert claims.identifier_hash == sha256_hex("alice@example.com")

    @pytest.mark.parametrize(
        ("overrides", "kwargs", "error"),
        [
            ({"exp": int(NOW) - 1}, {}, ProofExpired),
            ({"iss": "https://evil.example.com"}, {}, IssuerMismatch),
            ({}, {"type": "phone"}, ClaimMismatch),
            ({}, {"channel": "sms"}, ClaimMismatch),
            ({"iat": int(NOW) - 100}, {"max_age": 60}, ProofTooOld),
            ({}, {"identifier": "bob@example.com"}, IdentifierMismatch),
        ],
        ids=["expired", "issuer", "type", "channel", "max-age", "identifier"],
    )
    async def test_failing_checks_raise_their_error(
        self,
        make_async_verifier: Any,
        rsa_key: SigningKey,
        overrides: dict[str, Any],
        kwargs: dict[str, Any],
        error: type[Exception],
    ) -> None:
        with pytest.raises(error):
            await make_async_verifier().verify(rsa_key.sign(proof_claims(**overrides)), **kwargs)

    async def test_token_from_another_key_is_an_invalid_signature(
        self, make_async_verifier: Any, other_rsa_key: SigningKey
    ) -> None:
        token = other_rsa_key.sign(proof_claims(), headers={"kid": "rsa-1"})

        with pytest.raises(InvalidSignature):
            await make_async_verifier().verify(token)

    async def test_proof_in_the_signed_list_is_revoked(
        self, make_async_verifier: Any, server: FakeVouch, ed_key: SigningKey
    ) -> None:
        server.revoke(PROOF_ID, NOW - 30, reason="user_request")

        with pytest.raises(ProofRevoked) as info:
            await make_async_verifier().verify(ed_key.sign(proof_claims()))
        assert info.value.revoked_reason == "user_request"

    async def test_unsigned_list_fails_closed(
        self, make_async_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        server.sign_lists = False

        with pytest.raises(RevocationListUnavailable):
            await make_async_verifier().verify(rsa_key.sign(proof_claims()))

    async def test_unreachable_list_fails_closed(
        self, make_async_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        server.fail_revocations = True

        with pytest.raises(RevocationListUnavailable):
            await make_async_verifier().verify(rsa_key.sign(proof_claims()))

    async def test_pages_are_followed_and_deltas_merged(
        self, make_async_verifier: Any, server: FakeVouch, rsa_key: SigningKey, clock: Any
    ) -> None:
        server.page_size = 1
        server.revoke("aaaaaaaaaaaaaaaaaaaaaaaa", NOW - 3600)
        server.revoke("bbbbbbbbbbbbbbbbbbbbbbbb", NOW - 1800)
        verifier = make_async_verifier()
        await verifier.verify(rsa_key.sign(proof_claims()))
        server.revoke(PROOF_ID, NOW + 10)
        clock.advance(300)

        with pytest.raises(ProofRevoked):
            await verifier.verify(rsa_key.sign(proof_claims()))
        with pytest.raises(ProofRevoked):
            await verifier.verify(rsa_key.sign(proof_claims(sub="aaaaaaaaaaaaaaaaaaaaaaaa")))
        params = [dict(r.url.params) for r in server.revocation_requests]
        assert params == [{}, {"cursor": "1"}, {"since": iso(NOW - 60)}]

    async def test_caches_serve_concurrent_verifications_with_one_fetch_each(
        self, make_async_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        verifier = make_async_verifier()
        token = rsa_key.sign(proof_claims())

        await asyncio.gather(*(verifier.verify(token) for _ in range(10)))

        assert server.jwks_requests == 1
        assert len(server.revocation_requests) == 1

    async def test_unknown_kid_refetches_at_most_once_per_30_seconds(
        self, make_async_verifier: Any, server: FakeVouch, rsa_key: SigningKey, clock: Any
    ) -> None:
        verifier = make_async_verifier(check_revocation=False)
        await verifier.verify(rsa_key.sign(proof_claims()))
        stranger = cached_key("RS256", "rsa-unpublished")
        for _ in range(2):
            with pytest.raises(UnknownKey):
                await verifier.verify(stranger.sign(proof_claims()))
            clock.advance(20)
        assert server.jwks_requests == 2

        with pytest.raises(UnknownKey):
            await verifier.verify(stranger.sign(proof_claims()))
        assert server.jwks_requests == 3


class TestAsyncVerifierRefresh:
    async def test_fetches_keys_up_front_and_no_revocation_pages(
        self, make_async_verifier: Any, server: FakeVouch
    ) -> None:
        await make_async_verifier().refresh()

        assert server.jwks_requests == 1
        assert server.revocation_requests == []


class TestAsyncVerifierAclose:
    async def test_leaves_an_injected_http_client_open(
        self, make_async_verifier: Any, async_http_client: httpx.AsyncClient
    ) -> None:
        async with make_async_verifier():
            pass

        assert not async_http_client.is_closed

    async def test_closes_the_client_it_created(
        self, rsa_key: SigningKey, server: FakeVouch, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        created: list[httpx.AsyncClient] = []
        real_client = httpx.AsyncClient

        def fake_client(**kwargs: Any) -> httpx.AsyncClient:
            client = real_client(transport=httpx.MockTransport(server.handler), **kwargs)
            created.append(client)
            return client

        monkeypatch.setattr(httpx, "AsyncClient", fake_client)
        async with AsyncVerifier(ISSUER, clock=server.clock) as verifier:
            await verifier.verify(rsa_key.sign(proof_claims()))

        assert len(created) == 1
        assert created[0].is_closed
