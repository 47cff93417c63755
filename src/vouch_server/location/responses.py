"""What ``/verify/v0/…`` answers, for the OpenAPI description: Astral's field names.

Documentation only (``vouch_server.openapi.documented``): ``service`` and ``credibility`` build
the bodies. A plugin's ``details`` are its own; the EAS parts appear only when the caller names a
``chainId``, ``vouchProof`` only for a caller with an API key.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from vouch_server.location.schemas import LocationProof


class LocationStampCheckOut(BaseModel):
    """A stamp's internal validity, without any claim."""

    valid: bool = Field(description="All three checks passed.")
    signaturesValid: bool
    structureValid: bool
    signalsConsistent: bool
    details: dict[str, Any] = Field(description="The plugin's own findings.")


class LocationPluginOut(BaseModel):
    name: str
    version: str
    environments: list[str]
    description: str


class LocationPluginsOut(BaseModel):
    plugins: list[LocationPluginOut]


class LocationSpatialOut(BaseModel):
    meanDistanceMeters: int = Field(description="4294967295 when no stamp has a distance.")
    maxDistanceMeters: int
    withinRadiusFraction: float


class LocationTemporalOut(BaseModel):
    meanOverlap: float
    minOverlap: float
    fullyOverlappingFraction: float


class LocationValidityOut(BaseModel):
    signaturesValidFraction: float
    structureValidFraction: float
    signalsConsistentFraction: float


class LocationIndependenceOut(BaseModel):
    uniquePluginRatio: float
    spatialAgreement: float
    pluginNames: list[str]


class LocationDimensionsOut(BaseModel):
    spatial: LocationSpatialOut
    temporal: LocationTemporalOut
    validity: LocationValidityOut
    independence: LocationIndependenceOut


class LocationStampDetailsOut(BaseModel):
    verification: dict[str, Any]
    evaluation: dict[str, Any]


class LocationStampResultOut(BaseModel):
    stampIndex: int
    plugin: str
    signaturesValid: bool
    structureValid: bool
    signalsConsistent: bool
    distanceMeters: float | None = Field(description="null when no distance can be computed.")
    temporalOverlap: float
    withinRadius: bool
    details: LocationStampDetailsOut


class LocationVectorMetaOut(BaseModel):
    stampCount: int
    evaluatedAt: int = Field(description="Unix seconds.")
    evaluationMode: Literal["local"]


class LocationCredibilityOut(BaseModel):
    """The CredibilityVector: four dimensions and per-stamp results, never one score."""

    dimensions: LocationDimensionsOut
    stampResults: list[LocationStampResultOut]
    meta: LocationVectorMetaOut


class LocationAttestationOut(BaseModel):
    """The signed off-chain EAS attestation of the vector."""

    uid: str
    schema_: str = Field(alias="schema")
    attester: str
    recipient: str
    revocable: bool
    refUID: str
    data: str = Field(description="ABI-encoded attestation values, 0x-hex.")
    time: int
    expirationTime: int
    revocationTime: int
    signature: str


class LocationAttestationDataOut(BaseModel):
    """The attested values: fractions in basis points (0–10000)."""

    proofHash: str
    meanDistanceMeters: int
    maxDistanceMeters: int
    withinRadiusBp: int
    meanOverlapBp: int
    minOverlapBp: int
    signaturesValidBp: int
    structureValidBp: int
    signalsConsistentBp: int
    uniquePluginRatioBp: int
    stampCount: int


class LocationEip712DomainOut(BaseModel):
    name: str
    version: str
    chainId: int
    verifyingContract: str


class LocationEip712FieldOut(BaseModel):
    name: str
    type: str


class LocationOffchainTypesOut(BaseModel):
    Attest: list[LocationEip712FieldOut]


class LocationOffchainMessageOut(BaseModel):
    version: int
    schema_: str = Field(alias="schema")
    recipient: str
    time: int
    expirationTime: int
    revocable: bool
    refUID: str
    data: str
    salt: str


class LocationSignaturePartsOut(BaseModel):
    r: str
    s: str
    v: int


class LocationOffchainSigOut(BaseModel):
    version: int
    uid: str
    domain: LocationEip712DomainOut
    primaryType: str
    types: LocationOffchainTypesOut
    message: LocationOffchainMessageOut
    signature: LocationSignaturePartsOut


class LocationOffchainAttestationOut(BaseModel):
    """The attestation as the EAS SDK's signed off-chain attestation."""

    sig: LocationOffchainSigOut
    signer: str


class LocationDelegatedAttestationOut(BaseModel):
    """A signature anyone may submit with EAS ``attestByDelegation``."""

    signature: str
    attester: str
    deadline: int
    nonce: int
    easContract: str


class LocationVouchProofOut(BaseModel):
    """vouch's proof token of the evaluation (callers with an API key)."""

    id: str
    token: str
    expiresAt: str


class LocationProofOut(BaseModel):
    """A location proof evaluated: the proof as sent, its vector, and what attests it."""

    proof: LocationProof = Field(description="The proof exactly as sent.")
    credibility: LocationCredibilityOut
    chainId: int | None
    evaluationMethod: Literal["multifactor-v0"]
    evaluatedAt: int = Field(description="Unix seconds.")
    attestation: LocationAttestationOut | SkipJsonSchema[None] = None
    attestationData: LocationAttestationDataOut | SkipJsonSchema[None] = None
    offchainAttestation: LocationOffchainAttestationOut | SkipJsonSchema[None] = None
    delegatedAttestation: LocationDelegatedAttestationOut | SkipJsonSchema[None] = Field(
        default=None, description="Absent when the attester's EAS nonce could not be read."
    )
    vouchProof: LocationVouchProofOut | SkipJsonSchema[None] = None
    warnings: list[str] | SkipJsonSchema[None] = None
