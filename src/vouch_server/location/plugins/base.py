"""What every location plugin does, and the values it trades in.

A plugin answers two questions about a stamp (Astral's ``LocationProofPlugin``): ``verify`` — is
the stamp internally valid (signatures, structure, signal consistency), without looking at any
claim; and ``evaluate`` — raw measurements of the stamp against a claim (distance, temporal
overlap, within radius). Neither scores: the credibility vector aggregates the raw results.

Stamps and claims are the JSON objects as received (already validated by ``schemas``), so that
signatures are checked over exactly what the signer signed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Json = dict[str, Any]


@dataclass(frozen=True)
class StampVerification:
    signatures_valid: bool
    structure_valid: bool
    signals_consistent: bool
    details: Json = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.signatures_valid and self.structure_valid and self.signals_consistent


@dataclass(frozen=True)
class StampEvaluation:
    # None when no distance can be computed (Astral: Infinity, "complex geometry")
    distance_meters: float | None
    temporal_overlap: float
    within_radius: bool
    details: Json = field(default_factory=dict)


@runtime_checkable
class LocationPlugin(Protocol):
    name: str
    version: str
    environments: tuple[str, ...]
    description: str

    def verify(self, stamp: Json) -> StampVerification:
        """Internal validity of ``stamp``; never raises for bad content (it is reported)."""
        ...

    def evaluate(self, stamp: Json, claim: Json) -> StampEvaluation:
        """Raw measurements of ``stamp`` against ``claim``."""
        ...
