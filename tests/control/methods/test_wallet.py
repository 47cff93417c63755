"""Wallet verification with signatures made by each ecosystem's own libraries: eth-account (SIWE,
EIP-191, EIP-1271 through a JSON-RPC stand-in), PyNaCl (Solana ed25519), coincurve (BIP-137,
BIP-322) and the BIP-322 test vectors."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import base58
import bech32
import coincurve
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from nacl.signing import SigningKey

from tests.control.methods.conftest import Build, Env
from tests.control.methods.standins import EthRpcStandIn
from vouch_server.control.methods import get_method
from vouch_server.control.methods.wallet import BitcoinMethod, EthereumMethod, SolanaMethod
from vouch_server.control.methods.wallets import bitcoin

# Well-known development keys (Hardhat accounts #0 and #1): never hold value.
ETH_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ETH_OTHER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9c86dae88c7a8417aaf5b5b7b7f5f6"

# BIP-322 §"Test vectors".
BIP322_WIF = "L3VFeEujGtevx9w18HD1fhRbCH67Az2dpCymeRE1SoPK6XQtaN2k"
BIP322_ADDRESS = "bc1q9vza2e8x573nczrlzms0wvx3gsqjx7vavgkx0l"
BIP322_VECTORS = [
    (
        "",
        "AkcwRAIgM2gBAQqvZX15ZiysmKmQpDrG83avLIT492QBzLnQIxYCIBaTpOaD20qRlEylyxFSeEA2ba9YOixpX8z46TSDtS40ASECx/EgAxlkQpQ9hYjgGu6EBCPMVPwVIVJqO4XCsMvViHI=",
    ),
    (
        "",
        "AkgwRQIhAPkJ1Q4oYS0htvyuSFHLxRQpFAY56b70UvE7Dxazen0ZAiAtZfFz1S6T6I23MWI2lK/pcNTWncuyL8UL+oMdydVgzAEhAsfxIAMZZEKUPYWI4BruhAQjzFT8FSFSajuFwrDL1Yhy",
    ),
    (
        "Hello World",
        "AkcwRAIgZRfIY3p7/DoVTty6YZbWS71bc5Vct9p9Fia83eRmw2QCICK/ENGfwLtptFluMGs2KsqoNSk89pO7F29zJLUx9a/sASECx/EgAxlkQpQ9hYjgGu6EBCPMVPwVIVJqO4XCsMvViHI=",
    ),
    (
        "Hello World",
        "AkgwRQIhAOzyynlqt93lOKJr+wmmxIens//zPzl9tqIOua93wO6MAiBi5n5EyAcPScOjf1lAqIUIQtr3zKNeavYabHyR8eGhowEhAsfxIAMZZEKUPYWI4BruhAQjzFT8FSFSajuFwrDL1Yhy",
    ),
]
# Taproot key-path vector of Bitcoin Core's BIP-322 test suite (same key, BIP-86 output).
BIP322_P2TR_ADDRESS = "bc1ppv609nr0vr25u07u95waq5lucwfm6tde4nydujnu8npg4q75mr5sxq8lt3"
BIP322_P2TR_SIGNATURE = (
    "AUHd69PrJQEv+oKTfZ8l+WROBHuy9HKrbFCJu7U1iK2iiEy1vMU5EfMtjc+VSHM7aU0SDbak5IUZRVno2P5mjSafAQ=="
)
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def replace_line(message: str, prefix: str, new: str) -> str:
    lines = message.split("\n")
    index = next(i for i, line in enumerate(lines) if line.startswith(prefix))
    lines[index] = new
    return "\n".join(lines)


async def rejected(env: Env, id_: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await env.submit(id_, body)
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


async def assert_unproven(env: Env, id_: str, attempts: int) -> None:
    data = await env.get(id_)
    assert data["status"] == "pending"
    assert data["attempts"] == attempts
    assert "proof_token" not in data
    assert await env.proofs() == 0


class TestRegistration:
    def test_wallet_channels_are_served_by_the_wallet_methods(self) -> None:
        assert isinstance(get_method("wallet", "ethereum"), EthereumMethod)
        assert isinstance(get_method("wallet", "solana"), SolanaMethod)
        assert isinstance(get_method("wallet", "bitcoin"), BitcoinMethod)


# --------------------------------------------------------------------------- Ethereum


def eth_sign(key: str, message: str) -> str:
    signed = Account.from_key(key).sign_message(encode_defunct(text=message))
    return "0x" + bytes(signed.signature).hex()


class TestEthereumChallenge:
    async def test_the_message_is_a_siwe_message_with_every_field(self, build: Build) -> None:
        env = await build()
        account = Account.from_key(ETH_KEY)
        data = await env.created("wallet", "ethereum", account.address.lower())
        challenge = data["challenge"]
        lines = challenge["message"].split("\n")
        assert lines[0] == "vouch.test wants you to sign in with your Ethereum account:"
        assert lines[1] == account.address  # EIP-55 checksum form
        assert lines[2] == "" and lines[4] == ""
        assert challenge["code"] in lines[3]
        fields = dict(line.split(": ", 1) for line in lines[5:])
        assert fields["URI"] == f"https://vouch.test/verify/{data['id']}"
        assert fields["Version"] == "1"
        assert fields["Chain ID"] == "1"
        assert re.fullmatch(r"[A-Za-z0-9]{8,}", fields["Nonce"])
        assert fields["Nonce"] == challenge["nonce"]
        assert parse_iso(fields["Issued At"]) == parse_iso(data["created_at"])
        assert fields["Expiration Time"] == challenge["expires_at"] == data["challenge_expires_at"]
        assert fields["Request ID"] == data["id"]

    async def test_a_plain_http_public_url_is_written_with_its_scheme(self, build: Build) -> None:
        env = await build(public_url="http://127.0.0.1:8080", wallet_eth_chain_id=10)
        data = await env.created("wallet", "ethereum", Account.from_key(ETH_KEY).address)
        message = data["challenge"]["message"]
        assert message.startswith("http://127.0.0.1:8080 wants you to sign in")
        assert "\nChain ID: 10\n" in message

    async def test_nonces_differ_between_verifications(self, build: Build) -> None:
        env = await build()
        address = Account.from_key(ETH_KEY).address
        first = await env.created("wallet", "ethereum", address)
        second = await env.created("wallet", "ethereum", address)
        assert first["challenge"]["nonce"] != second["challenge"]["nonce"]


class TestEthereumSubmit:
    async def test_a_siwe_signature_by_the_address_completes(self, build: Build) -> None:
        env = await build()
        data = await env.created("wallet", "ethereum", Account.from_key(ETH_KEY).address)
        message = data["challenge"]["message"]
        response = await env.submit(
            data["id"], {"signature": eth_sign(ETH_KEY, message), "message": message}
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "verified"
        assert await env.proofs() == 1

    async def test_the_issued_message_is_assumed_when_none_is_sent(self, build: Build) -> None:
        env = await build()
        data = await env.created("wallet", "ethereum", Account.from_key(ETH_KEY).address)
        signature = eth_sign(ETH_KEY, data["challenge"]["message"])
        response = await env.submit(data["id"], {"signature": signature[2:]})  # bare hex too
        assert response.json()["status"] == "verified"

    async def test_a_signature_by_another_key_is_refused(self, build: Build) -> None:
        env = await build()
        data = await env.created("wallet", "ethereum", Account.from_key(ETH_KEY).address)
        message = data["challenge"]["message"]
        error = await rejected(env, data["id"], {"signature": eth_sign(ETH_OTHER_KEY, message)})
        assert error["code"] == "signature_mismatch"
        assert Account.from_key(ETH_OTHER_KEY).address in error["message"]
        assert error["attempts_remaining"] == 2
        await assert_unproven(env, data["id"], attempts=1)

    @pytest.mark.parametrize(
        ("change", "code"),
        [
            (
                lambda m: m.replace("vouch.test wants", "evil.example wants"),
                "message_domain_mismatch",
            ),
            (
                lambda m: m.replace("vouch.test wants", "http://vouch.test wants"),
                "message_domain_mismatch",
            ),
            (
                lambda m: replace_line(m, "Nonce: ", "Nonce: AAAAAAAAAAAAAAAA"),
                "message_nonce_mismatch",
            ),
            (
                lambda m: replace_line(
                    m, "Expiration Time: ", "Expiration Time: 2099-01-01T00:00:00Z"
                ),
                "message_expiry_mismatch",
            ),
            (
                lambda m: "\n".join(
                    line for line in m.split("\n") if not line.startswith("Expiration Time: ")
                ),
                "message_expiry_mismatch",
            ),
            (lambda m: replace_line(m, "Chain ID: ", "Chain ID: 5"), "message_chain_mismatch"),
            (
                lambda m: replace_line(m, "URI: ", "URI: https://evil.example/login"),
                "message_uri_mismatch",
            ),
            (
                lambda m: replace_line(m, "Issued At: ", "Issued At: 2020-01-01T00:00:00Z"),
                "message_issued_at_mismatch",
            ),
            (
                lambda m: m.replace("Prove to vouch", "Prove to nobody"),
                "message_statement_mismatch",
            ),
            (
                lambda m: m + "\nResources:\n- https://evil.example/grant",
                "message_resources_mismatch",
            ),
        ],
    )
    async def test_a_changed_message_field_is_refused_even_when_signed(
        self, build: Build, change: Any, code: str
    ) -> None:
        env = await build()
        data = await env.created("wallet", "ethereum", Account.from_key(ETH_KEY).address)
        changed = change(data["challenge"]["message"])
        assert changed != data["challenge"]["message"]
        error = await rejected(
            env, data["id"], {"signature": eth_sign(ETH_KEY, changed), "message": changed}
        )
        assert error["code"] == code
        await assert_unproven(env, data["id"], attempts=1)

    async def test_the_same_instants_written_differently_are_accepted(self, build: Build) -> None:
        env = await build()
        data = await env.created("wallet", "ethereum", Account.from_key(ETH_KEY).address)
        message = data["challenge"]["message"]
        expiry = data["challenge"]["expires_at"]
        reformatted = message.replace(expiry, expiry.replace("Z", "+00:00"))
        assert reformatted != message
        response = await env.submit(
            data["id"], {"signature": eth_sign(ETH_KEY, reformatted), "message": reformatted}
        )
        assert response.json()["status"] == "verified"

    async def test_a_message_for_another_address_is_refused(self, build: Build) -> None:
        env = await build()
        mine = Account.from_key(ETH_KEY).address
        data = await env.created("wallet", "ethereum", mine)
        other = Account.from_key(ETH_OTHER_KEY).address
        changed = data["challenge"]["message"].replace(mine, other)
        error = await rejected(
            env, data["id"], {"signature": eth_sign(ETH_OTHER_KEY, changed), "message": changed}
        )
        assert error["code"] == "message_address_mismatch"

    @pytest.mark.parametrize(
        "body",
        [
            {"signature": "not-hex"},
            {"signature": "0x1234", "message": "hello, sign this"},
            {"signature": 12},
            {},
        ],
    )
    async def test_malformed_input_is_a_validation_error_without_an_attempt(
        self, build: Build, body: dict[str, Any]
    ) -> None:
        env = await build()
        data = await env.created("wallet", "ethereum", Account.from_key(ETH_KEY).address)
        error = await rejected(env, data["id"], body)
        assert error["code"] == "validation_error"
        await assert_unproven(env, data["id"], attempts=0)

    async def test_a_65_byte_garbage_signature_is_a_failed_attempt(self, build: Build) -> None:
        env = await build()
        data = await env.created("wallet", "ethereum", Account.from_key(ETH_KEY).address)
        error = await rejected(env, data["id"], {"signature": "0x" + "ff" * 65})
        assert error["code"] == "invalid_signature"
        await assert_unproven(env, data["id"], attempts=1)


class TestEip1271:
    @pytest.fixture
    def rpc(self) -> Iterator[EthRpcStandIn]:
        wallet = "0x" + "5a" * 20
        stand_in = EthRpcStandIn(chain_id=1, wallet=wallet, owner=Account.from_key(ETH_KEY).address)
        with stand_in.server:
            yield stand_in

    async def test_a_contract_wallet_accepting_the_signature_completes(
        self, build: Build, rpc: EthRpcStandIn
    ) -> None:
        env = await build(eth_rpc_url=rpc.server.base_url)
        data = await env.created("wallet", "ethereum", rpc.wallet)
        message = data["challenge"]["message"]
        response = await env.submit(data["id"], {"signature": eth_sign(ETH_KEY, message)})
        assert response.json()["status"] == "verified", response.text
        assert rpc.calls and rpc.calls[0]["to"].lower() == rpc.wallet

    async def test_a_contract_wallet_refusing_the_signature_is_refused(
        self, build: Build, rpc: EthRpcStandIn
    ) -> None:
        env = await build(eth_rpc_url=rpc.server.base_url)
        data = await env.created("wallet", "ethereum", rpc.wallet)
        message = data["challenge"]["message"]
        error = await rejected(env, data["id"], {"signature": eth_sign(ETH_OTHER_KEY, message)})
        assert error["code"] == "signature_mismatch"
        await assert_unproven(env, data["id"], attempts=1)

    async def test_an_rpc_on_another_chain_is_not_trusted(
        self, build: Build, rpc: EthRpcStandIn
    ) -> None:
        env = await build(eth_rpc_url=rpc.server.base_url, wallet_eth_chain_id=10)
        data = await env.created("wallet", "ethereum", rpc.wallet)
        message = data["challenge"]["message"]
        response = await env.submit(data["id"], {"signature": eth_sign(ETH_KEY, message)})
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "rpc_wrong_chain"
        await assert_unproven(env, data["id"], attempts=0)

    async def test_without_an_rpc_only_eoa_signatures_count(self, build: Build) -> None:
        env = await build()
        data = await env.created("wallet", "ethereum", "0x" + "5a" * 20)
        message = data["challenge"]["message"]
        error = await rejected(env, data["id"], {"signature": eth_sign(ETH_KEY, message)})
        assert error["code"] == "signature_mismatch"


# --------------------------------------------------------------------------- Solana


class TestSolana:
    @pytest.fixture
    def key(self) -> SigningKey:
        return SigningKey.generate()

    @staticmethod
    def address(key: SigningKey) -> str:
        return base58.b58encode(bytes(key.verify_key)).decode()

    async def test_the_message_is_a_sign_in_with_solana_message(
        self, build: Build, key: SigningKey
    ) -> None:
        env = await build()
        data = await env.created("wallet", "solana", self.address(key))
        lines = data["challenge"]["message"].split("\n")
        assert lines[0] == "vouch.test wants you to sign in with your Solana account:"
        assert lines[1] == self.address(key)
        assert "Chain ID: mainnet" in lines

    @pytest.mark.parametrize(
        "encode",
        [
            lambda raw: base58.b58encode(raw).decode(),
            lambda raw: base64.b64encode(raw).decode(),
        ],
        ids=["base58", "base64"],
    )
    async def test_an_ed25519_signature_by_the_address_completes(
        self, build: Build, key: SigningKey, encode: Any
    ) -> None:
        env = await build()
        data = await env.created("wallet", "solana", self.address(key))
        message = data["challenge"]["message"]
        signature = key.sign(message.encode()).signature
        response = await env.submit(
            data["id"], {"signature": encode(signature), "message": message}
        )
        assert response.json()["status"] == "verified", response.text

    async def test_a_signature_by_another_key_is_refused(
        self, build: Build, key: SigningKey
    ) -> None:
        env = await build()
        data = await env.created("wallet", "solana", self.address(key))
        message = data["challenge"]["message"]
        other = SigningKey.generate().sign(message.encode()).signature
        error = await rejected(env, data["id"], {"signature": base58.b58encode(other).decode()})
        assert error["code"] == "invalid_signature"
        await assert_unproven(env, data["id"], attempts=1)

    async def test_a_changed_nonce_is_refused(self, build: Build, key: SigningKey) -> None:
        env = await build()
        data = await env.created("wallet", "solana", self.address(key))
        changed = replace_line(data["challenge"]["message"], "Nonce: ", "Nonce: 0123456789")
        signature = base58.b58encode(key.sign(changed.encode()).signature).decode()
        error = await rejected(env, data["id"], {"signature": signature, "message": changed})
        assert error["code"] == "message_nonce_mismatch"

    async def test_a_short_signature_is_malformed(self, build: Build, key: SigningKey) -> None:
        env = await build()
        data = await env.created("wallet", "solana", self.address(key))
        error = await rejected(env, data["id"], {"signature": base58.b58encode(b"x" * 32).decode()})
        assert error["code"] == "validation_error"
        await assert_unproven(env, data["id"], attempts=0)


# --------------------------------------------------------------------------- Bitcoin helpers
# Written from the BIPs, independently of the module under test where the BIP fixes the bytes.


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hash160(data: bytes) -> bytes:
    return hashlib.new("ripemd160", sha256(data)).digest()


def b58check(payload: bytes) -> str:
    return base58.b58encode_check(payload).decode()


def bech32m_address(program: bytes) -> str:
    """BIP-350 encoding of a witness v1 program."""
    five_bit = bech32.convertbits(program, 8, 5)
    assert five_bit is not None
    data = [1, *five_bit]
    hrp_data = bech32.bech32_hrp_expand("bc")
    polymod = bech32.bech32_polymod(hrp_data + data + [0] * 6) ^ 0x2BC830A3
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return "bc1" + "".join(bech32.CHARSET[d] for d in data + checksum)


def key_from_wif(wif: str) -> coincurve.PrivateKey:
    payload = base58.b58decode_check(wif)
    return coincurve.PrivateKey(payload[1:33])


def addresses(key: coincurve.PrivateKey) -> dict[str, str]:
    compressed = key.public_key.format(compressed=True)
    uncompressed = key.public_key.format(compressed=False)
    witness = b"\x00\x14" + hash160(compressed)
    return {
        "p2pkh": b58check(b"\x00" + hash160(compressed)),
        "p2pkh-uncompressed": b58check(b"\x00" + hash160(uncompressed)),
        "p2sh-p2wpkh": b58check(b"\x05" + hash160(witness)),
        "p2wpkh": str(bech32.encode("bc", 0, hash160(compressed))),
    }


def bip137_sign(key: coincurve.PrivateKey, message: str, header_base: int) -> str:
    """BIP-137: header (27/31/35/39 + recovery id) then r || s, base64."""
    data = message.encode()
    digest = sha256(
        sha256(b"\x18Bitcoin Signed Message:\n" + bitcoin.compact_size(len(data)) + data)
    )
    recoverable = key.sign_recoverable(digest, hasher=None)
    return base64.b64encode(bytes([header_base + recoverable[64]]) + recoverable[:64]).decode()


def witness(*items: bytes) -> str:
    raw = bytes([len(items)]) + b"".join(bytes([len(i)]) + i for i in items)
    return base64.b64encode(raw).decode()


def bip322_sign_p2wpkh(key: coincurve.PrivateKey, address: str, message: str) -> str:
    spk = bitcoin.script_pubkey(address)
    code = b"\x76\xa9\x14" + spk.program + b"\x88\xac"
    digest = bitcoin.bip143_sighash(message.encode(), spk.script, code, 1)
    signature = key.sign(digest, hasher=None) + b"\x01"  # DER, low S; SIGHASH_ALL
    return witness(signature, key.public_key.format(compressed=True))


def taproot_output_key(key: coincurve.PrivateKey) -> tuple[coincurve.PrivateKey, bytes]:
    """BIP-86 key-path-only output: tweak by tagged_hash("TapTweak", P) with no script tree."""
    secret = key.to_int()
    internal = key.public_key.format(compressed=True)
    if internal[0] == 3:  # BIP-340 keys have even Y
        secret = SECP256K1_N - secret
    tag = sha256(b"TapTweak")
    tweak = int.from_bytes(sha256(tag + tag + internal[1:]), "big")
    tweaked = coincurve.PrivateKey.from_int((secret + tweak) % SECP256K1_N)
    return tweaked, tweaked.public_key.format(compressed=True)[1:]


def bip322_sign_p2tr(
    key: coincurve.PrivateKey, address: str, message: str, *, sighash_all: bool
) -> str:
    tweaked, _ = taproot_output_key(key)
    spk = bitcoin.script_pubkey(address)
    digest = bitcoin.bip341_sighash(message.encode(), spk.script, 1 if sighash_all else 0)
    signature = tweaked.sign_schnorr(digest, b"\x00" * 32)
    return witness(signature + (b"\x01" if sighash_all else b""))


class TestBip322Vectors:
    def test_message_hashes(self) -> None:
        assert bitcoin.bip322_message_hash(b"").hex() == (
            "c90c269c4f8fcbe6880f72a721ddfbf1914268a794cbb21cfafee13770ae19f1"
        )
        assert bitcoin.bip322_message_hash(b"Hello World").hex() == (
            "f0eb03b1a75ac6d9847f55c624a99169b5dccba2a31f5b23bea77ba270de0a7a"
        )

    @pytest.mark.parametrize(
        ("message", "to_spend", "to_sign"),
        [
            (
                b"",
                "c5680aa69bb8d860bf82d4e9cd3504b55dde018de765a91bb566283c545a99a7",
                "1e9654e951a5ba44c8604c4de6c67fd78a27e81dcadcfe1edf638ba3aaebaed6",
            ),
            (
                b"Hello World",
                "b79d196740ad5217771c1098fc4a4b51e0535c32236c71f1ea4d61a2d603352b",
                "88737ae86f2077145f93cc4b153ae9a1cb8d56afa511988c149c5c8c9d93bddf",
            ),
        ],
    )
    def test_transaction_hashes(self, message: bytes, to_spend: str, to_sign: str) -> None:
        spk = bitcoin.script_pubkey(BIP322_ADDRESS).script
        assert bitcoin.txid(bitcoin.to_spend(message, spk))[::-1].hex() == to_spend
        assert bitcoin.txid(bitcoin.to_sign(message, spk))[::-1].hex() == to_sign

    def test_the_vector_key_is_the_vector_address(self) -> None:
        assert addresses(key_from_wif(BIP322_WIF))["p2wpkh"] == BIP322_ADDRESS
        _, output_key = taproot_output_key(key_from_wif(BIP322_WIF))
        assert bech32m_address(output_key) == BIP322_P2TR_ADDRESS

    @pytest.mark.parametrize(("message", "signature"), BIP322_VECTORS)
    def test_the_bip_signatures_verify(self, message: str, signature: str) -> None:
        assert bitcoin.verify(BIP322_ADDRESS, message, signature)

    @pytest.mark.parametrize(("message", "signature"), BIP322_VECTORS)
    def test_the_bip_signatures_do_not_verify_another_message(
        self, message: str, signature: str
    ) -> None:
        other = "Hello World" if message == "" else ""
        assert not bitcoin.verify(BIP322_ADDRESS, other, signature)

    def test_the_taproot_vector_verifies(self) -> None:
        assert bitcoin.verify(BIP322_P2TR_ADDRESS, "Hello World", BIP322_P2TR_SIGNATURE)
        assert not bitcoin.verify(BIP322_P2TR_ADDRESS, "Hello World!", BIP322_P2TR_SIGNATURE)

    def test_a_vector_signature_does_not_verify_for_another_address(self) -> None:
        other = addresses(coincurve.PrivateKey())["p2wpkh"]
        assert not bitcoin.verify(other, "Hello World", BIP322_VECTORS[2][1])


class TestBitcoinSubmit:
    @pytest.fixture
    def key(self) -> coincurve.PrivateKey:
        return coincurve.PrivateKey()

    @pytest.mark.parametrize(
        ("kind", "header_base"),
        [
            ("p2pkh", 31),
            ("p2pkh-uncompressed", 27),
            ("p2sh-p2wpkh", 35),
            ("p2wpkh", 39),
            ("p2wpkh", 31),  # Electrum and others use the compressed P2PKH header for segwit
            ("p2sh-p2wpkh", 31),
        ],
    )
    async def test_bip137_signatures_complete(
        self, build: Build, key: coincurve.PrivateKey, kind: str, header_base: int
    ) -> None:
        env = await build()
        data = await env.created("wallet", "bitcoin", addresses(key)[kind])
        message = data["challenge"]["message"]
        assert message.split("\n")[0].endswith("sign in with your Bitcoin account:")
        signature = bip137_sign(key, message, header_base)
        response = await env.submit(data["id"], {"signature": signature, "message": message})
        assert response.json()["status"] == "verified", response.text

    @pytest.mark.parametrize(
        ("kind", "header_base"),
        [("p2pkh", 39), ("p2wpkh", 35), ("p2pkh-uncompressed", 31), ("p2wpkh", 27)],
    )
    async def test_a_bip137_header_for_another_address_type_is_refused(
        self, build: Build, key: coincurve.PrivateKey, kind: str, header_base: int
    ) -> None:
        env = await build()
        data = await env.created("wallet", "bitcoin", addresses(key)[kind])
        signature = bip137_sign(key, data["challenge"]["message"], header_base)
        error = await rejected(env, data["id"], {"signature": signature})
        assert error["code"] == "invalid_signature"

    async def test_a_bip137_signature_by_another_key_is_refused(
        self, build: Build, key: coincurve.PrivateKey
    ) -> None:
        env = await build()
        data = await env.created("wallet", "bitcoin", addresses(key)["p2pkh"])
        signature = bip137_sign(coincurve.PrivateKey(), data["challenge"]["message"], 31)
        error = await rejected(env, data["id"], {"signature": signature})
        assert error["code"] == "invalid_signature"
        await assert_unproven(env, data["id"], attempts=1)

    async def test_a_bip322_p2wpkh_signature_completes(
        self, build: Build, key: coincurve.PrivateKey
    ) -> None:
        env = await build()
        address = addresses(key)["p2wpkh"]
        data = await env.created("wallet", "bitcoin", address)
        signature = bip322_sign_p2wpkh(key, address, data["challenge"]["message"])
        response = await env.submit(data["id"], {"signature": signature})
        assert response.json()["status"] == "verified", response.text

    @pytest.mark.parametrize("sighash_all", [False, True], ids=["default", "all"])
    async def test_a_bip322_taproot_signature_completes(
        self, build: Build, key: coincurve.PrivateKey, sighash_all: bool
    ) -> None:
        env = await build()
        address = bech32m_address(taproot_output_key(key)[1])
        data = await env.created("wallet", "bitcoin", address)
        signature = bip322_sign_p2tr(
            key, address, data["challenge"]["message"], sighash_all=sighash_all
        )
        response = await env.submit(data["id"], {"signature": signature})
        assert response.json()["status"] == "verified", response.text

    async def test_a_bip322_signature_by_another_key_is_refused(
        self, build: Build, key: coincurve.PrivateKey
    ) -> None:
        env = await build()
        address = addresses(key)["p2wpkh"]
        data = await env.created("wallet", "bitcoin", address)
        other = coincurve.PrivateKey()
        # Another key's witness for this address's challenge: its pubkey does not hash to it.
        signature = bip322_sign_p2wpkh(other, address, data["challenge"]["message"])
        error = await rejected(env, data["id"], {"signature": signature})
        assert error["code"] == "invalid_signature"
        await assert_unproven(env, data["id"], attempts=1)

    async def test_a_changed_domain_is_refused(
        self, build: Build, key: coincurve.PrivateKey
    ) -> None:
        env = await build()
        address = addresses(key)["p2wpkh"]
        data = await env.created("wallet", "bitcoin", address)
        changed = data["challenge"]["message"].replace("vouch.test", "vouch.test.evil.example", 1)
        signature = bip322_sign_p2wpkh(key, address, changed)
        error = await rejected(env, data["id"], {"signature": signature, "message": changed})
        assert error["code"] == "message_domain_mismatch"

    async def test_a_p2wsh_bip322_signature_is_unsupported_and_not_an_attempt(
        self, build: Build
    ) -> None:
        env = await build()
        address = str(bech32.encode("bc", 0, sha256(b"\x51")))  # P2WSH of OP_TRUE
        data = await env.created("wallet", "bitcoin", address)
        error = await rejected(env, data["id"], {"signature": witness(b"\x51")})
        assert error["code"] == "unsupported_signature"
        await assert_unproven(env, data["id"], attempts=0)

    async def test_garbage_is_malformed(self, build: Build, key: coincurve.PrivateKey) -> None:
        env = await build()
        data = await env.created("wallet", "bitcoin", addresses(key)["p2wpkh"])
        for signature in ("%%%not base64%%%", base64.b64encode(b"\x05\x01").decode()):
            error = await rejected(env, data["id"], {"signature": signature})
            assert error["code"] == "validation_error"
        await assert_unproven(env, data["id"], attempts=0)


class TestCodeSubmission:
    async def test_a_code_is_not_how_wallets_complete(self, build: Build) -> None:
        env = await build()
        data = await env.created("wallet", "ethereum", Account.from_key(ETH_KEY).address)
        error = await rejected(env, data["id"], {"code": data["challenge"]["code"]})
        assert error["code"] == "method_not_supported"

    async def test_verify_now_has_nothing_to_check(self, build: Build) -> None:
        env = await build()
        data = await env.created("wallet", "ethereum", Account.from_key(ETH_KEY).address)
        response = await env.verify(data["id"])
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "method_not_supported"
