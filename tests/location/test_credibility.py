"""The CredibilityVector against hand-computed cases, field by field (Astral's formulas)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.location.factories import (
    NYC,
    START,
    fixture_proof,
    load_fixture,
    make_claim,
    make_stamp,
    sign,
)
from vouch_server.location import credibility, geo
from vouch_server.location.service import evaluate_proof

R = 6_371_000
ONE_MILLIDEGREE_M = R * math.radians(0.001)  # 111.19492664… m along a meridian


def vector(claim: dict[str, Any], stamps: list[dict[str, Any]]) -> dict[str, Any]:
    results = evaluate_proof({"claim": claim, "stamps": stamps}, "/verify/v0/proof")
    return credibility.credibility_vector(results, evaluated_at=START)


class TestAstralFixtures:
    def test_four_fixtures_at_the_claimed_place_and_time(self) -> None:
        v = vector(fixture_proof()["claim"], fixture_proof()["stamps"])
        assert v["dimensions"] == {
            "spatial": {"meanDistanceMeters": 0, "maxDistanceMeters": 0, "withinRadiusFraction": 1},
            "temporal": {"meanOverlap": 1, "minOverlap": 1, "fullyOverlappingFraction": 1},
            "validity": {
                "signaturesValidFraction": 1,
                "structureValidFraction": 1,
                "signalsConsistentFraction": 1,
            },
            "independence": {
                "uniquePluginRatio": 1,
                "spatialAgreement": 1,
                "pluginNames": ["gpsd", "geoclue", "wifi-mls", "ip-geolocation"],
            },
        }
        assert v["meta"] == {"stampCount": 4, "evaluatedAt": START, "evaluationMode": "local"}
        assert [r["stampIndex"] for r in v["stampResults"]] == [0, 1, 2, 3]


class TestSpatial:
    CLAIM = make_claim(location={"type": "Point", "coordinates": [0, 0]}, radius=100)

    def test_distances_mean_and_max_are_rounded_and_within_radius_uses_accuracy(self) -> None:
        stamps = [
            make_stamp("gpsd", coordinates=[0, 0]),  # 0 m, within 100 + 5
            make_stamp("gpsd", coordinates=[0, 0.001]),  # 111.19 m, outside 105
            make_stamp("wifi-mls", coordinates=[0, 0.01]),  # 1111.95 m, outside 200
        ]
        v = vector(self.CLAIM, stamps)
        d1, d2 = ONE_MILLIDEGREE_M, 10 * ONE_MILLIDEGREE_M
        assert v["stampResults"][0]["distanceMeters"] == 0
        assert v["stampResults"][1]["distanceMeters"] == pytest.approx(d1, abs=1e-6)
        assert v["stampResults"][2]["distanceMeters"] == pytest.approx(d2, abs=1e-6)
        assert round((0 + d1 + d2) / 3) == 408 and round(d2) == 1112
        assert v["dimensions"]["spatial"] == {
            "meanDistanceMeters": 408,
            "maxDistanceMeters": 1112,
            "withinRadiusFraction": 1 / 3,
        }
        assert v["dimensions"]["independence"] == {
            "uniquePluginRatio": 2 / 3,
            "spatialAgreement": 2 / 3,
            "pluginNames": ["gpsd", "wifi-mls"],
        }

    def test_radius_edge_just_inside_and_just_outside(self) -> None:
        stamp = make_stamp("gpsd", coordinates=[0, 0.001])  # 111.1949 m, accuracy 5 m
        outside = vector(make_claim(location=self.CLAIM["location"], radius=106.19), [stamp])
        inside = vector(make_claim(location=self.CLAIM["location"], radius=106.2), [stamp])
        assert outside["stampResults"][0]["withinRadius"] is False
        assert inside["stampResults"][0]["withinRadius"] is True
        assert outside["dimensions"]["spatial"]["withinRadiusFraction"] == 0
        assert inside["dimensions"]["spatial"]["withinRadiusFraction"] == 1

    def test_distance_equal_to_the_radius_is_within(self) -> None:
        # proofmode adds no accuracy: the effective radius is the claim's radius exactly.
        stamp = make_stamp("proofmode", coordinates=[0, 0.001], signals={})
        d = geo.haversine_m(0, 0, 0.001, 0)
        v = vector(make_claim(location=self.CLAIM["location"], radius=d), [stamp])
        assert v["stampResults"][0]["withinRadius"] is True
        v = vector(
            make_claim(location=self.CLAIM["location"], radius=math.nextafter(d, 0)), [stamp]
        )
        assert v["stampResults"][0]["withinRadius"] is False

    def test_no_distance_anywhere_gives_the_uint32_sentinel(self) -> None:
        claim = make_claim(location="8a2a1072b59ffff")  # an H3 cell: no point to measure from
        v = vector(claim, [load_fixture("gpsd"), load_fixture("geoclue")])
        assert v["dimensions"]["spatial"] == {
            "meanDistanceMeters": 4_294_967_295,
            "maxDistanceMeters": 4_294_967_295,
            "withinRadiusFraction": 0,
        }
        assert [r["distanceMeters"] for r in v["stampResults"]] == [None, None]
        assert v["dimensions"]["independence"]["spatialAgreement"] == 1

    def test_polygon_claim_distance_is_an_extension_not_a_dimension(self) -> None:
        square = {
            "type": "Polygon",
            "coordinates": [[[-74, 40.7], [-73.9, 40.7], [-73.9, 40.8], [-74, 40.8], [-74, 40.7]]],
        }
        far = make_stamp("gpsd", coordinates=[-73.9, 40.9])  # 0.1° north of the top edge
        v = vector(make_claim(location=square, radius=50), [load_fixture("gpsd"), far])
        # Astral's numbers are untouched: no point-to-point distance exists.
        assert v["dimensions"]["spatial"]["meanDistanceMeters"] == 4_294_967_295
        inside = v["stampResults"][0]["details"]["evaluation"]["extensions"]["geometryDistance"]
        outside = v["stampResults"][1]["details"]["evaluation"]["extensions"]["geometryDistance"]
        assert inside["distanceMeters"] == 0 and inside["withinRadius"] is True
        assert outside["distanceMeters"] == pytest.approx(R * math.radians(0.1), rel=1e-3)
        assert outside["withinRadius"] is False
        assert outside["claimGeometry"] == "Polygon"


class TestTemporal:
    def test_overlaps_mean_min_and_fully_overlapping(self) -> None:
        claim = make_claim(start=START, end=START + 1000)
        stamps = [
            make_stamp("gpsd", start=START - 10, end=START + 1010),  # covers: 1
            make_stamp("gpsd", start=START + 500, end=START + 1500),  # half: 0.5
            make_stamp("gpsd", start=START + 1000, end=START + 2000),  # touches: 0
            make_stamp("gpsd", start=START + 250, end=START + 500),  # inside: 0.25
        ]
        v = vector(claim, stamps)
        assert [r["temporalOverlap"] for r in v["stampResults"]] == [1.0, 0.5, 0.0, 0.25]
        assert v["dimensions"]["temporal"] == {
            "meanOverlap": 0.4375,
            "minOverlap": 0.0,
            "fullyOverlappingFraction": 0.25,
        }


class TestValidityAndIndependence:
    def test_mixed_plugins_and_failures(self) -> None:
        tampered = load_fixture("geoclue")
        tampered["location"]["coordinates"][1] = 40.7485  # ≈ 11.1 m north, signature broken
        darwin = make_stamp("geoclue", signals={"accuracyMeters": 50, "platform": "darwin"})
        line = make_stamp("gpsd")
        line["location"] = {"type": "LineString", "coordinates": [NYC, [-73.98, 40.75]]}
        stamps = [load_fixture("gpsd"), tampered, darwin, sign(line)]
        v = vector(make_claim(radius=100), stamps)
        assert v["dimensions"] == {
            "spatial": {
                "meanDistanceMeters": 4,  # (0 + 11.12 + 0) / 3
                "maxDistanceMeters": 11,
                "withinRadiusFraction": 0.75,  # the LineString stamp has no distance
            },
            "temporal": {"meanOverlap": 1, "minOverlap": 1, "fullyOverlappingFraction": 1},
            "validity": {
                "signaturesValidFraction": 0.75,
                "structureValidFraction": 0.75,
                "signalsConsistentFraction": 0.75,
            },
            "independence": {
                "uniquePluginRatio": 0.5,
                "spatialAgreement": 0.75,
                "pluginNames": ["gpsd", "geoclue"],
            },
        }

    def test_same_plugin_repeated(self) -> None:
        v = vector(make_claim(), [load_fixture("gpsd")] * 3)
        assert v["dimensions"]["independence"] == {
            "uniquePluginRatio": 1 / 3,
            "spatialAgreement": 1,
            "pluginNames": ["gpsd"],
        }


class TestEmpty:
    def test_no_stamps_gives_the_empty_vector(self) -> None:
        v = credibility.credibility_vector([], evaluated_at=START)
        assert v == {
            "dimensions": {
                "spatial": {
                    "meanDistanceMeters": 4_294_967_295,
                    "maxDistanceMeters": 4_294_967_295,
                    "withinRadiusFraction": 0,
                },
                "temporal": {"meanOverlap": 0, "minOverlap": 0, "fullyOverlappingFraction": 0},
                "validity": {
                    "signaturesValidFraction": 0,
                    "structureValidFraction": 0,
                    "signalsConsistentFraction": 0,
                },
                "independence": {"uniquePluginRatio": 0, "spatialAgreement": 0, "pluginNames": []},
            },
            "stampResults": [],
            "meta": {"stampCount": 0, "evaluatedAt": START, "evaluationMode": "local"},
        }
