"""Signed records (Minka Ledger format): hash records, sign proofs, verify what a server returns.

A record is ``{luid, hash, data, meta: {proofs, …}}`` with

    hash   = sha256_hex(stable_stringify(data))
    digest = sha256_hex(hash + stable_stringify(custom))   # or sha256_hex(hash) with no custom
    proof  = {method: "ed25519-v2", public, digest, result, custom?}

where ``public`` is the signer's raw 32-byte Ed25519 key in base64 and ``result`` the base64
Ed25519 signature (RFC 8032) over the 32 bytes of ``digest``. ``stable_stringify`` is JavaScript's
``JSON.stringify`` with object keys sorted (by UTF-16 code units) and no whitespace; numbers are
written as ECMAScript writes them (``1.0`` → ``1``, ``1e21`` → ``1e+21``), and integers beyond
2^53 − 1, which JavaScript cannot hold exactly, are refused (send them as strings).

Everything here is offline: nothing talks to a server.

    >>> keys = KeyPair.generate()
    >>> data = {"handle": "vendor-42", "name": "Acme"}
    >>> proof = sign_proof(keys, record_hash(data), {"status": "approved"})
    >>> verify_proof(proof, record_hash(data))
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "MAX_SAFE_INTEGER",
    "METHOD",
    "KeyPair",
    "RecordVerificationError",
    "UnsafeNumber",
    "proof_digest",
    "record_hash",
    "sha256_hex",
    "sign_proof",
    "stable_stringify",
    "verify_changes",
    "verify_list",
    "verify_proof",
    "verify_record",
]

METHOD = "ed25519-v2"
MAX_SAFE_INTEGER = 2**53 - 1


class UnsafeNumber(ValueError):
    """A value JSON cannot carry exactly between implementations (big integer, NaN, infinity)."""


class RecordVerificationError(ValueError):
    """A record, list or history that does not verify.

    ``reason`` is stable: ``hash-mismatch``, ``digest-mismatch``, ``signature-invalid``,
    ``unsupported-method``, ``malformed``, ``system-proof-missing``, ``chain-broken``.
    ``index`` is the position of the offending version (``verify_changes``) or proof.
    """

    def __init__(self, reason: str, message: str, *, index: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.index = index


# -- stable stringify --------------------------------------------------------------------------
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def _string(text: str) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20 or 0xD800 <= code <= 0xDFFF:
            # Control characters, and lone surrogates (well-formed JSON.stringify, ES2019).
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _number(value: int | float) -> str:
    """ECMAScript ``Number::toString`` (ECMA-262 §6.1.6.1.20) for JSON numbers."""
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise UnsafeNumber(
                f"{value} is beyond 2^53 - 1 and cannot be carried exactly; send it as a string"
            )
        return str(value)
    if not math.isfinite(value):
        raise UnsafeNumber("NaN and infinities are not JSON numbers")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr() gives the shortest digits that round-trip, which is what ECMAScript asks for.
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    all_digits = whole + fraction
    stripped = all_digits.lstrip("0")
    n = len(whole) - (len(all_digits) - len(stripped)) + (int(exponent) if exponent else 0)
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mark = ("+" if e >= 0 else "-") + str(abs(e))
        text = digits + "e" + mark if k == 1 else digits[0] + "." + digits[1:] + "e" + mark
    return sign + text


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def stable_stringify(value: Any) -> str:
    """Canonical JSON text of ``value`` as Minka Ledger (and RFC 8785) writes it."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise TypeError("object keys must be strings")
        keys = sorted(value, key=_utf16_key)
        return "{" + ",".join(_string(k) + ":" + stable_stringify(value[k]) for k in keys) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(stable_stringify(item) for item in value) + "]"
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_hash(data: Any) -> str:
    """A record's hash: ``sha256_hex(stable_stringify(data))``."""
    return sha256_hex(stable_stringify(data))


def proof_digest(record_hash_hex: str, custom: Mapping[str, Any] | None = None) -> str:
    """What a proof signs, as Minka's ``createSignatureDigest``: ``sha256_hex(hash +
    stable_stringify(custom))``, and ``sha256_hex(hash)`` alone for a proof without ``custom``
    (absent or ``null``). ``{}`` is a custom like any other: it appends ``"{}"``."""
    suffix = "" if custom is None else stable_stringify(dict(custom))
    return sha256_hex(record_hash_hex + suffix)


# -- keys and signing ----------------------------------------------------------------------------
def _b64decode(text: Any, what: str, size: int) -> bytes:
    if not isinstance(text, str):
        raise RecordVerificationError("malformed", f"{what} must be a base64 string")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise RecordVerificationError("malformed", f"{what} is not valid base64") from exc
    if len(raw) != size:
        raise RecordVerificationError("malformed", f"{what} must be {size} bytes")
    return raw


@dataclass(frozen=True)
class KeyPair:
    """An Ed25519 key pair in Minka's ``ed25519-raw`` format (``public``/``secret`` base64)."""

    public: str
    secret: str
    format: str = "ed25519-raw"

    @classmethod
    def generate(cls) -> KeyPair:
        return cls.from_private_key(Ed25519PrivateKey.generate())

    @classmethod
    def from_secret(cls, secret: str) -> KeyPair:
        """From the base64 32-byte seed (``keyPair.secret`` in Minka's SDK)."""
        seed = _b64decode(secret, "secret", 32)
        return cls.from_private_key(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_private_key(cls, key: Ed25519PrivateKey) -> KeyPair:
        seed = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return cls(base64.b64encode(public).decode(), base64.b64encode(seed).decode())

    def private_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(_b64decode(self.secret, "secret", 32))


def sign_proof(
    key: KeyPair | Ed25519PrivateKey,
    record_hash_hex: str,
    custom: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A proof by ``key`` over a record's hash, carrying ``custom`` (status, labels, moment, …).

    Without ``custom`` the proof signs the hash alone and has no ``custom`` member, as Minka's
    ``signHash(hash, keyPair)`` does."""
    private = key.private_key() if isinstance(key, KeyPair) else key
    body = None if custom is None else dict(custom)
    digest = proof_digest(record_hash_hex, body)
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    proof: dict[str, Any] = {
        "method": METHOD,
        "public": base64.b64encode(public).decode(),
        "digest": digest,
        "result": base64.b64encode(private.sign(bytes.fromhex(digest))).decode(),
    }
    if body is not None:
        proof["custom"] = body
    return proof


# -- verification --------------------------------------------------------------------------------
def verify_proof(
    proof: Mapping[str, Any], record_hash_hex: str, *, index: int | None = None
) -> None:
    """Check that ``proof`` signs ``record_hash_hex``; raises ``RecordVerificationError``."""
    if not isinstance(proof, Mapping):
        raise RecordVerificationError("malformed", "a proof must be an object", index=index)
    if proof.get("method") != METHOD:
        raise RecordVerificationError(
            "unsupported-method", f"proof method must be {METHOD!r}", index=index
        )
    custom = proof.get("custom")
    if custom is not None and not isinstance(custom, Mapping):
        raise RecordVerificationError("malformed", "proof custom must be an object", index=index)
    digest = proof_digest(record_hash_hex, custom)
    if proof.get("digest") != digest:
        raise RecordVerificationError(
            "digest-mismatch", "the proof does not sign this hash and custom", index=index
        )
    public = _b64decode(proof.get("public"), "public", 32)
    signature = _b64decode(proof.get("result"), "result", 64)
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, bytes.fromhex(digest))
    except InvalidSignature as exc:
        raise RecordVerificationError(
            "signature-invalid", "the proof's signature does not verify", index=index
        ) from exc


def _require_system(proofs: Sequence[Any], system_public: str | None, index: int | None) -> None:
    if system_public is None:
        return
    if not any(isinstance(p, Mapping) and p.get("public") == system_public for p in proofs):
        raise RecordVerificationError(
            "system-proof-missing", "no proof by the server's system signer", index=index
        )


def verify_record(
    record: Mapping[str, Any], *, system_public: str | None = None, index: int | None = None
) -> None:
    """Check a record: its hash is its data's, and every proof in ``meta.proofs`` signs it.

    With ``system_public`` (the key of ``GET /v2/signers/system``), one of the proofs must be
    the server's own.
    """
    data = record.get("data")
    if not isinstance(data, Mapping):
        raise RecordVerificationError("malformed", "a record's data must be an object", index=index)
    if record.get("hash") != record_hash(data):
        raise RecordVerificationError(
            "hash-mismatch", "the record's hash is not the hash of its data", index=index
        )
    meta = record.get("meta") or {}
    proofs = meta.get("proofs", []) if isinstance(meta, Mapping) else None
    if not isinstance(proofs, list):
        raise RecordVerificationError("malformed", "meta.proofs must be a list", index=index)
    for proof in proofs:
        verify_proof(proof, str(record["hash"]), index=index)
    _require_system(proofs, system_public, index)


def _items(value: Mapping[str, Any] | Sequence[Any]) -> list[Any]:
    items = value.get("data") if isinstance(value, Mapping) else value
    if not isinstance(items, list):
        raise RecordVerificationError("malformed", "expected a list of records")
    return items


def verify_list(envelope: Mapping[str, Any], *, system_public: str) -> None:
    """Check a list response ``{hash, data, meta: {proofs}}``: ``hash`` covers ``data`` and the
    server's system signer signed it. (Each record in it can be checked with ``verify_record``.)
    """
    items = _items(envelope)
    if envelope.get("hash") != sha256_hex(stable_stringify(items)):
        raise RecordVerificationError("hash-mismatch", "the list's hash is not that of its data")
    meta = envelope.get("meta") or {}
    proofs = meta.get("proofs", []) if isinstance(meta, Mapping) else []
    for proof in proofs:
        verify_proof(proof, str(envelope["hash"]))
    _require_system(proofs, system_public, None)


def verify_changes(
    changes: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    system_public: str | None = None,
    current_hash: str | None = None,
) -> None:
    """Check a record's history (``GET /v2/{resource}/{id}/changes``).

    Every version must verify as a record; the first has no ``data.parent`` and each later one's
    ``data.parent`` is the hash of the one before, so an altered, removed, inserted or reordered
    version breaks the chain. ``current_hash`` (from ``GET /v2/{resource}/{id}``) pins the end of
    the chain, so a truncated history is caught too.
    """
    versions = _items(changes)
    if not versions:
        raise RecordVerificationError("chain-broken", "a record has at least one version")
    previous: str | None = None
    for index, version in enumerate(versions):
        if not isinstance(version, Mapping):
            raise RecordVerificationError("malformed", "a version must be an object", index=index)
        verify_record(version, system_public=system_public, index=index)
        parent = version["data"].get("parent")
        if parent != previous:
            raise RecordVerificationError(
                "chain-broken",
                "the first version has a parent"
                if previous is None
                else "data.parent is not the previous version's hash",
                index=index,
            )
        previous = str(version["hash"])
    if current_hash is not None and previous != current_hash:
        raise RecordVerificationError(
            "chain-broken", "the history does not end at the record's current hash"
        )
