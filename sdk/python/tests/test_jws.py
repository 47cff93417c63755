"""``vouch_client.jws``: compact JWS verification, checked against tokens that two independent
implementations sign (PyJWT and joserfc), and against every malformed or forged shape."""

from __future__ import annotations

import base64
import json
import warnings
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from joserfc import jws as joserfc_jws
from joserfc.jwk import ECKey, OKPKey, RSAKey

from vouch_client.jws import BadSignature, MalformedJWS, b64url_decode, verify_compact

CLAIMS = {"iss": "https://vouch.example", "sub": "abc", "n": 1, "text": "żółw"}

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEYS: dict[str, Any] = {
    "RS256": RSA_KEY,
    "RS384": RSA_KEY,
    "RS512": RSA_KEY,
    "PS256": RSA_KEY,
    "PS384": RSA_KEY,
    "PS512": RSA_KEY,
    "ES256": ec.generate_private_key(ec.SECP256R1()),
    "ES384": ec.generate_private_key(ec.SECP384R1()),
    "ES512": ec.generate_private_key(ec.SECP521R1()),
    "EdDSA": ed25519.Ed25519PrivateKey.generate(),
}
ALGS = list(KEYS)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pyjwt_token(alg: str, claims: dict[str, Any] = CLAIMS) -> str:
    return jwt.encode(claims, KEYS[alg], algorithm=alg, headers={"kid": "k1"})


def joserfc_token(alg: str) -> str:
    private = KEYS[alg]
    if alg.startswith(("RS", "PS")):
        key: Any = RSAKey.import_key(private)
    elif alg.startswith("ES"):
        key = ECKey.import_key(private)
    else:
        key = OKPKey.import_key(private)
    payload = json.dumps(CLAIMS).encode()
    with warnings.catch_warnings():
        # joserfc warns that RFC 9864 deprecates the name "EdDSA"; JWKS and tokens still use it.
        warnings.simplefilter("ignore")
        return joserfc_jws.serialize_compact(
            {"alg": alg, "kid": "k1"}, payload, key, algorithms=[alg]
        )


class TestIndependentSigners:
    @pytest.mark.parametrize("alg", ALGS)
    @pytest.mark.parametrize("signer", [pyjwt_token, joserfc_token], ids=["pyjwt", "joserfc"])
    def test_tokens_they_sign_verify_to_their_claims(self, alg: str, signer: Any) -> None:
        token = signer(alg)
        assert verify_compact(token, alg, KEYS[alg].public_key()) == CLAIMS
        # The same answer PyJWT gives for the same token.
        assert jwt.decode(token, KEYS[alg].public_key(), algorithms=[alg]) == CLAIMS

    def test_ed448_verifies(self) -> None:
        key = ed448.Ed448PrivateKey.generate()
        token = jwt.encode(CLAIMS, key, algorithm="EdDSA")
        assert verify_compact(token, "EdDSA", key.public_key()) == CLAIMS


class TestForgeries:
    @pytest.mark.parametrize("alg", ALGS)
    def test_a_changed_payload_fails(self, alg: str) -> None:
        header, _, signature = pyjwt_token(alg).split(".")
        forged = b64(json.dumps({**CLAIMS, "sub": "someone-else"}).encode())
        with pytest.raises(BadSignature):
            verify_compact(f"{header}.{forged}.{signature}", alg, KEYS[alg].public_key())

    @pytest.mark.parametrize("alg", ALGS)
    def test_a_signature_by_another_key_fails(self, alg: str) -> None:
        other = {
            "RS": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "PS": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ES": lambda: ec.generate_private_key(KEYS[alg].curve),
            "Ed": ed25519.Ed25519PrivateKey.generate,
        }[alg[:2]]()
        token = jwt.encode(CLAIMS, other, algorithm=alg)
        with pytest.raises(BadSignature):
            verify_compact(token, alg, KEYS[alg].public_key())

    def test_pkcs1_is_not_accepted_as_pss_nor_the_reverse(self) -> None:
        public = RSA_KEY.public_key()
        with pytest.raises(BadSignature):
            verify_compact(pyjwt_token("RS256"), "PS256", public)
        with pytest.raises(BadSignature):
            verify_compact(pyjwt_token("PS256"), "RS256", public)

    @pytest.mark.parametrize(
        ("alg", "key"),
        [
            ("RS256", KEYS["ES256"].public_key()),
            ("ES256", RSA_KEY.public_key()),
            ("ES256", KEYS["ES384"].public_key()),  # the right family on the wrong curve
            ("EdDSA", RSA_KEY.public_key()),
            ("HS256", RSA_KEY.public_key()),
            ("none", RSA_KEY.public_key()),
        ],
    )
    def test_a_key_that_does_not_fit_the_algorithm_fails(self, alg: str, key: Any) -> None:
        token = pyjwt_token("RS256" if alg in ("HS256", "none") else alg.replace("EdDSA", "RS256"))
        with pytest.raises(BadSignature):
            verify_compact(token, alg, key)

    def test_an_ecdsa_signature_of_the_wrong_length_fails(self) -> None:
        header, payload, signature = pyjwt_token("ES256").split(".")
        longer = b64(b64url_decode(signature) + b"\x00")
        with pytest.raises(BadSignature):
            verify_compact(f"{header}.{payload}.{longer}", "ES256", KEYS["ES256"].public_key())

    def test_a_der_encoded_ecdsa_signature_fails(self) -> None:
        # RFC 7518 §3.4 wants R || S; a DER signature over the same input is refused.
        from cryptography.hazmat.primitives import hashes

        header, payload, _ = pyjwt_token("ES256").split(".")
        der = KEYS["ES256"].sign(f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
        with pytest.raises(BadSignature):
            verify_compact(f"{header}.{payload}.{b64(der)}", "ES256", KEYS["ES256"].public_key())


class TestMalformed:
    @pytest.mark.parametrize(
        "mangle",
        [
            lambda t: t.rsplit(".", 1)[0],  # two segments
            lambda t: t + ".extra",  # four
            lambda t: t + "=",  # padding
            lambda t: t.replace(".", ".+", 1),  # standard, not URL-safe, alphabet
            lambda t: t[: t.rindex(".") + 1] + "A",  # a signature of impossible length
            lambda t: t + "\n",
            lambda t: " " + t,
        ],
        ids=["two", "four", "padding", "plus", "length", "newline", "space"],
    )
    def test_is_refused_before_any_signature_check(self, mangle: Any) -> None:
        with pytest.raises(MalformedJWS):
            verify_compact(mangle(pyjwt_token("RS256")), "RS256", RSA_KEY.public_key())

    def test_a_non_canonical_respelling_of_the_signature_is_refused(self) -> None:
        token = pyjwt_token("ES256")  # 64-byte signature: 86 characters, 4 unused low bits
        header, payload, signature = token.split(".")
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        last = alphabet[alphabet.index(signature[-1]) | 1]
        respelt = f"{header}.{payload}.{signature[:-1]}{last}"
        assert respelt != token
        # The same bytes to a lenient decoder: one signature, two spellings.
        lenient = base64.urlsafe_b64decode(respelt.rsplit(".", 1)[1] + "==")
        assert lenient == base64.urlsafe_b64decode(signature + "==")
        with pytest.raises(jwt.DecodeError):  # PyJWT refuses it too
            jwt.decode(respelt, KEYS["ES256"].public_key(), algorithms=["ES256"])
        with pytest.raises(MalformedJWS):
            verify_compact(respelt, "ES256", KEYS["ES256"].public_key())

    @pytest.mark.parametrize("payload", [b"[1, 2]", b'"text"', b"not json", b"\xff\xfe"])
    def test_a_payload_that_is_not_a_json_object_is_refused(self, payload: bytes) -> None:
        key = KEYS["EdDSA"]
        header = b64(json.dumps({"alg": "EdDSA"}).encode())
        signing_input = f"{header}.{b64(payload)}"
        token = f"{signing_input}.{b64(key.sign(signing_input.encode()))}"
        with pytest.raises(MalformedJWS):
            verify_compact(token, "EdDSA", key.public_key())
