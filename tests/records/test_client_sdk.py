"""``vouch_client``'s ``client.records`` against the real app (ASGI transport): signed records
created → read → every page through the iterator → updated → history, checked offline with
``vouch_client.records``; the Minka error envelope mapped to the SDK's exception with the
server's reason as ``code``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.tenancy import Keys
from tests.fixtures.typed_dicts import assert_satisfies
from vouch_client import AsyncClient, BadRequest, Record, RecordChanges, RecordList
from vouch_client.records import KeyPair, record_hash, sign_proof, verify_changes, verify_record


@pytest.fixture
async def sdk(app: FastAPI, keys: Keys) -> AsyncIterator[AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with AsyncClient("https://vouch.test", api_key=keys.test, transport=transport) as c:
        yield c


async def test_record_round_trip(sdk: AsyncClient) -> None:
    owner = KeyPair.generate()
    await sdk.records.create(
        "signers", {"handle": "owner", "public": owner.public, "format": "ed25519-raw"}
    )
    system = (await sdk.records.get("signers", "system"))["data"]["public"]
    made = []
    for n in range(3):
        data = {"handle": f"doc-{n}", "v": 1}
        proof = sign_proof(owner, record_hash(data), {"status": "created"})
        made.append(await sdk.records.create("records", data, proofs=[proof]))
    first = await sdk.records.get("records", "doc-0")
    assert_satisfies(first, Record)
    assert first["hash"] == made[0]["hash"]
    verify_record(first, system_public=system)
    page = await sdk.records.list("records", limit=2)
    assert_satisfies(page, RecordList)
    assert page["page"]["hasMore"] is True
    every = [r["luid"] async for r in sdk.records.iter("records", limit=2)]
    assert sorted(every) == sorted(r["luid"] for r in made)
    only = [
        r["data"]["handle"]
        async for r in sdk.records.iter("records", filters={"data.handle": "doc-1"})
    ]
    assert only == ["doc-1"]
    data = {"handle": "doc-0", "v": 2, "parent": first["hash"]}
    updated = await sdk.records.update(
        "records", "doc-0", data, proofs=[sign_proof(owner, record_hash(data), {})]
    )
    assert updated["hash"] == record_hash(data)
    signed = await sdk.records.add_proofs(
        "records", "doc-0", [sign_proof(owner, updated["hash"], {"note": "seen"})]
    )
    assert len(signed["meta"]["proofs"]) > len(updated["meta"]["proofs"])
    history = await sdk.records.changes("records", "doc-0")
    verify_changes(history, system_public=system, current_hash=updated["hash"])
    assert_satisfies(history, RecordChanges)
    assert len(history["data"]) == 2


async def test_the_minka_error_comes_through_with_its_reason(sdk: AsyncClient) -> None:
    with pytest.raises(BadRequest) as caught:
        await sdk.records.create("records", {"handle": "x"}, hash="0" * 64)
    assert caught.value.status_code == 400
    assert caught.value.code == "crypto.hash-invalid"
    assert (await sdk.records.list("records"))["data"] == []
