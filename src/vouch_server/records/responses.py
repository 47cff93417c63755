"""What ``/v2/{resource}…`` answers, for the OpenAPI description: Minka Ledger's envelopes.

Documentation only (``vouch_server.openapi.documented``): the handlers send what
``schemas.render_record``/``render_version`` and ``service.signed_list`` build. A record's
``data`` is what its signers signed, stored as sent; the built-in resources (signers, circles,
policies, resources) have fields vouch checks, every other resource is free-form.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema


class RecordProofOut(BaseModel):
    """One Ed25519 signature over the record hash (or over hash + ``custom``)."""

    method: str = Field(description="Signature method, ``ed25519-v2``.")
    public: str = Field(description="The signer's public key, base64.")
    digest: str = Field(description="SHA-256 (hex) of what was signed.")
    result: str = Field(description="The signature, base64.")
    custom: dict[str, Any] | SkipJsonSchema[None] = Field(
        default=None,
        description="What the signer signed with the hash (status, labels, moment…); absent "
        "when it signed the hash alone.",
    )


class RecordStatusProofOut(BaseModel):
    """The latest status change, as a vouch proof token anyone can verify offline."""

    id: str
    token: str
    status: str
    hash: str = Field(description="The record hash the change applies to.")
    issuedAt: str
    expiresAt: str
    revoked: bool


class RecordMetaOut(BaseModel):
    proofs: list[RecordProofOut]
    status: str
    labels: list[str]
    owners: list[str] = Field(description="Public keys of the record's creation signers.")
    moment: str = Field(description="When the record last changed.")
    statusProof: RecordStatusProofOut | SkipJsonSchema[None] = None


class _RecordData(BaseModel):
    model_config = ConfigDict(extra="allow")

    parent: str | SkipJsonSchema[None] = Field(
        default=None, description="Hash of the previous version (every version after the first)."
    )


class SignerRecordData(_RecordData):
    handle: str
    public: str = Field(description="Ed25519 public key, base64.")
    format: Literal["ed25519-raw"] | SkipJsonSchema[None] = None


class CircleRecordData(_RecordData):
    handle: str
    signers: list[str] | SkipJsonSchema[None] = Field(
        default=None, description="Member signer handles or public keys."
    )


class PolicyRecordData(_RecordData):
    handle: str
    schema_: Literal["access", "status", "labels"] = Field(alias="schema")
    record: str | SkipJsonSchema[None] = Field(
        default=None, description="The resource it targets, or ``any``."
    )
    filter: dict[str, Any] | SkipJsonSchema[None] = Field(
        default=None, description="A MongoDB-style filter over the record envelope."
    )
    values: list[dict[str, Any] | str]


class AppRecordData(_RecordData):
    """A record of an application resource: any object its signers chose."""

    handle: str | None = None


RecordData = SignerRecordData | CircleRecordData | PolicyRecordData | AppRecordData


class RecordEnvelope(BaseModel):
    """A Minka record: its local id, the hash of ``data``, ``data`` and its ``meta``."""

    luid: str = Field(description="Ledger-local id, ``$<prefix>.<17 characters>``.")
    hash: str = Field(description="SHA-256 (hex) of the canonical ``data``.")
    data: RecordData
    meta: RecordMetaOut


class RecordListMetaOut(BaseModel):
    proofs: list[RecordProofOut] = Field(description="vouch's system proof over the list hash.")


class RecordPageOut(BaseModel):
    index: int
    limit: int
    hasMore: bool


class RecordListOut(BaseModel):
    """A page of records, hashed and signed by vouch's system signer."""

    hash: str = Field(description="SHA-256 (hex) of the canonical ``data`` list.")
    data: list[RecordEnvelope]
    meta: RecordListMetaOut
    page: RecordPageOut


class RecordVersionMetaOut(BaseModel):
    version: int
    proofs: list[RecordProofOut] = Field(description="The proofs over this version's hash.")
    moment: str


class RecordVersionOut(BaseModel):
    luid: str
    hash: str
    data: RecordData
    meta: RecordVersionMetaOut


class RecordChangesOut(BaseModel):
    """Every version of a record, oldest first, signed as one list by the system signer."""

    hash: str
    data: list[RecordVersionOut]
    meta: RecordListMetaOut
