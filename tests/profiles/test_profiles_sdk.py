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


# A 1×1 PNG: what a data-URI avatar holds.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)
PNG_URI = "data:image/png;base64," + __import__("base64").b64encode(PNG).decode()


class TestAvatarThroughTheSdk:
    async def test_a_data_uri_avatar_comes_back_as_its_image(
        self, proof: Any, sdk_module: Any, app: FastAPI
    ) -> None:
        made = await proof.profiles.create(display_name="Acme", avatar_url=PNG_URI)
        anonymous = sdk_module.Proof("pk_live_none", base_url=BASE, max_retries=0)
        anonymous._http._get_client()._transport = httpx.ASGITransport(app=app)
        try:
            # By the public handle and by the internal id, as the SDK's docstring says.
            for handle in (made["profile_id"], made["id"]):
                image = await anonymous.public_profiles.get_avatar(handle)
                assert image == {"data": PNG, "content_type": "image/png"}
            with pytest.raises(sdk_module.NotFoundError):
                await anonymous.public_profiles.get_avatar("nobody1234")
        finally:
            await anonymous.close()

    async def test_a_private_profile_has_no_public_avatar(
        self, proof: Any, sdk_module: Any
    ) -> None:
        made = await proof.profiles.create(avatar_url=PNG_URI, is_public=False)
        with pytest.raises(sdk_module.NotFoundError) as caught:
            await proof.public_profiles.get_avatar(made["profile_id"])
        assert caught.value.code == "profile_not_found"


class TestMeAliasesThroughTheSdk:
    """The dual-auth paths proof.holdings' MCP server calls, reached through the SDK's client."""

    async def test_me_is_the_primary_profile_of_the_keys_project(
        self,
        proof: Any,
        other: Any,
        sdk_module: Any,
        sdk_types: Any,
        client: httpx.AsyncClient,
        runtime: Runtime,
        keys: Keys,
    ) -> None:
        with pytest.raises(sdk_module.NotFoundError):
            await proof._http.get("/api/v1/profiles/me")
        # PUT with no profile yet makes the primary one.
        made = await proof._http.put("/api/v1/profiles/me", {"display_name": "Acme"})
        assert_satisfies(made, sdk_types.PublicProfile)
        assert made["is_primary"] is True
        await proof.profiles.create(display_name="Second")
        me = await proof._http.get("/api/v1/profiles/me")
        assert me["id"] == made["id"]
        changed = await proof._http.put("/api/v1/profiles/me", {"bio": "Anvils"})
        assert changed["id"] == made["id"] and changed["bio"] == "Anvils"

        asset = await live_proof(client, runtime, keys.live_headers)
        options = await proof._http.get("/api/v1/profiles/me/assets")
        assert [o["id"] for o in options["data"]] == [asset["id"]]
        assert_satisfies(options["data"][0], sdk_types.ProfileAssetOption)
        assert options["data"][0]["is_public"] is False
        shown = await proof._http.put(
            "/api/v1/profiles/me/proofs", {"proofs": [{"asset_id": asset["id"]}]}
        )
        assert [p["asset_id"] for p in shown["proofs"]] == [asset["id"]]
        named = await proof._http.post("/api/v1/profiles/me/username", {"username": "acme_co"})
        assert named["username"] == "acme_co"
        hidden = await proof._http.put(
            f"/api/v1/profiles/profiles/{made['id']}/proofs",
            {"proofs": [{"asset_id": asset["id"], "is_visible": False}]},
        )
        assert hidden["proofs"][0]["is_visible"] is False

        # Another project's key: its own "me" (none), and not this project's profile.
        with pytest.raises(sdk_module.NotFoundError):
            await other._http.get("/api/v1/profiles/me")
        with pytest.raises(sdk_module.NotFoundError):
            await other._http.put(f"/api/v1/profiles/profiles/{made['id']}/proofs", {"proofs": []})

    async def test_bad_input_changes_nothing(self, proof: Any, sdk_module: Any) -> None:
        made = await proof._http.put("/api/v1/profiles/me", {"display_name": "Acme"})
        for body in ({"avatar_url": "javascript:alert(1)"}, {"unknown": 1}, {"bio": "x" * 501}):
            with pytest.raises(sdk_module.ValidationError):
                await proof._http.put("/api/v1/profiles/me", body)
        with pytest.raises(sdk_module.ValidationError):
            await proof._http.post("/api/v1/profiles/me/username", {"username": "a"})
        assert await proof._http.get("/api/v1/profiles/me") == made


class TestRetiredProfileTemplates:
    async def test_every_per_profile_template_call_is_410_endpoint_retired(
        self, proof: Any, sdk_module: Any
    ) -> None:
        made = await proof.profiles.create(display_name="Acme")
        calls = [
            lambda: proof.profiles.list_templates(made["id"]),
            lambda: proof.profiles.update_template(
                made["id"], "telegram", "verification_request", {"body": "Code {{code}}"}
            ),
            lambda: proof.profiles.delete_template(made["id"], "telegram", "verification_request"),
            lambda: proof.profiles.preview_template(
                made["id"], channel="sms", message_type="verification_request", body="{{code}}"
            ),
        ]
        for call in calls:
            with pytest.warns(DeprecationWarning), pytest.raises(sdk_module.ProofError) as caught:
                await call()
            assert caught.value.status_code == 410
            assert caught.value.code == "endpoint_retired"
        # The project's templates, where the SDK's warning points, still answer.
        listed = await proof.templates.list()
        assert "data" in listed or "templates" in listed
