"""Bitcoin message signatures, verified against a mainnet address.

BIP-137 ("Signatures of Messages using Private Keys")
    65 bytes, base64: a header byte then the compact ``r || s``. The header says how to recover the
    key and which address it stands for: 27-30 P2PKH with an uncompressed key, 31-34 P2PKH with a
    compressed key, 35-38 P2SH-P2WPKH, 39-42 P2WPKH (BIP-137 §"Procedure for signing/verifying").
    The signed digest is ``SHA256d("\\x18Bitcoin Signed Message:\\n" || CompactSize(len) || m)``.
    The key is recovered (libsecp256k1 through coincurve), the address derived from it and compared
    with the claimed one. Many wallets (Electrum, Sparrow, Bitcoin Core's descendants) write the
    31-34 header for their segwit addresses too, so a 31-34 signature is accepted for the P2PKH,
    P2SH-P2WPKH and P2WPKH address of the recovered compressed key: each is derived from the key the
    signature proves, so none can be claimed without it.

BIP-322 "simple" (§"Simple", §"Full", §"Verification Process")
    The base64 of a consensus-encoded witness stack. ``to_spend`` commits to
    ``message_hash = sha256_tag("BIP0322-signed-message", m)`` (BIP-340 tagged hash) and pays the
    address's scriptPubKey; ``to_sign`` spends it with the witness. Supported scripts, i.e. those
    this module can check without a script interpreter (others are *inconclusive* per the BIP):

    * P2WPKH (``bc1q…``, 20 bytes): witness ``[signature, pubkey]``; ECDSA over the BIP-143 sighash
      with scriptCode ``OP_DUP OP_HASH160 <hash160> OP_EQUALVERIFY OP_CHECKSIG``; strict DER,
      low S (libsecp256k1 refuses high S), SIGHASH_ALL only, compressed key.
    * P2TR key path (``bc1p…``): witness ``[signature]``; BIP-340 Schnorr against the output key
      over the BIP-341 ``TapSighash`` (SIGHASH_DEFAULT 64 bytes, or 65 with SIGHASH_ALL).

    P2WSH, taproot script paths, P2SH-wrapped segwit (whose scriptSig does not fit the simple
    format) and "full" signatures are not verified.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Final, Literal

import base58
import bech32
from coincurve import PublicKey, PublicKeyXOnly

BIP137_MAGIC: Final = b"\x18Bitcoin Signed Message:\n"
BIP322_TAG: Final = b"BIP0322-signed-message"
_BECH32M_CONST: Final = 0x2BC830A3
SIGHASH_DEFAULT: Final = 0x00
SIGHASH_ALL: Final = 0x01

ScriptKind = Literal["p2pkh", "p2sh", "p2wpkh", "p2wsh", "p2tr", "witness_unknown"]


class MalformedSignature(ValueError):
    """Bytes that are neither a BIP-137 signature nor a BIP-322 witness stack."""


class Unsupported(ValueError):
    """A valid-looking BIP-322 signature for a script this verifier cannot evaluate."""


# --------------------------------------------------------------------------- primitives


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hash256(data: bytes) -> bytes:
    return sha256(sha256(data))


def ripemd160(data: bytes) -> bytes:
    try:
        return hashlib.new("ripemd160", data).digest()
    except ValueError:  # OpenSSL 3 without its legacy provider has no RIPEMD-160
        from Crypto.Hash import RIPEMD160

        digest: bytes = RIPEMD160.new(data).digest()
        return digest


def hash160(data: bytes) -> bytes:
    return ripemd160(sha256(data))


def tagged_hash(tag: bytes, data: bytes) -> bytes:
    """BIP-340 §"Design": ``SHA256(SHA256(tag) || SHA256(tag) || data)``."""
    tag_hash = sha256(tag)
    return sha256(tag_hash + tag_hash + data)


def compact_size(n: int) -> bytes:
    """Bitcoin's CompactSize unsigned integer."""
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + n.to_bytes(2, "little")
    if n <= 0xFFFFFFFF:
        return b"\xfe" + n.to_bytes(4, "little")
    return b"\xff" + n.to_bytes(8, "little")


def _read_compact_size(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise MalformedSignature("truncated witness")
    first = data[pos]
    widths = {0xFD: 2, 0xFE: 4, 0xFF: 8}
    if first not in widths:
        return first, pos + 1
    width = widths[first]
    if pos + 1 + width > len(data):
        raise MalformedSignature("truncated witness")
    value = int.from_bytes(data[pos + 1 : pos + 1 + width], "little")
    if value < {2: 0xFD, 4: 0x10000, 8: 0x100000000}[width]:
        raise MalformedSignature("non-canonical CompactSize")
    return value, pos + 1 + width


def _script_push(data: bytes) -> bytes:
    if len(data) >= 0x4C:
        raise ValueError("only direct pushes are needed here")
    return bytes([len(data)]) + data


# --------------------------------------------------------------------------- addresses


@dataclass(frozen=True)
class ScriptPubKey:
    kind: ScriptKind
    program: bytes  # the hash, key or witness program the script commits to
    script: bytes


def _segwit_decode(address: str) -> tuple[int, bytes]:
    """BIP-173/BIP-350 decoding of a ``bc1`` address (checksum variant checked per version)."""
    text = address.lower()
    hrp, _, data_part = text.rpartition("1")
    charset: str = bech32.CHARSET
    if hrp != "bc" or len(data_part) < 7 or any(c not in charset for c in data_part):
        raise ValueError("not a mainnet segwit address")
    data = [charset.index(c) for c in data_part]
    residue = int(bech32.bech32_polymod(bech32.bech32_hrp_expand(hrp) + data))
    version = data[0]
    if residue != (1 if version == 0 else _BECH32M_CONST):
        raise ValueError("bad bech32/bech32m checksum")
    converted = bech32.convertbits(data[1:-6], 5, 8, False)
    if converted is None or not 2 <= len(converted) <= 40:
        raise ValueError("bad witness program")
    return version, bytes(converted)


def script_pubkey(address: str) -> ScriptPubKey:
    """The scriptPubKey a mainnet address stands for."""
    if address.lower().startswith("bc1"):
        version, program = _segwit_decode(address)
        opcode = 0 if version == 0 else 0x50 + version  # OP_0 / OP_1..OP_16
        script = bytes([opcode]) + _script_push(program)
        kind: ScriptKind
        if version == 0 and len(program) == 20:
            kind = "p2wpkh"
        elif version == 0 and len(program) == 32:
            kind = "p2wsh"
        elif version == 1 and len(program) == 32:
            kind = "p2tr"
        else:
            kind = "witness_unknown"
        return ScriptPubKey(kind, program, script)
    payload = base58.b58decode_check(address)
    if len(payload) != 21 or payload[0] not in (0x00, 0x05):
        raise ValueError("not a mainnet P2PKH or P2SH address")
    digest = payload[1:]
    if payload[0] == 0x00:
        return ScriptPubKey("p2pkh", digest, b"\x76\xa9\x14" + digest + b"\x88\xac")
    return ScriptPubKey("p2sh", digest, b"\xa9\x14" + digest + b"\x87")


def p2pkh_script(pubkey: bytes) -> bytes:
    return b"\x76\xa9\x14" + hash160(pubkey) + b"\x88\xac"


def p2wpkh_script(pubkey: bytes) -> bytes:
    return b"\x00\x14" + hash160(pubkey)


def p2sh_p2wpkh_script(pubkey: bytes) -> bytes:
    """BIP-141 §"P2WPKH nested in BIP16 P2SH": P2SH of the redeem script ``OP_0 <hash160>``."""
    return b"\xa9\x14" + hash160(p2wpkh_script(pubkey)) + b"\x87"


def p2wpkh_address(pubkey: bytes) -> str:
    address = bech32.encode("bc", 0, hash160(pubkey))
    assert address is not None  # a 20-byte v0 program always encodes
    return str(address)


def p2pkh_address(pubkey: bytes) -> str:
    return base58.b58encode_check(b"\x00" + hash160(pubkey)).decode()


def p2sh_p2wpkh_address(pubkey: bytes) -> str:
    return base58.b58encode_check(b"\x05" + hash160(p2wpkh_script(pubkey))).decode()


# --------------------------------------------------------------------------- BIP-137


def bip137_digest(message: bytes) -> bytes:
    return hash256(BIP137_MAGIC + compact_size(len(message)) + message)


def verify_bip137(address: str, message: bytes, signature: bytes) -> bool:
    if len(signature) != 65 or not 27 <= signature[0] <= 42:
        raise MalformedSignature("not a BIP-137 signature")
    header = signature[0]
    recovery_id = (header - 27) % 4
    try:
        key = PublicKey.from_signature_and_message(
            signature[1:] + bytes([recovery_id]), bip137_digest(message), hasher=None
        )
    except ValueError:
        return False
    claimed = script_pubkey(address).script
    if header < 31:
        candidates = [p2pkh_script(key.format(compressed=False))]
    else:
        compressed = key.format(compressed=True)
        if header < 35:
            candidates = [
                p2pkh_script(compressed),
                p2sh_p2wpkh_script(compressed),
                p2wpkh_script(compressed),
            ]
        elif header < 39:
            candidates = [p2sh_p2wpkh_script(compressed)]
        else:
            candidates = [p2wpkh_script(compressed)]
    return claimed in candidates


# --------------------------------------------------------------------------- BIP-322


def bip322_message_hash(message: bytes) -> bytes:
    return tagged_hash(BIP322_TAG, message)


def to_spend(message: bytes, challenge: bytes) -> bytes:
    """BIP-322 ``to_spend``, in network serialisation (no witness)."""
    script_sig = b"\x00" + _script_push(bip322_message_hash(message))  # OP_0 PUSH32[hash]
    return (
        (0).to_bytes(4, "little")  # nVersion
        + compact_size(1)
        + b"\x00" * 32
        + (0xFFFFFFFF).to_bytes(4, "little")  # prevout
        + compact_size(len(script_sig))
        + script_sig
        + (0).to_bytes(4, "little")  # nSequence
        + compact_size(1)
        + (0).to_bytes(8, "little")  # nValue
        + compact_size(len(challenge))
        + challenge
        + (0).to_bytes(4, "little")  # nLockTime
    )


def txid(serialized: bytes) -> bytes:
    """Internal byte order (reverse it for display)."""
    return hash256(serialized)


_OP_RETURN_OUTPUT: Final = (0).to_bytes(8, "little") + compact_size(1) + b"\x6a"


def to_sign(message: bytes, challenge: bytes) -> bytes:
    """BIP-322 ``to_sign`` without its witness (what its txid commits to)."""
    return (
        (0).to_bytes(4, "little")
        + compact_size(1)
        + txid(to_spend(message, challenge))
        + (0).to_bytes(4, "little")
        + compact_size(0)  # empty scriptSig
        + (0).to_bytes(4, "little")
        + compact_size(1)
        + _OP_RETURN_OUTPUT
        + (0).to_bytes(4, "little")
    )


def parse_witness(data: bytes) -> list[bytes]:
    """A consensus-encoded witness stack (BIP-141), which must use every byte."""
    count, pos = _read_compact_size(data, 0)
    if count == 0 or count > 100:
        raise MalformedSignature("implausible witness stack")
    items = []
    for _ in range(count):
        size, pos = _read_compact_size(data, pos)
        if pos + size > len(data):
            raise MalformedSignature("truncated witness")
        items.append(data[pos : pos + size])
        pos += size
    if pos != len(data):
        raise MalformedSignature("trailing bytes after the witness")
    return items


def bip143_sighash(message: bytes, challenge: bytes, script_code: bytes, hash_type: int) -> bytes:
    """BIP-143 §"Specification" for input 0 of ``to_sign`` (amount 0, SIGHASH_ALL)."""
    outpoint = txid(to_spend(message, challenge)) + (0).to_bytes(4, "little")
    sequence = (0).to_bytes(4, "little")
    preimage = (
        (0).to_bytes(4, "little")  # nVersion
        + hash256(outpoint)  # hashPrevouts
        + hash256(sequence)  # hashSequence
        + outpoint
        + compact_size(len(script_code))
        + script_code
        + (0).to_bytes(8, "little")  # amount
        + sequence
        + hash256(_OP_RETURN_OUTPUT)  # hashOutputs
        + (0).to_bytes(4, "little")  # nLockTime
        + hash_type.to_bytes(4, "little")
    )
    return hash256(preimage)


def bip341_sighash(message: bytes, challenge: bytes, hash_type: int) -> bytes:
    """BIP-341 §"Common signature message" (key path, no annex) for input 0 of ``to_sign``."""
    outpoint = txid(to_spend(message, challenge)) + (0).to_bytes(4, "little")
    sig_msg = (
        bytes([hash_type])
        + (0).to_bytes(4, "little")  # nVersion
        + (0).to_bytes(4, "little")  # nLockTime
        + sha256(outpoint)  # sha_prevouts
        + sha256((0).to_bytes(8, "little"))  # sha_amounts
        + sha256(compact_size(len(challenge)) + challenge)  # sha_scriptpubkeys
        + sha256((0).to_bytes(4, "little"))  # sha_sequences
        + sha256(_OP_RETURN_OUTPUT)  # sha_outputs
        + b"\x00"  # spend_type: key path, no annex
        + (0).to_bytes(4, "little")  # input_index
    )
    return tagged_hash(b"TapSighash", b"\x00" + sig_msg)  # epoch 0


def verify_bip322_simple(address: str, message: bytes, witness_bytes: bytes) -> bool:
    spk = script_pubkey(address)
    witness = parse_witness(witness_bytes)
    if spk.kind == "p2wpkh":
        if len(witness) != 2:
            return False
        signature, pubkey = witness
        if not signature or signature[-1] != SIGHASH_ALL:
            return False
        if len(pubkey) != 33 or hash160(pubkey) != spk.program:
            return False
        script_code = b"\x76\xa9\x14" + spk.program + b"\x88\xac"
        digest = bip143_sighash(message, spk.script, script_code, SIGHASH_ALL)
        try:
            return PublicKey(pubkey).verify(signature[:-1], digest, hasher=None)
        except ValueError:
            return False
    if spk.kind == "p2tr":
        if len(witness) != 1:
            # A script-path spend or an annex: needs a script interpreter.
            raise Unsupported("taproot script-path signatures are not supported")
        signature = witness[0]
        if len(signature) == 64:
            hash_type = SIGHASH_DEFAULT
        elif len(signature) == 65 and signature[-1] == SIGHASH_ALL:
            hash_type = SIGHASH_ALL
        else:
            return False
        digest = bip341_sighash(message, spk.script, hash_type)
        try:
            return PublicKeyXOnly(spk.program).verify(signature[:64], digest)
        except ValueError:
            return False
    raise Unsupported(f"BIP-322 signatures for {spk.kind} addresses are not supported")


# --------------------------------------------------------------------------- entry point


def decode_signature(text: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MalformedSignature("signature must be base64") from None


def verify(address: str, message: str, signature: str) -> bool:
    """True if ``signature`` (base64: BIP-137, or BIP-322 simple) signs ``message`` for
    ``address``. Raises MalformedSignature for bytes of neither form, Unsupported for a BIP-322
    script this module cannot evaluate."""
    raw = decode_signature(signature)
    data = message.encode("utf-8")
    if len(raw) == 65 and 27 <= raw[0] <= 42:
        return verify_bip137(address, data, raw)
    return verify_bip322_simple(address, data, raw)
