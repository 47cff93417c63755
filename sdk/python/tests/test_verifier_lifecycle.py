"""Verifier construction, refresh() and close()."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sdk_fakes import ISSUER, NOW, FakeVouch, SigningKey, iso, proof_claims

from vouch_client import Verifier


class TestVerifierInit:
    def test_needs_base_url_or_issuer(self) -> None:
        with pytest.raises(ValueError, match="issuer"):
            Verifier(jwks={"keys": []}, check_revocation=False)

    def test_needs_somewhere_to_get_keys(self) -> None:
        with pytest.raises(ValueError, match="jwks"):
            Verifier(issuer=ISSUER, check_revocation=False)

    def test_needs_a_revocation_url_when_checking_revocation(self) -> None:
        with pytest.raises(ValueError, match="revocation"):
            Verifier(issuer=ISSUER, jwks={"keys": []})

    @pytest.mark.parametrize("alg", ["none", "HS256", "HS512"])
    def test_refuses_non_asymmetric_algorithms(self, alg: str) -> None:
        with pytest.raises(ValueError, match="unsupported"):
            Verifier(ISSUER, algorithms=("RS256", alg))

    def test_refuses_an_invalid_static_jwks(self) -> None:
        with pytest.raises(ValueError, match="keys"):
            Verifier(ISSUER, jwks={"not": "a jwks"})

    def test_explicit_urls_are_used_instead_of_the_defaults(
        self, server: FakeVouch, rsa_key: SigningKey, http_client: httpx.Client
    ) -> None:
        verifier = Verifier(
            issuer=ISSUER,
            jwks_url=f"{ISSUER}/.well-known/jwks.json?v=2",
            revocation_url=f"{ISSUER}/api/v1/proofs/revoked?limit=500",
            http_client=http_client,
            clock=server.clock,
        )

        verifier.verify(rsa_key.sign(proof_claims()))

        assert [str(r.url) for r in server.requests] == [
            f"{ISSUER}/.well-known/jwks.json?v=2",
            f"{ISSUER}/api/v1/proofs/revoked?limit=500",
        ]


class TestRefresh:
    def test_fetches_keys_up_front_and_pages_only_once_a_legacy_token_needs_them(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        verifier = make_verifier()

        # A cold refresh no longer walks the paged list (slow at scale, and rate-limited).
        verifier.refresh()
        assert server.jwks_requests == 1
        assert server.revocation_requests == []

        verifier.verify(rsa_key.sign(proof_claims()))  # no status claim: the pages answer
        assert server.jwks_requests == 1
        assert len(server.revocation_requests) == 1

    def test_refresh_after_pages_were_read_asks_for_a_delta(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        verifier = make_verifier()
        verifier.verify(rsa_key.sign(proof_claims()))

        verifier.refresh()

        assert server.jwks_requests == 2
        assert server.revocation_requests[1].url.params["since"] == iso(NOW - 60)


class TestClose:
    def test_leaves_an_injected_http_client_open(
        self, make_verifier: Any, http_client: httpx.Client
    ) -> None:
        with make_verifier():
            pass

        assert not http_client.is_closed

    def test_closes_the_client_it_created(
        self, rsa_key: SigningKey, server: FakeVouch, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        created: list[httpx.Client] = []
        real_client = httpx.Client

        def fake_client(**kwargs: Any) -> httpx.Client:
            client = real_client(transport=httpx.MockTransport(server.handler), **kwargs)
            created.append(client)
            return client

        monkeypatch.setattr(httpx, "Client", fake_client)
        with Verifier(ISSUER, clock=server.clock) as verifier:
            verifier.verify(rsa_key.sign(proof_claims()))

        assert len(created) == 1
        assert created[0].is_closed
