"""proof.holdings' own SDK (``proof-holdings-sdk`` 1.2.0) driving vouch's approvals unchanged:
``hitl`` (the ``pending → active`` lifecycle, ``request_authorization``, ``finalize``, chat-id
discovery), ``hitl_keys`` and ``confirmations`` with the SDK's own ``crypto.hitl_crypto``
envelopes — vouch stores and relays ciphertext it cannot read. Every answer is checked against
the SDK's TypedDicts (pydantic, strict)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import TypeAdapter
from sqlalchemy import select, update

from tests.approval.standins import (
    BOT_USERNAME,
    CHAT_ID,
    PHONE,
    callback_key_of,
    events_of,
    outbound_of,
    post_telegram,
    sent_to,
    tg_message,
    tg_press,
)
from tests.fixtures import proof_sdk
from tests.fixtures.providers import FakeApi
from tests.fixtures.tenancy import Keys
from vouch_server.kit.clock import utcnow
from vouch_server.models.delegation import Confirmation
from vouch_server.models.hitl import ChatIdDiscovery, HitlKeypair

BASE = "https://vouch.test"
TELEGRAM = {"type": "telegram", "config": {"chat_id": str(CHAT_ID)}}
WHATSAPP = {"type": "whatsapp", "config": {"phone_number": PHONE}}
WEB = {"type": "web"}
PASSWORD = "correct horse battery staple 42"


@pytest.fixture(scope="session")
def sdk_module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return proof_sdk.load(tmp_path_factory.mktemp("proof_sdk_hitl"))


@pytest.fixture(scope="session")
def crypto(sdk_module: Any) -> Any:
    import proof_sdk.crypto as module

    return module


@pytest.fixture(scope="session")
def owner_keys(crypto: Any) -> tuple[str, str]:
    """One RSA-4096 pair (made by the SDK) for the session: generating one takes seconds."""
    return crypto.generate_key_pair()  # type: ignore[no-any-return]


async def _client(sdk_module: Any, app: FastAPI, key: str) -> Any:
    client = sdk_module.Proof(key, base_url=BASE, max_retries=0)
    client._http._get_client()._transport = httpx.ASGITransport(app=app)
    return client


@pytest.fixture
async def live(sdk_module: Any, dapp: FastAPI, dkeys: Keys) -> AsyncIterator[Any]:
    client = await _client(sdk_module, dapp, dkeys.live)
    yield client
    await client.close()


@pytest.fixture
async def test(sdk_module: Any, dapp: FastAPI, dkeys: Keys) -> AsyncIterator[Any]:
    client = await _client(sdk_module, dapp, dkeys.test)
    yield client
    await client.close()


@pytest.fixture
async def other(sdk_module: Any, dapp: FastAPI, dkeys: Keys) -> AsyncIterator[Any]:
    client = await _client(sdk_module, dapp, dkeys.other_test)
    yield client
    await client.close()


def conforms(sdk_module: Any, name: str, value: Any) -> None:
    """``value`` satisfies the SDK's TypedDict ``name`` (required keys, types, literals)."""
    TypeAdapter(getattr(sdk_module.types, name)).validate_python(value, strict=True)


async def _open_deep_link_and_allow(dc: httpx.AsyncClient, entry: dict[str, Any]) -> None:
    token = entry["authorization_url"].split("start=auth_", 1)[1]
    assert (await post_telegram(dc, tg_message(f"/start auth_{token}"))).status_code == 200
    key = await callback_key_of(dc, entry["authorization_id"])
    assert (await post_telegram(dc, tg_press(f"ca:{key}"))).status_code == 200


class TestLifecycle:
    async def test_live_config_is_pending_until_its_recipient_consents(
        self, live: Any, sdk_module: Any, dc: httpx.AsyncClient, fake_api: FakeApi
    ) -> None:
        created = await live.hitl.create(name="Deploys", channels=[TELEGRAM])
        conforms(sdk_module, "Hitl", created)
        assert created["status"] == "pending" and created["environment"] == "production"
        assert created["user_id"] and created["keypair"] is None

        listed = await live.hitl.list(status="pending", environment="production")
        conforms(sdk_module, "HitlListResponse", listed)
        assert [h["id"] for h in listed["data"]] == [created["id"]]
        assert listed["limits"]["max_channels"] == 10
        assert (await live.hitl.list(environment="test"))["data"] == []
        assert (await live.hitl.list(status="active"))["data"] == []

        # A pending config takes no confirmations: nobody it names has consented.
        with pytest.raises(sdk_module.ProofError) as refused:
            await live.confirmations.create(hitl_id=created["id"], message="Deploy?")
        assert refused.value.code == "consent_required"

        asked = await live.hitl.request_authorization(created["id"])
        conforms(sdk_module, "HitlAuthorizationResponse", asked)
        [entry] = asked["authorizations"]
        assert entry["channel"] == "telegram" and entry["recipient"] == str(CHAT_ID)
        assert entry["status"] == "pending" and entry["created"] is True
        assert entry["authorization_url"].startswith(f"https://t.me/{BOT_USERNAME}?start=auth_")
        authorization = await live.authorizations.retrieve(entry["authorization_id"])
        assert authorization["hitl_id"] == created["id"]

        # Asking again sends nothing new: the open request is reported as it is.
        again = await live.hitl.request_authorization(created["id"])
        assert again["authorizations"][0]["authorization_id"] == entry["authorization_id"]
        assert again["authorizations"][0]["created"] is False

        await _open_deep_link_and_allow(dc, entry)
        active = await live.hitl.retrieve(created["id"])
        conforms(sdk_module, "Hitl", active)
        assert active["status"] == "active" and active["activated_at"]
        held = await live.hitl.request_authorization(created["id"])
        assert held["authorizations"][0]["status"] == "active"

        confirmation = await live.confirmations.create(hitl_id=created["id"], message="Deploy?")
        conforms(sdk_module, "Confirmation", confirmation)
        assert confirmation["encrypted"] is False
        assert sent_to(fake_api, "/sendMessage")[-1]["text"].endswith(
            "“approve <comment>” or “deny <comment>”."
        )

    async def test_finalize_activates_and_asks_every_recipient(
        self, live: Any, sdk_module: Any, fake_api: FakeApi
    ) -> None:
        created = await live.hitl.create(name="Payouts", channels=[WHATSAPP, TELEGRAM])
        assert created["status"] == "pending"
        final = await live.hitl.finalize(created["id"])
        conforms(sdk_module, "HitlFinalizeResponse", final)
        assert final["status"] == "active"
        assert [(a["channel"], a["status"]) for a in final["authorizations"]] == [
            ("whatsapp", "pending"),
            ("telegram", "pending"),
        ]
        [prompt] = sent_to(fake_api, "/messages")
        assert prompt["to"] == PHONE.lstrip("+") or prompt["to"] == PHONE
        assert "Allow Payouts to send you approval requests?" in json.dumps(
            prompt, ensure_ascii=False
        )
        # Finalizing again changes nothing and sends nothing more.
        again = await live.hitl.finalize(created["id"])
        assert again["activated_at"] == final["activated_at"]
        assert [a["created"] for a in again["authorizations"]] == [False, False]
        assert len(sent_to(fake_api, "/messages")) == 1

    async def test_test_mode_and_web_configs_are_active_at_once(self, test: Any, live: Any) -> None:
        assert (await test.hitl.create(name="T", channels=[TELEGRAM]))["status"] == "active"
        web = await live.hitl.create(name="W", channels=[WEB])
        assert web["status"] == "active" and web["environment"] == "production"

    async def test_archived_config_cannot_be_finalized_or_authorized(
        self, test: Any, sdk_module: Any
    ) -> None:
        created = await test.hitl.create(name="Gone", channels=[TELEGRAM])
        await test.hitl.archive(created["id"])
        for call in (test.hitl.finalize, test.hitl.request_authorization):
            with pytest.raises(sdk_module.ProofError) as refused:
                await call(created["id"])
            assert refused.value.code == "hitl_archived"

    async def test_another_project_sees_nothing(
        self, test: Any, other: Any, sdk_module: Any
    ) -> None:
        created = await test.hitl.create(name="Mine", channels=[TELEGRAM])
        for call in (other.hitl.finalize, other.hitl.request_authorization, other.hitl_keys.get):
            with pytest.raises(sdk_module.ProofError) as refused:
                await call(created["id"])
            assert refused.value.status_code == 404


def _upload_body(crypto: Any, owner_keys: tuple[str, str], hitl: dict[str, Any]) -> dict[str, Any]:
    public_pem, private_pem = owner_keys
    wrapped = crypto.encrypt_private_key(
        private_pem, PASSWORD, public_pem, hitl["id"], hitl["user_id"]
    )
    return {
        "public_key": public_pem,
        "encrypted_private_key": json.dumps(wrapped),
        "kdf_salt": wrapped["salt"],
    }


class TestEndToEndEncryption:
    async def test_sdk_envelope_is_stored_relayed_and_opened_only_by_the_key_holder(
        self,
        test: Any,
        sdk_module: Any,
        crypto: Any,
        owner_keys: tuple[str, str],
        dapp: FastAPI,
        fake_api: FakeApi,
    ) -> None:
        hitl = await test.hitl.create(name="Secrets", channels=[TELEGRAM, WEB])
        uploaded = await test.hitl_keys.upload(hitl["id"], **_upload_body(crypto, owner_keys, hitl))
        assert uploaded["kid"] == crypto.compute_kid(owner_keys[0])
        shown = await test.hitl.retrieve(hitl["id"])
        conforms(sdk_module, "Hitl", shown)
        assert shown["encrypted"] is True and shown["keypair"]["kid"] == uploaded["kid"]

        # Plain text is refused once the config is encrypted; nothing is created.
        with pytest.raises(sdk_module.ProofError) as refused:
            await test.confirmations.create(hitl_id=hitl["id"], message="Rotate the DB password?")
        assert refused.value.status_code == 400

        secret = "Rotate the production DB password to hunter2?"
        envelope = crypto.encrypt_message(secret, owner_keys[0], hitl["id"])
        created = await test.confirmations.create(hitl_id=hitl["id"], message=json.dumps(envelope))
        conforms(sdk_module, "Confirmation", created)
        assert created["encrypted"] is True

        # The approver's side: keys and message fetched through the SDK, opened with the
        # password that only the approver has.
        fetched = await test.confirmations.retrieve(created["id"])
        keys = await test.hitl_keys.get(hitl["id"])
        private_pem = crypto.decrypt_private_key(
            json.loads(keys["encrypted_private_key"]), PASSWORD, hitl["id"], shown["user_id"]
        )
        assert crypto.decrypt_message(json.loads(fetched["message"]), private_pem, hitl["id"]) == (
            secret
        )
        with pytest.raises(ValueError):
            crypto.decrypt_private_key(
                json.loads(keys["encrypted_private_key"]), "wrong", hitl["id"], shown["user_id"]
            )

        # The chat got a pointer to the page, not the text; vouch kept nothing readable.
        recorded = [m.body or "" for m in await outbound_of(dapp, "approval_request")]
        assert recorded and all(secret not in t and "🔒 Encrypted" in t for t in recorded)
        assert all(secret not in c.body.decode() for c in fake_api.calls)
        async with dapp.state.vouch.db.session() as session:
            row = await session.get(Confirmation, created["id"])
            pair = await session.get(HitlKeypair, hitl["id"])
        assert row is not None and pair is not None
        assert row.encrypted and secret not in row.message
        stored = json.dumps([pair.encrypted_private_key, pair.public_key, pair.kdf_salt])
        assert PASSWORD not in stored and "PRIVATE KEY" not in stored

        # The decision's webhook: flat as the SDK declares, ciphertext, nobody's chat id.
        await test._http.post(
            f"/api/v1/confirmations/{created['id']}/test-respond", {"action": "approve"}
        )
        [event] = await events_of(dapp, "confirmation.")
        conforms(sdk_module, "ConfirmationWebhookPayload", event)
        assert event["confirmation_id"] == created["id"] and event["encrypted"] is True
        assert event["message"] == json.dumps(envelope) and event["resolved_at"]
        assert str(CHAT_ID) not in json.dumps(event)

    async def test_envelopes_for_another_key_or_malformed_are_refused(
        self, test: Any, sdk_module: Any, crypto: Any, owner_keys: tuple[str, str]
    ) -> None:
        hitl = await test.hitl.create(name="Secrets", channels=[WEB])
        await test.hitl_keys.upload(hitl["id"], **_upload_body(crypto, owner_keys, hitl))
        good = crypto.encrypt_message("ok?", owner_keys[0], hitl["id"])
        bad = [
            {**good, "kid": "0" * 64},  # made for another key
            {**good, "alg": "RSA1_5"},
            {k: v for k, v in good.items() if k != "tag"},
            {**good, "iv": "AAAA"},
        ]
        for envelope in bad:
            with pytest.raises(sdk_module.ProofError) as refused:
                await test.confirmations.create(hitl_id=hitl["id"], message=json.dumps(envelope))
            assert refused.value.status_code == 400
        assert (await test.confirmations.list(hitl_id=hitl["id"]))["data"] == []

    async def test_key_upload_checks_the_key_and_delete_makes_it_plain_again(
        self, test: Any, sdk_module: Any, crypto: Any, owner_keys: tuple[str, str]
    ) -> None:
        hitl = await test.hitl.create(name="Secrets", channels=[WEB])
        body = _upload_body(crypto, owner_keys, hitl)
        for broken in (
            {**body, "public_key": "not a key"},
            {**body, "encrypted_private_key": "{}"},
            {
                **body,
                "encrypted_private_key": json.dumps(
                    {**json.loads(body["encrypted_private_key"]), "kid": "a" * 64}
                ),
            },
        ):
            with pytest.raises(sdk_module.ProofError) as refused:
                await test.hitl_keys.upload(hitl["id"], **broken)
            assert refused.value.status_code == 400
        with pytest.raises(sdk_module.ProofError) as missing:
            await test.hitl_keys.get(hitl["id"])
        assert missing.value.status_code == 404
        await test.hitl_keys.upload(hitl["id"], **body)
        deleted = await test.hitl_keys.delete(hitl["id"])
        assert deleted["deleted"] is True
        assert (await test.hitl.retrieve(hitl["id"]))["encrypted"] is False
        plain = await test.confirmations.create(hitl_id=hitl["id"], message="Plain again?")
        assert plain["encrypted"] is False

    async def test_v2_envelope_opens_for_an_enrolled_approver(
        self,
        live: Any,
        sdk_module: Any,
        crypto: Any,
        owner_keys: tuple[str, str],
        dc: httpx.AsyncClient,
    ) -> None:
        hitl = await live.hitl.create(name="Payroll", channels=[TELEGRAM])
        await live.hitl_keys.upload(hitl["id"], **_upload_body(crypto, owner_keys, hitl))
        [entry] = (await live.hitl.request_authorization(hitl["id"]))["authorizations"]
        await _open_deep_link_and_allow(dc, entry)
        approver_public, approver_private = owner_keys[0], owner_keys[1]  # any RSA-4096 pair
        enrolled = await live._http.put(
            f"/api/v1/hitl/{hitl['id']}/approver-keys/{entry['authorization_id']}",
            {"public_key": approver_public},
        )
        assert enrolled["authorization_id"] == entry["authorization_id"]
        listed = await live.hitl.get_approver_keys(hitl["id"])
        assert listed["approver_keys"] == {entry["authorization_id"]: approver_public}

        envelope = crypto.encrypt_message_v2(
            "Pay 12 invoices?", owner_keys[0], hitl["id"], listed["approver_keys"]
        )
        created = await live.confirmations.create(hitl_id=hitl["id"], message=json.dumps(envelope))
        stored = json.loads((await live.confirmations.retrieve(created["id"]))["message"])
        as_approver = {k: v for k, v in stored.items() if k != "approver_ek"}
        as_approver.update(v=1, ek=stored["approver_ek"][entry["authorization_id"]])
        assert crypto.decrypt_message(as_approver, approver_private, hitl["id"]) == (
            "Pay 12 invoices?"
        )

        # A consent that ends takes its key off the list.
        await live.authorizations.revoke(entry["authorization_id"], reason="left the team")
        assert (await live.hitl.get_approver_keys(hitl["id"]))["approver_keys"] == {}


class TestChatIdDiscovery:
    async def test_deep_link_start_reveals_the_chat_id(
        self, test: Any, sdk_module: Any, dc: httpx.AsyncClient, dapp: FastAPI
    ) -> None:
        created = await test.hitl.create_chat_id_discovery()
        conforms(sdk_module, "ChatIdDiscoveryResponse", created)
        token = created["token"]
        assert created["deep_link"] == f"https://t.me/{BOT_USERNAME}?start=chat_{token}"
        assert created["qr_text"] == created["deep_link"]
        assert created["qr_code"].startswith("data:image/png;base64,")
        poll = await test._http.get(f"/api/v1/hitl/chat-id-discovery/{token}")
        conforms(sdk_module, "ChatIdDiscoveryPollResponse", poll)
        assert poll["status"] == "pending" and "chat_id" not in poll

        # Only the token's hash is kept.
        async with dapp.state.vouch.db.session() as session:
            [row] = (await session.scalars(select(ChatIdDiscovery))).all()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in json.dumps([row.token_hash, row.id])

        events: list[dict[str, Any]] = []

        async def listen() -> None:
            # The SDK's SSE reader, as ``streams.hitl_chat_id_discovery_events`` calls it, with
            # the in-process transport (that helper makes a client of its own).
            from proof_sdk.streaming import stream_endpoint

            async for event in stream_endpoint(
                test._http,
                f"/api/v1/hitl/chat-id-discovery/{token}/events",
                transport=httpx.ASGITransport(app=dapp),
                terminal_states={"completed", "expired", "cancelled"},
            ):
                events.append(event)

        listener = asyncio.create_task(listen())
        await asyncio.wait_for(
            dapp.state.vouch.bus.hub.wait_for_subscriber(f"chat-id-discovery:{row.id}"), 10
        )
        assert (await post_telegram(dc, tg_message(f"/start chat_{token}"))).status_code == 200
        await asyncio.wait_for(listener, 10)
        assert events[-1]["data"]["status"] == "completed"
        assert events[-1]["data"]["chat_id"] == str(CHAT_ID)

        done = await test._http.get(f"/api/v1/hitl/chat-id-discovery/{token}")
        conforms(sdk_module, "ChatIdDiscoveryPollResponse", done)
        assert done == {**done, "status": "completed", "chat_id": str(CHAT_ID)}
        # The id is ready for a HITL channel.
        hitl = await test.hitl.create(
            name="Found", channels=[{"type": "telegram", "config": {"chat_id": done["chat_id"]}}]
        )
        assert hitl["channels"][0]["config"]["chat_id"] == str(CHAT_ID)

        # Used once: a second chat cannot take it over.
        await post_telegram(dc, tg_message(f"/start chat_{token}", chat_id=CHAT_ID + 1))
        again = await test._http.get(f"/api/v1/hitl/chat-id-discovery/{token}")
        assert again["chat_id"] == str(CHAT_ID)

    async def test_groups_other_projects_and_expired_tokens_get_nothing(
        self, test: Any, other: Any, sdk_module: Any, dc: httpx.AsyncClient, dapp: FastAPI
    ) -> None:
        token = (await test.hitl.create_chat_id_discovery())["token"]
        await post_telegram(dc, tg_message(f"/start chat_{token}", chat_id=-100123, user_id=5))
        assert (await test._http.get(f"/api/v1/hitl/chat-id-discovery/{token}"))[
            "status"
        ] == "pending"
        with pytest.raises(sdk_module.ProofError) as foreign:
            await other._http.get(f"/api/v1/hitl/chat-id-discovery/{token}")
        assert foreign.value.status_code == 404

        async with dapp.state.vouch.db.session() as session:
            await session.execute(
                update(ChatIdDiscovery).values(expires_at=utcnow() - timedelta(seconds=1))
            )
            await session.commit()
        assert (await test._http.get(f"/api/v1/hitl/chat-id-discovery/{token}"))[
            "status"
        ] == "expired"
        await post_telegram(dc, tg_message(f"/start chat_{token}"))
        late = await test._http.get(f"/api/v1/hitl/chat-id-discovery/{token}")
        assert late["status"] == "expired" and "chat_id" not in late
