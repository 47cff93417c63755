"""Location proofs: verify stamps, build the credibility vector, attest it, mint the token.

``verify_proof`` runs each stamp through its plugin (``verify`` then ``evaluate`` against the
claim), aggregates the results into a CredibilityVector (``credibility``), and — when the
caller names a ``chainId`` — signs EAS attestations of it (``attestation``). A caller with an
API key also gets a vouch proof token of type ``location`` carrying the vector's dimensions,
recorded like every other vouch proof (validate, revoke, revocation list).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from eth_hash.auto import keccak
from fastapi.encoders import jsonable_encoder
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.kit.clock import isoformat_ms, utcnow
from vouch_server.kit.ids import new_object_id
from vouch_server.location import attestation as eas
from vouch_server.location import canonical, credibility
from vouch_server.location.attester import NonceUnavailable, contract_for, eas_nonce, get_attester
from vouch_server.location.plugins.base import Json, LocationPlugin
from vouch_server.location.plugins.registry import get_plugin
from vouch_server.location.problems import NotImplementedProblem
from vouch_server.location.schemas import VerifyProofOptions
from vouch_server.proofs import service as proofs
from vouch_server.runtime import Runtime
from vouch_server.tenancy.service import Principal

FAMILY = "location"
PROOF_TYPE = "location"
EVALUATION_METHOD = "multifactor-v0"


def plugin_for(name: str, instance: str) -> LocationPlugin:
    plugin = get_plugin(name)
    if plugin is None:
        raise NotImplementedProblem(f"Plugin '{name}' is not yet implemented", instance=instance)
    return plugin


def verify_stamp(stamp: Json, instance: str) -> dict[str, Any]:
    """``POST /verify/v0/stamp``: the stamp's internal validity, no claim involved."""
    result = plugin_for(str(stamp["plugin"]), instance).verify(stamp)
    return {
        "valid": result.valid,
        "signaturesValid": result.signatures_valid,
        "structureValid": result.structure_valid,
        "signalsConsistent": result.signals_consistent,
        "details": result.details,
    }


def evaluate_proof(proof: Json, instance: str) -> list[credibility.StampResult]:
    claim = proof["claim"]
    stamps: list[Json] = proof["stamps"]
    plugins = [plugin_for(str(stamp["plugin"]), instance) for stamp in stamps]
    return [
        credibility.StampResult(
            index, str(stamp["plugin"]), plugin.verify(stamp), plugin.evaluate(stamp, claim)
        )
        for index, (stamp, plugin) in enumerate(zip(stamps, plugins, strict=True))
    ]


def list_plugins() -> dict[str, Any]:
    from vouch_server.location.plugins.registry import all_plugins

    return {
        "plugins": [
            {
                "name": p.name,
                "version": p.version,
                "environments": list(p.environments),
                "description": p.description,
            }
            for p in all_plugins()
        ]
    }


# Starlette's JSONResponse settings, in the C encoder.
_ANSWER_ENCODER = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, check_circular=False, separators=(",", ":")
)


def _answer_json(value: Any) -> str:
    """``value`` as JSONResponse would write it; a value json refuses is written as
    ``JSON.stringify`` (Astral) writes it: a number beyond double range, read as infinity (an
    ``accuracyMeters`` of ``1e999``), becomes null instead of failing the request."""
    try:
        return _ANSWER_ENCODER.encode(value)
    except TypeError:  # a plugin detail json cannot write: as FastAPI would have sent it
        value = jsonable_encoder(value)
    except ValueError:
        return canonical.stringify(value)
    try:
        return _ANSWER_ENCODER.encode(value)
    except ValueError:
        return canonical.stringify(value)


@dataclass(frozen=True)
class VerifiedProof:
    """The answer to ``POST /verify/v0/proof``. ``answer["proof"]`` is the proof as received;
    ``proof_json`` its ``JSON.stringify`` text when a ``proofHash`` was taken of it (an
    attestation or a proof token), else None."""

    answer: dict[str, Any]
    proof_json: str | None = None

    def encode(self) -> bytes:
        """The body, written here rather than by FastAPI, whose generic encoder visits every
        value of the echoed proof (most of the time of a large proof besides the signatures).

        The proof is echoed as the very text that was hashed when there is one (it is most of
        the body, so it is not written twice), so that a client can check ``proofHash`` against
        it; otherwise as json writes it. Either way the same JSON values."""
        rest = _answer_json({k: v for k, v in self.answer.items() if k != "proof"})
        proof_json = self.proof_json
        if proof_json is None:
            proof_json = _answer_json(self.answer["proof"])
        return ('{"proof":' + proof_json + "," + rest[1:]).encode("utf-8")


async def verify_proof(
    session: AsyncSession,
    runtime: Runtime,
    caller: Principal | None,
    *,
    proof: Json,
    options: VerifyProofOptions | None,
    instance: str,
) -> VerifiedProof:
    """``POST /verify/v0/proof``."""
    # Signature recovery is CPU work: off the event loop, so other requests keep flowing.
    results = await asyncio.to_thread(evaluate_proof, proof, instance)
    now = utcnow().replace(microsecond=0)
    evaluated_at = int(now.timestamp())
    vector = credibility.credibility_vector(results, evaluated_at)
    attest = options is not None and options.chainId is not None
    # proofHash (keccak-256 of JSON.stringify(proof)) goes only into attestations and tokens.
    proof_json = canonical.stringify(proof) if attest or caller is not None else None
    proof_hash = eas.hex0x(keccak(proof_json.encode("utf-8"))) if proof_json is not None else ""
    response: dict[str, Any] = {
        "proof": proof,
        "credibility": vector,
        "chainId": options.chainId if options else None,
        "evaluationMethod": EVALUATION_METHOD,
        "evaluatedAt": evaluated_at,
    }
    warnings: list[str] = []
    if attest:
        assert options is not None
        response.update(await _attest(runtime, options, vector, proof_hash, evaluated_at, warnings))
        if options.submitOnchain:
            warnings.append(
                "vouch does not submit attestations on-chain: submit delegatedAttestation with "
                "EAS attestByDelegation (anyone may, paying the gas)"
            )
    if caller is not None:
        response["vouchProof"] = await _mint(
            session, runtime, caller, proof, vector, proof_hash, response, now
        )
    if warnings:
        response["warnings"] = warnings
    return VerifiedProof(response, proof_json)


async def _attest(
    runtime: Runtime,
    options: VerifyProofOptions,
    vector: dict[str, Any],
    proof_hash: str,
    evaluated_at: int,
    warnings: list[str],
) -> dict[str, Any]:
    assert options.chainId is not None
    settings = runtime.settings
    attester = await get_attester(runtime)
    chain_id = options.chainId
    contract = contract_for(runtime, chain_id)
    schema = (options.schema_ or settings.location_verify_schema_uid or eas.schema_uid()).lower()
    recipient = options.recipient
    values = eas.attestation_values(proof_hash, vector["dimensions"], vector["meta"]["stampCount"])
    data = eas.encode_data(values)

    offchain = eas.offchain_typed_data(
        chain_id=chain_id,
        contract=contract,
        version=settings.eas_version,
        schema=schema,
        recipient=recipient,
        time=evaluated_at,
        data=data,
        salt=eas.new_salt(),
    )
    offchain_signature = attester.sign_typed_data(offchain)
    uid = eas.offchain_uid(offchain["message"])
    parts = eas.SignatureParts.of(offchain_signature)
    out: dict[str, Any] = {
        "attestation": {
            "uid": uid,
            "schema": schema,
            "attester": attester.address,
            "recipient": offchain["message"]["recipient"],
            "revocable": True,
            "refUID": eas.ZERO_BYTES32,
            "data": eas.hex0x(data),
            "time": evaluated_at,
            "expirationTime": 0,
            "revocationTime": 0,
            "signature": eas.hex0x(offchain_signature),
        },
        "attestationData": values,
        "offchainAttestation": {
            "sig": {
                "version": eas.OFFCHAIN_VERSION,
                "uid": uid,
                "domain": offchain["domain"],
                "primaryType": offchain["primaryType"],
                "types": {"Attest": offchain["types"]["Attest"]},
                "message": offchain["message"],
                "signature": {"r": parts.r, "s": parts.s, "v": parts.v},
            },
            "signer": attester.address,
        },
    }
    try:
        nonce = await eas_nonce(runtime, chain_id, contract, attester.address)
    except NonceUnavailable as exc:
        warnings.append(
            f"No delegated attestation: {exc}. The off-chain attestation is signed and complete."
        )
        return out
    deadline = evaluated_at + eas.DEADLINE_SECONDS
    delegated = eas.delegated_typed_data(
        chain_id=chain_id,
        contract=contract,
        version=settings.eas_version,
        schema=schema,
        recipient=recipient,
        data=data,
        nonce=nonce,
        deadline=deadline,
    )
    out["delegatedAttestation"] = {
        "signature": eas.hex0x(attester.sign_typed_data(delegated)),
        "attester": attester.address,
        "deadline": deadline,
        "nonce": nonce,
        "easContract": contract,
    }
    return out


async def _mint(
    session: AsyncSession,
    runtime: Runtime,
    caller: Principal,
    proof: Json,
    vector: dict[str, Any],
    proof_hash: str,
    response: dict[str, Any],
    now: Any,
) -> dict[str, Any]:
    proof_id = new_object_id()
    dimensions = vector["dimensions"]
    claims: dict[str, Any] = {
        "verified_at": isoformat_ms(now),
        "subject": proof["claim"].get("subject"),
        "proof_hash": proof_hash,
        "evaluation_method": EVALUATION_METHOD,
        "evaluated_at": vector["meta"]["evaluatedAt"],
        "stamp_count": vector["meta"]["stampCount"],
        "credibility": dimensions,
    }
    if "attestation" in response:
        claims["attestation_uid"] = response["attestation"]["uid"]
        claims["chain_id"] = response["chainId"]
    minted = await runtime.tokens.mint(
        session,
        environment=caller.environment,
        sub=proof_id,
        type=PROOF_TYPE,
        lifetime=timedelta(days=runtime.settings.default_proof_expiry_days),
        now=now,
        claims=claims,
    )
    await proofs.record(
        session,
        proof_id=proof_id,
        project_id=caller.project_id,
        environment=caller.environment,
        family=FAMILY,
        type=PROOF_TYPE,
        channel=None,
        minted=minted,
        verified_at=now,
    )
    return {"id": proof_id, "token": minted.token, "expiresAt": isoformat_ms(minted.expires_at)}
