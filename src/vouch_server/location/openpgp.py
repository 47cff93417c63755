"""OpenPGP detached-signature verification (RFC 9580), enough for ProofMode bundles.

ProofMode signs each proof file (and the media) with the device's OpenPGP key and ships the
public key and ``.asc`` detached signatures in the bundle. This module verifies such a
signature with ``cryptography``; it implements only what that needs:

* ASCII armor (RFC 9580 §6) with its CRC-24 checked;
* packet framing, old and new format, partial body lengths (§4.2);
* version 4 public keys and subkeys (§5.5.2): RSA (1, 3), ECDSA on P-256/P-384/P-521 (19),
  EdDSALegacy Ed25519 (22) and Ed25519 (27); v4 fingerprints (§5.5.4);
* version 4 signatures (§5.2.3) over binary (0x00) and text (0x01) documents, and the subkey
  binding signatures (0x18) that let a subkey sign for its primary key (§5.2.4).

Not checked: key expiry, revocation certificates, key-usage flags — the bundle carries no
revocation state, and the verdict is "this key signed these bytes", reported as such.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

TAG_SIGNATURE = 2
TAG_PUBLIC_KEY = 6
TAG_PUBLIC_SUBKEY = 14

SIG_BINARY = 0x00
SIG_TEXT = 0x01
SIG_SUBKEY_BINDING = 0x18

_HASHES: dict[int, type[hashes.HashAlgorithm]] = {
    2: hashes.SHA1,
    8: hashes.SHA256,
    9: hashes.SHA384,
    10: hashes.SHA512,
    11: hashes.SHA224,
}
_CURVES: dict[bytes, ec.EllipticCurve] = {
    bytes.fromhex("2A8648CE3D030107"): ec.SECP256R1(),
    bytes.fromhex("2B81040022"): ec.SECP384R1(),
    bytes.fromhex("2B81040023"): ec.SECP521R1(),
}
_ED25519_LEGACY_OID = bytes.fromhex("2B06010401DA470F01")


class PgpError(ValueError):
    """Malformed or unsupported OpenPGP data."""


# -- armor ---------------------------------------------------------------------------------
def _crc24(data: bytes) -> int:
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def dearmor(text: str | bytes) -> bytes:
    """The binary inside ASCII armor; binary input is returned as it is."""
    if isinstance(text, bytes):
        if not text.lstrip().startswith(b"-----BEGIN PGP "):
            return text  # already binary
        text = text.decode("ascii", errors="replace")
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("-----BEGIN PGP "))
    except StopIteration:
        raise PgpError("no ASCII armor") from None
    body: list[str] = []
    checksum: str | None = None
    i = start + 1
    while i < len(lines) and lines[i]:  # armor headers end at the first blank line
        if ":" not in lines[i]:
            break
        i += 1
    for line in lines[i:]:
        if line.startswith("-----END PGP "):
            break
        if not line:
            continue
        if line.startswith("=") and len(line) == 5:
            checksum = line[1:]
            continue
        body.append(line)
    else:
        raise PgpError("unterminated ASCII armor")
    try:
        data = base64.b64decode("".join(body), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PgpError("bad base64 in ASCII armor") from exc
    if checksum is not None:
        try:
            expected = int.from_bytes(base64.b64decode(checksum, validate=True), "big")
        except (binascii.Error, ValueError) as exc:
            raise PgpError("bad armor checksum") from exc
        if _crc24(data) != expected:
            raise PgpError("armor checksum mismatch")
    return data


# -- packets -------------------------------------------------------------------------------
def packets(data: bytes) -> list[tuple[int, bytes]]:
    """``(tag, body)`` of every packet in ``data``."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        head = data[pos]
        pos += 1
        if not head & 0x80:
            raise PgpError("not an OpenPGP packet")
        if head & 0x40:  # new format
            tag = head & 0x3F
            body = bytearray()
            while True:
                if pos >= len(data):
                    raise PgpError("truncated packet")
                first = data[pos]
                if first < 192:
                    length, pos, partial = first, pos + 1, False
                elif first < 224:
                    if pos + 1 >= len(data):
                        raise PgpError("truncated packet")
                    length = ((first - 192) << 8) + data[pos + 1] + 192
                    pos, partial = pos + 2, False
                elif first == 255:
                    length = int.from_bytes(data[pos + 1 : pos + 5], "big")
                    pos, partial = pos + 5, False
                else:
                    length, pos, partial = 1 << (first & 0x1F), pos + 1, True
                if pos + length > len(data):
                    raise PgpError("truncated packet")
                body += data[pos : pos + length]
                pos += length
                if not partial:
                    break
            out.append((tag, bytes(body)))
        else:
            tag = (head >> 2) & 0x0F
            kind = head & 0x03
            if kind == 3:
                length = len(data) - pos
            else:
                size = (1, 2, 4)[kind]
                length = int.from_bytes(data[pos : pos + size], "big")
                pos += size
            if pos + length > len(data):
                raise PgpError("truncated packet")
            out.append((tag, data[pos : pos + length]))
            pos += length
    return out


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise PgpError("truncated packet body")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def mpi(self) -> bytes:
        bits = self.uint(2)
        return self.take((bits + 7) // 8)


# -- keys ----------------------------------------------------------------------------------
@dataclass
class PublicKey:
    algorithm: int
    body: bytes
    key: Any
    fingerprint: bytes
    is_subkey: bool = False

    @property
    def key_id(self) -> bytes:
        return self.fingerprint[-8:]

    @property
    def hash_material(self) -> bytes:
        return b"\x99" + len(self.body).to_bytes(2, "big") + self.body

    @property
    def fingerprint_hex(self) -> str:
        return self.fingerprint.hex().upper()


def _parse_public_key(body: bytes, is_subkey: bool) -> PublicKey | None:
    reader = _Reader(body)
    if reader.byte() != 4:
        return None  # v3 keys are obsolete, v6 keys are out of scope
    reader.take(4)  # creation time
    algorithm = reader.byte()
    key: Any
    if algorithm in (1, 3):
        n = int.from_bytes(reader.mpi(), "big")
        e = int.from_bytes(reader.mpi(), "big")
        key = rsa.RSAPublicNumbers(e, n).public_key()
    elif algorithm == 19:
        curve = _CURVES.get(reader.take(reader.byte()))
        if curve is None:
            return None
        key = ec.EllipticCurvePublicKey.from_encoded_point(curve, reader.mpi())
    elif algorithm == 22:
        if reader.take(reader.byte()) != _ED25519_LEGACY_OID:
            return None
        point = reader.mpi()
        if len(point) != 33 or point[0] != 0x40:
            raise PgpError("bad EdDSA point")
        key = ed25519.Ed25519PublicKey.from_public_bytes(point[1:])
    elif algorithm == 27:
        key = ed25519.Ed25519PublicKey.from_public_bytes(reader.take(32))
    else:
        return None
    fingerprint = hashlib.sha1(  # noqa: S324 - the v4 fingerprint is defined as SHA-1
        b"\x99" + len(body).to_bytes(2, "big") + body
    ).digest()
    return PublicKey(algorithm, body, key, fingerprint, is_subkey)


# -- signatures ----------------------------------------------------------------------------
@dataclass
class Signature:
    sig_type: int
    algorithm: int
    hash_algorithm: int
    hashed_portion: bytes
    left16: bytes
    values: list[bytes]
    issuer_ids: list[bytes] = field(default_factory=list)
    issuer_fingerprints: list[bytes] = field(default_factory=list)


def _subpackets(data: bytes) -> list[tuple[int, bytes]]:
    out = []
    reader = _Reader(data)
    while reader.pos < len(data):
        first = reader.byte()
        if first < 192:
            length = first
        elif first < 255:
            length = ((first - 192) << 8) + reader.byte() + 192
        else:
            length = reader.uint(4)
        if length < 1:
            raise PgpError("empty subpacket")
        chunk = reader.take(length)
        out.append((chunk[0] & 0x7F, chunk[1:]))
    return out


def parse_signature(body: bytes) -> Signature:
    reader = _Reader(body)
    if reader.byte() != 4:
        raise PgpError("only version 4 signatures are supported")
    sig_type, algorithm, hash_algorithm = reader.byte(), reader.byte(), reader.byte()
    hashed = reader.take(reader.uint(2))
    hashed_portion = body[: reader.pos]
    unhashed = reader.take(reader.uint(2))
    left16 = reader.take(2)
    if algorithm in (1, 3):
        values = [reader.mpi()]
    elif algorithm in (19, 22):
        values = [reader.mpi(), reader.mpi()]
    elif algorithm == 27:
        values = [reader.take(64)]
    else:
        raise PgpError(f"unsupported signature algorithm {algorithm}")
    signature = Signature(sig_type, algorithm, hash_algorithm, hashed_portion, left16, values)
    for kind, data in _subpackets(hashed) + _subpackets(unhashed):
        if kind == 16 and len(data) == 8:
            signature.issuer_ids.append(data)
        elif kind == 33 and len(data) == 21 and data[0] == 4:
            signature.issuer_fingerprints.append(data[1:])
    return signature


def _digest(signature: Signature, payload: bytes) -> bytes:
    algorithm = _HASHES.get(signature.hash_algorithm)
    if algorithm is None:
        raise PgpError(f"unsupported hash algorithm {signature.hash_algorithm}")
    portion = signature.hashed_portion
    trailer = b"\x04\xff" + len(portion).to_bytes(4, "big")
    h = hashes.Hash(algorithm())
    h.update(payload + portion + trailer)
    return h.finalize()


def _check(signature: Signature, key: PublicKey, payload: bytes) -> bool:
    if signature.algorithm != key.algorithm and not (
        signature.algorithm in (1, 3) and key.algorithm in (1, 3)
    ):
        return False
    try:
        digest = _digest(signature, payload)
    except PgpError:
        return False
    if digest[:2] != signature.left16:
        return False
    prehashed = utils.Prehashed(_HASHES[signature.hash_algorithm]())
    try:
        if isinstance(key.key, rsa.RSAPublicKey):
            size = (key.key.key_size + 7) // 8
            raw = signature.values[0].rjust(size, b"\x00")
            key.key.verify(raw, digest, padding.PKCS1v15(), prehashed)
        elif isinstance(key.key, ec.EllipticCurvePublicKey):
            r, s = (int.from_bytes(v, "big") for v in signature.values)
            key.key.verify(utils.encode_dss_signature(r, s), digest, ec.ECDSA(prehashed))
        elif isinstance(key.key, ed25519.Ed25519PublicKey):
            if signature.algorithm == 22:
                raw = signature.values[0].rjust(32, b"\x00") + signature.values[1].rjust(
                    32, b"\x00"
                )
            else:
                raw = signature.values[0]
            key.key.verify(raw, digest)  # OpenPGP EdDSA signs the digest
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def _issued_by(signature: Signature, key: PublicKey) -> bool:
    if signature.issuer_fingerprints:
        return key.fingerprint in signature.issuer_fingerprints
    if signature.issuer_ids:
        return key.key_id in signature.issuer_ids
    return True  # no issuer stated: try every key


def load_public_keys(data: str | bytes) -> list[PublicKey]:
    """The primary key of the first transferable public key, and the subkeys that carry a valid
    binding signature from it (RFC 9580 §10.1)."""
    keys: list[PublicKey] = []
    primary: PublicKey | None = None
    pending: PublicKey | None = None
    for tag, body in packets(dearmor(data)):
        if tag == TAG_PUBLIC_KEY:
            if primary is not None:
                break  # a second key block: only the first is the signer's
            primary = _parse_public_key(body, is_subkey=False)
            if primary is None:
                raise PgpError("unsupported primary key")
            keys.append(primary)
        elif tag == TAG_PUBLIC_SUBKEY and primary is not None:
            pending = _parse_public_key(body, is_subkey=True)
        elif tag == TAG_SIGNATURE and pending is not None and primary is not None:
            try:
                binding = parse_signature(body)
            except PgpError:
                continue
            if binding.sig_type == SIG_SUBKEY_BINDING and _check(
                binding, primary, primary.hash_material + pending.hash_material
            ):
                keys.append(pending)
                pending = None
    if primary is None:
        raise PgpError("no public key")
    return keys


def _canonical_text(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def verify_detached(
    signature_data: str | bytes, message: bytes, keys: list[PublicKey]
) -> PublicKey:
    """The key whose signature over ``message`` is in ``signature_data``; raises ``PgpError``
    when no signature packet there verifies."""
    found = False
    for tag, body in packets(dearmor(signature_data)):
        if tag != TAG_SIGNATURE:
            continue
        found = True
        signature = parse_signature(body)
        if signature.sig_type == SIG_BINARY:
            payload = message
        elif signature.sig_type == SIG_TEXT:
            payload = _canonical_text(message)
        else:
            continue
        for key in keys:
            if _issued_by(signature, key) and _check(signature, key, payload):
                return key
    raise PgpError("signature does not verify" if found else "no signature packet")
