"""``POST /v2/{resource}/{id}/proofs``: quorum, status and labels policies, the audit trail and
status proof tokens, over HTTP against the real app and database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import func, select

from tests.fixtures.tenancy import Keys
from tests.records.factories import (
    add_proof,
    body,
    created,
    fetch,
    make_signer,
    status_policy,
    vector,
)
from tests.records.test_records_api import minka_error, system_public
from vouch_client.records import KeyPair, record_hash, sign_proof, verify_record
from vouch_server.models import Proof
from vouch_server.models.records import RecordProof, RecordTransition
from vouch_server.runtime import Runtime


@dataclass
class Setup:
    alice: KeyPair
    bob: KeyPair
    carol: KeyPair
    owner: KeyPair
    outsider: KeyPair
    record: dict[str, Any]


@pytest.fixture
async def setup(client: httpx.AsyncClient, keys: Keys) -> Setup:
    """A payout to release: 2 of alice, bob and carol approve it; its creator is not in the
    quorum."""
    h = keys.test_headers
    signers = {
        name: await make_signer(client, h, name)
        for name in ("alice", "bob", "carol", "owner", "outsider")
    }
    await created(
        client, h, "circles", {"handle": "treasury", "signers": ["alice", "bob", "carol"]}
    )
    await created(
        client,
        h,
        "policies",
        status_policy(
            "payout-release",
            [
                {"status": "approved", "quorum": [{"$circle": "treasury"}], "threshold": 2},
                {"status": "rejected", "quorum": [{"$circle": "treasury"}], "threshold": 1},
                {"status": "on-hold", "quorum": [{"$circle": "treasury"}], "threshold": 2},
                {"status": "archived"},
            ],
            record="record",
        ),
    )
    await created(
        client,
        h,
        "policies",
        {
            "handle": "payout-labels",
            "schema": "labels",
            "record": "records",
            "values": ["urgent", {"label": "eu"}],
        },
    )
    record = await created(
        client,
        h,
        "records",
        {"handle": "payout-7", "amount": "1000.00", "currency": "EUR"},
        signers["owner"],
    )
    return Setup(record=record, **signers)


async def snapshot(client: httpx.AsyncClient, keys: Keys, runtime: Runtime) -> tuple[Any, ...]:
    async with runtime.db.session() as session:
        proofs = await session.scalar(select(func.count()).select_from(RecordProof))
        transitions = await session.scalar(select(func.count()).select_from(RecordTransition))
    return await fetch(client, keys.test_headers, "records", "payout-7"), proofs, transitions


def statuses(record: dict[str, Any]) -> str:
    return str(record["meta"]["status"])


class TestQuorum:
    async def test_first_proof_is_stored_and_leaves_the_status(
        self, client: httpx.AsyncClient, keys: Keys, setup: Setup
    ) -> None:
        response = await add_proof(
            client, keys.test_headers, "records", setup.record, setup.alice, {"status": "approved"}
        )
        assert response.status_code == 200, response.text
        record = response.json()
        assert statuses(record) == "created"
        assert record["meta"]["proofs"][-1]["public"] == setup.alice.public
        assert "statusProof" not in record["meta"]

    async def test_second_signer_completes_the_quorum_and_changes_the_status(
        self, client: httpx.AsyncClient, keys: Keys, setup: Setup
    ) -> None:
        h = keys.test_headers
        await add_proof(client, h, "records", setup.record, setup.alice, {"status": "approved"})
        response = await add_proof(
            client, h, "records", setup.record, setup.carol, {"status": "approved"}
        )
        assert response.status_code == 200, response.text
        record = response.json()
        assert statuses(record) == "approved"
        system = await system_public(client, keys)
        verify_record(record, system_public=system)
        attestation = record["meta"]["proofs"][-1]
        assert attestation["public"] == system
        assert attestation["custom"]["status"] == "approved"
        assert attestation["custom"]["signers"] == sorted([setup.alice.public, setup.carol.public])

    async def test_same_signer_twice_does_not_make_a_quorum(
        self, client: httpx.AsyncClient, keys: Keys, setup: Setup
    ) -> None:
        h = keys.test_headers
        for moment in ("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:01.000Z"):
            response = await add_proof(
                client,
                h,
                "records",
                setup.record,
                setup.bob,
                {"status": "approved", "moment": moment},
            )
            assert response.status_code == 200
        assert statuses(response.json()) == "created"

    async def test_only_a_signers_latest_request_is_its_vote(
        self, client: httpx.AsyncClient, keys: Keys, setup: Setup
    ) -> None:
        h = keys.test_headers
        await add_proof(client, h, "records", setup.record, setup.alice, {"status": "approved"})
        await add_proof(client, h, "records", setup.record, setup.alice, {"status": "on-hold"})
        response = await add_proof(
            client, h, "records", setup.record, setup.bob, {"status": "approved"}
        )
        assert statuses(response.json()) == "created"  # alice now asks for on-hold, not approved
        response = await add_proof(
            client, h, "records", setup.record, setup.carol, {"status": "approved"}
        )
        assert statuses(response.json()) == "approved"

    async def test_proof_over_a_stale_hash_is_refused_and_changes_nothing(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime, setup: Setup
    ) -> None:
        h = keys.test_headers
        data = {**setup.record["data"], "amount": "2000.00", "parent": setup.record["hash"]}
        assert (
            await client.put("/v2/records/payout-7", json=body(data, setup.owner), headers=h)
        ).status_code == 200
        await add_proof(
            client,
            h,
            "records",
            setup.record,
            setup.alice,
            {"status": "approved"},
            over=record_hash(data),
        )
        before = await snapshot(client, keys, runtime)
        response = await add_proof(
            client,
            h,
            "records",
            setup.record,
            setup.bob,
            {"status": "approved"},
            over=setup.record["hash"],
        )
        error = minka_error(response, 400, "crypto.signature-invalid")
        assert error["custom"]["hash"] == record_hash(data)
        assert await snapshot(client, keys, runtime) == before
        assert statuses(before[0]) == "created"

    async def test_signer_outside_the_quorum_is_auth_forbidden_even_as_owner(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime, setup: Setup
    ) -> None:
        h = keys.test_headers
        await add_proof(client, h, "records", setup.record, setup.alice, {"status": "approved"})
        before = await snapshot(client, keys, runtime)
        for signer in (setup.outsider, setup.owner):
            response = await add_proof(
                client, h, "records", setup.record, signer, {"status": "approved"}
            )
            minka_error(response, 403, "auth.forbidden")
        assert await snapshot(client, keys, runtime) == before

    async def test_unknown_signer_is_auth_forbidden(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime, setup: Setup
    ) -> None:
        before = await snapshot(client, keys, runtime)
        response = await add_proof(
            client,
            keys.test_headers,
            "records",
            setup.record,
            KeyPair.generate(),
            {"status": "approved"},
        )
        minka_error(response, 403, "auth.forbidden")
        assert await snapshot(client, keys, runtime) == before

    async def test_blocked_signer_loses_its_vote_and_its_right_to_sign(
        self, client: httpx.AsyncClient, keys: Keys, setup: Setup
    ) -> None:
        h = keys.test_headers
        await add_proof(client, h, "records", setup.record, setup.alice, {"status": "approved"})
        alice = await fetch(client, h, "signers", "alice")
        # Signer records here have no owners: an access policy lets carol sign them.
        await created(
            client,
            h,
            "policies",
            {
                "handle": "signer-admins",
                "schema": "access",
                "record": "signer",
                "values": [{"action": "proof", "signer": {"handle": "carol"}}],
            },
        )
        blocked = await add_proof(client, h, "signers", alice, setup.carol, {"status": "blocked"})
        assert statuses(blocked.json()) == "blocked"
        response = await add_proof(
            client, h, "records", setup.record, setup.bob, {"status": "approved"}
        )
        assert statuses(response.json()) == "created"  # alice's earlier vote no longer counts
        refused = await add_proof(
            client,
            h,
            "records",
            setup.record,
            setup.alice,
            {"status": "approved", "moment": "again"},
        )
        minka_error(refused, 403, "auth.forbidden")

    async def test_status_no_policy_allows_is_refused_and_changes_nothing(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime, setup: Setup
    ) -> None:
        before = await snapshot(client, keys, runtime)
        response = await add_proof(
            client, keys.test_headers, "records", setup.record, setup.alice, {"status": "paid"}
        )
        error = minka_error(response, 400, "record.status-policy-violation")
        assert error["custom"]["policies"] == ["payout-release"]
        assert await snapshot(client, keys, runtime) == before

    async def test_status_without_quorum_is_set_by_one_permitted_signer(
        self, client: httpx.AsyncClient, keys: Keys, setup: Setup
    ) -> None:
        response = await add_proof(
            client, keys.test_headers, "records", setup.record, setup.owner, {"status": "archived"}
        )
        assert statuses(response.json()) == "archived"

    async def test_without_status_policy_any_permitted_signer_sets_the_status(
        self, client: httpx.AsyncClient, keys: Keys, setup: Setup
    ) -> None:
        h = keys.test_headers
        doc = await created(
            client,
            h,
            "signers",
            {"handle": "fresh", "public": KeyPair.generate().public},
            setup.owner,
        )
        response = await add_proof(client, h, "signers", doc, setup.owner, {"status": "active"})
        assert statuses(response.json()) == "active"

    async def test_votes_cast_before_the_last_change_do_not_count_again(
        self, client: httpx.AsyncClient, keys: Keys, setup: Setup
    ) -> None:
        h = keys.test_headers
        await add_proof(
            client, h, "records", setup.record, setup.alice, {"status": "approved", "moment": "1"}
        )
        await add_proof(
            client, h, "records", setup.record, setup.bob, {"status": "approved", "moment": "1"}
        )
        await add_proof(client, h, "records", setup.record, setup.carol, {"status": "rejected"})
        response = await add_proof(
            client, h, "records", setup.record, setup.alice, {"status": "approved", "moment": "2"}
        )
        assert statuses(response.json()) == "rejected"
        response = await add_proof(
            client, h, "records", setup.record, setup.bob, {"status": "approved", "moment": "2"}
        )
        assert statuses(response.json()) == "approved"

    async def test_replayed_proof_is_kept_once_and_not_counted_again(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime, setup: Setup
    ) -> None:
        h = keys.test_headers
        proof = sign_proof(setup.alice, setup.record["hash"], {"status": "approved"})
        url = f"/v2/records/{setup.record['luid']}/proofs"
        first = await client.post(url, json=proof, headers=h)
        second = await client.post(url, json=proof, headers=h)
        assert first.status_code == second.status_code == 200
        assert first.json()["meta"]["proofs"] == second.json()["meta"]["proofs"]
        assert statuses(second.json()) == "created"

    async def test_votes_restart_after_an_update(
        self, client: httpx.AsyncClient, keys: Keys, setup: Setup
    ) -> None:
        h = keys.test_headers
        await add_proof(client, h, "records", setup.record, setup.alice, {"status": "approved"})
        data = {**setup.record["data"], "amount": "1.00", "parent": setup.record["hash"]}
        updated = (
            await client.put("/v2/records/payout-7", json=body(data, setup.owner), headers=h)
        ).json()
        response = await add_proof(client, h, "records", updated, setup.bob, {"status": "approved"})
        assert statuses(response.json()) == "created"
        response = await add_proof(
            client, h, "records", updated, setup.alice, {"status": "approved"}
        )
        assert statuses(response.json()) == "approved"

    async def test_list_of_proofs_is_all_or_nothing(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime, setup: Setup
    ) -> None:
        before = await snapshot(client, keys, runtime)
        good = sign_proof(setup.alice, setup.record["hash"], {"status": "approved"})
        bad = sign_proof(setup.outsider, setup.record["hash"], {"status": "approved"})
        url = f"/v2/records/{setup.record['luid']}/proofs"
        minka_error(
            await client.post(url, json=[good, bad], headers=keys.test_headers),
            403,
            "auth.forbidden",
        )
        assert await snapshot(client, keys, runtime) == before
        both = [good, sign_proof(setup.bob, setup.record["hash"], {"status": "approved"})]
        response = await client.post(url, json=both, headers=keys.test_headers)
        assert statuses(response.json()) == "approved"


class TestStatusProof:
    async def _approve(self, client: httpx.AsyncClient, keys: Keys, setup: Setup) -> dict[str, Any]:
        h = keys.test_headers
        await add_proof(client, h, "records", setup.record, setup.alice, {"status": "approved"})
        response = await add_proof(
            client, h, "records", setup.record, setup.bob, {"status": "approved"}
        )
        return response.json()  # type: ignore[no-any-return]

    async def test_completed_change_mints_one_record_status_token(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime, setup: Setup
    ) -> None:
        record = await self._approve(client, keys, setup)
        token = record["meta"]["statusProof"]["token"]
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["type"] == "record_status"
        assert claims["sub"] == record["meta"]["statusProof"]["id"]
        assert claims["record"] == {
            "luid": setup.record["luid"],
            "resource": "records",
            "handle": "payout-7",
        }
        assert claims["hash"] == setup.record["hash"]
        assert claims["record_status"] == "approved"
        assert claims["previous_status"] == "created"
        assert claims["signers"] == sorted([setup.alice.public, setup.bob.public])
        async with runtime.db.session() as session:
            rows = (await session.scalars(select(Proof))).all()
        assert [(p.family, p.type) for p in rows] == [("record", "record_status")]

    async def test_token_verifies_offline_against_the_jwks(
        self, client: httpx.AsyncClient, keys: Keys, setup: Setup
    ) -> None:
        record = await self._approve(client, keys, setup)
        token = record["meta"]["statusProof"]["token"]
        # A record made with a test key is signed by the test key set, never the live one.
        kid = jwt.get_unverified_header(token)["kid"]
        live = (await client.get("/.well-known/jwks.json")).json()
        assert kid not in {k["kid"] for k in live["keys"]}
        jwks = (await client.get("/.well-known/jwks-test.json")).json()
        key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid))
        claims = jwt.decode(
            token, key.key, algorithms=[key.algorithm_name], issuer="https://vouch.test"
        )
        assert claims["record_status"] == "approved"
        assert claims["test"] is True

    async def test_token_validates_and_revokes_like_every_vouch_proof(
        self, client: httpx.AsyncClient, keys: Keys, setup: Setup
    ) -> None:
        record = await self._approve(client, keys, setup)
        status_proof = record["meta"]["statusProof"]
        valid = await client.post(
            "/api/v1/proofs/validate",
            json={"proof_token": status_proof["token"]},
            headers=keys.test_headers,
        )
        assert valid.json()["valid"] is True
        revoked = await client.post(
            f"/api/v1/proofs/{status_proof['id']}/revoke",
            json={"reason": "fraud"},
            headers=keys.test_headers,
        )
        assert revoked.status_code == 200, revoked.text
        after = await fetch(client, keys.test_headers, "records", "payout-7")
        assert after["meta"]["statusProof"]["revoked"] is True
        assert statuses(after) == "approved"  # the record's history is not rewritten
        invalid = await client.post(
            "/api/v1/proofs/validate",
            json={"proof_token": status_proof["token"]},
            headers=keys.test_headers,
        )
        assert invalid.json()["reason"] == "revoked"

    async def test_no_token_while_the_quorum_is_incomplete(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime, setup: Setup
    ) -> None:
        await add_proof(
            client, keys.test_headers, "records", setup.record, setup.alice, {"status": "approved"}
        )
        async with runtime.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(Proof)) == 0


class TestLabels:
    async def test_owner_pushes_and_pulls_allowed_labels(
        self, client: httpx.AsyncClient, keys: Keys, setup: Setup
    ) -> None:
        h = keys.test_headers
        pushed = await add_proof(
            client, h, "records", setup.record, setup.owner, {"labels": {"$push": ["urgent", "eu"]}}
        )
        assert pushed.json()["meta"]["labels"] == ["urgent", "eu"]
        pulled = await add_proof(
            client, h, "records", setup.record, setup.owner, {"labels": {"$pull": "urgent"}}
        )
        assert pulled.json()["meta"]["labels"] == ["eu"]
        cleared = await add_proof(
            client, h, "records", setup.record, setup.owner, {"labels": {"$pullAll": ["eu"]}}
        )
        assert cleared.json()["meta"]["labels"] == []
        replaced = await add_proof(
            client, h, "records", setup.record, setup.owner, {"labels": ["eu"]}
        )
        assert replaced.json()["meta"]["labels"] == ["eu"]

    async def test_minka_documented_labels_policy_shape(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        """Minka's labels policy: ``values: [{labels: [...]}]`` grants those labels, with
        ``record`` and ``filter`` choosing the records it applies to."""
        h = keys.live_headers
        owner = await make_signer(client, h, "anchor-owner")
        policy = await created(
            client,
            h,
            "policies",
            {
                "handle": "preferred-account",
                "schema": "labels",
                "record": "records",
                "filter": {"data.schema": "account"},
                "values": [{"labels": ["preferred", "saving-account"]}],
            },
        )
        assert policy["data"]["values"] == [{"labels": ["preferred", "saving-account"]}]
        account = await created(
            client, h, "records", {"handle": "acct-1", "schema": "account"}, owner
        )
        granted = await add_proof(
            client, h, "records", account, owner, {"labels": {"$push": ["preferred"]}}
        )
        assert granted.status_code in (200, 201), granted.text
        assert granted.json()["meta"]["labels"] == ["preferred"]
        account = await fetch(client, h, "records", account["luid"])
        async with runtime.db.session() as session:
            proofs = await session.scalar(select(func.count()).select_from(RecordProof))
        refused = await add_proof(
            client, h, "records", account, owner, {"labels": {"$push": ["vip"]}}
        )
        assert minka_error(refused, 400, "record.labels-policy-violation")["custom"]["labels"] == [
            "vip"
        ]
        assert await fetch(client, h, "records", account["luid"]) == account
        async with runtime.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(RecordProof)) == proofs
        # The filter leaves other records open: a card may carry any label.
        card = await created(client, h, "records", {"handle": "card-1", "schema": "card"}, owner)
        free = await add_proof(client, h, "records", card, owner, {"labels": ["vip"]})
        assert free.json()["meta"]["labels"] == ["vip"]

    async def test_label_no_policy_allows_is_refused_and_changes_nothing(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime, setup: Setup
    ) -> None:
        before = await snapshot(client, keys, runtime)
        response = await add_proof(
            client,
            keys.test_headers,
            "records",
            setup.record,
            setup.owner,
            {"labels": {"$push": ["urgent", "vip"]}},
        )
        error = minka_error(response, 400, "record.labels-policy-violation")
        assert error["custom"]["labels"] == ["vip"]
        assert await snapshot(client, keys, runtime) == before

    async def test_disallowed_label_refuses_the_status_request_in_the_same_proof(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime, setup: Setup
    ) -> None:
        await created(
            client,
            keys.test_headers,
            "policies",
            {
                "handle": "owners-sign",
                "schema": "access",
                "values": [{"action": "proof", "signer": {"handle": "alice"}}],
            },
        )
        before = await snapshot(client, keys, runtime)
        response = await add_proof(
            client,
            keys.test_headers,
            "records",
            setup.record,
            setup.alice,
            {"status": "rejected", "labels": ["vip"]},
        )
        minka_error(response, 400, "record.labels-policy-violation")
        assert await snapshot(client, keys, runtime) == before

    async def test_quorum_member_may_vote_but_not_label(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime, setup: Setup
    ) -> None:
        before = await snapshot(client, keys, runtime)
        response = await add_proof(
            client, keys.test_headers, "records", setup.record, setup.alice, {"labels": ["eu"]}
        )
        minka_error(response, 403, "auth.forbidden")
        assert await snapshot(client, keys, runtime) == before

    async def test_malformed_labels_operation_is_api_body_malformed(
        self, client: httpx.AsyncClient, keys: Keys, setup: Setup
    ) -> None:
        response = await add_proof(
            client,
            keys.test_headers,
            "records",
            setup.record,
            setup.owner,
            {"labels": {"$set": ["eu"]}},
        )
        minka_error(response, 400, "api.body-malformed")


class TestAuditTrail:
    async def test_arbitrary_custom_fields_are_kept_signed_and_in_order(
        self, client: httpx.AsyncClient, keys: Keys, setup: Setup
    ) -> None:
        h = keys.test_headers
        custom = {
            "decision": "kyc-passed",
            "ticket": "OPS-1182",
            "moment": "2026-11-22T10:00:00.000Z",
            "score": 0.93,
        }
        first = (await add_proof(client, h, "records", setup.record, setup.owner, custom)).json()
        second = (
            await add_proof(client, h, "records", setup.record, setup.owner, {"note": "paid out"})
        ).json()
        assert first["meta"]["proofs"][-1]["custom"] == custom
        assert second["meta"]["proofs"][: len(first["meta"]["proofs"])] == first["meta"]["proofs"]
        verify_record(second, system_public=await system_public(client, keys))

    async def test_stranger_cannot_add_an_audit_proof(
        self, client: httpx.AsyncClient, keys: Keys, setup: Setup
    ) -> None:
        response = await add_proof(
            client, keys.test_headers, "records", setup.record, setup.outsider, {"note": "hi"}
        )
        minka_error(response, 403, "auth.forbidden")

    async def test_unsafe_number_in_custom_is_refused(
        self, client: httpx.AsyncClient, keys: Keys, setup: Setup
    ) -> None:
        proof = sign_proof(setup.owner, setup.record["hash"], {"n": 1})
        fields = ", ".join(f'"{k}": "{proof[k]}"' for k in ("method", "public", "digest", "result"))
        text = f'{{{fields}, "custom": {{"n": {2**60}}}}}'
        response = await client.post(
            f"/v2/records/{setup.record['luid']}/proofs",
            content=text,
            headers={**keys.test_headers, "Content-Type": "application/json"},
        )
        minka_error(response, 400, "api.body-malformed")

    async def test_proof_for_unknown_record_is_record_not_found(
        self, client: httpx.AsyncClient, keys: Keys, setup: Setup
    ) -> None:
        proof = sign_proof(setup.owner, setup.record["hash"], {})
        response = await client.post(
            "/v2/records/missing/proofs", json=proof, headers=keys.test_headers
        )
        minka_error(response, 404, "record.not-found")


class TestMinkaVectorProofs:
    async def test_vector_signer_proof_activates_the_signer_through_the_vector_policy(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        """Minka's own signatures, accepted as they are: the access-policy vector (signed by the
        ``AN6X…`` key) grants circle ``admin`` every action, and the signer vector's proof by that
        key asks for status ``active``."""
        h = keys.test_headers
        policy, signer = vector("access policy"), vector("signer")
        admin_key = policy["proofs"][0]["public"]
        await created(
            client,
            h,
            "signers",
            {"handle": "minka-admin", "public": admin_key, "format": "ed25519-raw"},
        )
        await created(client, h, "circles", {"handle": "admin", "signers": ["minka-admin"]})
        tesla = await created(client, h, "signers", signer["data"])
        assert tesla["hash"] == signer["hash"]
        stored = await client.post(
            "/v2/policies",
            json={
                "hash": policy["hash"],
                "data": policy["data"],
                "meta": {"proofs": policy["proofs"][:1]},
            },
            headers=h,
        )
        assert stored.status_code == 201, stored.text
        response = await client.post(
            f"/v2/signers/{tesla['luid']}/proofs", json=signer["proofs"][0], headers=h
        )
        assert response.status_code == 200, response.text
        assert statuses(response.json()) == "active"
        assert signer["proofs"][0] in response.json()["meta"]["proofs"]
