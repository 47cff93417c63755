"""Request bodies of ``/verify/v0/…``: Location Protocol v0.2 claims, stamps and proofs.

Types as Astral's verify API validates them (``verify/validation/schemas.ts``): ``lpVersion``
"0.2"; ``location`` a GeoJSON geometry (RFC 7946, positions ``[lon, lat(, alt)]`` with
longitude in [-180, 180] and latitude in [-90, 90]) or a non-empty string (H3 index, …);
``srs`` a URI; time bounds positive integer Unix seconds with ``end ≥ start``; ``radius > 0``
metres; at least one stamp, each with at least one signature whose value is ``0x``-hex.

Two kinds of bad input, two problem types: a body that is not the API's request at all (not
JSON, not an object, ``proof``/``claim``/``stamps``/``stamp``/``options`` missing or of the
wrong JSON type) is ``invalid-input``; a claim, stamp or option field that breaks its rule
(``radius`` missing or not positive, ``end < start``, a coordinate out of range, …) is
``validation``.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from vouch_server.location.problems import InvalidInput, ValidationProblem

# Each signature costs an ECDSA recovery (~5 ms in pure Python): the caps bound a request's CPU.
# (The EAS schema counts stamps in a uint8, so 255 would be the hard ceiling.)
MAX_STAMPS = 50
MAX_SIGNATURES = 8
MAX_PROOF_SIGNATURES = 100
MAX_UNIX_SECONDS = 2**53 - 1  # beyond this JavaScript clients cannot hold the value exactly

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
HEX_SIGNATURE = re.compile(r"^0x[0-9a-fA-F]+$")
SCHEMA_UID = re.compile(r"^0x[0-9a-fA-F]{64}$")
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def _integer(value: Any) -> Any:
    """An integer in JavaScript's sense: a JSON number without a fractional part."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be an integer number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be an integer number")
        return int(value)
    return value


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return float(value)


UnixSeconds = Annotated[int, BeforeValidator(_integer), Field(gt=0, le=MAX_UNIX_SECONDS)]
PositiveMeters = Annotated[float, BeforeValidator(_number), Field(gt=0)]
NonEmpty = Annotated[str, Field(min_length=1, max_length=2048)]


def _position(value: Any) -> list[float]:
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise ValueError("a position is [longitude, latitude] or [longitude, latitude, altitude]")
    numbers = [_number(v) for v in value]
    lon, lat = numbers[0], numbers[1]
    if not -180 <= lon <= 180:
        raise ValueError(f"longitude {lon} is outside [-180, 180]")
    if not -90 <= lat <= 90:
        raise ValueError(f"latitude {lat} is outside [-90, 90]")
    return numbers


Position = Annotated[list[float], BeforeValidator(_position)]


def _ring(value: list[list[float]]) -> list[list[float]]:
    if value[0][:2] != value[-1][:2]:
        raise ValueError("a linear ring must end where it starts")
    return value


class _Geo(BaseModel):
    model_config = ConfigDict(extra="allow")


class PointGeometry(_Geo):
    type: Literal["Point"]
    coordinates: Position


class MultiPointGeometry(_Geo):
    type: Literal["MultiPoint"]
    coordinates: list[Position]


class LineStringGeometry(_Geo):
    type: Literal["LineString"]
    coordinates: Annotated[list[Position], Field(min_length=2)]


class MultiLineStringGeometry(_Geo):
    type: Literal["MultiLineString"]
    coordinates: list[Annotated[list[Position], Field(min_length=2)]]


LinearRing = Annotated[list[Position], Field(min_length=4)]


class PolygonGeometry(_Geo):
    type: Literal["Polygon"]
    coordinates: Annotated[list[LinearRing], Field(min_length=1)]

    @field_validator("coordinates")
    @classmethod
    def _closed(cls, rings: list[list[list[float]]]) -> list[list[list[float]]]:
        return [_ring(r) for r in rings]


class MultiPolygonGeometry(_Geo):
    type: Literal["MultiPolygon"]
    coordinates: list[Annotated[list[LinearRing], Field(min_length=1)]]

    @field_validator("coordinates")
    @classmethod
    def _closed(cls, polygons: list[list[list[list[float]]]]) -> list[list[list[list[float]]]]:
        return [[_ring(r) for r in rings] for rings in polygons]


class GeometryCollectionGeometry(_Geo):
    type: Literal["GeometryCollection"]
    geometries: list[Geometry]


Geometry = Annotated[
    PointGeometry
    | MultiPointGeometry
    | LineStringGeometry
    | MultiLineStringGeometry
    | PolygonGeometry
    | MultiPolygonGeometry
    | GeometryCollectionGeometry,
    Field(discriminator="type"),
]
GeometryCollectionGeometry.model_rebuild()


def _location_kind(value: Any) -> str:
    return "text" if isinstance(value, str) else "geojson"


LocationData = Annotated[
    Annotated[Geometry, Tag("geojson")] | Annotated[NonEmpty, Tag("text")],
    Discriminator(_location_kind),
]


class LocationSubject(BaseModel):
    model_config = ConfigDict(extra="allow")
    scheme: NonEmpty
    value: NonEmpty


class LocationTimeBounds(BaseModel):
    model_config = ConfigDict(extra="allow")
    start: UnixSeconds
    end: UnixSeconds

    @model_validator(mode="after")
    def _ordered(self) -> LocationTimeBounds:
        if self.end < self.start:
            raise ValueError("end must be greater than or equal to start")
        return self


def _uri(value: str) -> str:
    if not _URI.match(value):
        raise ValueError("srs must be a URI (e.g. EPSG:4326)")
    return value


class _LocationProtocol(BaseModel):
    model_config = ConfigDict(extra="allow")
    lpVersion: Literal["0.2"]
    locationType: NonEmpty
    location: LocationData
    srs: NonEmpty

    @field_validator("srs")
    @classmethod
    def _srs(cls, value: str) -> str:
        return _uri(value)


class LocationClaim(_LocationProtocol):
    subject: LocationSubject
    radius: PositiveMeters
    time: LocationTimeBounds
    eventType: NonEmpty | None = None


class LocationSignature(BaseModel):
    model_config = ConfigDict(extra="allow")
    signer: LocationSubject
    algorithm: NonEmpty
    value: Annotated[str, Field(min_length=3, max_length=65536, pattern=HEX_SIGNATURE.pattern)]
    timestamp: UnixSeconds


class LocationStamp(_LocationProtocol):
    temporalFootprint: LocationTimeBounds
    plugin: NonEmpty
    pluginVersion: NonEmpty
    signals: dict[str, Any]
    signatures: Annotated[list[LocationSignature], Field(min_length=1, max_length=MAX_SIGNATURES)]


class LocationProof(BaseModel):
    model_config = ConfigDict(extra="allow")
    claim: LocationClaim
    stamps: Annotated[list[LocationStamp], Field(min_length=1, max_length=MAX_STAMPS)]

    @field_validator("stamps")
    @classmethod
    def _signature_budget(cls, stamps: list[LocationStamp]) -> list[LocationStamp]:
        if sum(len(stamp.signatures) for stamp in stamps) > MAX_PROOF_SIGNATURES:
            raise ValueError(f"a proof carries at most {MAX_PROOF_SIGNATURES} signatures")
        return stamps


class VerifyProofOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    chainId: Annotated[int, BeforeValidator(_integer), Field(gt=0, le=MAX_UNIX_SECONDS)] | None = (
        None
    )
    submitOnchain: StrictBool = False
    schema_: Annotated[str | None, Field(alias="schema", pattern=SCHEMA_UID.pattern)] = None
    recipient: Annotated[str, Field(pattern=ADDRESS.pattern)] = ZERO_ADDRESS


class VerifyStampRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    stamp: LocationStamp


class VerifyProofRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    proof: LocationProof
    options: VerifyProofOptions | None = None


# -- parsing with the surface's two problem types ------------------------------------------------
_UNION_TAGS = {
    "geojson",
    "text",
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
}


def _field_path(loc: tuple[int | str, ...]) -> str:
    """``proof.stamps[0].location.coordinates`` from pydantic's location, union tags left out."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part not in _UNION_TAGS:
            path += ("." if path else "") + part
    return path or "body"


def _problem_errors(exc: ValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors(include_url=False, include_input=False):
        message = str(err.get("msg", "Invalid value"))
        message = message.removeprefix("Value error, ")
        errors.append(
            {
                "field": _field_path(tuple(err.get("loc", ()))),
                "message": message,
                "code": err["type"],
            }
        )
    return errors


def _expect(container: Any, key: str, kind: type, path: str, instance: str) -> None:
    value = container.get(key) if isinstance(container, dict) else None
    label = "an object" if kind is dict else "an array"
    if not isinstance(value, kind):
        raise InvalidInput(f"{path} must be {label}", instance=instance)


def parse_stamp_request(body: Any, instance: str) -> VerifyStampRequest:
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object", instance=instance)
    _expect(body, "stamp", dict, "stamp", instance)
    return _validate(VerifyStampRequest, body, instance)


def parse_proof_request(body: Any, instance: str) -> VerifyProofRequest:
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object", instance=instance)
    _expect(body, "proof", dict, "proof", instance)
    _expect(body["proof"], "claim", dict, "proof.claim", instance)
    _expect(body["proof"], "stamps", list, "proof.stamps", instance)
    if body.get("options") is not None and not isinstance(body["options"], dict):
        raise InvalidInput("options must be an object", instance=instance)
    return _validate(VerifyProofRequest, body, instance)


M = TypeVar("M", bound=BaseModel)


def _validate(model: type[M], body: dict[str, Any], instance: str) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        errors = _problem_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        raise ValidationProblem(detail, instance=instance, errors=errors) from None
