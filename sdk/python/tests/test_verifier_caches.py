"""Verifier.verify — what the warm path caches must never change an answer.

The header cache maps an exact header segment to its ``(alg, kid)`` and marks the segment as
already decoded; each key's signature check is prepared once per key set. Neither may let a
token through because an earlier token with the same header, kid or key verified."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sdk_fakes import FakeVouch, SigningKey, base64url, make_key, proof_claims

from vouch_client import (
    InvalidSignature,
    KeyRevoked,
    MalformedProof,
    UnknownKey,
)
from vouch_client._verifier import _HEADER_CACHE_SIZE


def header_of(token: str) -> str:
    return token.split(".", 1)[0]


def with_payload(token: str, claims: dict[str, Any]) -> str:
    header, _, signature = token.split(".")
    return f"{header}.{base64url(json.dumps(claims).encode())}.{signature}"


class TestHeaderCache:
    def test_a_forged_payload_under_a_header_already_seen_is_refused(
        self, make_verifier: Any, rsa_key: SigningKey
    ) -> None:
        verifier = make_verifier(check_revocation=False)
        good = rsa_key.sign(proof_claims())
        verifier.verify(good)

        forged = with_payload(good, proof_claims(sub="someone-else"))

        assert header_of(forged) == header_of(good)
        with pytest.raises(InvalidSignature):
            verifier.verify(forged)
        assert verifier.verify(good).sub == proof_claims()["sub"]  # and the good one still is

    def test_a_signature_by_another_key_under_the_same_kid_is_refused_after_a_good_one(
        self, make_verifier: Any, rsa_key: SigningKey
    ) -> None:
        verifier = make_verifier(check_revocation=False)
        verifier.verify(rsa_key.sign(proof_claims()))
        impostor = make_key("RS256", rsa_key.kid)  # same kid, other material: same header

        token = impostor.sign(proof_claims())

        assert header_of(token) == header_of(rsa_key.sign(proof_claims()))
        with pytest.raises(InvalidSignature):
            verifier.verify(token)

    def test_a_key_rotated_under_the_same_kid_replaces_the_old_one_at_the_next_fetch(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, clock: Any
    ) -> None:
        verifier = make_verifier(check_revocation=False)
        claims = proof_claims(exp=int(clock.now) + 2 * 86400)
        old_token = rsa_key.sign(claims)
        verifier.verify(old_token)
        rotated = make_key("RS256", rsa_key.kid)
        server.keys = [rotated if k.kid == rsa_key.kid else k for k in server.keys]
        new_token = rotated.sign(claims)
        assert header_of(new_token) == header_of(old_token)

        # Until the JWKS is refetched the verifier holds the old key, and only that key.
        with pytest.raises(InvalidSignature):
            verifier.verify(new_token)
        clock.advance(86400)

        assert verifier.verify(new_token).sub == claims["sub"]
        assert server.jwks_requests == 2
        with pytest.raises(InvalidSignature):
            verifier.verify(old_token)

    def test_a_kid_dropped_from_the_jwks_is_unknown_though_its_header_is_cached(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, clock: Any
    ) -> None:
        verifier = make_verifier(check_revocation=False)
        token = rsa_key.sign(proof_claims(exp=int(clock.now) + 2 * 86400))
        verifier.verify(token)
        server.keys = [k for k in server.keys if k.kid != rsa_key.kid]
        clock.advance(86400)

        with pytest.raises(UnknownKey):
            verifier.verify(token)

    def test_a_kid_tombstoned_after_it_verified_is_refused(
        self, make_verifier: Any, server: FakeVouch, rsa_key: SigningKey, clock: Any
    ) -> None:
        verifier = make_verifier(check_revocation=False)
        token = rsa_key.sign(proof_claims(exp=int(clock.now) + 2 * 86400))
        verifier.verify(token)
        server.tombstones = [{"kid": rsa_key.kid}]
        clock.advance(86400)

        with pytest.raises(KeyRevoked):
            verifier.verify(token)

    def test_another_alg_for_a_kid_already_seen_is_refused(
        self, make_verifier: Any, rsa_key: SigningKey, ec_key: SigningKey
    ) -> None:
        verifier = make_verifier(check_revocation=False)
        verifier.verify(rsa_key.sign(proof_claims()))
        # An ES256 header naming the RSA key's kid: a new header segment, the same kid.
        token = SigningKey(rsa_key.kid, "ES256", ec_key.private, {}).sign(proof_claims())

        with pytest.raises(InvalidSignature, match="does not match"):
            verifier.verify(token)

    def test_a_malformed_payload_under_a_header_already_seen_is_refused(
        self, make_verifier: Any, rsa_key: SigningKey
    ) -> None:
        verifier = make_verifier(check_revocation=False)
        good = rsa_key.sign(proof_claims())
        verifier.verify(good)
        header, payload, signature = good.split(".")

        for bad in (f"{payload}=", f"+{payload[1:]}", f"{payload[:-1]}\n"):
            with pytest.raises(MalformedProof):
                verifier.verify(f"{header}.{bad}.{signature}")

    def test_a_respelt_header_is_decoded_again_and_refused(
        self, make_verifier: Any, rsa_key: SigningKey
    ) -> None:
        verifier = make_verifier(check_revocation=False)
        good = rsa_key.sign(proof_claims())
        verifier.verify(good)
        header, rest = good.split(".", 1)

        with pytest.raises(MalformedProof):
            verifier.verify(f"{header}=.{rest}")

    def test_a_header_with_claims_of_the_wrong_type_after_a_good_token_is_malformed(
        self, make_verifier: Any, rsa_key: SigningKey
    ) -> None:
        verifier = make_verifier(check_revocation=False)
        verifier.verify(rsa_key.sign(proof_claims()))

        for claims in (proof_claims(iat=True), proof_claims(channel=5), proof_claims(sub="")):
            with pytest.raises(MalformedProof):
                verifier.verify(rsa_key.sign(claims))

    def test_stays_bounded_and_keeps_answering_past_its_size(
        self, make_verifier: Any, ed_key: SigningKey
    ) -> None:
        verifier = make_verifier(check_revocation=False)
        tokens = [ed_key.sign(proof_claims(), {"n": n}) for n in range(_HEADER_CACHE_SIZE + 10)]

        for token in tokens:
            verifier.verify(token)
            assert len(verifier._core._headers) <= _HEADER_CACHE_SIZE
        assert verifier.verify(tokens[0]).type == "email"
        with pytest.raises(InvalidSignature):
            verifier.verify(with_payload(tokens[0], proof_claims(type="phone")))

    def test_a_refused_header_is_not_cached(self, make_verifier: Any, rsa_key: SigningKey) -> None:
        verifier = make_verifier(check_revocation=False)
        token = rsa_key.sign(proof_claims(), {"kid": ""})

        for _ in range(2):
            with pytest.raises(MalformedProof):
                verifier.verify(token)
        assert header_of(token) not in verifier._core._headers


class TestAsyncHeaderCache:
    async def test_a_forged_payload_under_a_header_already_seen_is_refused(
        self, make_async_verifier: Any, rsa_key: SigningKey
    ) -> None:
        verifier = make_async_verifier(check_revocation=False)
        good = rsa_key.sign(proof_claims())
        await verifier.verify(good)

        with pytest.raises(InvalidSignature):
            await verifier.verify(with_payload(good, proof_claims(sub="someone-else")))
