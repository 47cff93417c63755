"""``/v2/{resource}`` records over HTTP against the real app and database (Minka surface)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from tests.fixtures.tenancy import Keys
from tests.records.factories import (
    add_proof,
    body,
    create,
    created,
    fetch,
    make_signer,
    vector,
)
from vouch_client.records import (
    KeyPair,
    RecordVerificationError,
    record_hash,
    sign_proof,
    verify_changes,
    verify_list,
    verify_proof,
    verify_record,
)
from vouch_server.models.records import Record, RecordProof, RecordVersion
from vouch_server.runtime import Runtime

LUID = re.compile(r"^\$rec\.[A-Za-z0-9_-]{17}$")


async def count(runtime: Runtime, model: Any) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def system_public(client: httpx.AsyncClient, keys: Keys) -> str:
    record = await fetch(client, keys.test_headers, "signers", "system")
    return str(record["data"]["public"])


def minka_error(response: httpx.Response, status: int, reason: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    payload = response.json()
    # Signed as Minka signs errors: hash over data, one system proof whose custom names the reason.
    assert set(payload) == {"data", "hash", "meta"}, payload
    assert set(payload["data"]) == {"reason", "detail", "custom"}
    assert payload["data"]["reason"] == reason, payload
    assert payload["hash"] == record_hash(payload["data"])
    [proof] = payload["meta"]["proofs"]
    verify_proof(proof, payload["hash"])
    assert proof["custom"]["reason"] == reason
    assert proof["custom"]["detail"] == payload["data"]["detail"]
    assert isinstance(payload["data"]["detail"], str) and payload["data"]["detail"]
    return payload["data"]  # type: ignore[no-any-return]


class TestCreate:
    async def test_returns_the_minka_envelope_signed_by_the_system_signer(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        owner = await make_signer(client, keys.test_headers, "owner")
        data = {"handle": "vendor-1", "name": "Acme", "amount": 12.5}
        record = await created(client, keys.test_headers, "records", data, owner)
        assert set(record) == {"luid", "hash", "data", "meta"}
        assert LUID.match(record["luid"])
        assert record["hash"] == record_hash(data)
        assert record["data"] == data
        meta = record["meta"]
        assert {"proofs", "status", "labels", "owners", "moment"} <= set(meta)
        assert meta["status"] == "created"
        assert meta["labels"] == []
        assert meta["owners"] == [owner.public]
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", meta["moment"])
        system = await system_public(client, keys)
        verify_record(record, system_public=system)
        system_proof = meta["proofs"][-1]
        assert system_proof["public"] == system
        assert system_proof["custom"]["luid"] == record["luid"]
        assert system_proof["custom"]["status"] == "created"

    async def test_minka_vector_policy_is_stored_with_the_vector_hash_and_proof(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        policy = vector("access policy")
        await make_signer(
            client,
            keys.test_headers,
            "root",
            KeyPair("AN6XpZ7T8FDCkjbSpIVE2cioQ7hajp8DBTOioz/TSZ8=", ""),
        )
        response = await client.post(
            "/v2/policies",
            json={
                "hash": policy["hash"],
                "data": policy["data"],
                "meta": {"proofs": policy["proofs"][:1]},
            },
            headers=keys.test_headers,
        )
        assert response.status_code == 201, response.text
        stored = response.json()
        assert stored["luid"].startswith("$plc.")
        assert stored["hash"] == policy["hash"]
        assert stored["meta"]["proofs"][0] == policy["proofs"][0]
        assert stored["meta"]["owners"] == [policy["proofs"][0]["public"]]

    async def test_hash_that_is_not_the_datas_is_crypto_hash_invalid_and_stores_nothing(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        response = await client.post(
            "/v2/records",
            json={"hash": "0" * 64, "data": {"handle": "x"}},
            headers=keys.test_headers,
        )
        minka_error(response, 400, "crypto.hash-invalid")
        assert await count(runtime, Record) == 0

    async def test_creation_proof_over_another_hash_is_crypto_signature_invalid(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        signer = await make_signer(client, keys.test_headers, "owner")
        payload = body({"handle": "x"})
        payload["meta"]["proofs"] = [sign_proof(signer, record_hash({"handle": "y"}), {})]
        response = await client.post("/v2/records", json=payload, headers=keys.test_headers)
        minka_error(response, 400, "crypto.signature-invalid")
        assert await count(runtime, Record) == 1  # the signer only

    async def test_creation_proof_by_an_unknown_signer_is_auth_forbidden(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await create(
            client, keys.test_headers, "records", {"handle": "x"}, KeyPair.generate()
        )
        minka_error(response, 403, "auth.forbidden")

    async def test_signer_may_sign_its_own_registration(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        me = KeyPair.generate()
        data = {"handle": "me", "public": me.public, "format": "ed25519-raw"}
        record = await created(client, keys.test_headers, "signers", data, me)
        assert record["meta"]["owners"] == [me.public]
        assert record["luid"].startswith("$sgn.")

    async def test_duplicate_handle_is_record_duplicated(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        await created(client, keys.test_headers, "records", {"handle": "same"})
        response = await create(client, keys.test_headers, "records", {"handle": "same", "v": 2})
        minka_error(response, 409, "record.duplicated")

    async def test_same_handle_in_another_project_or_environment_is_allowed(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        for headers in (keys.test_headers, keys.live_headers, keys.auth(keys.other_test)):
            await created(client, headers, "records", {"handle": "same"})

    async def test_second_signer_with_the_same_key_is_record_duplicated(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        signer = await make_signer(client, keys.test_headers, "one")
        response = await create(
            client, keys.test_headers, "signers", {"handle": "two", "public": signer.public}
        )
        minka_error(response, 409, "record.duplicated")

    async def test_the_system_signers_key_cannot_be_registered(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        system = await system_public(client, keys)
        response = await create(
            client, keys.test_headers, "signers", {"handle": "imposter", "public": system}
        )
        minka_error(response, 409, "record.duplicated")

    @pytest.mark.parametrize("amount", [2**53, -(2**53), 10**20])
    async def test_integer_beyond_safe_range_is_refused_and_names_the_field(
        self, client: httpx.AsyncClient, keys: Keys, amount: int, runtime: Runtime
    ) -> None:
        response = await client.post(
            "/v2/records",
            content=f'{{"data": {{"handle": "x", "claims": [{{"amount": {amount}}}]}}}}',
            headers={**keys.test_headers, "Content-Type": "application/json"},
        )
        error = minka_error(response, 400, "api.body-malformed")
        assert error["custom"]["details"][0]["field"] == "data.claims[0].amount"
        assert await count(runtime, Record) == 0

    async def test_largest_safe_integer_round_trips(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        record = await created(
            client, keys.test_headers, "records", {"handle": "x", "n": 2**53 - 1}
        )
        assert (await fetch(client, keys.test_headers, "records", "x"))["data"]["n"] == 2**53 - 1
        verify_record(record)

    @pytest.mark.parametrize(
        ("resource", "data", "field"),
        [
            ("signers", {"handle": "s", "public": "short"}, "data.public"),
            ("signers", {"handle": "system", "public": KeyPair.generate().public}, None),
            ("policies", {"handle": "p", "schema": "status", "values": [{"threshold": 1}]}, "data"),
            ("circles", {"signers": ["a"]}, "data.handle"),
            ("records", {"handle": "has space"}, "data.handle"),
            ("records", {"handle": "x", "parent": "0" * 64}, "data"),
        ],
    )
    async def test_invalid_data_is_refused(
        self,
        client: httpx.AsyncClient,
        keys: Keys,
        resource: str,
        data: dict[str, Any],
        field: str | None,
    ) -> None:
        response = await create(client, keys.test_headers, resource, data)
        assert response.status_code in (400, 409)
        if field is not None:
            error = minka_error(response, 400, "api.body-malformed")
            assert error["custom"]["details"][0]["field"] == field

    async def test_unknown_resource_is_api_route_unknown(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await create(client, keys.test_headers, "vendors", {"handle": "x"})
        minka_error(response, 404, "api.route-unknown")

    async def test_project_declares_its_own_resource_in_v2_resources(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        await created(client, keys.test_headers, "resources", {"handle": "vendors"})
        record = await created(client, keys.test_headers, "vendors", {"handle": "acme"})
        assert record["luid"].startswith("$rec.")
        other = await create(client, keys.auth(keys.other_test), "vendors", {"handle": "acme"})
        minka_error(other, 404, "api.route-unknown")

    async def test_configured_resources_exist_for_every_project(
        self, settings_factory: Any, keys: Keys
    ) -> None:
        from vouch_server.app import create_app

        app = create_app(settings_factory(records_resources="payouts, policies-x"))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as c:
                assert (
                    await create(c, keys.test_headers, "payouts", {"handle": "p"})
                ).status_code == 201
                assert (
                    await create(c, keys.test_headers, "records", {"handle": "r"})
                ).status_code == 404

    async def test_access_policy_on_create_requires_a_granted_signer(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        admin = await make_signer(client, keys.test_headers, "admin")
        other = await make_signer(client, keys.test_headers, "other")
        await created(
            client,
            keys.test_headers,
            "policies",
            {
                "handle": "only-admin",
                "schema": "access",
                "record": "records",
                "values": [{"action": "create", "signer": {"handle": "admin"}}],
            },
        )
        unsigned = await create(client, keys.test_headers, "records", {"handle": "a"})
        minka_error(unsigned, 403, "auth.forbidden")
        wrong = await create(client, keys.test_headers, "records", {"handle": "a"}, other)
        minka_error(wrong, 403, "auth.forbidden")
        assert (
            await create(client, keys.test_headers, "records", {"handle": "a"}, admin)
        ).status_code == 201
        # The policy speaks about records only: signers stay open.
        await make_signer(client, keys.test_headers, "third")

    async def test_missing_api_key_is_auth_unauthorized_in_minka_shape(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post("/v2/records", json={"data": {}})
        minka_error(response, 401, "auth.unauthorized")

    async def test_x_api_key_header_is_accepted(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await client.post(
            "/v2/records", json={"data": {"handle": "k"}}, headers={"X-Api-Key": keys.test}
        )
        assert response.status_code == 201

    async def test_malformed_body_is_api_body_malformed(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await client.post("/v2/records", json={"meta": {}}, headers=keys.test_headers)
        error = minka_error(response, 400, "api.body-malformed")
        assert error["custom"]["details"]


class TestGet:
    async def test_by_luid_and_by_handle(self, client: httpx.AsyncClient, keys: Keys) -> None:
        record = await created(client, keys.test_headers, "records", {"handle": "h1"})
        assert await fetch(client, keys.test_headers, "records", record["luid"]) == record
        assert await fetch(client, keys.test_headers, "records", "h1") == record

    async def test_other_project_and_other_environment_see_record_not_found(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        record = await created(client, keys.test_headers, "records", {"handle": "h1"})
        for headers in (keys.live_headers, keys.auth(keys.other_test)):
            response = await client.get(f"/v2/records/{record['luid']}", headers=headers)
            minka_error(response, 404, "record.not-found")

    async def test_record_of_another_resource_is_not_found(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        await make_signer(client, keys.test_headers, "h1")
        response = await client.get("/v2/records/h1", headers=keys.test_headers)
        minka_error(response, 404, "record.not-found")

    async def test_system_signer_is_published_self_signed(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        record = await fetch(client, keys.test_headers, "signers", "system")
        assert record["data"]["handle"] == "system"
        assert record["meta"]["status"] == "active"
        verify_record(record, system_public=record["data"]["public"])
        assert await fetch(client, keys.test_headers, "signers", record["luid"]) == record


class TestList:
    async def test_list_is_signed_by_the_system_signer(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        await created(client, keys.test_headers, "records", {"handle": "a"})
        response = await client.get("/v2/records", headers=keys.test_headers)
        assert response.status_code == 200
        payload = response.json()
        assert [r["data"]["handle"] for r in payload["data"]] == ["a"]
        system = await system_public(client, keys)
        verify_list(payload, system_public=system)
        payload["data"][0]["data"]["handle"] = "b"
        with pytest.raises(RecordVerificationError):
            verify_list(payload, system_public=system)

    async def test_filters_on_data_fields(self, client: httpx.AsyncClient, keys: Keys) -> None:
        await created(
            client,
            keys.test_headers,
            "records",
            {"handle": "a", "kind": "bank", "n": 5, "ok": True, "in": {"c": "LT"}},
        )
        await created(
            client,
            keys.test_headers,
            "records",
            {"handle": "b", "kind": "fintech", "n": 7, "ok": False, "in": {"c": "US"}},
        )

        async def handles(query: str) -> list[str]:
            response = await client.get(f"/v2/records?{query}", headers=keys.test_headers)
            assert response.status_code == 200, response.text
            return [r["data"]["handle"] for r in response.json()["data"]]

        assert await handles("data.kind=bank") == ["a"]
        assert await handles("data.kind.$eq=fintech") == ["b"]
        assert await handles("data.n=7") == ["b"]
        assert await handles("data.ok=true") == ["a"]
        assert await handles("data.in.c=US") == ["b"]
        assert await handles("data.kind.$in=bank,fintech") == ["a", "b"]
        assert await handles("data.kind=bank&data.n=7") == []

    async def test_filters_on_status_and_labels(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        owner = await make_signer(client, keys.test_headers, "owner")
        a = await created(client, keys.test_headers, "records", {"handle": "a"}, owner)
        await created(client, keys.test_headers, "records", {"handle": "b"}, owner)
        response = await add_proof(
            client,
            keys.test_headers,
            "records",
            a,
            owner,
            {"status": "active", "labels": ["vip", "eu"]},
        )
        assert response.status_code == 200, response.text

        async def handles(query: str) -> list[str]:
            response = await client.get(f"/v2/records?{query}", headers=keys.test_headers)
            return [r["data"]["handle"] for r in response.json()["data"]]

        assert await handles("meta.status=active") == ["a"]
        assert await handles("meta.status=created") == ["b"]
        assert await handles("meta.labels=vip&meta.labels=eu") == ["a"]
        assert await handles("meta.labels=other") == []

    async def test_paginates_with_limit_and_index(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        for i in range(5):
            await created(client, keys.test_headers, "records", {"handle": f"r{i}"})
        first = (await client.get("/v2/records?limit=2", headers=keys.test_headers)).json()
        last = (await client.get("/v2/records?limit=2&index=2", headers=keys.test_headers)).json()
        assert [r["data"]["handle"] for r in first["data"]] == ["r0", "r1"]
        assert first["page"] == {"index": 0, "limit": 2, "hasMore": True}
        assert [r["data"]["handle"] for r in last["data"]] == ["r4"]
        assert last["page"]["hasMore"] is False

    @pytest.mark.parametrize(
        "query", ["limit=0", "limit=101", "index=-1", "color=red", "data.a'b=1"]
    )
    async def test_invalid_query_is_api_query_invalid(
        self, client: httpx.AsyncClient, keys: Keys, query: str
    ) -> None:
        response = await client.get(f"/v2/records?{query}", headers=keys.test_headers)
        minka_error(response, 400, "api.query-invalid")

    async def test_lists_only_the_callers_project_and_environment(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        await created(client, keys.test_headers, "records", {"handle": "mine"})
        for headers in (keys.live_headers, keys.auth(keys.other_test)):
            response = await client.get("/v2/records", headers=headers)
            assert response.json()["data"] == []


async def owned_record(client: httpx.AsyncClient, keys: Keys) -> tuple[KeyPair, dict[str, Any]]:
    owner = await make_signer(client, keys.test_headers, "owner")
    record = await created(client, keys.test_headers, "records", {"handle": "doc", "v": 1}, owner)
    return owner, record


class TestUpdate:
    async def test_owner_update_makes_a_new_version_whose_proofs_restart(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        owner, record = await owned_record(client, keys)
        await add_proof(client, keys.test_headers, "records", record, owner, {"note": "seen"})
        data = {"handle": "doc", "v": 2, "parent": record["hash"]}
        response = await client.put(
            "/v2/records/doc", json=body(data, owner), headers=keys.test_headers
        )
        assert response.status_code == 200, response.text
        updated = response.json()
        assert updated["luid"] == record["luid"]
        assert updated["hash"] == record_hash(data)
        assert [p["custom"].get("note") for p in updated["meta"]["proofs"]] == [None, None]
        assert updated["meta"]["proofs"][-1]["custom"]["version"] == 2
        verify_record(updated, system_public=await system_public(client, keys))

    async def test_parent_that_is_not_the_current_hash_is_crypto_parent_hash_invalid(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        owner, record = await owned_record(client, keys)
        for parent in (None, "0" * 64):
            data: dict[str, Any] = {"handle": "doc", "v": 2}
            if parent:
                data["parent"] = parent
            response = await client.put(
                "/v2/records/doc", json=body(data, owner), headers=keys.test_headers
            )
            minka_error(response, 400, "crypto.parent-hash-invalid")
        assert (await fetch(client, keys.test_headers, "records", "doc")) == record

    async def test_stale_parent_after_another_update_is_refused(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        owner, record = await owned_record(client, keys)
        first = {"handle": "doc", "v": 2, "parent": record["hash"]}
        assert (
            await client.put("/v2/records/doc", json=body(first, owner), headers=keys.test_headers)
        ).status_code == 200
        again = {"handle": "doc", "v": 3, "parent": record["hash"]}
        response = await client.put(
            "/v2/records/doc", json=body(again, owner), headers=keys.test_headers
        )
        minka_error(response, 400, "crypto.parent-hash-invalid")

    async def test_update_not_signed_by_an_owner_is_auth_forbidden(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        _owner, record = await owned_record(client, keys)
        stranger = await make_signer(client, keys.test_headers, "stranger")
        data = {"handle": "doc", "v": 2, "parent": record["hash"]}
        for signers in ((), (stranger,)):
            response = await client.put(
                "/v2/records/doc", json=body(data, *signers), headers=keys.test_headers
            )
            minka_error(response, 403, "auth.forbidden")
        assert await count(runtime, RecordVersion) == 3  # two signers and the record, version 1
        assert (await fetch(client, keys.test_headers, "records", "doc"))["hash"] == record["hash"]

    async def test_access_policy_grants_update_to_a_circle(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        _owner, record = await owned_record(client, keys)
        editor = await make_signer(client, keys.test_headers, "editor")
        await created(
            client, keys.test_headers, "circles", {"handle": "editors", "signers": ["editor"]}
        )
        await created(
            client,
            keys.test_headers,
            "policies",
            {
                "handle": "edit",
                "schema": "access",
                "values": [{"action": "update", "signer": {"$circle": "editors"}}],
            },
        )
        data = {"handle": "doc", "v": 2, "parent": record["hash"]}
        response = await client.put(
            "/v2/records/doc", json=body(data, editor), headers=keys.test_headers
        )
        assert response.status_code == 200, response.text


class TestChanges:
    async def test_every_version_chains_by_hash_and_verifies(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        owner, record = await owned_record(client, keys)
        parent = record["hash"]
        for v in (2, 3):
            data = {"handle": "doc", "v": v, "parent": parent}
            response = await client.put(
                "/v2/records/doc", json=body(data, owner), headers=keys.test_headers
            )
            parent = response.json()["hash"]
        changes = (await client.get("/v2/records/doc/changes", headers=keys.test_headers)).json()
        assert [c["data"]["v"] for c in changes["data"]] == [1, 2, 3]
        assert [c["meta"]["version"] for c in changes["data"]] == [1, 2, 3]
        system = await system_public(client, keys)
        verify_list(changes, system_public=system)
        verify_changes(changes, system_public=system, current_hash=parent)

    async def _history(self, client: httpx.AsyncClient, keys: Keys) -> dict[str, Any]:
        owner, record = await owned_record(client, keys)
        data = {"handle": "doc", "v": 2, "parent": record["hash"]}
        await client.put("/v2/records/doc", json=body(data, owner), headers=keys.test_headers)
        return record

    async def test_altered_stored_data_is_detected(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        record = await self._history(client, keys)
        async with runtime.db.session() as session:
            await session.execute(
                update(RecordVersion)
                .where(RecordVersion.hash == record["hash"])
                .values(data={"handle": "doc", "v": 999})
            )
        changes = (await client.get("/v2/records/doc/changes", headers=keys.test_headers)).json()
        with pytest.raises(RecordVerificationError) as info:
            verify_changes(changes)
        assert (info.value.reason, info.value.index) == ("hash-mismatch", 0)

    async def test_altered_data_with_recomputed_hash_is_detected(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        record = await self._history(client, keys)
        forged = {"handle": "doc", "v": 999}
        async with runtime.db.session() as session:
            await session.execute(
                update(RecordVersion)
                .where(RecordVersion.hash == record["hash"])
                .values(data=forged, hash=record_hash(forged))
            )
        changes = (await client.get("/v2/records/doc/changes", headers=keys.test_headers)).json()
        with pytest.raises(RecordVerificationError) as info:
            verify_changes(changes, system_public=await system_public(client, keys))
        # Its proofs were over the old hash: none is left for it, and the chain breaks after it.
        assert info.value.reason in ("system-proof-missing", "chain-broken")

    async def test_truncated_history_is_detected_against_the_current_hash(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        record = await self._history(client, keys)
        current = (await fetch(client, keys.test_headers, "records", "doc"))["hash"]
        async with runtime.db.session() as session:
            row = await session.scalar(select(RecordVersion).where(RecordVersion.hash == current))
            assert row is not None
            await session.delete(row)
        changes = (await client.get("/v2/records/doc/changes", headers=keys.test_headers)).json()
        verify_changes(changes)  # a shorter chain is still a chain…
        with pytest.raises(RecordVerificationError, match="current hash"):
            verify_changes(changes, current_hash=current)  # …but not the record's
        assert record["hash"] == changes["data"][0]["hash"]

    async def test_forged_proof_is_detected(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime
    ) -> None:
        await self._history(client, keys)
        async with runtime.db.session() as session:
            proof = await session.scalar(
                select(RecordProof).order_by(RecordProof.seq.desc()).limit(1)
            )
            assert proof is not None
            proof.custom = {**proof.custom, "status": "approved"}
        changes = (await client.get("/v2/records/doc/changes", headers=keys.test_headers)).json()
        with pytest.raises(RecordVerificationError) as info:
            verify_changes(changes)
        assert info.value.reason == "digest-mismatch"

    async def test_changes_of_unknown_record_is_record_not_found(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await client.get("/v2/records/nope/changes", headers=keys.test_headers)
        minka_error(response, 404, "record.not-found")


class TestErrorRendering:
    async def test_unknown_route_under_v2_is_api_route_unknown(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await client.get("/v2/records/x/y/z", headers=keys.test_headers)
        minka_error(response, 404, "api.route-unknown")

    async def test_unsupported_method_is_api_method_not_allowed(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        response = await client.delete("/v2/records/x", headers=keys.test_headers)
        minka_error(response, 405, "api.method-not-allowed")

    async def test_body_over_the_limit_is_api_body_too_large(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        data = {"handle": "big", "blob": "x" * 300_000}  # the /v2/ limit is 256 KB
        response = await client.post("/v2/records", json={"data": data}, headers=keys.test_headers)
        minka_error(response, 413, "api.body-too-large")

    async def test_other_surfaces_keep_their_own_error_shape(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/api/v1/verifications")
        assert response.status_code == 401
        assert "error" in response.json()

    def test_renderer_is_registered_once_for_v2(self) -> None:
        from vouch_server.http import SURFACE_RENDERERS, renderer_for
        from vouch_server.records.errors import render_minka_error

        assert [p for p, _ in SURFACE_RENDERERS].count("/v2/") == 1
        assert renderer_for("/v2/records") is render_minka_error
        lengths = [len(p) for p, _ in SURFACE_RENDERERS]
        assert lengths == sorted(lengths, reverse=True)

    @pytest.mark.parametrize(
        ("code", "status", "reason"),
        [
            ("rate_limited", 429, "api.rate-limited"),
            ("internal_error", 500, "core.unexpected-error"),
            ("test_mode_required", 403, "auth.forbidden"),
            ("http_error", 418, "api.body-malformed"),
            ("http_error", 502, "core.unexpected-error"),
        ],
    )
    def test_shared_codes_map_to_minka_reasons(self, code: str, status: int, reason: str) -> None:
        from vouch_server.errors import VouchError
        from vouch_server.records.errors import render_minka_error

        body, media_type = render_minka_error(
            VouchError("m", code=code, status=status, retry_after=3), "req_1"
        )
        assert media_type == "application/json"
        assert body == {
            "data": {
                "reason": reason,
                "detail": "m",
                "custom": {"retry_after": 3, "requestId": "req_1"},
            }
        }
