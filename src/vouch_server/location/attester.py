"""vouch's EAS attester: one secp256k1 key per deployment, and its on-chain nonce.

The key is generated on first use and stored sealed (AES-256-GCM under an HKDF key of purpose
``location-attester``, the row id and address as associated data) in ``location_attesters``.
Processes that start together race to insert the one ``default`` row; the primary key lets
exactly one win and the others read the winner's key, so a fleet signs as one attester.

The delegated-attestation nonce is the EAS contract's ``getNonce(attester)``, read with
``eth_call`` from ``VOUCH_EAS_RPC_URL``. Without that setting (or when the RPC answers for
another chain, or not at all) there is no nonce, and the caller says so instead of guessing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from vouch_server.kit.clock import utcnow
from vouch_server.kit.secretbox import SecretBox, derive_key
from vouch_server.models.location import LocationAttester
from vouch_server.runtime import Runtime

ATTESTER_ID = "default"
SECRET_PURPOSE = "location-attester"  # noqa: S105 - an HKDF label, not a secret
_CACHE_KEY = "location.attester"
_LOCK_KEY = "location.attester.lock"
GET_NONCE_SELECTOR = keccak(text="getNonce(address)")[:4]
RPC_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Attester:
    address: str
    _private_key: bytes = field(repr=False)

    def sign_typed_data(self, full_message: dict[str, Any]) -> bytes:
        """EIP-712 signature ``r ‖ s ‖ v`` (v = 27/28) of ``full_message``."""
        signed = Account.sign_message(
            encode_typed_data(full_message=full_message), private_key=self._private_key
        )
        return bytes(signed.signature)


def _box(runtime: Runtime) -> SecretBox:
    return SecretBox(derive_key(runtime.settings.master_key, SECRET_PURPOSE))


def _aad(row_id: str, address: str) -> bytes:
    return f"{row_id}|{address}".encode()


def _open(runtime: Runtime, row: LocationAttester) -> Attester:
    key = _box(runtime).open(row.private_key_sealed, _aad(row.id, row.address))
    attester = Attester(row.address, key)
    if Account.from_key(key).address != row.address:
        raise RuntimeError("the stored attester key does not match its address")
    return attester


async def get_attester(runtime: Runtime) -> Attester:
    cached = runtime.extras.get(_CACHE_KEY)
    if isinstance(cached, Attester):
        return cached
    lock = runtime.extras.setdefault(_LOCK_KEY, asyncio.Lock())
    assert isinstance(lock, asyncio.Lock)
    async with lock:
        cached = runtime.extras.get(_CACHE_KEY)
        if isinstance(cached, Attester):
            return cached
        attester = await _load_or_create(runtime)
        runtime.extras[_CACHE_KEY] = attester
        return attester


async def _load_or_create(runtime: Runtime) -> Attester:
    # Its own units of work: creating the key must not ride on (or roll back with) a request.
    async with runtime.db.session() as session:
        row = await session.get(LocationAttester, ATTESTER_ID)
        if row is not None:
            return _open(runtime, row)
    account = Account.create()
    address = str(account.address)
    key = bytes(account.key)
    try:
        async with runtime.db.session() as session:
            session.add(
                LocationAttester(
                    id=ATTESTER_ID,
                    address=address,
                    private_key_sealed=_box(runtime).seal(key, _aad(ATTESTER_ID, address)),
                    created_at=utcnow(),
                )
            )
    except IntegrityError:
        pass  # another process created it first; use theirs
    async with runtime.db.session() as session:
        row = (
            await session.scalars(
                select(LocationAttester).where(LocationAttester.id == ATTESTER_ID)
            )
        ).one()
        return _open(runtime, row)


class NonceUnavailable(Exception):
    """Why no on-chain nonce could be read (shown to the caller as a warning)."""


def contract_for(runtime: Runtime, chain_id: int) -> str:
    from vouch_server.location.attestation import parse_contract_map

    overrides = parse_contract_map(runtime.settings.eas_contract_addresses)
    return overrides.get(chain_id) or to_checksum_address(runtime.settings.eas_contract_address)


async def _rpc(client: httpx.AsyncClient, url: str, method: str, params: list[Any]) -> Any:
    response = await client.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    )
    response.raise_for_status()
    body = response.json()
    if not isinstance(body, dict) or "error" in body or "result" not in body:
        raise NonceUnavailable(
            f"{method} failed: {body.get('error') if isinstance(body, dict) else body}"
        )
    return body["result"]


async def eas_nonce(runtime: Runtime, chain_id: int, contract: str, attester: str) -> int:
    """``EAS.getNonce(attester)`` on ``chain_id``, from ``VOUCH_EAS_RPC_URL``."""
    url = runtime.settings.eas_rpc_url
    if not url:
        raise NonceUnavailable(
            "VOUCH_EAS_RPC_URL is not set, so the attester's on-chain EAS nonce is unknown"
        )
    call_data = "0x" + (GET_NONCE_SELECTOR + bytes(12) + bytes.fromhex(attester[2:])).hex()
    try:
        async with httpx.AsyncClient(timeout=RPC_TIMEOUT_SECONDS) as client:
            served = int(str(await _rpc(client, url, "eth_chainId", [])), 16)
            if served != chain_id:
                raise NonceUnavailable(
                    f"VOUCH_EAS_RPC_URL serves chain {served}, not the requested chain {chain_id}"
                )
            result = await _rpc(
                client, url, "eth_call", [{"to": contract, "data": call_data}, "latest"]
            )
            return int(str(result), 16)
    except NonceUnavailable:
        raise
    except (httpx.HTTPError, ValueError, TypeError) as exc:
        raise NonceUnavailable(f"the EAS RPC could not be read ({type(exc).__name__})") from exc
