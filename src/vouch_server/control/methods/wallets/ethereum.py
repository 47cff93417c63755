"""Ethereum signatures over text: EIP-191 ``personal_sign`` recovery (version ``0x45``) for externally
owned accounts, and EIP-1271 ``isValidSignature`` for contract wallets, read over JSON-RPC
(``eth_chainId``, ``eth_call``; Ethereum JSON-RPC specification)."""

from __future__ import annotations

from typing import Any, Final

import httpx
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_keys.exceptions import BadSignature
from eth_utils.crypto import keccak

from vouch_server.errors import RetryLater

# bytes4(keccak256("isValidSignature(bytes32,bytes)")), also the value a valid call returns.
EIP1271_MAGIC: Final = bytes.fromhex("1626ba7e")


def decode_hex_signature(text: str) -> bytes:
    """``0x``-prefixed (or bare) hex; raises ValueError otherwise."""
    body = text[2:] if text[:2] in ("0x", "0X") else text
    if not body or len(body) % 2:
        raise ValueError("signature must be hex")
    return bytes.fromhex(body)


def eip191_hash(message: str) -> bytes:
    """EIP-191 version 0x45: keccak256("\\x19Ethereum Signed Message:\\n" + len(message) + message)."""
    data = message.encode("utf-8")
    digest: bytes = keccak(b"\x19Ethereum Signed Message:\n" + str(len(data)).encode() + data)
    return digest


def recover_signer(message: str, signature: bytes) -> str | None:
    """The lower-case address whose key made ``signature`` over ``message``, or None."""
    if len(signature) != 65:
        return None
    try:
        address: str = Account.recover_message(encode_defunct(text=message), signature=signature)
    except (BadSignature, ValueError, TypeError):
        return None
    return address.lower()


async def _rpc(client: httpx.AsyncClient, url: str, method: str, params: list[Any]) -> Any:
    response = await client.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    )
    response.raise_for_status()
    body = response.json()
    if not isinstance(body, dict) or "error" in body or "result" not in body:
        raise RetryLater(f"Ethereum JSON-RPC {method} failed", code="rpc_unavailable")
    return body["result"]


def _is_valid_signature_call(digest: bytes, signature: bytes) -> str:
    """ABI encoding of ``isValidSignature(bytes32 hash, bytes signature)`` (Solidity ABI spec)."""
    padded = signature + b"\x00" * (-len(signature) % 32)
    data = (
        EIP1271_MAGIC
        + digest
        + (64).to_bytes(32, "big")  # offset of the dynamic ``bytes`` argument
        + len(signature).to_bytes(32, "big")
        + padded
    )
    return "0x" + data.hex()


async def eip1271_accepts(
    rpc_url: str,
    *,
    chain_id: int,
    contract: str,
    message: str,
    signature: bytes,
    seconds: float,
) -> bool:
    """Ask the contract at ``contract`` whether ``signature`` is valid for the EIP-191 hash of
    ``message`` (EIP-1271). The RPC must serve ``chain_id``: EIP-4361 requires contract accounts to
    be resolved on the message's chain. Network trouble is ``RetryLater`` (not an attempt)."""
    try:
        async with httpx.AsyncClient(timeout=seconds, trust_env=False) as client:
            served = await _rpc(client, rpc_url, "eth_chainId", [])
            if not isinstance(served, str) or int(served, 16) != chain_id:
                raise RetryLater(
                    "The configured Ethereum RPC serves another chain", code="rpc_wrong_chain"
                )
            call = {
                "to": contract,
                "data": _is_valid_signature_call(eip191_hash(message), signature),
            }
            result = await _rpc(client, rpc_url, "eth_call", [call, "latest"])
    except (httpx.HTTPError, ValueError):
        raise RetryLater("The Ethereum RPC is unavailable", code="rpc_unavailable") from None
    if not isinstance(result, str):
        return False
    try:
        returned = bytes.fromhex(result.removeprefix("0x"))
    except ValueError:
        return False
    # A bytes4 return value is ABI-encoded left-aligned in one 32-byte word.
    return len(returned) == 32 and returned[:4] == EIP1271_MAGIC
