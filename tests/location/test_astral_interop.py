"""Astral's own verifier (``astral-location-services``, vendored unmodified under
tests/location/interop/astral and run in Node.js) beside vouch's ``/verify/v0/proof`` on the same
bytes: the CredibilityVector agrees field by field, except the divergences docs/location.md
lists (named per case below)."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.tenancy import Keys
from tests.location.factories import ASTRAL_FIXTURES, load_fixture, make_claim, make_stamp

NODE = shutil.which("node")
INTEROP = Path(__file__).parent / "interop"
pytestmark = pytest.mark.skipif(
    NODE is None or not (INTEROP / "node_modules" / "tsx").exists(),
    reason="Node.js or the interop packages are not installed (make install runs npm ci)",
)
WITNESS_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
FIXTURE_SIGNED_AT = 4102444800


def astral(job: dict[str, Any]) -> dict[str, Any]:
    result = subprocess.run(
        [NODE or "node", "--import", "tsx", "astral.mjs"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=INTEROP,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


PER_STAMP = (
    "signaturesValid",
    "structureValid",
    "signalsConsistent",
    "distanceMeters",
    "temporalOverlap",
    "withinRadius",
)


def vector_fields(vector: dict[str, Any]) -> dict[str, Any]:
    """Every compared field of a CredibilityVector, by path."""
    fields: dict[str, Any] = {}
    for dimension, values in vector["dimensions"].items():
        for name, value in values.items():
            fields[f"{dimension}.{name}"] = value
    for result in vector["stampResults"]:
        for name in ("plugin", *PER_STAMP):
            fields[f"stamps[{result['stampIndex']}].{name}"] = result[name]
    fields["meta.stampCount"] = vector["meta"]["stampCount"]
    return fields


async def compare(
    client: httpx.AsyncClient, keys: Keys, proof: dict[str, Any]
) -> dict[str, tuple[Any, Any]]:
    """Fields where Astral and vouch differ: path → (astral, vouch)."""
    body = {"proof": proof}
    theirs = astral({"op": "proof", "body": body})
    assert "credibility" in theirs, theirs
    response = await client.post(
        "/verify/v0/proof",
        content=json.dumps(body).encode(),
        headers={**keys.test_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    a, v = vector_fields(theirs["credibility"]), vector_fields(response.json()["credibility"])
    assert a.keys() == v.keys()
    return {k: (a[k], v[k]) for k in a if a[k] != v[k] or type(a[k]) is not type(v[k])}


def witness_stamp() -> dict[str, Any]:
    return load_fixture("witnesschain")


def witness_claim(**kw: Any) -> dict[str, Any]:
    start = witness_stamp()["temporalFootprint"]["start"]
    return make_claim(start=kw.pop("start", start - 25), end=kw.pop("end", start + 35), **kw)


def same_numbers(diff: dict[str, tuple[Any, Any]]) -> dict[str, tuple[Any, Any]]:
    # JSON ints and floats compare equal across the two (5 == 5.0): only real differences.
    return {k: ab for k, ab in diff.items() if ab[0] != ab[1]}


class TestWitnessChainFixture:
    def test_the_committed_fixture_is_the_plugins_own_output(self) -> None:
        made = astral({"op": "witnesschain-stamp", "key": WITNESS_KEY, "now": FIXTURE_SIGNED_AT})
        assert made["stamp"] == witness_stamp()
        assert json.dumps(made["stamp"]) == json.dumps(witness_stamp())  # key order too
        assert made["pluginVerify"]["valid"] is True

    def test_astral_refuses_the_sorted_key_rewrite_too(self) -> None:
        reordered = json.loads(json.dumps(witness_stamp(), sort_keys=True))
        result = astral({"op": "stamp", "body": {"stamp": reordered}})["result"]
        assert result["signaturesValid"] is False


class TestSideBySide:
    async def test_astrals_reference_stamps(self, client: httpx.AsyncClient, keys: Keys) -> None:
        proof = {"claim": make_claim(), "stamps": [load_fixture(n) for n in ASTRAL_FIXTURES]}
        assert same_numbers(await compare(client, keys, proof)) == {}

    @pytest.mark.parametrize(
        "claim",
        [
            {},  # 60 s claim around the 10 s stamp: overlap 1
            {"radius": 10},
            {"location": {"type": "Point", "coordinates": [-0.1276, 51.5074]}},  # London
            {"offset": (5, 65)},  # half the stamp
            {"offset": (10, 70)},  # touching
        ],
        ids=["covering", "small-radius", "far", "half", "touching"],
    )
    async def test_witnesschain_plugin_stamp(
        self, client: httpx.AsyncClient, keys: Keys, claim: dict[str, Any]
    ) -> None:
        claim = dict(claim)
        if "offset" in claim:
            start = witness_stamp()["temporalFootprint"]["start"]
            lo, hi = claim.pop("offset")
            claim.update(start=start + lo, end=start + hi)
        proof = {"claim": witness_claim(**claim), "stamps": [witness_stamp()]}
        assert same_numbers(await compare(client, keys, proof)) == {}

    async def test_mixed_proof(self, client: httpx.AsyncClient, keys: Keys) -> None:
        start = witness_stamp()["temporalFootprint"]["start"]
        stamps = [
            witness_stamp(),
            make_stamp("gpsd", start=start - 30, end=start + 60),
            make_stamp("wifi-mls", start=start, end=start + 20),
            make_stamp("geoclue", start=start + 40, end=start + 100),
        ]
        proof = {"claim": witness_claim(), "stamps": stamps}
        assert same_numbers(await compare(client, keys, proof)) == {}

    async def test_tampered_stamps(self, client: httpx.AsyncClient, keys: Keys) -> None:
        gpsd = load_fixture("gpsd")
        gpsd["location"]["coordinates"][0] += 0.001
        reordered = json.loads(json.dumps(witness_stamp(), sort_keys=True))
        proof = {"claim": make_claim(), "stamps": [gpsd, reordered]}
        assert same_numbers(await compare(client, keys, proof)) == {}

    async def test_polygon_claim(self, client: httpx.AsyncClient, keys: Keys) -> None:
        # Astral: distance Infinity (JSON null), vouch: null + extensions.geometryDistance.
        lon, lat = -73.9857, 40.7484
        ring = [[lon - 0.01, lat - 0.01], [lon + 0.01, lat - 0.01], [lon, lat + 0.01]]
        polygon = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
        proof = {
            "claim": make_claim(location=polygon),
            "stamps": [load_fixture(n) for n in ASTRAL_FIXTURES],
        }
        assert same_numbers(await compare(client, keys, proof)) == {}


class TestDocumentedDivergences:
    async def test_witnesschain_stamp_without_challenge_signature(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        """Astral accepts the stamp signature alone; vouch needs the challenger's."""
        stamp = witness_stamp()
        del stamp["signals"]["challengeResult"]
        from tests.location.factories import sign

        proof = {"claim": witness_claim(), "stamps": [sign(stamp, WITNESS_KEY)]}
        diff = same_numbers(await compare(client, keys, proof))
        assert diff == {
            "validity.signaturesValidFraction": (1, 0),
            "stamps[0].signaturesValid": (True, False),
        }

    async def test_field_added_after_signing(self, client: httpx.AsyncClient, keys: Keys) -> None:
        """Astral's request schema strips unknown stamp fields before verifying; vouch's
        signature covers every field sent."""
        stamp = copy.deepcopy(load_fixture("gpsd"))
        stamp["note"] = "added later"
        diff = same_numbers(await compare(client, keys, {"claim": make_claim(), "stamps": [stamp]}))
        assert diff == {
            "validity.signaturesValidFraction": (1, 0),
            "stamps[0].signaturesValid": (True, False),
        }
