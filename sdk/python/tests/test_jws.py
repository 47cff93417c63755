"""``vouch_client.jws``: compact JWS verification, checked against tokens that two independent
implementations sign (PyJWT and joserfc), and against every malformed or forged shape."""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
import warnings
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from joserfc import jws as joserfc_jws
from joserfc.jwk import ECKey, OKPKey, RSAKey

from vouch_client.jws import (
    BadSignature,
    MalformedJWS,
    _json_loads,
    b64url_decode,
    read_header,
    signature_check,
    verify_compact,
    verify_compact_with,
)

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


def reference_b64url_decode(segment: str) -> bytes:
    """RFC 7515 §2 base64url spelt out the slow way: the alphabet by a regular expression, the
    length, the unused trailing bits, then the standard codec."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    if not re.fullmatch(r"[A-Za-z0-9_-]*", segment) or len(segment) % 4 == 1:
        raise MalformedJWS("not base64url")
    unused = {0: 0, 2: 0b1111, 3: 0b11}[len(segment) % 4]
    if segment and alphabet.index(segment[-1]) & unused:
        raise MalformedJWS("not canonical")
    return base64.b64decode(
        segment.replace("-", "+").replace("_", "/") + "=" * (-len(segment) % 4), validate=True
    )


def outcome(fn: Any, value: Any) -> Any:
    try:
        return fn(value)
    except Exception as exc:  # the kind of refusal is what is compared
        return type(exc)


class TestB64urlDecode:
    def test_agrees_with_the_reference_on_every_short_string(self) -> None:
        # Characters of every kind: canonical and not, the standard alphabet's two, padding,
        # whitespace, a separator and a non-ASCII letter.
        characters = "AQg9-_+/= \n.é"
        for length in range(6):
            for chars in itertools.product(characters, repeat=length):
                segment = "".join(chars)
                expected = outcome(reference_b64url_decode, segment)
                assert outcome(b64url_decode, segment) == expected, segment

    @pytest.mark.parametrize("size", [0, 1, 2, 3, 32, 64, 255, 256, 512])
    def test_decodes_what_an_encoder_writes(self, size: int) -> None:
        data = bytes(range(256)) * 2
        assert b64url_decode(b64(data[:size])) == data[:size]

    def test_refusals_are_malformed_jws_not_codec_errors(self) -> None:
        for segment in ("QQ==", "Q", "Q+Q", "Qé", "QQ\n", "=QQ"):
            with pytest.raises(MalformedJWS) as caught:
                b64url_decode(segment)
            assert not isinstance(caught.value, binascii.Error)


class TestJsonLoads:
    @pytest.mark.parametrize(
        "data",
        [
            b'{"a": 1, "b": "\xc5\xbc\xc3\xb3\xc5\x82w"}',
            b'{"a": "\\ud800"}',  # an escaped lone surrogate
            b'{"\xed\xa0\x80": 1}',  # a lone surrogate as bytes: json.loads passes it
            b'{"a": "\xff"}',
            b'{"a": 1',
            b"\xef\xbb\xbf{}",  # a UTF-8 BOM
            '{"a": 1}'.encode("utf-16"),
            '{"a": 1}'.encode("utf-16-le"),
            '{"a": 1}'.encode("utf-32-be"),
            b"[1]",
            b'"s"',
            b"",
        ],
    )
    def test_gives_what_json_loads_gives(self, data: bytes) -> None:
        assert repr(outcome(_json_loads, data)) == repr(outcome(json.loads, data))


class TestPreparedChecks:
    @pytest.mark.parametrize("alg", ALGS)
    def test_one_check_verifies_many_tokens_and_refuses_a_forgery_after_them(
        self, alg: str
    ) -> None:
        check = signature_check(alg, KEYS[alg].public_key())
        tokens = [pyjwt_token(alg, {**CLAIMS, "n": n}) for n in range(3)]

        for n, token in enumerate(tokens):
            assert verify_compact_with(token, check)["n"] == n
        header, _, signature = tokens[0].split(".")
        forged = f"{header}.{b64(json.dumps({**CLAIMS, 'n': 9}).encode())}.{signature}"
        with pytest.raises(BadSignature):
            verify_compact_with(forged, check)

    @pytest.mark.parametrize(
        ("alg", "key"),
        [("RS256", KEYS["ES256"].public_key()), ("HS256", RSA_KEY.public_key())],
    )
    def test_a_key_that_does_not_fit_is_refused_only_after_the_token_is_read(
        self, alg: str, key: Any
    ) -> None:
        check = signature_check(alg, key)  # building the check refuses nothing yet
        token = pyjwt_token("RS256")
        with pytest.raises(MalformedJWS):
            verify_compact_with(token + "=", check)
        with pytest.raises(BadSignature):
            verify_compact_with(token, check)

    def test_a_header_the_caller_has_read_is_not_decoded_again(self) -> None:
        token = pyjwt_token("RS256")
        header = token.split(".", 1)[0]
        read_header(token)
        check = signature_check("RS256", RSA_KEY.public_key())

        assert verify_compact_with(token, check, {header}) == CLAIMS
        # The set names exact segments: a respelling of the header is decoded, and refused.
        respelt = token.replace(header, header + "=", 1)
        with pytest.raises(MalformedJWS):
            verify_compact_with(respelt, check, {header})

    @pytest.mark.parametrize("token", [None, b"a.b.c", "a.b", "a.b.c.d"])
    def test_what_is_not_three_segments_is_malformed(self, token: Any) -> None:
        check = signature_check("RS256", RSA_KEY.public_key())
        with pytest.raises(MalformedJWS):
            verify_compact_with(token, check)
