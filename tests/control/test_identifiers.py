"""Tests for vouch_server.control.identifiers: normalization rules and the identifier hash."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import base58
import pytest

from tests.fixtures.reference import reference_dir
from vouch_server.control.identifiers import (
    InvalidIdentifier,
    identifier_hash,
    normalize_identifier,
)

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "proof_holdings_test_vectors.json"
VECTORS: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))

CHANNELS: dict[str, tuple[str, ...]] = {
    "phone": ("whatsapp", "telegram", "sms"),
    "email": ("email",),
    "domain": ("dns", "http", "email", "auto"),
    "social": ("github", "google", "facebook", "x", "linkedin", "instagram", "youtube", "tiktok"),
    "wallet": ("ethereum", "solana", "bitcoin"),
    "account": ("coinbase", "kraken"),
    "telegram_bot": ("telegram_bot_token",),
}
ALL_PAIRS = [(t, c) for t, channels in CHANNELS.items() for c in channels]


def _normalization_cases() -> list[Any]:
    # Vectors without a channel hold for every channel of their type.
    cases = []
    for vector in VECTORS["normalization_vectors"]:
        channels = (vector["channel"],) if "channel" in vector else CHANNELS[vector["type"]]
        for channel in channels:
            cases.append(
                pytest.param(
                    vector["type"],
                    channel,
                    vector["input"],
                    vector["expected_normalized"],
                    id=f"{vector['description']} [{channel}]",
                )
            )
    return cases


def _hash_cases() -> list[Any]:
    return [
        pytest.param(v["normalized_identifier"], v["expected_hash"], id=v["description"])
        for v in VECTORS["identifier_hash_vectors"]
    ]


def _rejected(type_: str, channel: str, raw: str) -> InvalidIdentifier:
    with pytest.raises(InvalidIdentifier) as excinfo:
        normalize_identifier(type_, channel, raw)
    return excinfo.value


class TestGoldenVectorFixture:
    def test_fixture_holds_every_upstream_vector(self) -> None:
        assert len(VECTORS["normalization_vectors"]) == 10
        assert len(VECTORS["identifier_hash_vectors"]) == 3

    def test_fixture_is_a_byte_identical_copy_of_the_shared_reference(self) -> None:
        upstream = reference_dir() / "proof-holdings" / "test-vectors.json"
        assert FIXTURE.read_bytes() == upstream.read_bytes()


class TestNormalizeIdentifier:
    # ------------------------------------------------------------------ golden vectors

    @pytest.mark.parametrize(("type_", "channel", "raw", "expected"), _normalization_cases())
    def test_golden_normalization_vector(
        self, type_: str, channel: str, raw: str, expected: str
    ) -> None:
        assert normalize_identifier(type_, channel, raw) == expected

    # ------------------------------------------------------------------ common rules

    @pytest.mark.parametrize(("type_", "channel"), ALL_PAIRS)
    @pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
    def test_empty_or_blank_input_is_rejected(self, type_: str, channel: str, raw: str) -> None:
        assert "empty" in _rejected(type_, channel, raw).message

    @pytest.mark.parametrize(("type_", "channel"), ALL_PAIRS)
    def test_input_longer_than_500_characters_is_rejected(self, type_: str, channel: str) -> None:
        assert "500" in _rejected(type_, channel, "a" * 501).message

    @pytest.mark.parametrize(("type_", "channel"), ALL_PAIRS)
    def test_error_message_never_echoes_more_than_100_input_characters(
        self, type_: str, channel: str
    ) -> None:
        raw = "q" * 300 + "Z" * 200
        message = _rejected(type_, channel, raw).message
        assert "q" * 101 not in message
        assert "Z" not in message

    def test_library_error_text_is_cut_to_100_characters(self) -> None:
        # email-validator quotes the whole bracketed domain literal in its message.
        message = _rejected("email", "email", "x@[" + "1" * 300 + "]").message
        assert message.count("1") <= 100

    def test_surrounding_whitespace_is_stripped_before_the_length_limit(self) -> None:
        raw = " " * 300 + "example.com" + "\n" * 300
        assert normalize_identifier("domain", "dns", raw) == "example.com"

    def test_unknown_type_is_rejected(self) -> None:
        assert "Unknown verification type" in _rejected("fax", "fax", "+37069199199").message

    def test_invalid_identifier_is_a_value_error_carrying_its_message(self) -> None:
        error = _rejected("domain", "dns", "localhost")
        assert isinstance(error, ValueError)
        assert str(error) == error.message

    # ------------------------------------------------------------------ phone

    @pytest.mark.parametrize("channel", CHANNELS["phone"])
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("+37069199199", "+37069199199"),
            ("0037069199199", "+37069199199"),
            ("00 370 691 99199", "+37069199199"),
            ("+1 (650) 253-0000", "+16502530000"),
            ("+1.650.253.0000", "+16502530000"),
            ("+44 20 7946 0958", "+442079460958"),
            ("  +370 691 99199  ", "+37069199199"),
        ],
    )
    def test_international_phone_number_is_written_in_e164(
        self, channel: str, raw: str, expected: str
    ) -> None:
        assert normalize_identifier("phone", channel, raw) == expected

    @pytest.mark.parametrize(
        "raw",
        [
            pytest.param("069199199", id="national-format-without-country-code"),
            pytest.param("37069199199", id="missing-plus"),
            pytest.param("+370 123", id="too-short"),
            pytest.param("+37069199199999", id="too-long"),
            pytest.param("+999 123456789", id="unassigned-country-code"),
            pytest.param("+44 0000 000000", id="possible-length-but-not-a-valid-range"),
            pytest.param("+1 800 FLOWERS", id="vanity-letters"),
            pytest.param("+1 650 253 0000 ext. 12", id="extension"),
            pytest.param("tel:+16502530000", id="tel-uri"),
            pytest.param("++37069199199", id="double-plus"),
        ],
    )
    def test_invalid_phone_number_is_rejected(self, raw: str) -> None:
        assert _rejected("phone", "sms", raw).message.startswith("Invalid phone number")

    @pytest.mark.parametrize(
        "bsuid", ["US.13491208655302741918", "US.abcdef1234567890", "LT.AbC123xYz", "GB.a"]
    )
    def test_whatsapp_accepts_a_bsuid_with_its_case_kept(self, bsuid: str) -> None:
        assert normalize_identifier("phone", "whatsapp", bsuid) == bsuid

    @pytest.mark.parametrize(
        "raw",
        [
            pytest.param("ZZ.abc123", id="not-a-country"),
            pytest.param("us.abc123", id="lowercase-country"),
            pytest.param("USA.abc123", id="alpha-3-country"),
            pytest.param("US.", id="empty-id"),
            pytest.param("US.abc-123", id="non-alphanumeric-id"),
            pytest.param("US." + "a" * 129, id="id-longer-than-128"),
        ],
    )
    def test_malformed_bsuid_is_rejected(self, raw: str) -> None:
        _rejected("phone", "whatsapp", raw)

    def test_longest_bsuid_is_accepted(self) -> None:
        bsuid = "US." + "a" * 128
        assert normalize_identifier("phone", "whatsapp", bsuid) == bsuid

    @pytest.mark.parametrize("channel", ["sms", "telegram"])
    def test_bsuid_is_only_accepted_on_whatsapp(self, channel: str) -> None:
        _rejected("phone", channel, "US.13491208655302741918")

    # ------------------------------------------------------------------ email

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("Jane@EXAMPLE.org", "jane@example.org"),
            ("first.last+promo@sub.example.co.uk", "first.last+promo@sub.example.co.uk"),
            ("USER@BÜCHER.DE", "user@bücher.de"),
            ("  padded@example.com\n", "padded@example.com"),
        ],
    )
    def test_email_address_is_lowercased_entirely(self, raw: str, expected: str) -> None:
        assert normalize_identifier("email", "email", raw) == expected

    @pytest.mark.parametrize(
        "raw",
        [
            "not-an-email",
            "user@localhost",
            "john@@example.com",
            "john doe@example.com",
            "John <john@example.com>",
            "john@example..com",
            "@example.com",
        ],
    )
    def test_malformed_email_address_is_rejected(self, raw: str) -> None:
        assert _rejected("email", "email", raw).message.startswith("Invalid email address")

    # ------------------------------------------------------------------ domain

    @pytest.mark.parametrize("channel", CHANNELS["domain"])
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("http://Example.com:8080/path?q=1#frag", "example.com"),
            ("https://shop.example.com?ref=1", "shop.example.com"),
            ("example.com#top", "example.com"),
            ("example.com.", "example.com"),
            ("www.www.example.com", "www.example.com"),
            ("www.com", "www.com"),
            ("sub-domain.example.co.uk", "sub-domain.example.co.uk"),
            ("bücher.de", "xn--bcher-kva.de"),
            ("https://WWW.BÜCHER.de/", "xn--bcher-kva.de"),
            ("xn--bcher-kva.de", "xn--bcher-kva.de"),
            ("123.example.com", "123.example.com"),
        ],
    )
    def test_domain_is_reduced_to_a_lowercase_hostname(
        self, channel: str, raw: str, expected: str
    ) -> None:
        assert normalize_identifier("domain", channel, raw) == expected

    def test_domain_of_exactly_253_characters_is_accepted(self) -> None:
        domain = ".".join(["a" * 63] * 3 + ["a" * 57, "com"])
        assert len(domain) == 253
        assert normalize_identifier("domain", "dns", domain) == domain

    @pytest.mark.parametrize(
        "raw",
        [
            pytest.param("localhost", id="single-label"),
            pytest.param("https://localhost:8080/", id="single-label-url"),
            pytest.param("-example.com", id="leading-hyphen"),
            pytest.param("example-.com", id="trailing-hyphen"),
            pytest.param("exa_mple.com", id="underscore"),
            pytest.param("example..com", id="empty-label"),
            pytest.param("example.123", id="numeric-tld"),
            pytest.param("a" * 64 + ".com", id="label-of-64"),
            pytest.param(".".join(["a" * 63] * 3 + ["a" * 58, "com"]), id="254-characters"),
            pytest.param("ftp://example.com", id="other-scheme"),
            pytest.param("user@example.com", id="user-info"),
            pytest.param("example.com:http", id="non-numeric-port"),
            pytest.param("xn--zz.com", id="bad-punycode"),
            pytest.param("exa mple.com", id="inner-space"),
            pytest.param("https:///", id="nothing-left"),
        ],
    )
    def test_malformed_domain_is_rejected(self, raw: str) -> None:
        assert _rejected("domain", "dns", raw).message.startswith("Invalid domain")

    @pytest.mark.parametrize(
        "raw", ["192.168.1.1", "http://10.0.0.1:8080/", "[::1]", "http://[2001:db8::1]/", "::1"]
    )
    def test_ip_address_is_not_a_domain(self, raw: str) -> None:
        assert "IP address" in _rejected("domain", "dns", raw).message

    # ------------------------------------------------------------------ wallet: ethereum

    @pytest.mark.parametrize(
        "address",
        [
            # EIP-55 test cases: all caps, all lower, then mixed-case checksums.
            "0x52908400098527886E0F7030069857D2E4169EE7",
            "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
            "0xde709f2102306220921060314715629080e2fb77",
            "0x27b1fdb04752bbc536007a920d24acb045561c26",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ],
    )
    def test_eip55_address_is_accepted_and_lowercased(self, address: str) -> None:
        assert normalize_identifier("wallet", "ethereum", address) == "0x" + address[2:].lower()

    @pytest.mark.parametrize(
        "address",
        [
            "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
            "0xAB5801a7D398351b8bE11C439e05C5B3259aeC9B",
        ],
    )
    def test_mixed_case_address_with_bad_checksum_is_rejected(self, address: str) -> None:
        assert "checksum" in _rejected("wallet", "ethereum", address).message

    @pytest.mark.parametrize(
        "address",
        [
            pytest.param("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae", id="39-hex-digits"),
            pytest.param("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed0", id="41-hex-digits"),
            pytest.param("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", id="no-prefix"),
            pytest.param("0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", id="uppercase-prefix"),
            pytest.param("0xZaaeb6053f3e94c9b9a09f33669435e7ef1beaed", id="non-hex"),
            pytest.param("vitalik.eth", id="ens-name"),
        ],
    )
    def test_malformed_ethereum_address_is_rejected(self, address: str) -> None:
        assert "40 hex digits" in _rejected("wallet", "ethereum", address).message

    # ------------------------------------------------------------------ wallet: solana

    @pytest.mark.parametrize(
        "address",
        [
            "11111111111111111111111111111111",  # System Program
            "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",  # SPL Token Program
            "So11111111111111111111111111111111111111112",  # wrapped SOL mint
        ],
    )
    def test_solana_public_key_is_kept_verbatim(self, address: str) -> None:
        assert normalize_identifier("wallet", "solana", address) == address

    @pytest.mark.parametrize(
        ("address", "reason"),
        [
            pytest.param(base58.b58encode(bytes(range(1, 32))).decode(), "31 bytes", id="31"),
            pytest.param(base58.b58encode(bytes(range(1, 34))).decode(), "33 bytes", id="33"),
            pytest.param("1" * 31, "31 bytes", id="31-zero-bytes"),
            pytest.param("0RpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy", "base58", id="zero"),
            pytest.param("DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hI", "base58", id="capital-i"),
            pytest.param("DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hl", "base58", id="small-l"),
        ],
    )
    def test_non_32_byte_or_non_base58_solana_key_is_rejected(
        self, address: str, reason: str
    ) -> None:
        assert reason in _rejected("wallet", "solana", address).message

    def test_solana_address_case_is_significant(self) -> None:
        _rejected("wallet", "solana", "drpbcbmxvndk7mapm5tgv6mvb3v1srmc86pz8okm21hy")

    # ------------------------------------------------------------------ wallet: bitcoin

    @pytest.mark.parametrize(
        "address",
        [
            pytest.param("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", id="p2pkh-genesis"),
            pytest.param("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", id="p2sh"),
        ],
    )
    def test_base58check_mainnet_address_is_kept_verbatim(self, address: str) -> None:
        assert normalize_identifier("wallet", "bitcoin", address) == address

    # BIP-173 / BIP-350 valid mainnet vectors, as used by Bitcoin Core's
    # test/functional/rpc_validateaddress.py.
    @pytest.mark.parametrize(
        "address",
        [
            "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
            "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
            "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
            "BC1SW50QGDZ25J",
            "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs",
            "bc1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvses5wp4dt",
            "bc1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvses7epu4h",
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
            "bc1pfeessrawgf",
        ],
    )
    def test_segwit_mainnet_address_is_accepted_and_lowercased(self, address: str) -> None:
        assert normalize_identifier("wallet", "bitcoin", address) == address.lower()

    # BIP-173 / BIP-350 invalid mainnet vectors (same source), with the reason we report.
    @pytest.mark.parametrize(
        ("address", "reason"),
        [
            pytest.param("tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty", "bc1", id="hrp-tc"),
            pytest.param("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "checksum", id="checksum"),
            pytest.param(
                "BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2", "witness version", id="version-17"
            ),
            pytest.param("bc1rw5uspcuh", "witness program", id="program-1-byte-bech32"),
            pytest.param(
                "bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",
                "witness program",
                id="program-41-bytes-bech32",
            ),
            pytest.param("BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "v0 program", id="v0-16-bytes"),
            pytest.param("bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du", "padding", id="wrong-padding"),
            pytest.param(
                "bc1qfysxzmfq2phhyarvv9hxgtjgdajxcw3fpkpph893lw", "padding", id="nonzero-padding"
            ),
            pytest.param("bc1gmk9yu", "empty data", id="empty-data"),
            pytest.param(
                "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
                "bc1",
                id="hrp-tc-v1",
            ),
            pytest.param(
                "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
                "bech32m",
                id="v1-with-bech32-checksum",
            ),
            pytest.param(
                "BC1PFYSXZMFQ2PHHYARVV9HXGTJGFAZYCWJYPQQQF9ZLQ6",
                "bech32m",
                id="v1-with-bech32-checksum-upper",
            ),
            pytest.param(
                "bc1qfysxzmfq2phhyarvv9hxgtjgfazycwjypqqqfm706a",
                "v0 program",
                id="v0-with-bech32m-checksum",
            ),
            pytest.param(
                "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
                "bech32 characters",
                id="invalid-character-o",
            ),
            pytest.param(
                "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",
                "witness version",
                id="version-17-bech32m",
            ),
            pytest.param("bc1pw5dgrnzv", "witness program", id="program-1-byte"),
            pytest.param(
                "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
                "witness program",
                id="program-41-bytes",
            ),
            pytest.param(
                "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
                "padding",
                id="more-than-4-padding-bits",
            ),
        ],
    )
    def test_invalid_segwit_address_is_rejected(self, address: str, reason: str) -> None:
        assert reason in _rejected("wallet", "bitcoin", address).message

    @pytest.mark.parametrize(
        "address",
        [
            "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3t4",
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jJ0",
        ],
    )
    def test_mixed_case_bech32_address_is_rejected(self, address: str) -> None:
        assert "mix upper and lower case" in _rejected("wallet", "bitcoin", address).message

    def test_segwit_v0_address_with_the_bech32m_checksum_is_rejected(self) -> None:
        # Same 20-byte program as the first BIP-173 vector, re-checksummed with bech32m.
        address = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh"
        assert "bech32 checksum (BIP-173)" in _rejected("wallet", "bitcoin", address).message

    @pytest.mark.parametrize(
        "address",
        [
            pytest.param("mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", id="testnet-p2pkh"),
            pytest.param("2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc", id="testnet-p2sh"),
            pytest.param(
                "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
                id="testnet-bech32",
            ),
            pytest.param(
                "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
                id="testnet-bech32m",
            ),
            pytest.param("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", id="regtest"),
        ],
    )
    def test_testnet_address_is_rejected_as_testnet(self, address: str) -> None:
        assert "testnet" in _rejected("wallet", "bitcoin", address).message

    @pytest.mark.parametrize(
        ("address", "reason"),
        [
            pytest.param("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "checksum", id="bad-checksum"),
            pytest.param("1A1zP1eP5QGefi2DMPTfTL5SLmv7Divf", "checksum", id="truncated"),
            pytest.param("LVg2kJoFNg45Nbpy53h7Fe1wKyeXVRhMH9", "version byte", id="litecoin"),
            pytest.param(
                base58.b58encode_check(bytes(22)).decode(), "wrong length", id="22-byte-payload"
            ),
            pytest.param("0x52908400098527886E0F7030069857D2E4169EE7", "expected", id="eth"),
        ],
    )
    def test_invalid_base58check_address_is_rejected(self, address: str, reason: str) -> None:
        assert reason in _rejected("wallet", "bitcoin", address).message

    def test_unknown_wallet_chain_is_rejected(self) -> None:
        _rejected("wallet", "dogecoin", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")

    # ------------------------------------------------------------------ social

    @pytest.mark.parametrize(
        ("channel", "raw", "expected"),
        [
            ("github", "octocat", "octocat"),
            ("github", "@Octocat", "octocat"),
            ("github", "https://github.com/octocat", "octocat"),
            ("github", "http://www.github.com/Octocat/?tab=repositories", "octocat"),
            ("github", "github.com/octocat", "octocat"),
            ("github", "a-b-c", "a-b-c"),
            ("github", "a" * 39, "a" * 39),
            ("x", "@Jack", "jack"),
            ("x", "https://x.com/jack", "jack"),
            ("x", "https://twitter.com/Jack", "jack"),
            ("x", "https://mobile.twitter.com/jack_", "jack_"),
            ("instagram", "https://www.instagram.com/name/", "name"),
            ("instagram", "Some.User_1", "some.user_1"),
            ("tiktok", "https://www.tiktok.com/@name", "name"),
            ("tiktok", "@Name.X", "name.x"),
            ("youtube", "https://www.youtube.com/@Handle", "handle"),
            ("youtube", "@Some-Handle.1", "some-handle.1"),
            ("youtube", "MyChannel", "mychannel"),
            (
                "youtube",
                "https://www.youtube.com/channel/UCuAXFkgsw1L7xaCfnd5JJOw",
                "UCuAXFkgsw1L7xaCfnd5JJOw",
            ),
            ("youtube", "UCuAXFkgsw1L7xaCfnd5JJOw", "UCuAXFkgsw1L7xaCfnd5JJOw"),
            ("youtube", "@UCuAXFkgsw1L7xaCfnd5JJOw", "ucuaxfkgsw1l7xacfnd5jjow"),
            ("linkedin", "https://www.linkedin.com/in/john-doe-123/", "john-doe-123"),
            ("linkedin", "John-Doe", "john-doe"),
            ("facebook", "https://www.facebook.com/John.Doe", "john.doe"),
            ("facebook", "john.doe", "john.doe"),
            ("facebook", "4", "4"),
            (
                "facebook",
                "https://www.facebook.com/profile.php?id=100004123456789",
                "100004123456789",
            ),
            ("google", "John.Doe@Gmail.com", "john.doe@gmail.com"),
        ],
    )
    def test_social_handle_or_profile_url_is_reduced_to_the_handle(
        self, channel: str, raw: str, expected: str
    ) -> None:
        assert normalize_identifier("social", channel, raw) == expected

    @pytest.mark.parametrize(
        ("channel", "raw"),
        [
            pytest.param("github", "a" * 40, id="github-too-long"),
            pytest.param("github", "-octocat", id="github-leading-hyphen"),
            pytest.param("github", "octocat-", id="github-trailing-hyphen"),
            pytest.param("github", "octo--cat", id="github-double-hyphen"),
            pytest.param("github", "octo_cat", id="github-underscore"),
            pytest.param("github", "@@octocat", id="github-two-at-signs"),
            pytest.param("github", "https://github.com/octocat/hello-world", id="github-repo"),
            pytest.param("github", "https://gitlab.com/octocat", id="github-other-host"),
            pytest.param("github", "ftp://github.com/octocat", id="github-ftp"),
            pytest.param("github", "https://github.com@evil.example/x", id="github-userinfo"),
            pytest.param("github", "https://github.com:8443/octocat", id="github-port"),
            pytest.param("github", "https://github.com/", id="github-no-handle"),
            pytest.param("x", "a" * 16, id="x-too-long"),
            pytest.param("x", "jack.dorsey", id="x-period"),
            pytest.param("x", "https://x.com/jack/status/20", id="x-status"),
            pytest.param("x", "https://github.com/jack", id="x-other-platform"),
            pytest.param("instagram", "a" * 31, id="instagram-too-long"),
            pytest.param("instagram", "bad-name", id="instagram-hyphen"),
            pytest.param("tiktok", "a" * 25, id="tiktok-too-long"),
            pytest.param("tiktok", "https://www.tiktok.com/name", id="tiktok-url-without-at"),
            pytest.param("tiktok", "bad-name", id="tiktok-hyphen"),
            pytest.param("youtube", "ab", id="youtube-handle-too-short"),
            pytest.param("youtube", "a" * 31, id="youtube-handle-too-long"),
            pytest.param("youtube", "https://www.youtube.com/channel/UCshort", id="youtube-bad-id"),
            pytest.param("youtube", "https://www.youtube.com/c/name", id="youtube-legacy-c"),
            pytest.param("youtube", "https://www.youtube.com/watch?v=abc", id="youtube-video"),
            pytest.param("linkedin", "ab", id="linkedin-too-short"),
            pytest.param("linkedin", "a" * 101, id="linkedin-too-long"),
            pytest.param("linkedin", "john_doe", id="linkedin-underscore"),
            pytest.param(
                "linkedin", "https://www.linkedin.com/company/acme", id="linkedin-company"
            ),
            pytest.param("facebook", "abcd", id="facebook-too-short"),
            pytest.param("facebook", "a" * 51, id="facebook-too-long"),
            pytest.param("facebook", "john_doe", id="facebook-underscore"),
            pytest.param("facebook", "https://www.facebook.com/profile.php", id="facebook-no-id"),
            pytest.param(
                "facebook",
                "https://www.facebook.com/profile.php?id=john.doe",
                id="facebook-non-numeric-id",
            ),
            pytest.param("facebook", "https://www.facebook.com/groups/x", id="facebook-group"),
            pytest.param("google", "johndoe", id="google-not-an-email"),
        ],
    )
    def test_invalid_social_handle_is_rejected(self, channel: str, raw: str) -> None:
        _rejected("social", channel, raw)

    def test_unknown_social_platform_is_rejected(self) -> None:
        _rejected("social", "myspace", "tom")

    # ------------------------------------------------------------------ account

    @pytest.mark.parametrize("channel", CHANNELS["account"])
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("Trader@Example.com", "trader@example.com"),
            ("User_123.abc-X", "User_123.abc-X"),
            ("a" * 100, "a" * 100),
        ],
    )
    def test_account_is_an_email_or_a_case_preserved_id(
        self, channel: str, raw: str, expected: str
    ) -> None:
        assert normalize_identifier("account", channel, raw) == expected

    @pytest.mark.parametrize(
        "raw",
        [
            pytest.param("a" * 101, id="too-long"),
            pytest.param("bad id", id="space"),
            pytest.param("user/1", id="slash"),
            pytest.param("trader@", id="broken-email"),
        ],
    )
    def test_invalid_account_identifier_is_rejected(self, raw: str) -> None:
        _rejected("account", "coinbase", raw)

    # ------------------------------------------------------------------ telegram bot

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("@MyTestBot", "mytestbot"),
            ("https://t.me/MyTestBot", "mytestbot"),
            ("t.me/some_bot", "some_bot"),
            ("https://telegram.me/Some_Bot", "some_bot"),
            ("Some_BOT", "some_bot"),
            ("a_bot", "a_bot"),
            ("a" * 29 + "bot", "a" * 29 + "bot"),
        ],
    )
    def test_telegram_bot_username_is_lowercased_without_at(self, raw: str, expected: str) -> None:
        assert normalize_identifier("telegram_bot", "telegram_bot_token", raw) == expected

    @pytest.mark.parametrize(
        "raw",
        [
            pytest.param("abot", id="four-characters"),
            pytest.param("mychannel", id="not-ending-in-bot"),
            pytest.param("a" * 30 + "bot", id="33-characters"),
            pytest.param("my-bot", id="hyphen"),
            pytest.param("https://example.com/mytestbot", id="other-host"),
            pytest.param("https://t.me/mytestbot/12", id="message-link"),
        ],
    )
    def test_invalid_telegram_bot_username_is_rejected(self, raw: str) -> None:
        assert "Telegram" in _rejected("telegram_bot", "telegram_bot_token", raw).message


class TestIdentifierHash:
    @pytest.mark.parametrize(("normalized", "expected"), _hash_cases())
    def test_golden_identifier_hash_vector(self, normalized: str, expected: str) -> None:
        assert identifier_hash(normalized) == expected

    def test_hash_of_normalized_golden_input_matches_golden_hash(self) -> None:
        normalized = normalize_identifier("phone", "telegram", "+370 691 99199")
        expected = VECTORS["proof_token_vectors"][0]["expected_claims"]["identifier_hash"]
        assert identifier_hash(normalized) == expected

    def test_hash_is_sha256_of_the_utf8_bytes(self) -> None:
        # sha256(b"user@b\xc3\xbccher.de"): a Latin-1 or NFD encoding would differ.
        assert identifier_hash("user@bücher.de") == (
            "a6667ab428f538753ae2bcb430005815a8dc028d87c4d53fe5ef7015a7a8e671"
        )

    def test_hash_of_empty_string_is_the_sha256_empty_digest(self) -> None:
        assert identifier_hash("") == (
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )

    @pytest.mark.parametrize("value", ["example.com", "EXAMPLE.COM", "+37069199199"])
    def test_hash_is_64_lowercase_hex_digits(self, value: str) -> None:
        digest = identifier_hash(value)
        assert len(digest) == 64
        assert set(digest) <= set("0123456789abcdef")

    def test_hash_is_case_sensitive_so_normalization_must_come_first(self) -> None:
        assert identifier_hash("example.com") != identifier_hash("Example.com")
