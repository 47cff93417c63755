"""Issue 14 P6: ``POST /verify/v0/proof`` with 50 stamps × 2 signatures, against the
cryptographic floor measured in the same run — 100 raw ``coincurve`` secp256k1 public-key
recoveries (the work the endpoint cannot avoid: one recovery per signature).

The endpoint is called in-process through the whole ASGI stack (no key, so the public tier:
no token is minted and no database row is written). Both figures are medians of interleaved
rounds, so that load on the machine hits them alike.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from coincurve import PrivateKey, PublicKey
from eth_hash.auto import keccak

from vouch_server import db
from vouch_server.app import create_app
from vouch_server.config import Settings
from vouch_server.location import canonical

BASE = "https://bench.vouch"
STAMPS = 50
SIGNATURES_PER_STAMP = 2
ROUNDS = 15
START = 4102444800
NYC = [-73.9857, 40.7484]


def _personal_sign_hash(text: str) -> bytes:
    data = text.encode("utf-8")
    return keccak(b"\x19Ethereum Signed Message:\n" + str(len(data)).encode() + data)


def _sign(key: PrivateKey, text: str) -> str:
    recoverable = key.sign_recoverable(_personal_sign_hash(text), hasher=None)
    return "0x" + (recoverable[:64] + bytes([recoverable[64] + 27])).hex()


def _address(key: PrivateKey) -> str:
    return "0x" + keccak(key.public_key.format(compressed=False)[1:])[-20:].hex()


def build_proof() -> tuple[dict[str, Any], list[tuple[bytes, bytes]]]:
    """The 50 × 2 proof (gpsd stamps, two signers each) and its 100 (signature, hash) pairs."""
    keys = [PrivateKey(bytes([i + 1]) * 32) for i in range(SIGNATURES_PER_STAMP)]
    stamps = []
    raw: list[tuple[bytes, bytes]] = []
    for i in range(STAMPS):
        unsigned = {
            "lpVersion": "0.2",
            "locationType": "geojson-point",
            "location": {"type": "Point", "coordinates": [NYC[0] + i * 1e-5, NYC[1]]},
            "srs": "EPSG:4326",
            "temporalFootprint": {"start": START, "end": START + 60},
            "plugin": "gpsd",
            "pluginVersion": "0.1.0",
            "signals": {"source": "gpsd", "accuracyMeters": 5, "mode": 3},
        }
        text = canonical.stringify(unsigned, sort_keys=True)
        digest = _personal_sign_hash(text)
        signatures = []
        for key in keys:
            value = _sign(key, text)
            sig = bytes.fromhex(value[2:])
            raw.append((sig[:64] + bytes([sig[64] - 27]), digest))
            signatures.append(
                {
                    "signer": {"scheme": "eth-address", "value": _address(key)},
                    "algorithm": "secp256k1",
                    "value": value,
                    "timestamp": START,
                }
            )
        stamps.append({**unsigned, "signatures": signatures})
    claim = {
        "lpVersion": "0.2",
        "locationType": "geojson-point",
        "location": {"type": "Point", "coordinates": list(NYC)},
        "srs": "EPSG:4326",
        "subject": {"scheme": "eth-address", "value": _address(keys[0])},
        "radius": 100,
        "time": {"start": START, "end": START + 60},
    }
    return {"proof": {"claim": claim, "stamps": stamps}}, raw


def _recover_all(raw: list[tuple[bytes, bytes]]) -> None:
    for signature, digest in raw:
        PublicKey.from_signature_and_message(signature, digest, hasher=None)


async def _measure() -> tuple[float, float]:
    body, raw = build_proof()
    content = canonical.stringify(body).encode()
    with tempfile.TemporaryDirectory(prefix="vouch-bench-location-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            database_url=None,
            public_url=BASE,
            secret_key="bench",
            expiry_sweep_seconds=0,
            rate_limit_enabled=False,
            # The bench proof (~43 KB) is sent without a key; keyless callers otherwise keep the
            # 10 KB default limit. P6 measures verification, not the edge's refusal.
            body_limit_bytes=2 * 1024 * 1024,
        )
        await db.upgrade_async(settings)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
                headers = {"Content-Type": "application/json"}

                async def call() -> None:
                    response = await client.post(
                        "/verify/v0/proof", content=content, headers=headers
                    )
                    vector = response.json()["credibility"]["dimensions"]
                    assert vector["validity"]["signaturesValidFraction"] == 1, vector

                for _ in range(3):  # warm up
                    await call()
                    _recover_all(raw)
                endpoint, floor = [], []
                for _ in range(ROUNDS):
                    start = time.perf_counter()
                    await call()
                    endpoint.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    _recover_all(raw)
                    floor.append(time.perf_counter() - start)
    return statistics.median(endpoint), statistics.median(floor)


def run() -> list[str]:
    endpoint, floor = asyncio.run(_measure())
    return [
        f"  P6 POST /verify/v0/proof, {STAMPS} stamps x {SIGNATURES_PER_STAMP} signatures: "
        f"{endpoint * 1000:.1f} ms; {STAMPS * SIGNATURES_PER_STAMP} raw coincurve recoveries: "
        f"{floor * 1000:.1f} ms -> ratio {endpoint / floor:.2f} (target <= 2)"
    ]


if __name__ == "__main__":
    print("\n".join(run()))
