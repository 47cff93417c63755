"""``vouch_client``'s ``client.hitl`` against the real app: the sync ``Client`` over a live
uvicorn on loopback (configs round trip, every page through the iterator, keys, chat-id
discovery, errors with the server's code), and the async twin over the ASGI transport."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from tests.fixtures import proof_sdk
from tests.fixtures.tenancy import Keys
from tests.fixtures.typed_dicts import assert_satisfies
from vouch_client import AsyncClient, BadRequest, Client, HitlConfig, HitlKeys, NotFound

TELEGRAM = {"type": "telegram", "config": {"chat_id": "123456789"}}
WEB = {"type": "web"}


@pytest.fixture
async def live_url(dapp: FastAPI) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(dapp, lifespan="off", log_config=None))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture(scope="module")
def crypto(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """proof.holdings' SDK crypto: it makes the key envelope vouch checks."""
    proof_sdk.load(tmp_path_factory.mktemp("proof_sdk_client_hitl"))
    import proof_sdk.crypto as module  # type: ignore[import-not-found]

    return module


def _keys_body(crypto: Any, hitl: dict[str, Any]) -> dict[str, Any]:
    public_pem, private_pem = crypto.generate_key_pair()
    wrapped = crypto.encrypt_private_key(
        private_pem, "a long passphrase", public_pem, hitl["id"], hitl["user_id"]
    )
    return {
        "public_key": public_pem,
        "encrypted_private_key": json.dumps(wrapped),
        "kdf_salt": wrapped["salt"],
    }


def _sync_round_trip(url: str, api_key: str, crypto: Any) -> dict[str, Any]:
    with Client(url, api_key=api_key) as vouch:
        made = [vouch.hitl.create(f"Deploys {n}", [WEB], timeout_seconds=600) for n in range(3)]
        first = made[0]
        assert first["status"] == "active" and first["channels"][0]["type"] == "web"
        assert vouch.hitl.get(first["id"])["name"] == "Deploys 0"
        assert vouch.hitl.list(limit=2)["pagination"]["hasMore"] is True
        every = [h["id"] for h in vouch.hitl.iter(limit=2)]
        updated = vouch.hitl.update(first["id"], name="Releases")
        keys = vouch.hitl.put_keys(first["id"], _keys_body(crypto, first))
        shown = vouch.hitl.get_keys(first["id"])
        approvers = vouch.hitl.approver_keys(first["id"])
        removed = vouch.hitl.delete_keys(first["id"])
        discovery = vouch.hitl.start_chat_id_discovery()
        polled = vouch.hitl.chat_id_discovery(discovery["token"])
        archived = vouch.hitl.delete(first["id"])
        with pytest.raises(NotFound) as missing:
            vouch.hitl.get("f" * 24)
        with pytest.raises(BadRequest) as bad:
            vouch.hitl.create("No channels", [])
        return {
            "made": made,
            "every": every,
            "updated": updated,
            "keys": keys,
            "shown": shown,
            "approvers": approvers,
            "removed": removed,
            "discovery": discovery,
            "polled": polled,
            "archived": archived,
            "missing": missing.value,
            "bad": bad.value,
        }


async def test_sync_client_round_trip_against_a_live_server(
    live_url: str, dkeys: Keys, crypto: Any
) -> None:
    out = await asyncio.to_thread(_sync_round_trip, live_url, dkeys.test, crypto)
    assert sorted(out["every"]) == sorted(h["id"] for h in out["made"])
    assert out["updated"]["name"] == "Releases"
    assert_satisfies(out["updated"], HitlConfig)
    assert_satisfies(out["keys"], HitlKeys)
    assert out["keys"]["kid"] == out["shown"]["kid"]
    assert out["approvers"]["hitl_id"] == out["made"][0]["id"]
    assert out["removed"]["deleted"] is True
    assert out["discovery"]["deep_link"].startswith("https://t.me/")
    assert out["polled"]["status"] == "pending"
    assert out["archived"]["status"] == "archived"
    assert out["missing"].status_code == 404
    assert out["bad"].code == "validation_error"


async def test_async_client_finalize_and_authorize(dapp: FastAPI, dkeys: Keys) -> None:
    transport = httpx.ASGITransport(app=dapp)
    async with AsyncClient("https://vouch.test", api_key=dkeys.live, transport=transport) as sdk:
        created = await sdk.hitl.create("Payouts", [TELEGRAM])
        assert created["status"] == "pending"
        asked = await sdk.hitl.authorize(created["id"])
        assert isinstance(asked, dict)
        final = await sdk.hitl.finalize(created["id"])
        assert final["status"] == "active" and "authorizations" in final
        every = [h["id"] async for h in sdk.hitl.iter(limit=1)]
        assert every == [created["id"]]
        archived = await sdk.hitl.delete(created["id"])
        assert archived["status"] == "archived"
        with pytest.raises(BadRequest) as closed:
            await sdk.hitl.authorize(created["id"])
        assert closed.value.code == "hitl_archived"
