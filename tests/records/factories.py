"""Small factories for the records tests: signers, policies, records and proofs over HTTP.

Proofs are signed with the SDK (``vouch_client.records``), as a client would sign them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from vouch_client.records import KeyPair, record_hash, sign_proof

VECTORS_PATH = Path(__file__).parent.parent / "fixtures" / "minka_ledger_vectors.json"


def vectors() -> dict[str, Any]:
    return json.loads(VECTORS_PATH.read_text())  # type: ignore[no-any-return]


def vector(name: str) -> dict[str, Any]:
    return next(r for r in vectors()["records"] if r["name"] == name)


def body(
    data: dict[str, Any], *signers: KeyPair, custom: dict[str, Any] | None = None
) -> dict[str, Any]:
    hash_ = record_hash(data)
    proofs = [sign_proof(k, hash_, custom or {"status": "created"}) for k in signers]
    return {"hash": hash_, "data": data, "meta": {"proofs": proofs}}


async def create(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    resource: str,
    data: dict[str, Any],
    *signers: KeyPair,
) -> httpx.Response:
    return await client.post(f"/v2/{resource}", json=body(data, *signers), headers=headers)


async def created(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    resource: str,
    data: dict[str, Any],
    *signers: KeyPair,
) -> dict[str, Any]:
    response = await create(client, headers, resource, data, *signers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def make_signer(
    client: httpx.AsyncClient, headers: dict[str, str], handle: str, keys: KeyPair | None = None
) -> KeyPair:
    keys = keys or KeyPair.generate()
    await created(
        client,
        headers,
        "signers",
        {"handle": handle, "public": keys.public, "format": "ed25519-raw"},
    )
    return keys


async def add_proof(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    resource: str,
    record: dict[str, Any],
    keys: KeyPair,
    custom: dict[str, Any],
    *,
    over: str | None = None,
) -> httpx.Response:
    proof = sign_proof(keys, over or record["hash"], custom)
    return await client.post(f"/v2/{resource}/{record['luid']}/proofs", json=proof, headers=headers)


async def fetch(
    client: httpx.AsyncClient, headers: dict[str, str], resource: str, id_: str
) -> dict[str, Any]:
    response = await client.get(f"/v2/{resource}/{id_}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def status_policy(handle: str, values: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"handle": handle, "schema": "status", "values": values, **extra}
