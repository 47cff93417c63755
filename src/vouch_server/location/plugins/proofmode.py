"""``proofmode``: device-side evidence from a ProofMode proof bundle (Guardian Project's
ProofMode; plugin-proofmode's stamps).

A ProofMode bundle holds the proof file (``<hash>.proof.csv`` or ``.json``: location, network,
device and file metadata), the device's OpenPGP public key (``pubkey.asc``), detached OpenPGP
signatures of each file (``….asc``) and, on Android, a Play Integrity/SafetyNet JWT. The stamp
carries the metadata flattened into ``signals`` (``Location.Latitude``, ``Location.Time``, …)
and, so that vouch can check the device's signature, the bundle's essentials:

* ``signals.pgpPublicKey`` — the ASCII-armored public key;
* ``signals.proofData`` — the proof file's text, byte for byte;
* ``signals.proofDataSignature`` — its ASCII-armored detached signature.

Signatures (beyond Astral's presence check, verified wherever the bundle allows):

* each stamp signature is verified by its algorithm — ``secp256k1``: EIP-191 over the unsigned
  stamp, as for every plugin; ``openpgp``: ``value`` is the hex of a binary detached OpenPGP
  signature over the same unsigned-stamp text, by the bundle's key, and ``signer.value`` is that
  key's fingerprint. Any other algorithm cannot be verified and fails;
* the proof file's detached signature must verify with the bundle's key when both are there.

Signals are consistent when the coordinates are in range, the stamp's location is the one the
proof file (and the flattened signals) state, and the GPS fix time is within an hour of the
footprint. A SafetyNet JWT is parsed and its JWS signature checked against the leaf certificate
it carries (``x5c``); its chain to Google's root is not checked, and the verdict says so.
Within radius is the claim's radius alone, as Astral's ProofMode evaluation does.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import jwt
from cryptography import x509

from vouch_server.location import geo, openpgp
from vouch_server.location.plugins import common
from vouch_server.location.plugins.base import Json, StampEvaluation, StampVerification
from vouch_server.location.plugins.registry import register

OPENPGP_ALGORITHMS = ("openpgp", "pgp")
MAX_FIX_DRIFT_S = 3600
COORDINATE_TOLERANCE_DEG = 1e-6  # ProofMode writes coordinates with ~7 decimals


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def parse_proof_data(text: str) -> dict[str, str]:
    """Key → value of a ProofMode proof file: JSON object, horizontal CSV (a header row and a
    value row, what the apps write) or vertical ``key,value`` CSV."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    lines = [line.strip() for line in stripped.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]

    def split(line: str) -> list[str]:
        parts = [p.strip() for p in line.split(",")]
        return parts[:-1] if parts and parts[-1] == "" else parts

    if len(lines) >= 2 and len(split(lines[0])) > 2 and len(split(lines[1])) > 2:
        headers = split(lines[0])
        values: dict[str, str] = {}
        for row in lines[1:]:
            for key, value in zip(headers, split(row), strict=False):
                if key and value:
                    values[key] = value
        return values
    pairs: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition(",")
        if not sep:
            continue
        key, value = key.strip(), value.strip().strip('"')
        if key.lower() == "key" and value.lower() == "value":
            continue
        pairs[key] = value
    return pairs


def _normalize_fingerprint(value: str) -> str:
    return value.replace(" ", "").removeprefix("0x").removeprefix("0X").upper()


def check_safetynet(token: str) -> Json:
    """What can be said offline of a SafetyNet / Play Integrity JWS."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return {"parsed": False}
    result: Json = {
        "parsed": True,
        "basicIntegrity": bool(claims.get("basicIntegrity")),
        "ctsProfileMatch": bool(claims.get("ctsProfileMatch")),
        "evaluationType": claims.get("evaluationType"),
        "signatureVerified": False,
        "certificateChainVerified": False,
    }
    chain = header.get("x5c")
    if isinstance(chain, list) and chain and isinstance(chain[0], str):
        try:
            leaf = x509.load_der_x509_certificate(base64.b64decode(chain[0]))
            jwt.decode(
                token,
                key=leaf.public_key(),  # type: ignore[arg-type]
                algorithms=[str(header.get("alg"))],
                options={"verify_exp": False, "verify_aud": False, "verify_iat": False},
            )
            result["signatureVerified"] = True
            result["leafSubject"] = leaf.subject.rfc4514_string()
        except Exception:
            result["signatureVerified"] = False
    return result


class ProofModePlugin:
    name = "proofmode"
    version = "0.1.0"
    environments: tuple[str, ...] = ("node", "browser", "server")
    description = (
        "ProofMode device proofs; OpenPGP signatures of the stamp and proof file are verified"
    )

    def verify(self, stamp: Json) -> StampVerification:
        details: Json = {}
        signals = stamp.get("signals") or {}
        structure = common.check_base_structure(stamp, self.name, details)
        keys = self._keys(signals, details)
        signatures = self._stamp_signatures(stamp, keys, details)
        signatures = self._proof_data_signature(signals, keys, details) and signatures
        consistent = self._signals(stamp, signals, details)
        return StampVerification(signatures, structure, consistent, details)

    @staticmethod
    def _keys(signals: Json, details: Json) -> list[openpgp.PublicKey]:
        armored = signals.get("pgpPublicKey")
        if not isinstance(armored, str):
            return []
        try:
            keys = openpgp.load_public_keys(armored)
        except openpgp.PgpError as exc:
            details["pgpKeyError"] = str(exc)
            return []
        details["pgpFingerprint"] = keys[0].fingerprint_hex
        return keys

    @staticmethod
    def _stamp_signatures(stamp: Json, keys: list[openpgp.PublicKey], details: Json) -> bool:
        signatures = stamp.get("signatures") or []
        if not signatures:
            details["noSignatures"] = True
            return False
        message = common.unsigned_message(stamp)
        message_hash = common.personal_sign_hash(message)
        for signature in signatures:
            algorithm = signature.get("algorithm")
            if algorithm == "secp256k1":
                if not common.check_secp256k1(signature, message_hash, details):
                    return False
            elif algorithm in OPENPGP_ALGORITHMS:
                if not keys:
                    details["signatureError"] = "An openpgp signature needs signals.pgpPublicKey"
                    return False
                try:
                    key = openpgp.verify_detached(
                        bytes.fromhex(str(signature["value"])[2:]), message.encode(), keys
                    )
                except (openpgp.PgpError, ValueError) as exc:
                    details["stampSignatureError"] = f"OpenPGP: {exc}"
                    return False
                signer = _normalize_fingerprint(str((signature.get("signer") or {}).get("value")))
                if signer not in (keys[0].fingerprint_hex, key.fingerprint_hex):
                    details["stampSignatureMismatch"] = {
                        "expected": signer,
                        "recovered": keys[0].fingerprint_hex,
                    }
                    return False
            else:
                details["signatureError"] = f"Unsupported algorithm '{algorithm}'"
                return False
        details["signatureCount"] = len(signatures)
        details["signatureAlgorithms"] = [s.get("algorithm") for s in signatures]
        return True

    @staticmethod
    def _proof_data_signature(signals: Json, keys: list[openpgp.PublicKey], details: Json) -> bool:
        data = signals.get("proofData")
        signature = signals.get("proofDataSignature")
        if not isinstance(data, str):
            return True  # a destructured stamp without the proof file: nothing more to check
        if not isinstance(signature, str):
            details["proofDataUnsigned"] = True
            return True
        if not keys:
            details["proofDataSignatureError"] = "No OpenPGP key (signals.pgpPublicKey)"
            return False
        try:
            key = openpgp.verify_detached(signature, data.encode(), keys)
        except openpgp.PgpError as exc:
            details["proofDataSignatureError"] = str(exc)
            return False
        details["proofDataSignedBy"] = key.fingerprint_hex
        return True

    @staticmethod
    def _signals(stamp: Json, signals: Json, details: Json) -> bool:
        consistent = common.coordinates_in_range(stamp, details)
        point = geo.point_of(stamp.get("location"))
        sources: list[tuple[str, Json | dict[str, str]]] = [("signals", signals)]
        data = signals.get("proofData")
        if isinstance(data, str):
            parsed = parse_proof_data(data)
            sources.append(("proofData", parsed))
            details["proofDataFields"] = len(parsed)
        for label, fields in sources:
            lat = _float(fields.get("Location.Latitude"))
            lon = _float(fields.get("Location.Longitude"))
            if lat is None or lon is None:
                continue
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                details[f"{label}CoordinatesOutOfRange"] = [lon, lat]
                consistent = False
            elif point is not None and not (
                math.isclose(lon, point[0], abs_tol=COORDINATE_TOLERANCE_DEG)
                and math.isclose(lat, point[1], abs_tol=COORDINATE_TOLERANCE_DEG)
            ):
                details[f"{label}LocationMismatch"] = {"stated": [lon, lat], "stamp": list(point)}
                consistent = False
        fix_time = _float(signals.get("Location.Time"))
        footprint = stamp.get("temporalFootprint") or {}
        if fix_time is not None and isinstance(footprint.get("start"), int | float):
            seconds = fix_time / 1000 if fix_time > 1e12 else fix_time
            drift = abs(math.floor(seconds) - footprint["start"])
            if drift > MAX_FIX_DRIFT_S:
                details["timestampDrift"] = drift
                consistent = False
        provider = signals.get("Location.Provider")
        accuracy = _float(signals.get("Location.Accuracy"))
        if provider == "gps" and accuracy is not None and accuracy > 100:
            details["suspiciousGPSAccuracy"] = accuracy
        if provider == "network" and accuracy is not None and accuracy < 5:
            details["suspiciousNetworkAccuracy"] = accuracy
        token = signals.get("SafetyNet.JWT")
        if isinstance(token, str):
            details["safetyNet"] = check_safetynet(token)
        return consistent

    def evaluate(self, stamp: Json, claim: Json) -> StampEvaluation:
        return common.evaluate(stamp, claim, 0.0)


plugin = register(ProofModePlugin())
