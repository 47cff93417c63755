"""``geo``: haversine (R = 6 371 000 m), Astral's temporal overlap, point-to-geometry distance."""

from __future__ import annotations

import math

import pytest

from vouch_server.location import geo

R = 6_371_000


class TestHaversine:
    def test_same_point_is_zero(self) -> None:
        assert geo.haversine_m(40.7484, -73.9857, 40.7484, -73.9857) == 0

    def test_along_a_meridian_is_radius_times_latitude_difference(self) -> None:
        assert geo.haversine_m(0, 0, 1, 0) == pytest.approx(R * math.pi / 180, abs=1e-6)

    def test_along_the_equator_is_radius_times_longitude_difference(self) -> None:
        assert geo.haversine_m(0, 10, 0, 12) == pytest.approx(R * 2 * math.pi / 180, abs=1e-6)

    def test_antipodes_are_half_a_circumference(self) -> None:
        assert geo.haversine_m(0, 0, 0, 180) == pytest.approx(math.pi * R, abs=1e-6)

    def test_is_symmetric(self) -> None:
        a = geo.haversine_m(40.7484, -73.9857, 51.5007, -0.1246)
        b = geo.haversine_m(51.5007, -0.1246, 40.7484, -73.9857)
        assert a == b
        assert a == pytest.approx(5_570_000, rel=0.01)  # New York – London ≈ 5 570 km


class TestTemporalOverlap:
    @pytest.mark.parametrize(
        ("stamp", "claim", "expected"),
        [
            ((0, 5000), (1000, 2000), 1.0),  # stamp covers the claim
            ((1000, 2000), (1000, 2000), 1.0),  # identical windows
            ((1500, 2500), (1000, 2000), 0.5),  # second half
            ((1250, 1500), (1000, 2000), 0.25),  # inside the claim
            ((2000, 3000), (1000, 2000), 0.0),  # touching at one instant
            ((3000, 4000), (1000, 2000), 0.0),  # disjoint
            ((500, 1500), (1000, 1000), 1.0),  # instant claim inside the stamp
            ((1001, 1002), (1000, 1000), 0.0),  # instant claim outside
            ((1000, 1000), (1000, 1000), 1.0),  # both instants, equal
        ],
    )
    def test_is_the_covered_fraction_of_the_claim(
        self, stamp: tuple[int, int], claim: tuple[int, int], expected: float
    ) -> None:
        assert geo.temporal_overlap(*stamp, *claim) == expected


class TestJsRound:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [(0.5, 1), (1.5, 2), (2.5, 3), (-0.5, 0), (-1.5, -1), (2.4999, 2), (111.19, 111)],
    )
    def test_rounds_halves_up_like_math_round(self, value: float, expected: int) -> None:
        assert geo.js_round(value) == expected


class TestPointToGeometry:
    SQUARE = {
        "type": "Polygon",
        "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]],
    }

    def test_inside_a_polygon_is_zero(self) -> None:
        assert geo.point_to_geometry_m(0.5, 0.5, self.SQUARE) == 0

    def test_outside_a_polygon_is_the_distance_to_its_edge(self) -> None:
        # Due south of the edge from (0,0) to (1,0): one degree of latitude away.
        d = geo.point_to_geometry_m(0.5, -1, self.SQUARE)
        assert d == pytest.approx(R * math.pi / 180, rel=1e-9)

    def test_inside_a_hole_is_the_distance_to_the_hole(self) -> None:
        holed = {
            "type": "Polygon",
            "coordinates": [
                [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]],
                [[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]],
            ],
        }
        d = geo.point_to_geometry_m(2, 2, holed)
        assert d is not None and d > 0
        assert d == pytest.approx(R * math.pi / 180, rel=0.01)

    def test_to_a_linestring_uses_the_cross_track_distance(self) -> None:
        line = {"type": "LineString", "coordinates": [[0, 0], [2, 0]]}
        # (1, 0.5) is half a degree north of the equator segment.
        d = geo.point_to_geometry_m(1, 0.5, line)
        assert d == pytest.approx(R * 0.5 * math.pi / 180, rel=1e-9)

    def test_past_the_end_of_a_segment_is_the_distance_to_the_end(self) -> None:
        line = {"type": "LineString", "coordinates": [[0, 0], [1, 0]]}
        d = geo.point_to_geometry_m(3, 0, line)
        assert d == pytest.approx(geo.haversine_m(0, 3, 0, 1), rel=1e-12)

    def test_multi_geometries_take_the_nearest_part(self) -> None:
        multi = {
            "type": "MultiPoint",
            "coordinates": [[10, 10], [0, 1]],
        }
        assert geo.point_to_geometry_m(0, 0, multi) == pytest.approx(R * math.pi / 180)

    def test_empty_collection_has_no_distance(self) -> None:
        assert (
            geo.point_to_geometry_m(0, 0, {"type": "GeometryCollection", "geometries": []}) is None
        )
