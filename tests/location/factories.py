"""Location claims, stamps and proofs for tests; stamps are signed as Astral's plugins sign them:
EIP-191 over ``JSON.stringify`` of the stamp without ``signatures`` — keys sorted for the sensor
plugins (their ``canonicalize``), in insertion order for witnesschain (its ``sign``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct

from vouch_server.location.plugins import common, witnesschain

FIXTURES = Path(__file__).parent / "fixtures"
ASTRAL_FIXTURES = ("gpsd", "geoclue", "wifi-mls", "ip-geolocation")

# Hardhat's well-known account #0: the key Astral's fixtures are signed with.
FIXTURE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
FIXTURE_SIGNER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
# A second, unrelated key.
OTHER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"

START = 4102444800  # 2100-01-01T00:00:00Z, the fixtures' footprint
NYC = [-73.9857, 40.7484]

SIGNALS = {
    "gpsd": {"source": "gpsd", "accuracyMeters": 5, "mode": 3},
    "geoclue": {"source": "geoclue2", "accuracyMeters": 50, "platform": "linux"},
    "wifi-mls": {"source": "wifi", "accuracyMeters": 100, "apCount": 5},
    "ip-geolocation": {
        "source": "ip-geolocation",
        "accuracyMeters": 25000,
        "ip": "1.2.3.4",
        "city": "New York",
    },
}


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_bytes())  # type: ignore[no-any-return]


def signed_text(unsigned: dict[str, Any]) -> str:
    """The text the stamp's plugin signs (plugin-witnesschain: insertion order; others: sorted)."""
    if unsigned.get("plugin") == "witnesschain":
        return witnesschain.unsigned_message(unsigned)
    return common.unsigned_message(unsigned)


def sign(
    stamp: dict[str, Any], key: str = FIXTURE_KEY, *, signer: str | None = None
) -> dict[str, Any]:
    """``stamp`` with one fresh secp256k1 signature (``signer`` overrides the declared signer)."""
    unsigned = {k: v for k, v in copy.deepcopy(stamp).items() if k != "signatures"}
    signed = Account.sign_message(encode_defunct(text=signed_text(unsigned)), private_key=key)
    account = Account.from_key(key)
    unsigned["signatures"] = [
        {
            "signer": {"scheme": "eth-address", "value": signer or account.address},
            "algorithm": "secp256k1",
            "value": "0x" + bytes(signed.signature).hex(),
            "timestamp": START,
        }
    ]
    return unsigned


def make_stamp(
    plugin: str = "gpsd",
    *,
    coordinates: list[float] | None = None,
    start: int = START,
    end: int = START + 60,
    signals: dict[str, Any] | None = None,
    key: str = FIXTURE_KEY,
) -> dict[str, Any]:
    stamp = {
        "lpVersion": "0.2",
        "locationType": "geojson-point",
        "location": {"type": "Point", "coordinates": coordinates or list(NYC)},
        "srs": "EPSG:4326",
        "temporalFootprint": {"start": start, "end": end},
        "plugin": plugin,
        "pluginVersion": "0.1.0",
        "signals": copy.deepcopy(signals if signals is not None else SIGNALS.get(plugin, {})),
    }
    return sign(stamp, key)


def make_claim(
    *,
    location: Any = None,
    radius: float = 100,
    start: int = START,
    end: int = START + 60,
) -> dict[str, Any]:
    return {
        "lpVersion": "0.2",
        "locationType": "geojson-point",
        "location": location or {"type": "Point", "coordinates": list(NYC)},
        "srs": "EPSG:4326",
        "subject": {"scheme": "eth-address", "value": FIXTURE_SIGNER},
        "radius": radius,
        "time": {"start": start, "end": end},
        "eventType": "presence",
    }


def fixture_proof(radius: float = 100) -> dict[str, Any]:
    return {
        "claim": make_claim(radius=radius),
        "stamps": [load_fixture(n) for n in ASTRAL_FIXTURES],
    }
