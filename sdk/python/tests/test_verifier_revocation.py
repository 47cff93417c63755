"""Verifier.verify — checklist step 4: the signed revocation list (fail closed)."""

from __future__ import annotations

from typing import Any

import pytest
from sdk_fakes import NOW, FakeVouch, SigningKey, iso, proof_claims

from vouch_client import ProofRevoked, RevocationListUnavailable

PROOF_ID = "65a1b2c3d4e5f60718293a4b"


def _token(key: SigningKey, proof_id: str = PROOF_ID) -> str:
    return key.sign(proof_claims(sub=proof_id))


class TestVerify:
    def test_proof_in_the_signed_list_is_revoked(
        self, make_verifier: Any, server: FakeVouch, any_key: SigningKey
    ) -> None:
        server.revoke(PROOF_ID, NOW - 30, reason="fraud")

        with pytest.raises(ProofRevoked) as info:
            make_verifier().verify(_token(any_key))
        assert info.value.reason == "revoked"
        assert info.value.revoked_at == iso(NOW - 30)
        assert info.value.revoked_reason == "fraud"

    def test_proof_not_in_the_list_passes(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        server.revoke("ffffffffffffffffffffffff", NOW - 30)

        assert make_verifier().verify(_token(rsa_key)).sub == PROOF_ID
        assert len(server.revocation_requests) == 1

    def test_unsigned_list_fails_closed(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        server.sign_lists = False

        with pytest.raises(RevocationListUnavailable):
            make_verifier().verify(_token(rsa_key))

    def test_list_forged_with_another_key_under_a_known_kid_fails_closed(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, other_rsa_key: SigningKey
    ) -> None:
        server.list_signer = SigningKey("rsa-1", "RS256", other_rsa_key.private, {})

        with pytest.raises(RevocationListUnavailable):
            make_verifier().verify(_token(rsa_key))

    def test_list_signed_with_an_unknown_key_fails_closed(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, other_rsa_key: SigningKey
    ) -> None:
        server.list_signer = other_rsa_key

        with pytest.raises(RevocationListUnavailable):
            make_verifier().verify(_token(rsa_key))

    @pytest.mark.parametrize(
        "override",
        [
            {"type": "email"},
            {"iss": "https://evil.example.com"},
            {"exp": int(NOW) - 1},
            {"revoked": "none"},
            {"cursor": "50"},
            {"since": iso(NOW)},
        ],
        ids=["not-a-list", "wrong-issuer", "expired", "no-entries", "other-page", "partial"],
    )
    def test_list_whose_signed_claims_do_not_fit_the_request_fails_closed(
        self,
        make_verifier: Any,
        server: FakeVouch,
        rsa_key: SigningKey,
        override: dict[str, Any],
    ) -> None:
        server.list_claim_overrides = override

        with pytest.raises(RevocationListUnavailable):
            make_verifier().verify(_token(rsa_key))

    def test_inline_signed_format_ignores_unsigned_json_entries(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        server.sign_entries_inline = True
        server.json_revoked_override = [
            {"proof_id": PROOF_ID, "revoked_at": iso(NOW), "reason": "fraud"}
        ]

        assert make_verifier().verify(_token(rsa_key)).sub == PROOF_ID

    def test_inline_signed_entries_count_even_when_the_json_array_hides_them(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        server.sign_entries_inline = True
        server.revoke(PROOF_ID, NOW - 30)
        server.json_revoked_override = []

        with pytest.raises(ProofRevoked):
            make_verifier().verify(_token(rsa_key))

    def test_entries_matching_the_signed_digest_are_read_from_the_body(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        server.revoke(PROOF_ID, NOW - 30, reason="fraud")

        with pytest.raises(ProofRevoked) as info:
            make_verifier().verify(_token(rsa_key))
        assert info.value.revoked_reason == "fraud"
        page = server.revocation_requests[0]
        assert page.url.path.endswith("/revoked")

    @pytest.mark.parametrize(
        "tampered",
        [
            [],  # an entry hidden
            [{"proof_id": "ffffffffffffffffffffffff", "revoked_at": "x", "reason": "fraud"}],
        ],
    )
    def test_body_entries_that_differ_from_the_signed_digest_fail_closed(
        self,
        make_verifier: Any,
        server: FakeVouch,
        rsa_key: SigningKey,
        tampered: list[dict[str, str]],
    ) -> None:
        server.revoke(PROOF_ID, NOW - 30)
        server.json_revoked_override = tampered

        with pytest.raises(RevocationListUnavailable, match="digest"):
            make_verifier().verify(_token(rsa_key))

    def test_unreachable_list_fails_closed(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        server.fail_revocations = True

        with pytest.raises(RevocationListUnavailable):
            make_verifier().verify(_token(rsa_key))

    def test_check_revocation_false_skips_the_list(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        server.revoke(PROOF_ID, NOW - 30)

        assert make_verifier(check_revocation=False).verify(_token(rsa_key)).sub == PROOF_ID
        assert server.revocation_requests == []

    def test_every_page_is_fetched_by_following_next_cursor(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey
    ) -> None:
        server.page_size = 2
        for n in range(4):
            server.revoke(f"{n:024x}", NOW - 100 + n)
        server.revoke(PROOF_ID, NOW - 50)

        with pytest.raises(ProofRevoked):
            make_verifier().verify(_token(rsa_key))
        cursors = [r.url.params.get("cursor") for r in server.revocation_requests]
        assert cursors == [None, "2", "4"]

    def test_list_is_cached_for_five_minutes(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, clock: Any
    ) -> None:
        verifier = make_verifier()
        verifier.verify(_token(rsa_key))
        clock.advance(299)
        verifier.verify(_token(rsa_key))
        assert len(server.revocation_requests) == 1

        clock.advance(1)
        verifier.verify(_token(rsa_key))
        assert len(server.revocation_requests) == 2

    def test_refresh_asks_for_a_delta_since_the_previous_list_minus_a_minute(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, clock: Any
    ) -> None:
        verifier = make_verifier()
        verifier.verify(_token(rsa_key))
        clock.advance(300)

        verifier.verify(_token(rsa_key))

        first, second = server.revocation_requests
        assert "since" not in first.url.params
        assert second.url.params["since"] == iso(NOW - 60)

    def test_delta_is_merged_with_earlier_revocations(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, clock: Any
    ) -> None:
        early, late = "aaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbb"
        server.revoke(early, NOW - 3600)
        verifier = make_verifier()
        verifier.verify(_token(rsa_key, late))

        server.revoke(late, NOW + 100)
        clock.advance(300)

        with pytest.raises(ProofRevoked):
            verifier.verify(_token(rsa_key, late))
        with pytest.raises(ProofRevoked):
            verifier.verify(_token(rsa_key, early))
        assert len(server.revocation_requests) == 2

    def test_failed_refresh_of_a_stale_list_fails_closed(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, clock: Any
    ) -> None:
        verifier = make_verifier()
        verifier.verify(_token(rsa_key))
        server.fail_revocations = True
        clock.advance(300)

        with pytest.raises(RevocationListUnavailable):
            verifier.verify(_token(rsa_key))

    def test_delta_signed_as_starting_later_than_requested_fails_closed(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, clock: Any
    ) -> None:
        verifier = make_verifier()
        verifier.verify(_token(rsa_key))
        server.list_claim_overrides = {"since": iso(NOW + 240)}
        clock.advance(300)

        with pytest.raises(RevocationListUnavailable):
            verifier.verify(_token(rsa_key))
