"""Concurrent proofs and updates on one record (DESIGN principle 3): a quorum is never skipped
and never applied twice; two updates never both build on the same parent."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.fixtures.tenancy import Keys
from tests.records.factories import body, created, fetch, make_signer, status_policy
from vouch_client.records import KeyPair, sign_proof, verify_changes
from vouch_server.models import Proof
from vouch_server.models.records import RecordProof, RecordTransition, RecordVersion
from vouch_server.runtime import Runtime


async def quorum_setup(
    client: httpx.AsyncClient, keys: Keys, signers: int, threshold: int, records: int = 1
) -> tuple[list[KeyPair], list[dict[str, Any]]]:
    h = keys.test_headers
    pairs = [await make_signer(client, h, f"s{i}") for i in range(signers)]
    await created(
        client,
        h,
        "policies",
        status_policy(
            "release",
            [
                {
                    "status": "approved",
                    "quorum": [{"handle": f"s{i}"} for i in range(signers)],
                    "threshold": threshold,
                }
            ],
        ),
    )
    docs = [await created(client, h, "records", {"handle": f"doc-{n}"}) for n in range(records)]
    return pairs, docs


async def post_proof(
    client: httpx.AsyncClient, keys: Keys, record: dict[str, Any], proof: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        f"/v2/records/{record['luid']}/proofs", json=proof, headers=keys.test_headers
    )


async def count(runtime: Runtime, model: Any, *where: Any) -> int:
    async with runtime.db.session() as session:
        query = select(func.count()).select_from(model)
        return int(await session.scalar(query.where(*where) if where else query) or 0)


class TestConcurrentProofs:
    async def test_three_simultaneous_approvals_of_two_needed_apply_the_change_once(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        signers, [doc] = await quorum_setup(client, keys, signers=3, threshold=2)
        proofs = [sign_proof(k, doc["hash"], {"status": "approved"}) for k in signers]
        responses = await asyncio.gather(*(post_proof(client, keys, doc, p) for p in proofs))
        assert [r.status_code for r in responses] == [200, 200, 200], [r.text for r in responses]
        assert await count(runtime, RecordTransition) == 1
        assert await count(runtime, Proof) == 1
        final = await fetch(client, keys.test_headers, "records", doc["luid"])
        assert final["meta"]["status"] == "approved"
        publics = [p["public"] for p in final["meta"]["proofs"]]
        assert sorted(set(publics) - {publics[0]}) == sorted(k.public for k in signers)
        attestations = [p for p in final["meta"]["proofs"] if p["custom"].get("signers")]
        assert len(attestations) == 1
        assert len(attestations[0]["custom"]["signers"]) == 2

    async def test_two_simultaneous_approvals_of_two_needed_never_skip_the_quorum(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        signers, docs = await quorum_setup(client, keys, signers=2, threshold=2, records=6)
        await asyncio.gather(
            *(
                post_proof(client, keys, doc, sign_proof(k, doc["hash"], {"status": "approved"}))
                for doc in docs
                for k in signers
            )
        )
        for doc in docs:
            final = await fetch(client, keys.test_headers, "records", doc["luid"])
            assert final["meta"]["status"] == "approved", doc["data"]["handle"]
        assert await count(runtime, RecordTransition) == len(docs)

    async def test_the_same_proof_sent_many_times_at_once_is_stored_once(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        signers, [doc] = await quorum_setup(client, keys, signers=3, threshold=2)
        proof = sign_proof(signers[0], doc["hash"], {"status": "approved"})
        responses = await asyncio.gather(*(post_proof(client, keys, doc, proof) for _ in range(10)))
        assert {r.status_code for r in responses} == {200}
        assert await count(runtime, RecordProof, RecordProof.public == signers[0].public) == 1
        final = await fetch(client, keys.test_headers, "records", doc["luid"])
        assert final["meta"]["status"] == "created"

    async def test_proof_racing_an_update_is_counted_on_the_hash_it_signed_or_refused(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        owner = await make_signer(client, keys.test_headers, "owner")
        doc = await created(client, keys.test_headers, "records", {"handle": "doc"}, owner)
        data = {"handle": "doc", "v": 2, "parent": doc["hash"]}
        proof = sign_proof(owner, doc["hash"], {"status": "active"})
        put, added = await asyncio.gather(
            client.put("/v2/records/doc", json=body(data, owner), headers=keys.test_headers),
            post_proof(client, keys, doc, proof),
        )
        assert put.status_code == 200, put.text
        final = await fetch(client, keys.test_headers, "records", "doc")
        assert proof not in final["meta"]["proofs"]  # never carried over onto the new version
        if added.status_code == 200:
            assert final["meta"]["status"] == "active"  # signed, and applied, before the update
        else:
            assert added.json()["data"]["reason"] == "crypto.signature-invalid"
            assert final["meta"]["status"] == "created"


class TestConcurrentUpdates:
    async def test_only_one_of_simultaneous_updates_on_one_parent_wins(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        owner = await make_signer(client, keys.test_headers, "owner")
        doc = await created(client, keys.test_headers, "records", {"handle": "doc"}, owner)
        bodies = [body({"handle": "doc", "v": v, "parent": doc["hash"]}, owner) for v in range(8)]
        responses = await asyncio.gather(
            *(client.put("/v2/records/doc", json=b, headers=keys.test_headers) for b in bodies)
        )
        codes = sorted(r.status_code for r in responses)
        assert codes == [200] + [400] * 7, [r.text for r in responses]
        losers = {r.json()["data"]["reason"] for r in responses if r.status_code == 400}
        assert losers == {"crypto.parent-hash-invalid"}
        assert await count(runtime, RecordVersion) == 3  # owner signer, doc v1, the winner
        changes = (await client.get("/v2/records/doc/changes", headers=keys.test_headers)).json()
        verify_changes(changes)
