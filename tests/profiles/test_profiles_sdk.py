"""proof.holdings' own Python SDK (``proof-holdings-sdk`` 1.2.0) driving vouch's profiles:
``profiles.*`` with a key and ``public_profiles.*`` without one, unchanged, against the
in-process app (only its httpx transport is pointed at the app). Every result is checked against
the SDK's own TypedDicts (``PublicProfile``, ``ProfileBadgeResponse``, ``ProfileAssetOption``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures import proof_sdk
from tests.fixtures.tenancy import Keys
from tests.fixtures.typed_dicts import assert_satisfies
from tests.fixtures.verifications import live_proof
from vouch_server.runtime import Runtime

BASE = "https://vouch.test"


@pytest.fixture(scope="session")
def sdk_module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return proof_sdk.load(tmp_path_factory.mktemp("proof_sdk"))


@pytest.fixture(scope="session")
def sdk_types(sdk_module: Any) -> Any:
    import importlib

    return importlib.import_module("proof_sdk.types")


async def _client(sdk_module: Any, app: FastAPI, key: str) -> Any:
    client = sdk_module.Proof(key, base_url=BASE, max_retries=0)
    client._http._get_client()._transport = httpx.ASGITransport(app=app)
    return client


@pytest.fixture
async def proof(sdk_module: Any, app: FastAPI, keys: Keys) -> AsyncIterator[Any]:
    client = await _client(sdk_module, app, keys.live)
    yield client
    await client.close()


@pytest.fixture
async def other(sdk_module: Any, app: FastAPI, keys: Keys) -> AsyncIterator[Any]:
    client = await _client(sdk_module, app, keys.other_test)
    yield client
    await client.close()


class TestProfilesThroughTheSdk:
    async def test_create_retrieve_update_primary_delete(
        self, proof: Any, other: Any, sdk_types: Any, sdk_module: Any
    ) -> None:
        created = await proof.profiles.create(
            display_name="Acme",
            bio="Anvils since 1949",
            avatar_url="https://cdn.example/acme.png",
            is_business=True,
            business_name="Acme Anvils Ltd",
            theme={"primary_color": "#aa3300", "font_style": "modern"},
            email_theme="light",
        )
        # The owner's view carries every PublicProfile field (and the public handle).
        assert_satisfies(created, sdk_types.PublicProfile)
        assert created["is_primary"] is True and created["profile_id"]
        second = await proof.profiles.create(display_name="Acme Labs", is_public=False)
        assert second["is_primary"] is False

        listed = await proof.profiles.list()
        assert [p["id"] for p in listed["data"]] == [created["id"], second["id"]]
        for item in listed["data"]:
            assert_satisfies(item, sdk_types.PublicProfile)

        fetched = await proof.profiles.retrieve(created["id"])
        assert fetched == created
        updated = await proof.profiles.update(
            created["id"],
            custom_links=[{"title": "Shop", "url": "https://acme.example/shop"}],
            show_proof_channels=True,
            support_email="help@acme.example",
        )
        assert_satisfies(updated, sdk_types.PublicProfile)
        assert updated["custom_links"][0]["url"] == "https://acme.example/shop"

        primary = await proof.profiles.set_primary(second["id"])
        assert primary["is_primary"] is True
        assert (await proof.profiles.retrieve(created["id"]))["is_primary"] is False

        # Another project's key sees nothing of it.
        with pytest.raises(sdk_module.NotFoundError):
            await other.profiles.retrieve(created["id"])

        deleted = await proof.profiles.delete(second["id"])
        assert deleted["success"] is True
        assert (await proof.profiles.retrieve(created["id"]))["is_primary"] is True

    async def test_bad_input_is_a_validation_error(self, proof: Any, sdk_module: Any) -> None:
        with pytest.raises(sdk_module.ValidationError) as caught:
            await proof.profiles.create(avatar_url="http://cdn.example/acme.png")
        assert caught.value.code == "validation_error"
        assert (await proof.profiles.list())["data"] == []


class TestPublicProfilesThroughTheSdk:
    async def test_reads_by_id_username_badge_and_username_check(
        self,
        proof: Any,
        sdk_module: Any,
        sdk_types: Any,
        app: FastAPI,
        client: httpx.AsyncClient,
        runtime: Runtime,
        keys: Keys,
    ) -> None:
        asset = await live_proof(client, runtime, keys.live_headers)
        made = await proof.profiles.create(display_name="Acme", is_business=False)
        await proof._http.put(
            f"/api/v1/me/profiles/{made['id']}/proofs",
            {"proofs": [{"asset_id": asset["id"], "mask_level": "partial"}]},
        )
        await proof._http.post(f"/api/v1/me/profiles/{made['id']}/username", {"username": "acme"})
        options = await proof._http.get(f"/api/v1/me/profiles/{made['id']}/assets")
        assert [o["id"] for o in options["data"]] == [asset["id"]]
        assert_satisfies(options["data"][0], sdk_types.ProfileAssetOption)
        assert options["data"][0]["is_public"] is True

        # Public reads with no key at all.
        anonymous = sdk_module.Proof("pk_live_none", base_url=BASE, max_retries=0)
        anonymous._http._get_client()._transport = httpx.ASGITransport(app=app)
        try:
            by_id = await anonymous.public_profiles.get_by_id(made["profile_id"])
            assert_satisfies(by_id, sdk_types.PublicProfile)
            assert by_id["username"] == "acme" and len(by_id["proofs"]) == 1
            assert by_id["proofs"][0]["identifier"] != asset["identifier"]
            by_name = await anonymous.public_profiles.get_by_username("acme")
            assert by_name == by_id
            badge = await anonymous.public_profiles.get_badge("acme")
            assert_satisfies(badge, sdk_types.ProfileBadgeResponse)
            assert badge["state"] == "published" and badge["verified_count"] == 1
            assert badge["profile_url"] == f"{BASE}/@acme"
            nobody = await anonymous.public_profiles.get_badge("nobody-here")
            assert_satisfies(nobody, sdk_types.ProfileBadgeResponse)
            assert nobody["state"] == "no_public_record"
            taken = await anonymous.public_profiles.check_username("acme")
            assert taken["available"] is False
            free = await anonymous.public_profiles.check_username("acme-two")
            assert free["available"] is True
            with pytest.raises(sdk_module.NotFoundError):
                await anonymous.public_profiles.get_by_id(made["id"])  # internal id: not public
        finally:
            await anonymous.close()
