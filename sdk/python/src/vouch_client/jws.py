"""Compact JWS verification (RFC 7515 §7.1) on ``cryptography``'s primitives, with strict
base64url.

This is the thin part a verifier has to write itself: split the three segments, decode them as
unpadded canonical base64url (RFC 7515 §2, RFC 4648 §5), and hand the signing input and the
signature to ``cryptography`` with the parameters RFC 7518 §3 fixes for each ``alg``. Everything
else (which key, which algorithm, claims, revocation) stays with the caller, who has already
chosen ``alg`` from an allow-list and the key from a JWKS.

PyJWT spends most of a decode validating base64url character by character in Python; here the
alphabet is checked by one compiled regular expression and the decoding is done by the C
``binascii`` codec, which is what makes offline verification several times cheaper.
"""

from __future__ import annotations

import binascii
import json
import re
from typing import Any

from cryptography.exceptions import InvalidSignature as _CryptographyInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

__all__ = [
    "BadSignature",
    "JWSError",
    "MalformedJWS",
    "b64url_decode",
    "read_header",
    "verify_compact",
]


class JWSError(Exception):
    """A compact JWS that cannot be accepted."""


class MalformedJWS(JWSError):
    """Not a well-formed compact JWS: segments, base64url or JSON."""


class BadSignature(JWSError):
    """Well-formed, but the signature does not verify with this key and algorithm."""


_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")
_INDEX = {
    c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
}

_TO_STANDARD = str.maketrans("-_", "+/")

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
# RFC 7518 §3.4: the curve each ECDSA algorithm is defined on.
_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}


def b64url_decode(segment: str) -> bytes:
    """Unpadded base64url, refusing anything RFC 7515 §2 does not produce: padding, characters
    outside the URL-safe alphabet, an impossible length, and non-zero trailing bits (which would
    let one signature be spelt several ways)."""
    remainder = len(segment) % 4
    if remainder == 1 or not _ALPHABET.fullmatch(segment):
        raise MalformedJWS("segment is not base64url")
    if remainder:
        # The last character carries 4 (length % 4 == 2) or 2 (== 3) unused low bits.
        unused = 0b1111 if remainder == 2 else 0b11
        if _INDEX[segment[-1]] & unused:
            raise MalformedJWS("segment is not canonical base64url")
    try:
        return binascii.a2b_base64((segment + "=" * (-remainder % 4)).translate(_TO_STANDARD))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - the checks above cover it
        raise MalformedJWS("segment is not base64url") from exc


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


def _verify(alg: str, key: Any, signature: bytes, signing_input: bytes) -> None:
    family, bits = alg[:2], alg[2:]
    try:
        if alg == "EdDSA":
            if not isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
                raise BadSignature("EdDSA needs an Ed25519 or Ed448 key")
            key.verify(signature, signing_input)
            return
        digest = _HASHES.get(bits)
        if digest is None:
            raise BadSignature(f"unsupported algorithm {alg!r}")
        if family in ("RS", "PS"):
            if not isinstance(key, rsa.RSAPublicKey):
                raise BadSignature(f"{alg} needs an RSA key")
            if family == "RS":  # RFC 7518 §3.3: RSASSA-PKCS1-v1_5
                key.verify(signature, signing_input, padding.PKCS1v15(), digest())
            else:  # §3.5: RSASSA-PSS with MGF1 on the same hash, salt as long as the hash
                pss = padding.PSS(mgf=padding.MGF1(digest()), salt_length=padding.PSS.DIGEST_LENGTH)
                key.verify(signature, signing_input, pss, digest())
            return
        if family == "ES":
            if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != _CURVES[alg]:
                raise BadSignature(f"{alg} needs a key on {_CURVES[alg]}")
            # §3.4: the signature is R || S, each as long as the curve's order in octets.
            size = (key.curve.key_size + 7) // 8
            if len(signature) != 2 * size:
                raise BadSignature("ECDSA signature has the wrong length")
            r = int.from_bytes(signature[:size], "big")
            s = int.from_bytes(signature[size:], "big")
            key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(digest()))
            return
    except _CryptographyInvalidSignature as exc:
        raise BadSignature("signature verification failed") from exc
    raise BadSignature(f"unsupported algorithm {alg!r}")


def verify_compact(token: str, alg: str, key: Any) -> dict[str, Any]:
    """Verify a compact JWS signed with ``alg`` by ``key`` (a ``cryptography`` public key) and
    return its payload, which must be a JSON object. The header is the caller's to read
    (``read_header``) and check (``alg`` chosen from an allow-list, ``kid``)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedJWS("not a compact JWS (header.payload.signature)")
    header, payload, signature = parts
    signed = b64url_decode(signature)
    b64url_decode(header)  # the same strictness for every segment
    body = b64url_decode(payload)
    _verify(alg, key, signed, f"{header}.{payload}".encode("ascii"))
    try:
        claims = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedJWS("payload is not JSON") from exc
    if not isinstance(claims, dict):
        raise MalformedJWS("payload is not a JSON object")
    return claims
