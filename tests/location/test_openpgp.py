"""``openpgp``: detached signatures made by GnuPG verify; altered data and wrong keys do not."""

from __future__ import annotations

import pytest

from tests.location.factories import FIXTURES
from vouch_server.location import openpgp

PGP = FIXTURES / "openpgp"
DATA = (PGP / "data.csv").read_bytes()


def keys(name: str) -> list[openpgp.PublicKey]:
    return openpgp.load_public_keys((PGP / f"{name}.pub.asc").read_text())


def signature(name: str) -> str:
    return (PGP / f"{name}.sig.asc").read_text()


class TestVerifyDetached:
    @pytest.mark.parametrize("name", ["rsa2048", "ed25519", "nistp256"])
    def test_gnupg_signature_verifies(self, name: str) -> None:
        key = openpgp.verify_detached(signature(name), DATA, keys(name))
        assert key.fingerprint == keys(name)[0].fingerprint
        assert not key.is_subkey

    @pytest.mark.parametrize("name", ["rsa2048", "ed25519", "nistp256", "sub"])
    def test_altered_data_does_not_verify(self, name: str) -> None:
        with pytest.raises(openpgp.PgpError, match="does not verify"):
            openpgp.verify_detached(signature(name), DATA + b"\n", keys(name))

    def test_another_key_does_not_verify(self) -> None:
        with pytest.raises(openpgp.PgpError):
            openpgp.verify_detached(signature("ed25519"), DATA, keys("nistp256"))

    def test_signing_subkey_bound_to_the_primary_verifies(self) -> None:
        bundle = keys("sub")
        assert len(bundle) == 2
        key = openpgp.verify_detached(signature("sub"), DATA, bundle)
        assert key.is_subkey
        assert key.fingerprint != bundle[0].fingerprint

    def test_subkey_without_valid_binding_is_not_trusted(self) -> None:
        # Swap the subkey's binding signature for an unrelated signature packet.
        raw = openpgp.dearmor((PGP / "sub.pub.asc").read_text())
        foreign = openpgp.dearmor(signature("ed25519"))
        kept = []
        for tag, body in openpgp.packets(raw):
            if tag == openpgp.TAG_SIGNATURE and kept and kept[-1][0] == openpgp.TAG_PUBLIC_SUBKEY:
                tag, body = openpgp.packets(foreign)[0]
            kept.append((tag, body))
        rebuilt = b"".join(
            bytes([0xC0 | tag, 0xFF]) + len(body).to_bytes(4, "big") + body for tag, body in kept
        )
        bundle = openpgp.load_public_keys(rebuilt)
        assert len(bundle) == 1
        with pytest.raises(openpgp.PgpError):
            openpgp.verify_detached(signature("sub"), DATA, bundle)

    def test_text_mode_signature_verifies_with_either_line_ending(self) -> None:
        sig = signature("ed25519-text")
        assert openpgp.verify_detached(sig, DATA, keys("ed25519"))
        assert openpgp.verify_detached(sig, DATA.replace(b"\n", b"\r\n"), keys("ed25519"))

    def test_binary_signature_is_accepted_unarmored(self) -> None:
        raw = openpgp.dearmor(signature("rsa2048"))
        assert openpgp.verify_detached(raw, DATA, keys("rsa2048"))


class TestArmor:
    def test_corrupted_checksum_is_rejected(self) -> None:
        text = signature("ed25519")
        lines = text.splitlines()
        index = next(i for i, line in enumerate(lines) if line.startswith("=") and len(line) == 5)
        lines[index] = "=AAAA"
        with pytest.raises(openpgp.PgpError, match="checksum"):
            openpgp.dearmor("\n".join(lines))

    def test_text_without_armor_is_rejected(self) -> None:
        with pytest.raises(openpgp.PgpError):
            openpgp.load_public_keys("not a key")

    def test_fingerprint_is_the_v4_sha1_fingerprint(self) -> None:
        # GnuPG printed 60549107661DE655E83389320A352231543951A5 for this key.
        assert keys("ed25519")[0].fingerprint_hex == "60549107661DE655E83389320A352231543951A5"
