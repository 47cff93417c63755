"""Verifier.verify — JWKS fetching, caching and key rotation."""

from __future__ import annotations

from typing import Any

import pytest
from sdk_fakes import ISSUER, FakeVouch, SigningKey, cached_key, proof_claims

from vouch_client import JWKSUnavailable, UnknownKey, Verifier


class TestVerify:
    def test_jwks_is_fetched_once_for_many_tokens(
        self,
        make_verifier: Any,
        server: FakeVouch,
        rsa_key: SigningKey,
        ec_key: SigningKey,
        ed_key: SigningKey,
    ) -> None:
        verifier = make_verifier()

        for key in (rsa_key, ec_key, ed_key, rsa_key):
            verifier.verify(key.sign(proof_claims()))

        assert server.jwks_requests == 1

    def test_jwks_is_refetched_after_24_hours(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, clock: Any
    ) -> None:
        verifier = make_verifier(check_revocation=False)
        verifier.verify(rsa_key.sign(proof_claims(exp=int(clock.now) + 90000)))
        clock.advance(86399)
        verifier.verify(rsa_key.sign(proof_claims(exp=int(clock.now) + 90000)))
        assert server.jwks_requests == 1

        clock.advance(1)
        verifier.verify(rsa_key.sign(proof_claims(exp=int(clock.now) + 90000)))
        assert server.jwks_requests == 2

    def test_unknown_kid_refetches_the_jwks_and_finds_a_rotated_key(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        verifier = make_verifier(check_revocation=False)
        verifier.verify(rsa_key.sign(proof_claims()))
        rotated = cached_key("RS256", "rsa-2")
        server.keys.append(rotated)

        assert verifier.verify(rotated.sign(proof_claims())).type == "email"
        assert server.jwks_requests == 2

    def test_unknown_kid_refetches_at_most_once_per_30_seconds(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, clock: Any
    ) -> None:
        verifier = make_verifier(check_revocation=False)
        verifier.verify(rsa_key.sign(proof_claims()))
        stranger = cached_key("RS256", "rsa-unpublished")

        with pytest.raises(UnknownKey):
            verifier.verify(stranger.sign(proof_claims()))
        assert server.jwks_requests == 2
        clock.advance(29)
        with pytest.raises(UnknownKey):
            verifier.verify(stranger.sign(proof_claims()))
        assert server.jwks_requests == 2

        clock.advance(1)
        with pytest.raises(UnknownKey):
            verifier.verify(stranger.sign(proof_claims()))
        assert server.jwks_requests == 3

    def test_refetch_interval_is_configurable(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, clock: Any
    ) -> None:
        verifier = make_verifier(check_revocation=False, refetch_min_interval=5)
        stranger = cached_key("RS256", "rsa-unpublished")
        for _ in range(2):
            with pytest.raises(UnknownKey):
                verifier.verify(stranger.sign(proof_claims()))
            clock.advance(5)

        assert server.jwks_requests == 3  # initial fetch + one refetch per 5 s window

    def test_static_jwks_never_refetches_for_an_unknown_kid(
        self, server: FakeVouch, rsa_key: SigningKey, other_rsa_key: SigningKey, http_client: Any
    ) -> None:
        verifier = Verifier(
            ISSUER,
            jwks={"keys": [rsa_key.public_jwk]},
            check_revocation=False,
            http_client=http_client,
            clock=server.clock,
        )

        with pytest.raises(UnknownKey):
            verifier.verify(other_rsa_key.sign(proof_claims()))
        assert server.requests == []

    def test_unreachable_jwks_is_reported_as_unavailable(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        server.fail_jwks = True

        with pytest.raises(JWKSUnavailable):
            make_verifier().verify(rsa_key.sign(proof_claims()))

    @pytest.mark.parametrize(
        "tweak",
        [{"alg": "ES256"}, {"alg": "HS256"}, {"use": "enc"}, {"kid": None}],
        ids=["alg-kty-mismatch", "symmetric-alg", "encryption-key", "no-kid"],
    )
    def test_unusable_jwks_entries_are_ignored(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, tweak: dict[str, Any]
    ) -> None:
        bad = SigningKey(rsa_key.kid, rsa_key.alg, rsa_key.private, {**rsa_key.public_jwk})
        bad.public_jwk.update(tweak)
        bad.public_jwk = {k: v for k, v in bad.public_jwk.items() if v is not None}
        server.keys = [bad]

        with pytest.raises(UnknownKey):
            make_verifier(check_revocation=False).verify(rsa_key.sign(proof_claims()))

    def test_jwk_without_alg_is_matched_by_key_type(
        self, make_verifier: Any, server: FakeVouch, ec_key: SigningKey
    ) -> None:
        jwk = {k: v for k, v in ec_key.public_jwk.items() if k != "alg"}
        server.keys = [SigningKey(ec_key.kid, ec_key.alg, ec_key.private, jwk)]

        claims = make_verifier(check_revocation=False).verify(ec_key.sign(proof_claims()))

        assert claims.type == "email"
