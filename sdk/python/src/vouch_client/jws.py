"""Compact JWS verification (RFC 7515 §7.1) on ``cryptography``'s primitives, with strict
base64url.

This is the thin part a verifier has to write itself: split the three segments, decode them as
unpadded canonical base64url (RFC 7515 §2, RFC 4648 §5), and hand the signing input and the
signature to ``cryptography`` with the parameters RFC 7518 §3 fixes for each ``alg``. Everything
else (which key, which algorithm, claims, revocation) stays with the caller, who has already
chosen ``alg`` from an allow-list and the key from a JWKS.

PyJWT spends most of a decode validating base64url character by character in Python; here one
bytes translation maps the URL-safe alphabet onto the standard one (and everything else onto a
character the codec refuses) and the C ``binascii`` codec decodes in strict mode, which is what
makes offline verification several times cheaper. A verifier that checks many tokens resolves
each key's padding, hash and curve once (``signature_check``) and skips re-decoding header
segments it has already read (``verify_compact_with``).
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Callable, Container
from typing import Any

from cryptography.exceptions import InvalidSignature as _CryptographyInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

__all__ = [
    "BadSignature",
    "JWSError",
    "MalformedJWS",
    "SignatureCheck",
    "b64url_decode",
    "read_header",
    "signature_check",
    "verify_compact",
    "verify_compact_with",
]


class JWSError(Exception):
    """A compact JWS that cannot be accepted."""


class MalformedJWS(JWSError):
    """Not a well-formed compact JWS: segments, base64url or JSON."""


class BadSignature(JWSError):
    """Well-formed, but the signature does not verify with this key and algorithm."""


# One bytes table does the URL-safe to standard mapping and, by sending "+", "/" and "=" to a
# character the strict codec refuses, also the alphabet check: what reaches the C decoder is
# standard base64 exactly when the segment was unpadded base64url.
_TO_STANDARD = bytes.maketrans(b"-_+/=", b"+/!!!")
_PADDING = (b"", b"", b"==", b"=")
# The value of each base64url character, for the canonical-trailing-bits check.
_INDEX = {
    c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
}

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
# RFC 7518 §3.4: the curve each ECDSA algorithm is defined on.
_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}

SignatureCheck = Callable[[bytes, bytes], None]
"""``check(signature, signing_input)``: returns, or raises :class:`BadSignature`."""


def b64url_decode(segment: str) -> bytes:
    """Unpadded base64url, refusing anything RFC 7515 §2 does not produce: padding, characters
    outside the URL-safe alphabet, an impossible length, and non-zero trailing bits (which would
    let one signature be spelt several ways)."""
    remainder = len(segment) % 4
    if remainder == 1:
        raise MalformedJWS("segment is not base64url")
    if remainder:
        # The last character carries 4 (length % 4 == 2) or 2 (== 3) unused low bits.
        value = _INDEX.get(segment[-1])
        if value is None:
            raise MalformedJWS("segment is not base64url")
        if value & (0b1111 if remainder == 2 else 0b11):
            raise MalformedJWS("segment is not canonical base64url")
    try:
        standard = segment.encode("ascii").translate(_TO_STANDARD) + _PADDING[remainder]
        return binascii.a2b_base64(standard, strict_mode=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise MalformedJWS("segment is not base64url") from exc


_decode_json = json.JSONDecoder().decode


def _json_loads(data: bytes) -> Any:
    """``json.loads(data)``, exactly, without its encoding sniff in the usual case: a payload
    that opens with ``{"`` has no BOM and no zero byte in its first two octets, which is what
    ``json.detect_encoding`` reads as UTF-8."""
    if data.startswith(b'{"'):
        return _decode_json(data.decode("utf-8", "surrogatepass"))
    return json.loads(data)


def read_header(token: object) -> dict[str, Any]:
    """The protected header of a compact JWS, decoded as strictly as ``verify_compact`` decodes
    the rest: three segments, canonical base64url, a JSON object. Nothing in it is trusted yet; the
    caller picks ``alg`` (from its allow-list) and the key (by ``kid``) from it, then verifies.

    A header with ``crit`` or ``b64`` is refused: RFC 7515 §4.1.11 obliges a verifier to reject
    extensions it does not implement, and this one implements none (RFC 7797's unencoded payload,
    which ``b64`` switches on, among them)."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise MalformedJWS("not a compact JWS (header.payload.signature)")
    segment = token[: token.index(".")]
    try:
        header = json.loads(b64url_decode(segment))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedJWS("header is not JSON") from exc
    if not isinstance(header, dict):
        raise MalformedJWS("header is not a JSON object")
    if "crit" in header or "b64" in header:
        raise MalformedJWS("header asks for extensions this verifier does not implement")
    return header


def _refuse(why: str) -> SignatureCheck:
    def check(signature: bytes, signing_input: bytes) -> None:
        raise BadSignature(why)

    return check


def signature_check(alg: str, key: Any) -> SignatureCheck:
    """The RFC 7518 §3 verification of ``alg`` with ``key`` (a ``cryptography`` public key),
    resolved once: the key's type and curve are checked and the padding and hash chosen here, so
    a caller verifying many tokens with one key pays for that once. A key that does not fit
    ``alg`` (or an ``alg`` outside RFC 7518 §3's asymmetric ones) gives a check that refuses
    every signature, so the refusal comes after the token's own well-formedness checks."""
    if alg == "EdDSA":  # RFC 8037 §3.1
        if not isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            return _refuse("EdDSA needs an Ed25519 or Ed448 key")
        verify_eddsa = key.verify

        def check_eddsa(signature: bytes, signing_input: bytes) -> None:
            try:
                verify_eddsa(signature, signing_input)
            except _CryptographyInvalidSignature as exc:
                raise BadSignature("signature verification failed") from exc

        return check_eddsa
    family, digest = alg[:2], _HASHES.get(alg[2:])
    if digest is None or family not in ("RS", "PS", "ES"):
        return _refuse(f"unsupported algorithm {alg!r}")
    if family in ("RS", "PS"):
        if not isinstance(key, rsa.RSAPublicKey):
            return _refuse(f"{alg} needs an RSA key")
        verify_rsa = key.verify
        rsa_padding: padding.AsymmetricPadding = (
            padding.PKCS1v15()  # RFC 7518 §3.3: RSASSA-PKCS1-v1_5
            # §3.5: RSASSA-PSS with MGF1 on the same hash, salt as long as the hash
            if family == "RS"
            else padding.PSS(mgf=padding.MGF1(digest()), salt_length=padding.PSS.DIGEST_LENGTH)
        )
        rsa_hash = digest()

        def check_rsa(signature: bytes, signing_input: bytes) -> None:
            try:
                verify_rsa(signature, signing_input, rsa_padding, rsa_hash)
            except _CryptographyInvalidSignature as exc:
                raise BadSignature("signature verification failed") from exc

        return check_rsa
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != _CURVES[alg]:
        return _refuse(f"{alg} needs a key on {_CURVES[alg]}")
    # §3.4: the signature is R || S, each as long as the curve's order in octets.
    size = (key.curve.key_size + 7) // 8
    verify_ec = key.verify
    ecdsa = ec.ECDSA(digest())

    def check_ecdsa(signature: bytes, signing_input: bytes) -> None:
        if len(signature) != 2 * size:
            raise BadSignature("ECDSA signature has the wrong length")
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        try:
            verify_ec(encode_dss_signature(r, s), signing_input, ecdsa)
        except _CryptographyInvalidSignature as exc:
            raise BadSignature("signature verification failed") from exc

    return check_ecdsa


def verify_compact(token: str, alg: str, key: Any) -> dict[str, Any]:
    """Verify a compact JWS signed with ``alg`` by ``key`` (a ``cryptography`` public key) and
    return its payload, which must be a JSON object. The header is the caller's to read
    (``read_header``) and check (``alg`` chosen from an allow-list, ``kid``)."""
    return verify_compact_with(token, signature_check(alg, key))


def verify_compact_with(
    token: str, check: SignatureCheck, read_headers: Container[str] = ()
) -> dict[str, Any]:
    """``verify_compact`` with the key's check resolved beforehand (``signature_check``).

    ``read_headers`` holds header segments the caller has already decoded with ``read_header``
    (so each is known to be canonical base64url of a JSON object); a token whose header segment
    is one of them is not decoded again. Every other segment is decoded as strictly as ever."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise MalformedJWS("not a compact JWS (header.payload.signature)")
    signing_input, _, signature = token.rpartition(".")
    header, _, payload = signing_input.partition(".")
    signed = b64url_decode(signature)
    if header not in read_headers:
        b64url_decode(header)  # the same strictness for every segment
    body = b64url_decode(payload)
    # All three segments decoded, so the signing input is ASCII.
    check(signed, signing_input.encode("ascii"))
    try:
        claims = _json_loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedJWS("payload is not JSON") from exc
    if not isinstance(claims, dict):
        raise MalformedJWS("payload is not a JSON object")
    return claims
