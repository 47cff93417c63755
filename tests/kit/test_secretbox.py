"""Tests for vouch_server.kit.secretbox: AES-256-GCM sealing and HKDF purpose keys."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidTag

from vouch_server.kit.secretbox import SecretBox, derive_key

MASTER = b"test-master-secret"
KEY = derive_key(MASTER, "tests")


def _flip(token: str, index: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token[3:]))
    raw[index] ^= 0x01
    return "v1." + base64.urlsafe_b64encode(bytes(raw)).decode()


class TestDeriveKey:
    def test_is_32_bytes_by_default(self) -> None:
        assert len(derive_key(MASTER, "signing-keys")) == 32

    def test_length_can_be_chosen(self) -> None:
        assert len(derive_key(MASTER, "signing-keys", length=16)) == 16

    def test_is_deterministic(self) -> None:
        assert derive_key(MASTER, "signing-keys") == derive_key(MASTER, "signing-keys")

    def test_purposes_give_different_keys(self) -> None:
        assert derive_key(MASTER, "signing-keys") != derive_key(MASTER, "challenge-codes")

    def test_masters_give_different_keys(self) -> None:
        assert derive_key(MASTER, "signing-keys") != derive_key(b"other", "signing-keys")

    def test_key_is_not_the_master(self) -> None:
        master = b"m" * 32
        assert derive_key(master, "signing-keys") != master


class TestSecretBox:
    def test_round_trip(self) -> None:
        box = SecretBox(KEY)
        assert box.open(box.seal(b"private key", b"kid-1"), b"kid-1") == b"private key"

    def test_round_trip_without_associated_data(self) -> None:
        box = SecretBox(KEY)
        assert box.open(box.seal(b"")) == b""

    def test_ciphertext_is_versioned_and_does_not_contain_the_plaintext(self) -> None:
        token = SecretBox(KEY).seal(b"private key")
        assert token.startswith("v1.")
        assert b"private key" not in base64.urlsafe_b64decode(token[3:])
        # 12-byte nonce + ciphertext + 16-byte tag
        assert len(base64.urlsafe_b64decode(token[3:])) == 12 + len(b"private key") + 16

    def test_every_seal_uses_a_fresh_nonce(self) -> None:
        box = SecretBox(KEY)
        tokens = [box.seal(b"same") for _ in range(100)]
        nonces = {base64.urlsafe_b64decode(t[3:])[:12] for t in tokens}
        assert len(nonces) == 100

    @pytest.mark.parametrize("index", [0, 12, -1])  # nonce, ciphertext, tag
    def test_tampering_fails(self, index: int) -> None:
        box = SecretBox(KEY)
        token = box.seal(b"private key", b"kid-1")
        with pytest.raises(InvalidTag):
            box.open(_flip(token, index), b"kid-1")

    def test_wrong_associated_data_fails(self) -> None:
        box = SecretBox(KEY)
        token = box.seal(b"private key", b"kid-1")
        with pytest.raises(InvalidTag):
            box.open(token, b"kid-2")

    def test_wrong_key_fails(self) -> None:
        token = SecretBox(KEY).seal(b"private key", b"kid-1")
        with pytest.raises(InvalidTag):
            SecretBox(derive_key(MASTER, "other")).open(token, b"kid-1")

    def test_unknown_format_is_refused(self) -> None:
        token = SecretBox(KEY).seal(b"private key")
        with pytest.raises(ValueError, match="unknown ciphertext format"):
            SecretBox(KEY).open("v2." + token[3:])

    @pytest.mark.parametrize("size", [0, 16, 31, 33])
    def test_needs_a_256_bit_key(self, size: int) -> None:
        with pytest.raises(ValueError, match="256-bit"):
            SecretBox(b"k" * size)
