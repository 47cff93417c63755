"""Verifier.verify — checklist steps 2, 3, 5 and 6: exp, iss, type/channel, max_age, identifier."""

from __future__ import annotations

from typing import Any

import pytest
from sdk_fakes import ISSUER, NOW, SigningKey, proof_claims, sha256_hex

from vouch_client import (
    ClaimMismatch,
    IdentifierMismatch,
    IssuerMismatch,
    ProofExpired,
    ProofTooOld,
    Verifier,
)


class TestVerify:
    def test_expired_token_is_rejected(self, make_verifier: Any, any_key: SigningKey) -> None:
        token = any_key.sign(proof_claims(exp=int(NOW) - 1))

        with pytest.raises(ProofExpired) as info:
            make_verifier().verify(token)
        assert info.value.reason == "expired"

    def test_token_expiring_exactly_now_is_expired(
        self, make_verifier: Any, rsa_key: SigningKey
    ) -> None:
        with pytest.raises(ProofExpired):
            make_verifier().verify(rsa_key.sign(proof_claims(exp=int(NOW))))

    def test_leeway_tolerates_small_clock_skew_on_exp(
        self, make_verifier: Any, rsa_key: SigningKey
    ) -> None:
        token = rsa_key.sign(proof_claims(exp=int(NOW) - 5))

        assert make_verifier(leeway=10).verify(token).exp == int(NOW) - 5

    def test_expiry_follows_the_injected_clock(
        self, make_verifier: Any, rsa_key: SigningKey, clock: Any
    ) -> None:
        verifier = make_verifier()
        token = rsa_key.sign(proof_claims(exp=int(NOW) + 60))
        verifier.verify(token)

        clock.advance(60)

        with pytest.raises(ProofExpired):
            verifier.verify(token)

    def test_wrong_issuer_is_rejected(self, make_verifier: Any, any_key: SigningKey) -> None:
        token = any_key.sign(proof_claims(iss="https://evil.example.com"))

        with pytest.raises(IssuerMismatch) as info:
            make_verifier().verify(token)
        assert info.value.reason == "issuer_mismatch"

    def test_issuer_defaults_to_base_url_without_trailing_slash(
        self, rsa_key: SigningKey, http_client: Any, clock: Any
    ) -> None:
        verifier = Verifier(ISSUER + "/", http_client=http_client, clock=clock)

        assert verifier.issuer == ISSUER
        assert verifier.verify(rsa_key.sign(proof_claims())).iss == ISSUER

    def test_explicit_issuer_overrides_base_url(
        self, make_verifier: Any, rsa_key: SigningKey
    ) -> None:
        verifier = make_verifier(issuer="https://id.example.org", check_revocation=False)
        token = rsa_key.sign(proof_claims(iss="https://id.example.org"))

        assert verifier.verify(token).iss == "https://id.example.org"
        with pytest.raises(IssuerMismatch):
            verifier.verify(rsa_key.sign(proof_claims()))

    def test_expected_type_and_channel_pass_when_they_match(
        self, make_verifier: Any, rsa_key: SigningKey
    ) -> None:
        claims = make_verifier().verify(
            rsa_key.sign(proof_claims()), type="email", channel="email_otp"
        )

        assert (claims.type, claims.channel) == ("email", "email_otp")

    def test_type_mismatch_is_rejected(self, make_verifier: Any, rsa_key: SigningKey) -> None:
        with pytest.raises(ClaimMismatch) as info:
            make_verifier().verify(rsa_key.sign(proof_claims()), type="phone")
        assert info.value.reason == "type_mismatch"
        assert (info.value.expected, info.value.actual) == ("phone", "email")

    def test_channel_mismatch_is_rejected(self, make_verifier: Any, rsa_key: SigningKey) -> None:
        with pytest.raises(ClaimMismatch) as info:
            make_verifier().verify(rsa_key.sign(proof_claims()), channel="email_link")
        assert info.value.reason == "channel_mismatch"

    def test_missing_channel_does_not_satisfy_an_expected_channel(
        self, make_verifier: Any, rsa_key: SigningKey
    ) -> None:
        with pytest.raises(ClaimMismatch):
            make_verifier().verify(rsa_key.sign(proof_claims(channel=None)), channel="sms")

    def test_proof_older_than_max_age_is_too_old(
        self, make_verifier: Any, rsa_key: SigningKey
    ) -> None:
        token = rsa_key.sign(proof_claims(iat=int(NOW) - 100))

        with pytest.raises(ProofTooOld) as info:
            make_verifier().verify(token, max_age=60)
        assert info.value.reason == "too_old"

    def test_proof_within_max_age_passes(self, make_verifier: Any, rsa_key: SigningKey) -> None:
        token = rsa_key.sign(proof_claims(iat=int(NOW) - 100))

        assert make_verifier().verify(token, max_age=100).iat == int(NOW) - 100

    def test_matching_identifier_passes(self, make_verifier: Any, rsa_key: SigningKey) -> None:
        token = rsa_key.sign(proof_claims(identifier_hash=sha256_hex("+14155550123")))

        claims = make_verifier().verify(token, identifier="+14155550123")

        assert claims.identifier_hash == sha256_hex("+14155550123")

    def test_other_identifier_is_rejected(self, make_verifier: Any, rsa_key: SigningKey) -> None:
        token = rsa_key.sign(proof_claims(identifier_hash=sha256_hex("+14155550123")))

        with pytest.raises(IdentifierMismatch) as info:
            make_verifier().verify(token, identifier="+14155550124")
        assert info.value.reason == "identifier_mismatch"

    def test_identifier_against_a_proof_without_identifier_hash_is_rejected(
        self, make_verifier: Any, rsa_key: SigningKey
    ) -> None:
        token = rsa_key.sign(proof_claims(identifier_hash=None))

        with pytest.raises(IdentifierMismatch):
            make_verifier().verify(token, identifier="alice@example.com")

    def test_expiry_is_checked_before_issuer(self, make_verifier: Any, rsa_key: SigningKey) -> None:
        token = rsa_key.sign(proof_claims(exp=int(NOW) - 1, iss="https://evil.example.com"))

        with pytest.raises(ProofExpired):
            make_verifier().verify(token)
