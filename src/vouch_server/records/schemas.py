"""Request bodies of the records surface and the Minka record envelope it answers with.

A record is ``{luid, hash, data, meta: {proofs, status, labels, owners, moment}}``; a list is
``{hash, data: [records…], meta: {proofs}, page}``, its ``hash`` and system proof covering ``data``.
Field names follow Minka Ledger (camelCase where Minka uses it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vouch_server.kit.clock import isoformat_ms
from vouch_server.models.records import Record, RecordProof, RecordTransition, RecordVersion
from vouch_server.records.signatures import ProofInput


class ProofIn(BaseModel):
    """``{method, public, digest, result, custom}`` as Minka's SDK sends it."""

    model_config = ConfigDict(extra="ignore")

    method: str = Field(max_length=20)
    public: str = Field(max_length=64)
    digest: str = Field(max_length=64)
    result: str = Field(max_length=128)
    # None when the proof carries no ``custom``: its digest then covers the hash alone.
    custom: dict[str, Any] | None = None

    def to_input(self) -> ProofInput:
        return ProofInput(self.method, self.public, self.digest, self.result, self.custom)


class MetaIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    proofs: list[ProofIn] = Field(default_factory=list, max_length=50)


class RecordIn(BaseModel):
    """Body of ``POST /v2/{resource}`` and ``PUT /v2/{resource}/{id}``.

    ``{data, hash?, meta?: {proofs}}``, as Minka's SDK sends a record.
    """

    model_config = ConfigDict(extra="ignore")

    data: dict[str, Any]
    hash: str | None = Field(default=None, max_length=64)
    meta: MetaIn = Field(default_factory=MetaIn)


def render_proof(proof: RecordProof | ProofInput) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "method": proof.method,
        "public": proof.public,
        "digest": proof.digest,
        "result": proof.result,
    }
    if proof.custom is not None:
        rendered["custom"] = proof.custom
    return rendered


def render_record(
    record: Record, proofs: Sequence[RecordProof], transition: RecordTransition | None
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "proofs": [render_proof(p) for p in proofs],
        "status": record.status,
        "labels": list(record.labels),
        "owners": list(record.owners),
        "moment": isoformat_ms(record.updated_at),
    }
    if transition is not None:
        # The latest status change, as a vouch proof token (JWT) anyone can verify offline.
        meta["statusProof"] = {
            "id": transition.id,
            "token": transition.token,
            "status": transition.to_status,
            "hash": transition.hash,
            "issuedAt": isoformat_ms(transition.issued_at),
            "expiresAt": isoformat_ms(transition.expires_at),
            "revoked": transition.revoked_at is not None,
        }
    return {"luid": record.luid, "hash": record.hash, "data": record.data, "meta": meta}


def render_version(
    record: Record, version: RecordVersion, proofs: Sequence[RecordProof]
) -> dict[str, Any]:
    return {
        "luid": record.luid,
        "hash": version.hash,
        "data": version.data,
        "meta": {
            "version": version.version,
            "proofs": [render_proof(p) for p in proofs],
            "moment": isoformat_ms(version.created_at),
        },
    }
