"""Verifier.verify — revocation through the Token Status List (draft-ietf-oauth-status-list),
the key lifecycle the JWKS publishes, and live/test separation."""

from __future__ import annotations

import zlib
from typing import Any

import pytest
from sdk_fakes import (
    ISSUER,
    NOW,
    STATUS_PATH,
    FakeVouch,
    SigningKey,
    base64url,
    proof_claims,
    status_claim,
    with_policy,
)

from vouch_client import (
    EnvironmentMismatch,
    JWKSUnavailable,
    KeyRevoked,
    OutsideKeyWindow,
    ProofRevoked,
    ProofSuspended,
    RevocationListUnavailable,
    TokenLifetimeExceeded,
    UnknownKey,
    WrongKeyPurpose,
)


def _token(key: SigningKey, idx: int = 7, **claims: Any) -> str:
    return key.sign(proof_claims(status=status_claim(idx), **claims))


class TestStatusList:
    def test_a_valid_slot_passes_without_reading_the_paged_list(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        server.statuses[8] = 1  # a neighbour's revocation says nothing about slot 7

        assert make_verifier().verify(_token(rsa_key)).sub
        assert server.count(STATUS_PATH) == 1
        assert server.revocation_requests == []

    def test_a_revoked_slot_raises_revoked(
        self, make_verifier: Any, server: FakeVouch, any_key: SigningKey
    ) -> None:
        server.statuses[7] = 1

        with pytest.raises(ProofRevoked) as info:
            make_verifier().verify(_token(any_key))
        assert info.value.reason == "revoked"

    def test_a_suspended_slot_raises_suspended(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        server.statuses[7] = 2

        with pytest.raises(ProofSuspended) as info:
            make_verifier().verify(_token(rsa_key))
        assert info.value.reason == "suspended"

    def test_the_reserved_value_fails_closed(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        server.statuses[7] = 3

        with pytest.raises(RevocationListUnavailable, match="unknown status"):
            make_verifier().verify(_token(rsa_key))

    def test_one_document_answers_every_proof_until_its_ttl(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, clock: Any
    ) -> None:
        verifier = make_verifier()
        for idx in range(50):
            verifier.verify(_token(rsa_key, idx))
        assert server.count(STATUS_PATH) == 1

        server.statuses[3] = 1
        clock.advance(61)  # the list's ttl is 60 s
        with pytest.raises(ProofRevoked):
            verifier.verify(_token(rsa_key, 3))
        assert server.count(STATUS_PATH) == 2

    def test_a_slot_beyond_the_list_fails_closed(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        with pytest.raises(RevocationListUnavailable, match="no slot"):
            make_verifier().verify(_token(rsa_key, 10**6))

    def test_a_list_on_another_origin_is_never_fetched(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        token = rsa_key.sign(
            proof_claims(status=status_claim(1, "https://attacker.example/statuslists/live/0"))
        )

        with pytest.raises(RevocationListUnavailable, match="origin"):
            make_verifier().verify(token)
        assert all(r.url.host != "attacker.example" for r in server.requests)

    @pytest.mark.parametrize(
        ("header", "claims", "why"),
        [
            ({"typ": "JWT"}, {}, "typ"),
            ({}, {"sub": f"{ISSUER}/statuslists/live/1"}, "sub"),
            ({}, {"exp": int(NOW) - 1}, "expired"),
            ({}, {"exp": None}, "exp"),
            ({}, {"status_list": {"bits": 3, "lst": base64url(zlib.compress(b"\0"))}}, "bits"),
            ({}, {"status_list": {"bits": 2, "lst": "not-deflate"}}, "inflate"),
        ],
    )
    def test_a_list_failing_its_own_checks_fails_closed(
        self,
        make_verifier: Any,
        server: FakeVouch,
        rsa_key: SigningKey,
        header: dict[str, Any],
        claims: dict[str, Any],
        why: str,
    ) -> None:
        server.status_header_overrides = header
        server.status_claim_overrides = claims

        with pytest.raises(RevocationListUnavailable, match=why):
            make_verifier().verify(_token(rsa_key))

    def test_a_list_signed_by_an_unpublished_key_fails_closed(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, other_rsa_key: SigningKey
    ) -> None:
        server.status_key = other_rsa_key

        with pytest.raises(RevocationListUnavailable, match="status list key"):
            make_verifier().verify(_token(rsa_key))

    def test_an_inflation_bomb_is_refused(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        bomb = zlib.compress(bytes(40 * 1024 * 1024), 9)
        server.status_claim_overrides = {"status_list": {"bits": 2, "lst": base64url(bomb)}}

        with pytest.raises(RevocationListUnavailable, match="size limit"):
            make_verifier().verify(_token(rsa_key))

    def test_check_revocation_false_reads_no_list(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        server.statuses[7] = 1

        assert make_verifier(check_revocation=False).verify(_token(rsa_key))
        assert server.count(STATUS_PATH) == 0

    async def test_the_async_verifier_reads_the_same_slot(
        self, make_async_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        server.statuses[7] = 1
        async with make_async_verifier() as verifier:
            await verifier.verify(_token(rsa_key, 6))
            with pytest.raises(ProofRevoked):
                await verifier.verify(_token(rsa_key, 7))
        assert server.count(STATUS_PATH) == 1


@pytest.fixture
def registry(server: FakeVouch, rsa_key: SigningKey, ec_key: SigningKey) -> SigningKey:
    """A lifecycle-aware JWKS: ``rsa-1`` signs proofs, ``ec-1`` signs status lists."""
    status_key = with_policy(ec_key, "status-list")
    server.keys = [with_policy(rsa_key, "proof"), status_key]
    server.status_key = status_key
    return status_key


class TestKeyLifecycle:
    def test_purpose_labelled_keys_verify_their_own_family(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, registry: SigningKey
    ) -> None:
        server.statuses[7] = 1
        with pytest.raises(ProofRevoked):
            make_verifier().verify(_token(rsa_key))

    def test_a_status_list_key_cannot_sign_a_proof(
        self, make_verifier: Any, registry: SigningKey
    ) -> None:
        with pytest.raises(WrongKeyPurpose):
            make_verifier().verify(_token(registry))

    def test_a_proof_key_cannot_sign_a_status_list(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, registry: SigningKey
    ) -> None:
        server.status_key = rsa_key

        with pytest.raises(RevocationListUnavailable, match="not a status-list key"):
            make_verifier().verify(_token(rsa_key))

    def test_a_tombstoned_key_answers_key_revoked(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, registry: SigningKey
    ) -> None:
        server.keys = [k for k in server.keys if k.kid != rsa_key.kid]
        server.tombstones = [{"kid": rsa_key.kid, "revoked_at": int(NOW) - 5}]

        with pytest.raises(KeyRevoked) as info:
            make_verifier().verify(_token(rsa_key))
        assert info.value.reason == "key_revoked"

    @pytest.mark.parametrize("iat", [int(NOW) - 86400 - 301, int(NOW) + 86400 + 301])
    def test_a_token_outside_its_key_window_is_refused(
        self,
        make_verifier: Any,
        server: FakeVouch,
        rsa_key: SigningKey,
        registry: SigningKey,
        iat: int,
    ) -> None:
        with pytest.raises(OutsideKeyWindow):
            make_verifier(leeway=10**6).verify(_token(rsa_key, iat=iat, exp=iat + 60))

    def test_a_token_living_longer_than_its_key_allows_is_refused(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, registry: SigningKey
    ) -> None:
        server.keys[0] = with_policy(rsa_key, "proof", max_token_lifetime=3600)

        with pytest.raises(TokenLifetimeExceeded):
            make_verifier().verify(_token(rsa_key, exp=int(NOW) + 7200))


class TestEnvironments:
    def test_a_live_verifier_refuses_a_test_proof(
        self, make_verifier: Any, rsa_key: SigningKey
    ) -> None:
        with pytest.raises(EnvironmentMismatch) as info:
            make_verifier().verify(_token(rsa_key, test=True))
        assert info.value.reason == "test_proof"

    def test_a_test_verifier_reads_the_test_key_set_and_refuses_live_proofs(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        verifier = make_verifier(test=True)

        # The fake serves no jwks-test.json: the test verifier never asked the live set.
        with pytest.raises(JWKSUnavailable, match=r"jwks-test\.json"):
            verifier.verify(_token(rsa_key, test=True))
        assert server.jwks_requests == 0

    def test_a_test_verifier_accepts_only_test_proofs(self, rsa_key: SigningKey) -> None:
        from vouch_client import Verifier

        jwks = {"keys": [rsa_key.public_jwk]}
        verifier = Verifier(ISSUER, jwks=jwks, test=True, check_revocation=False, clock=lambda: NOW)
        assert verifier.verify(_token(rsa_key, test=True)).raw["test"] is True
        with pytest.raises(EnvironmentMismatch) as info:
            verifier.verify(_token(rsa_key))
        assert info.value.reason == "live_proof"

    def test_an_unknown_kid_is_still_unknown(
        self, make_verifier: Any, other_rsa_key: SigningKey
    ) -> None:
        with pytest.raises(UnknownKey):
            make_verifier().verify(_token(other_rsa_key))

    def test_a_test_proof_signed_by_a_key_the_live_set_lacks_is_named_a_test_proof(
        self, make_verifier: Any, other_rsa_key: SigningKey
    ) -> None:
        with pytest.raises(EnvironmentMismatch) as info:
            make_verifier().verify(_token(other_rsa_key, test=True))
        assert info.value.reason == "test_proof"
