"""Spatial and temporal measurements of a stamp against a claim.

``haversine_m`` and ``temporal_overlap`` are Astral's formulas (``verify/plugins/geo-utils.ts``):
the same inputs give the same floating-point results, so vectors agree with Astral's to the last
field. ``point_to_geometry_m`` goes beyond Astral, which reports no distance for a claim that is
not a Point: the great-circle distance from a point to a LineString or Polygon (zero inside a
polygon), on the same sphere (R = 6 371 000 m).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

EARTH_RADIUS_M = 6_371_000.0

Position = Sequence[float]  # GeoJSON order: [longitude, latitude, (altitude)]


def _rad(degrees: float) -> float:
    return degrees * (math.pi / 180)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres, written as Astral writes it (atan2 form)."""
    d_lat = _rad(lat2 - lat1)
    d_lon = _rad(lon2 - lon1)
    a = math.sin(d_lat / 2) * math.sin(d_lat / 2) + math.cos(_rad(lat1)) * math.cos(
        _rad(lat2)
    ) * math.sin(d_lon / 2) * math.sin(d_lon / 2)
    c = 2 * math.atan2(math.sqrt(a), math.sqrt(1 - a))
    return EARTH_RADIUS_M * c


def temporal_overlap(
    stamp_start: float, stamp_end: float, claim_start: float, claim_end: float
) -> float:
    """The fraction of the claim's time window the stamp covers (Astral's rule).

    1.0 when the stamp's footprint contains the claim's window; otherwise the overlapping
    duration over the claim's duration (0 for an instant claim the stamp does not contain, and
    for disjoint windows).
    """
    if stamp_start <= claim_start and stamp_end >= claim_end:
        return 1.0
    overlap_start = max(stamp_start, claim_start)
    overlap_end = min(stamp_end, claim_end)
    if overlap_start <= overlap_end:
        claim_duration = claim_end - claim_start
        return (overlap_end - overlap_start) / claim_duration if claim_duration > 0 else 0.0
    return 0.0


def js_round(value: float) -> int:
    """JavaScript's ``Math.round`` (ECMA-262 §21.3.2.28): the nearest integer, halves towards
    +∞ — Python's ``round`` sends halves to even."""
    result = math.floor(value)
    if value - result >= 0.5:
        result += 1
    return result


def point_of(geometry: Any) -> tuple[float, float] | None:
    """``(lon, lat)`` of a GeoJSON Point, else None."""
    if isinstance(geometry, dict) and geometry.get("type") == "Point":
        coords = geometry.get("coordinates")
        if isinstance(coords, list) and len(coords) >= 2:
            return float(coords[0]), float(coords[1])
    return None


# -- beyond Astral: point to LineString / Polygon ------------------------------------------------
def _to_vector(lon: float, lat: float) -> tuple[float, float, float]:
    la, lo = _rad(lat), _rad(lon)
    return (math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la))


def _cross(
    a: tuple[float, float, float], b: tuple[float, float, float]
) -> tuple[float, float, float]:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _dot(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _angle(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    return math.atan2(math.sqrt(max(0.0, _dot(_cross(a, b), _cross(a, b)))), _dot(a, b))


def point_to_segment_m(point: Position, start: Position, end: Position) -> float:
    """Distance from ``point`` to the great-circle arc ``start``–``end``: the cross-track
    distance when the point projects inside the arc, else the distance to the nearer end."""
    p = _to_vector(point[0], point[1])
    a = _to_vector(start[0], start[1])
    b = _to_vector(end[0], end[1])
    normal = _cross(a, b)
    norm = math.sqrt(_dot(normal, normal))
    to_a = haversine_m(point[1], point[0], start[1], start[0])
    to_b = haversine_m(point[1], point[0], end[1], end[0])
    if norm < 1e-15:  # degenerate (or antipodal) segment: its ends are all there is
        return min(to_a, to_b)
    n = (normal[0] / norm, normal[1] / norm, normal[2] / norm)
    # The point's foot on the great circle through a and b; it lies on the arc when it is
    # between a and b (on the same side of each as the other end).
    sin_xt = _dot(p, n)
    foot = (p[0] - sin_xt * n[0], p[1] - sin_xt * n[1], p[2] - sin_xt * n[2])
    if _dot(_cross(a, foot), n) >= 0 and _dot(_cross(foot, b), n) >= 0:
        cross_track = abs(math.asin(max(-1.0, min(1.0, sin_xt)))) * EARTH_RADIUS_M
        return min(cross_track, to_a, to_b)
    return min(to_a, to_b)


def _line_distance(point: Position, line: Sequence[Position]) -> float:
    if len(line) == 1:
        return haversine_m(point[1], point[0], line[0][1], line[0][0])
    return min(point_to_segment_m(point, line[i], line[i + 1]) for i in range(len(line) - 1))


def _in_ring(point: Position, ring: Sequence[Position]) -> bool:
    """Even-odd ray casting in longitude/latitude (rings smaller than a hemisphere that do not
    cross the antimeridian, as GeoJSON's RFC 7946 §3.1.9 asks writers to split them)."""
    x, y = point[0], point[1]
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _polygon_distance(point: Position, rings: Sequence[Sequence[Position]]) -> float:
    if not rings:
        return math.inf
    inside = _in_ring(point, rings[0]) and not any(_in_ring(point, hole) for hole in rings[1:])
    if inside:
        return 0.0
    return min(_line_distance(point, ring) for ring in rings)


def _parts(geometry: dict[str, Any]) -> Iterable[tuple[str, Any]]:
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind in ("Point", "LineString", "Polygon"):
        yield kind, coords
    elif kind == "MultiPoint":
        for c in coords or []:
            yield "Point", c
    elif kind == "MultiLineString":
        for c in coords or []:
            yield "LineString", c
    elif kind == "MultiPolygon":
        for c in coords or []:
            yield "Polygon", c
    elif kind == "GeometryCollection":
        for child in geometry.get("geometries") or []:
            if isinstance(child, dict):
                yield from _parts(child)


def point_to_geometry_m(lon: float, lat: float, geometry: dict[str, Any]) -> float | None:
    """Great-circle distance in metres from a point to any GeoJSON geometry (0 inside a
    polygon), or None when the geometry has no parts."""
    point = (lon, lat)
    best: float | None = None
    for kind, coords in _parts(geometry):
        if kind == "Point":
            d = haversine_m(lat, lon, float(coords[1]), float(coords[0]))
        elif kind == "LineString":
            d = _line_distance(point, coords)
        else:
            d = _polygon_distance(point, coords)
        best = d if best is None else min(best, d)
    return best
