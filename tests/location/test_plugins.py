"""The plugins: signature, structure and signal checks, and their measurements."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from eth_account import Account
from eth_account.messages import encode_defunct

from tests.location.factories import (
    ASTRAL_FIXTURES,
    FIXTURE_SIGNER,
    FIXTURES,
    NYC,
    OTHER_KEY,
    START,
    load_fixture,
    make_claim,
    make_stamp,
    sign,
)
from vouch_server.location.plugins.base import LocationPlugin
from vouch_server.location.plugins.proofmode import parse_proof_data
from vouch_server.location.plugins.registry import all_plugins, get_plugin


def verify(stamp: dict[str, Any]) -> Any:
    plugin = get_plugin(stamp["plugin"])
    assert plugin is not None
    return plugin.verify(stamp)


class TestRegistry:
    def test_every_plugin_satisfies_the_protocol(self) -> None:
        names = [p.name for p in all_plugins()]
        assert names == sorted(
            ["geoclue", "gpsd", "ip-geolocation", "proofmode", "wifi-mls", "witnesschain"]
        )
        for plugin in all_plugins():
            assert isinstance(plugin, LocationPlugin)
            assert plugin.version and plugin.description and plugin.environments

    def test_unknown_plugin_is_none(self) -> None:
        assert get_plugin("galileo-osnma") is None


class TestAstralFixtures:
    @pytest.mark.parametrize("name", ASTRAL_FIXTURES)
    def test_fixture_verifies(self, name: str) -> None:
        result = verify(load_fixture(name))
        assert (result.signatures_valid, result.structure_valid, result.signals_consistent) == (
            True,
            True,
            True,
        )
        assert result.valid

    @pytest.mark.parametrize("name", ASTRAL_FIXTURES)
    def test_fixture_files_are_the_shared_reference_byte_for_byte(self, name: str) -> None:
        from tests.fixtures.reference import reference_dir

        shared = reference_dir() / "astral-stamps" / f"{name}.json"
        assert (FIXTURES / f"{name}.json").read_bytes() == shared.read_bytes()

    @pytest.mark.parametrize("name", ASTRAL_FIXTURES)
    def test_resigning_a_fixture_reproduces_its_signature(self, name: str) -> None:
        # RFC 6979 signatures are deterministic: the same text and key give the same bytes,
        # so this proves vouch builds exactly the text Astral's plugin signed.
        fixture = load_fixture(name)
        assert sign(fixture)["signatures"][0]["value"] == fixture["signatures"][0]["value"]


class TestSecp256k1Signatures:
    def test_a_stamp_signed_fresh_with_eth_account_verifies(self) -> None:
        stamp = make_stamp("gpsd", key=OTHER_KEY, coordinates=[2.2945, 48.8584])
        assert verify(stamp).signatures_valid

    @pytest.mark.parametrize("name", ASTRAL_FIXTURES)
    def test_changed_coordinate_fails(self, name: str) -> None:
        stamp = load_fixture(name)
        stamp["location"]["coordinates"][1] = 40.7485
        result = verify(stamp)
        assert not result.signatures_valid
        assert result.details["stampSignatureMismatch"]["expected"] == FIXTURE_SIGNER

    @pytest.mark.parametrize("name", ASTRAL_FIXTURES)
    def test_changed_signal_fails(self, name: str) -> None:
        stamp = load_fixture(name)
        stamp["signals"]["accuracyMeters"] = stamp["signals"]["accuracyMeters"] + 1
        assert not verify(stamp).signatures_valid

    @pytest.mark.parametrize("name", ASTRAL_FIXTURES)
    def test_changed_signer_fails(self, name: str) -> None:
        stamp = load_fixture(name)
        stamp["signatures"][0]["signer"]["value"] = Account.from_key(OTHER_KEY).address
        assert not verify(stamp).signatures_valid

    def test_added_field_fails(self) -> None:
        stamp = load_fixture("gpsd")
        stamp["note"] = "added after signing"
        assert not verify(stamp).signatures_valid

    def test_signature_by_another_key_for_the_declared_signer_fails(self) -> None:
        stamp = sign(make_stamp("gpsd"), OTHER_KEY, signer=FIXTURE_SIGNER)
        assert not verify(stamp).signatures_valid

    def test_every_signature_must_verify(self) -> None:
        stamp = load_fixture("gpsd")
        other = sign(stamp, OTHER_KEY)["signatures"][0]
        other["signer"]["value"] = FIXTURE_SIGNER  # a second, false signature
        stamp["signatures"].append(other)
        assert not verify(stamp).signatures_valid

    def test_unsupported_algorithm_fails(self) -> None:
        stamp = load_fixture("gpsd")
        stamp["signatures"][0]["algorithm"] = "ed25519"
        result = verify(stamp)
        assert not result.signatures_valid
        assert "Unsupported algorithm" in result.details["signatureError"]

    def test_garbage_signature_fails_without_raising(self) -> None:
        stamp = load_fixture("gpsd")
        stamp["signatures"][0]["value"] = "0xdeadbeef"
        assert not verify(stamp).signatures_valid

    def test_signer_address_compares_case_insensitively(self) -> None:
        stamp = load_fixture("gpsd")
        stamp["signatures"][0]["signer"]["value"] = FIXTURE_SIGNER.lower()
        assert verify(stamp).signatures_valid


class TestStructure:
    def test_non_point_location_is_not_valid_structure(self) -> None:
        stamp = make_stamp("gpsd")
        stamp["location"] = {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}
        result = verify(sign(stamp))
        assert result.signatures_valid
        assert not result.structure_valid
        assert result.details["locationError"] == "Expected GeoJSON Point"

    def test_stamp_of_another_plugin_is_not_valid_structure(self) -> None:
        stamp = load_fixture("geoclue")
        plugin = get_plugin("gpsd")
        assert plugin is not None
        result = plugin.verify(stamp)
        assert not result.structure_valid
        assert "pluginMismatch" in result.details


class TestSignalChecks:
    @pytest.mark.parametrize(
        ("plugin", "signals", "flag"),
        [
            ("gpsd", {"source": "gpsd", "accuracyMeters": 5, "mode": 1}, "invalidFixMode"),
            ("gpsd", {"source": "gpsd", "mode": 3}, "invalidAccuracy"),
            ("gpsd", {"source": "gpsd", "accuracyMeters": 0, "mode": 3}, "invalidAccuracy"),
            ("geoclue", {"accuracyMeters": 50, "platform": "darwin"}, "invalidPlatform"),
            ("geoclue", {"accuracyMeters": -1, "platform": "linux"}, "invalidAccuracy"),
            ("wifi-mls", {"accuracyMeters": 100, "apCount": 0}, "invalidApCount"),
            ("wifi-mls", {"accuracyMeters": 100, "apCount": 2.5}, "invalidApCount"),
            ("ip-geolocation", {"accuracyMeters": 25000, "ip": "999.1.1.1"}, "invalidIpFormat"),
            ("ip-geolocation", {"accuracyMeters": 25000}, "invalidIpFormat"),
            ("ip-geolocation", {"accuracyMeters": 50, "ip": "1.2.3.4"}, "suspiciousAccuracy"),
        ],
    )
    def test_inconsistent_signals_are_reported(
        self, plugin: str, signals: dict[str, Any], flag: str
    ) -> None:
        result = verify(make_stamp(plugin, signals=signals))
        assert result.signatures_valid and result.structure_valid
        assert not result.signals_consistent
        assert flag in result.details

    def test_ipv6_address_is_consistent(self) -> None:
        signals = {"accuracyMeters": 25000, "ip": "2001:db8::1"}
        assert verify(make_stamp("ip-geolocation", signals=signals)).signals_consistent

    def test_gpsd_2d_fix_is_consistent(self) -> None:
        signals = {"source": "gpsd", "accuracyMeters": 12, "mode": 2}
        assert verify(make_stamp("gpsd", signals=signals)).signals_consistent


class TestDefaultAccuracies:
    @pytest.mark.parametrize(
        ("plugin", "default"),
        [("gpsd", 10), ("geoclue", 50), ("wifi-mls", 100), ("ip-geolocation", 25_000)],
    )
    def test_without_reported_accuracy_the_plugin_default_applies(
        self, plugin: str, default: float
    ) -> None:
        signals = {k: v for k, v in make_stamp(plugin)["signals"].items() if k != "accuracyMeters"}
        stamp = make_stamp(plugin, signals=signals)
        evaluation = get_plugin(plugin).evaluate(stamp, make_claim(radius=7))  # type: ignore[union-attr]
        assert evaluation.details["stampAccuracy"] == default
        assert evaluation.details["effectiveRadius"] == 7 + default

    def test_reported_accuracy_is_used(self) -> None:
        stamp = load_fixture("gpsd")
        evaluation = get_plugin("gpsd").evaluate(stamp, make_claim(radius=7))  # type: ignore[union-attr]
        assert evaluation.details["effectiveRadius"] == 12


# -- witnesschain ----------------------------------------------------------------------------
CHALLENGER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"


def challenge_signals(
    *, lat: float = NYC[1], lon: float = NYC[0], succeeded: bool = True, key: str = CHALLENGER_KEY
) -> dict[str, Any]:
    challenger = Account.from_key(CHALLENGER_KEY).address
    message = json.dumps(
        {
            "id": "challenge-001",
            "challenger": challenger,
            "claims": {"latitude": lat, "longitude": lon, "radius": 100},
            "result": {"challenge_succeeded": succeeded, "ping_delay": 15000},
            "timestamp": "2100-01-01T00:00:00Z",
        }
    )
    signature = Account.sign_message(encode_defunct(text=message), private_key=key).signature
    return {
        "challengeId": "challenge-001",
        "challenger": challenger,
        "challengerId": "watchtower-nyc-01",
        "challengeSucceeded": succeeded,
        "pingDelayMicroseconds": 15000,
        "consolidatedResult": {"KnowLoc": True, "KnowLocUncertainty": 5.2, "verified": True},
        "knowLocUncertaintyKm": 5.2,
        "challengeMessage": message,
        "challengeSignature": "0x" + bytes(signature).hex(),
    }


class TestWitnessChain:
    def test_signed_challenge_verifies(self) -> None:
        result = verify(make_stamp("witnesschain", signals=challenge_signals()))
        assert result.valid
        assert result.details["challengeSignerVerified"] is True

    def test_challenge_result_object_form_verifies(self) -> None:
        flat = challenge_signals()
        signals = {
            "challengeResult": {
                "id": "challenge-001",
                "challenger": flat["challenger"],
                "claims": {"latitude": NYC[1], "longitude": NYC[0], "radius": 100},
                "result": {"challenge_succeeded": True, "ping_delay": 15000},
                "message": flat["challengeMessage"],
                "signature": flat["challengeSignature"],
            },
            "knowLocUncertaintyKm": 5.2,
        }
        assert verify(make_stamp("witnesschain", signals=signals)).valid

    def test_challenge_signed_by_someone_else_fails(self) -> None:
        stamp = make_stamp("witnesschain", signals=challenge_signals(key=OTHER_KEY))
        result = verify(stamp)
        assert not result.signatures_valid
        assert "challengeSignatureMismatch" in result.details

    def test_missing_challenge_signature_fails(self) -> None:
        signals = challenge_signals()
        del signals["challengeSignature"]
        result = verify(make_stamp("witnesschain", signals=signals))
        assert not result.signatures_valid
        assert result.details["missingChallengeSignature"] is True

    def test_challenge_about_another_place_is_inconsistent(self) -> None:
        stamp = make_stamp("witnesschain", signals=challenge_signals(lat=48.8584, lon=2.2945))
        result = verify(stamp)
        assert result.signatures_valid
        assert not result.signals_consistent
        assert "challengeLocationMismatch" in result.details

    def test_outcome_rewritten_after_signing_is_inconsistent(self) -> None:
        signals = challenge_signals(succeeded=False)
        signals["challengeSucceeded"] = True
        result = verify(make_stamp("witnesschain", signals=signals))
        assert not result.signals_consistent
        assert result.details["challengeOutcomeMismatch"] is True

    def test_uncertainty_widens_the_radius(self) -> None:
        stamp = make_stamp("witnesschain", signals=challenge_signals())
        evaluation = get_plugin("witnesschain").evaluate(stamp, make_claim(radius=100))  # type: ignore[union-attr]
        assert evaluation.details["effectiveRadiusMeters"] == 100 + 5200
        assert evaluation.details["knowLocUncertaintyKm"] == 5.2

    def test_uncertainty_defaults_to_50_km(self) -> None:
        signals = challenge_signals()
        del signals["knowLocUncertaintyKm"]
        del signals["consolidatedResult"]
        stamp = make_stamp("witnesschain", signals=signals)
        evaluation = get_plugin("witnesschain").evaluate(stamp, make_claim(radius=100))  # type: ignore[union-attr]
        assert evaluation.details["effectiveRadiusMeters"] == 100 + 50_000


# -- proofmode -------------------------------------------------------------------------------
def proofmode_stamp() -> dict[str, Any]:
    return json.loads((FIXTURES / "proofmode" / "stamp.json").read_bytes())  # type: ignore[no-any-return]


def safetynet_jwt(payload: dict[str, Any], *, tamper: bool = False) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attest.android.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    from cryptography.hazmat.primitives.serialization import Encoding

    x5c = [base64.b64encode(cert.public_bytes(Encoding.DER)).decode()]
    token = jwt.encode(payload, key, algorithm="ES256", headers={"x5c": x5c})
    if tamper:
        head, body, sig = token.split(".")
        body = jwt.utils.base64url_encode(
            json.dumps({**payload, "basicIntegrity": False}).encode()
        ).decode()
        token = f"{head}.{body}.{sig}"
    return token


class TestProofMode:
    def test_bundle_signed_with_openpgp_verifies(self) -> None:
        result = verify(proofmode_stamp())
        assert result.valid
        fingerprint = proofmode_stamp()["signatures"][0]["signer"]["value"]
        assert result.details["pgpFingerprint"] == fingerprint
        assert result.details["proofDataSignedBy"] == fingerprint

    def test_changed_coordinate_fails_the_openpgp_signature(self) -> None:
        stamp = proofmode_stamp()
        stamp["location"]["coordinates"][0] = -73.9858
        result = verify(stamp)
        assert not result.signatures_valid
        assert "OpenPGP" in result.details["stampSignatureError"]

    def test_changed_proof_file_fails_its_signature(self) -> None:
        stamp = proofmode_stamp()
        stamp["signals"]["proofData"] = stamp["signals"]["proofData"].replace("40.7484", "40.7485")
        # Re-sign the stamp with a secp256k1 key so only the proof file's signature is at stake.
        stamp = sign(stamp)
        result = verify(stamp)
        assert not result.signatures_valid
        assert result.details["proofDataSignatureError"] == "signature does not verify"
        assert not result.signals_consistent  # and the file now states another place

    def test_openpgp_signer_must_be_the_key_fingerprint(self) -> None:
        stamp = proofmode_stamp()
        stamp["signatures"][0]["signer"]["value"] = "0" * 40
        result = verify(stamp)
        assert not result.signatures_valid
        assert "stampSignatureMismatch" in result.details

    def test_openpgp_signature_needs_the_bundle_key(self) -> None:
        stamp = proofmode_stamp()
        del stamp["signals"]["pgpPublicKey"]
        assert not verify(stamp).signatures_valid

    def test_secp256k1_signed_proofmode_stamp_verifies(self) -> None:
        stamp = sign(proofmode_stamp())
        assert verify(stamp).valid

    def test_stamp_location_must_be_the_bundles(self) -> None:
        stamp = proofmode_stamp()
        stamp["location"]["coordinates"] = [2.2945, 48.8584]
        result = verify(sign(stamp))
        assert result.signatures_valid
        assert not result.signals_consistent
        assert "proofDataLocationMismatch" in result.details
        assert "signalsLocationMismatch" in result.details

    def test_fix_time_far_from_the_footprint_is_inconsistent(self) -> None:
        stamp = proofmode_stamp()
        stamp["signals"]["Location.Time"] = (START - 7200) * 1000
        result = verify(sign(stamp))
        assert not result.signals_consistent
        assert result.details["timestampDrift"] == 7200

    def test_presence_only_stamp_without_bundle_is_checked_for_structure(self) -> None:
        stamp = make_stamp(
            "proofmode",
            signals={"Location.Latitude": NYC[1], "Location.Longitude": NYC[0]},
        )
        result = verify(stamp)
        assert result.valid
        assert "proofDataSignedBy" not in result.details

    def test_safetynet_jws_signature_is_checked_against_its_certificate(self) -> None:
        stamp = proofmode_stamp()
        payload = {"basicIntegrity": True, "ctsProfileMatch": True, "evaluationType": "BASIC"}
        stamp["signals"]["SafetyNet.JWT"] = safetynet_jwt(payload)
        details = verify(sign(stamp)).details["safetyNet"]
        assert details["signatureVerified"] is True
        assert details["certificateChainVerified"] is False
        assert details["basicIntegrity"] is True

    def test_altered_safetynet_payload_does_not_verify(self) -> None:
        stamp = proofmode_stamp()
        stamp["signals"]["SafetyNet.JWT"] = safetynet_jwt({"basicIntegrity": True}, tamper=True)
        assert verify(sign(stamp)).details["safetyNet"]["signatureVerified"] is False

    def test_radius_is_the_claims_alone(self) -> None:
        evaluation = get_plugin("proofmode").evaluate(proofmode_stamp(), make_claim(radius=30))  # type: ignore[union-attr]
        assert evaluation.details["effectiveRadius"] == 30


class TestParseProofData:
    def test_horizontal_csv(self) -> None:
        data = "A,Location.Latitude,Location.Longitude\nx,1.5,2.5\n"
        assert parse_proof_data(data) == {
            "A": "x",
            "Location.Latitude": "1.5",
            "Location.Longitude": "2.5",
        }

    def test_vertical_csv(self) -> None:
        data = 'key,value\nLocation.Latitude,1.5\nLocation.Longitude,"2.5"\n'
        assert parse_proof_data(data) == {"Location.Latitude": "1.5", "Location.Longitude": "2.5"}

    def test_json(self) -> None:
        assert parse_proof_data('{"Location.Latitude": 1.5}') == {"Location.Latitude": "1.5"}


class TestVerificationIsReadOnly:
    def test_stamp_is_unchanged_by_verification(self) -> None:
        stamp = load_fixture("gpsd")
        before = copy.deepcopy(stamp)
        verify(stamp)
        assert stamp == before


class TestWitnessChainPluginSignature:
    """tests/location/fixtures/witnesschain.json was made by plugin-witnesschain's own code
    (its test challenge, ``createWitnessChainStamp``, ``WitnessChainPlugin.sign``; see
    tests/location/interop/astral.mjs): signed over ``JSON.stringify`` in insertion order."""

    def test_the_plugins_own_stamp_verifies(self) -> None:
        result = verify(load_fixture("witnesschain"))
        assert result.valid
        assert result.details["challengeSignerVerified"] is True

    def test_eth_account_over_insertion_order_reproduces_the_plugins_signature(self) -> None:
        stamp = load_fixture("witnesschain")
        resigned = sign(stamp, OTHER_KEY)
        assert resigned["signatures"][0]["value"] == stamp["signatures"][0]["value"]

    def test_sorted_key_reordering_of_the_signed_stamp_is_refused(self) -> None:
        stamp = load_fixture("witnesschain")
        reordered = json.loads(json.dumps(stamp, sort_keys=True))
        result = verify(reordered)
        assert not result.signatures_valid
        assert "stampSignatureMismatch" in result.details

    def test_a_stamp_signed_over_sorted_keys_is_refused(self) -> None:
        from vouch_server.location.plugins.common import unsigned_message as sorted_text

        stamp = load_fixture("witnesschain")
        unsigned = {k: v for k, v in stamp.items() if k != "signatures"}
        forged = Account.sign_message(
            encode_defunct(text=sorted_text(unsigned)), private_key=OTHER_KEY
        )
        stamp["signatures"][0]["value"] = "0x" + bytes(forged.signature).hex()
        assert not verify(stamp).signatures_valid


class TestWitnessChainTemporalOverlap:
    """plugin-witnesschain ``evaluate.ts``: overlap over the shorter of the two durations."""

    def evaluate(self, start: int, end: int) -> Any:
        stamp = load_fixture("witnesschain")  # footprint 10 s
        plugin = get_plugin("witnesschain")
        assert plugin is not None
        return plugin.evaluate(stamp, make_claim(start=start, end=end))

    def test_ten_second_stamp_inside_a_sixty_second_claim_is_one(self) -> None:
        start = load_fixture("witnesschain")["temporalFootprint"]["start"]
        assert self.evaluate(start - 25, start + 35).temporal_overlap == 1.0

    def test_half_of_the_stamp_inside_the_claim_is_a_half(self) -> None:
        start = load_fixture("witnesschain")["temporalFootprint"]["start"]
        assert self.evaluate(start + 5, start + 65).temporal_overlap == 0.5

    def test_touching_windows_and_instant_claims_are_zero(self) -> None:
        footprint = load_fixture("witnesschain")["temporalFootprint"]
        assert self.evaluate(footprint["end"], footprint["end"] + 60).temporal_overlap == 0
        assert self.evaluate(footprint["start"] + 1, footprint["start"] + 1).temporal_overlap == 0
