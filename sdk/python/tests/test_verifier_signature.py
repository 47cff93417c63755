"""Verifier.verify — checklist step 1: token structure, algorithm and signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sdk_fakes import ISSUER, FakeVouch, SigningKey, proof_claims, sha256_hex

from vouch_client import (
    InvalidSignature,
    MalformedProof,
    ProofClaims,
    UnknownKey,
    Verifier,
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segments(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


class TestVerify:
    def test_valid_token_returns_its_claims(self, make_verifier: Any, any_key: SigningKey) -> None:
        claims = proof_claims()
        token = any_key.sign(claims)

        result = make_verifier().verify(token)

        assert isinstance(result, ProofClaims)
        assert result.iss == ISSUER
        assert result.sub == result.proof_id == claims["sub"]
        assert (result.iat, result.exp) == (claims["iat"], claims["exp"])
        assert result.type == "email"
        assert result.channel == "email_otp"
        assert result.identifier_hash == sha256_hex("alice@example.com")
        assert result.verified_at == claims["verified_at"]
        assert result.user_id == "user_123"
        assert result.jti == claims["jti"]
        assert result.proof_schema_version == "1.0"
        assert result.raw == claims

    def test_claims_a_proof_family_lacks_are_none(
        self, make_verifier: Any, rsa_key: SigningKey
    ) -> None:
        token = rsa_key.sign(proof_claims(type="agent", channel=None, identifier_hash=None))

        result = make_verifier().verify(token)

        assert result.type == "agent"
        assert result.channel is None
        assert result.identifier_hash is None

    def test_tampered_payload_is_an_invalid_signature(
        self, make_verifier: Any, any_key: SigningKey
    ) -> None:
        header, _, signature = any_key.sign(proof_claims()).split(".")
        forged_payload = _b64(json.dumps(proof_claims(type="phone")).encode())

        with pytest.raises(InvalidSignature) as info:
            make_verifier().verify(f"{header}.{forged_payload}.{signature}")
        assert info.value.reason == "invalid_signature"

    def test_token_signed_with_an_unpublished_key_under_a_known_kid_is_rejected(
        self, make_verifier: Any, other_rsa_key: SigningKey
    ) -> None:
        token = other_rsa_key.sign(proof_claims(), headers={"kid": "rsa-1"})

        with pytest.raises(InvalidSignature):
            make_verifier().verify(token)

    def test_alg_none_is_rejected(self, make_verifier: Any) -> None:
        token = _segments({"alg": "none", "typ": "JWT", "kid": "rsa-1"}, proof_claims()) + "."

        with pytest.raises(InvalidSignature):
            make_verifier().verify(token)

    def test_hs256_keyed_with_the_rsa_public_key_is_rejected(
        self, make_verifier: Any, rsa_key: SigningKey
    ) -> None:
        pem = rsa_key.private.public_key().public_bytes(
            Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
        )
        signing_input = _segments({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}, proof_claims())
        mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()

        with pytest.raises(InvalidSignature):
            make_verifier().verify(f"{signing_input}.{_b64(mac)}")

    def test_alg_outside_the_configured_algorithms_is_rejected_before_any_fetch(
        self, make_verifier: Any, ec_key: SigningKey, server: FakeVouch
    ) -> None:
        verifier = make_verifier(algorithms=("RS256",))

        with pytest.raises(InvalidSignature):
            verifier.verify(ec_key.sign(proof_claims()))
        assert server.requests == []

    def test_alg_that_does_not_match_the_keys_type_is_rejected(
        self, make_verifier: Any, ec_key: SigningKey
    ) -> None:
        token = ec_key.sign(proof_claims(), headers={"kid": "rsa-1"})  # ES256 under an RSA kid

        with pytest.raises(InvalidSignature):
            make_verifier().verify(token)

    @pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "a.b", "e30.e30.e30.e30"])
    def test_garbage_is_malformed(self, make_verifier: Any, token: str) -> None:
        with pytest.raises(MalformedProof) as info:
            make_verifier().verify(token)
        assert info.value.reason == "malformed"

    def test_header_without_kid_is_malformed(self, make_verifier: Any, rsa_key: SigningKey) -> None:
        token = jwt.encode(proof_claims(), rsa_key.private, algorithm="RS256")

        with pytest.raises(MalformedProof):
            make_verifier().verify(token)

    def test_unknown_kid_is_an_unknown_key(
        self, make_verifier: Any, other_rsa_key: SigningKey
    ) -> None:
        with pytest.raises(UnknownKey) as info:
            make_verifier().verify(other_rsa_key.sign(proof_claims()))
        assert info.value.reason == "unknown_key"

    @pytest.mark.parametrize("claim", ["iss", "sub", "iat", "exp", "type"])
    def test_missing_required_claim_is_malformed(
        self, make_verifier: Any, rsa_key: SigningKey, claim: str
    ) -> None:
        claims = proof_claims()
        del claims[claim]

        with pytest.raises(MalformedProof):
            make_verifier().verify(rsa_key.sign(claims))

    @pytest.mark.parametrize(("claim", "value"), [("exp", "soon"), ("channel", 5), ("sub", "")])
    def test_claim_of_the_wrong_type_is_malformed(
        self, make_verifier: Any, rsa_key: SigningKey, claim: str, value: object
    ) -> None:
        with pytest.raises(MalformedProof):
            make_verifier().verify(rsa_key.sign(proof_claims(**{claim: value})))

    def test_static_jwks_verifies_without_any_request(
        self, rsa_key: SigningKey, server: FakeVouch, http_client: Any
    ) -> None:
        verifier = Verifier(
            ISSUER,
            jwks={"keys": [rsa_key.public_jwk]},
            check_revocation=False,
            http_client=http_client,
            clock=server.clock,
        )

        assert verifier.verify(rsa_key.sign(proof_claims())).type == "email"
        assert server.requests == []
