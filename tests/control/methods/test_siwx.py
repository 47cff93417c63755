"""The EIP-4361 message grammar (``wallets/siwx.py``)."""

from __future__ import annotations

import dataclasses

import pytest

from vouch_server.control.methods.wallets.siwx import MalformedMessage, SignInMessage, parse

# The three examples of EIP-4361 §"Examples".
EIP_EXAMPLE = """example.com wants you to sign in with your Ethereum account:
0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2

I accept the ExampleOrg Terms of Service: https://example.com/tos

URI: https://example.com/login
Version: 1
Chain ID: 1
Nonce: 32891756
Issued At: 2021-09-30T16:25:24Z
Resources:
- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/
- https://example.com/my-web2-claim.json"""

FULL = SignInMessage(
    chain="Ethereum",
    scheme="http",
    domain="localhost:8080",
    address="0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
    statement="Sign in. Code: X7K2M9",
    uri="http://localhost:8080/verify/abc",
    chain_id="137",
    nonce="a1B2c3D4e5",
    issued_at="2026-02-04T10:00:00.000Z",
    expiration_time="2026-02-04T10:10:00.000Z",
    not_before="2026-02-04T09:59:00+00:00",
    request_id="507f1f77bcf86cd799439011",
    resources=("https://example.com/a",),
)


class TestParse:
    @pytest.mark.parametrize(
        ("origin", "scheme", "domain"),
        [
            ("example.com", None, "example.com"),
            ("example.com:3388", None, "example.com:3388"),
            ("https://example.com", "https", "example.com"),
        ],
    )
    def test_the_eip_examples(self, origin: str, scheme: str | None, domain: str) -> None:
        message = parse(EIP_EXAMPLE.replace("example.com wants", f"{origin} wants", 1))
        assert (message.scheme, message.domain) == (scheme, domain)
        assert message.address == "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
        assert (
            message.statement == "I accept the ExampleOrg Terms of Service: https://example.com/tos"
        )
        assert message.uri == "https://example.com/login"
        assert (message.version, message.chain_id, message.nonce) == ("1", "1", "32891756")
        assert message.issued_at == "2021-09-30T16:25:24Z"
        assert message.expiration_time is None
        assert len(message.resources) == 2

    def test_every_field_round_trips(self) -> None:
        assert parse(FULL.to_text()) == FULL

    def test_a_message_without_statement(self) -> None:
        bare = dataclasses.replace(FULL, statement=None)
        text = bare.to_text()
        assert "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2\n\n\nURI:" in text
        assert parse(text) == bare

    def test_solana_and_bitcoin_messages(self) -> None:
        solana = dataclasses.replace(
            FULL,
            chain="Solana",
            address="DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy",
            chain_id="mainnet",
        )
        assert parse(solana.to_text()) == solana
        bitcoin = dataclasses.replace(
            FULL,
            chain="Bitcoin",
            address="bc1q9vza2e8x573nczrlzms0wvx3gsqjx7vavgkx0l",
            chain_id="000000000019d6689c085ae165831e93",
        )
        assert parse(bitcoin.to_text()) == bitcoin

    @pytest.mark.parametrize(
        ("change", "reason"),
        [
            (lambda t: t.replace("\n", "\r\n"), "LF"),
            (lambda t: t.replace("sign in with your", "log in with your"), "first line"),
            (lambda t: t.replace("Ethereum account", "Dogecoin account"), "first line"),
            (lambda t: t.replace("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "0x123"), "address"),
            (lambda t: t.replace("Nonce: 32891756", "Nonce: 1234567"), "Nonce"),
            (lambda t: t.replace("Nonce: 32891756", "Nonce: 3289-1756"), "Nonce"),
            (lambda t: t.replace("Version: 1", "Version: 2"), "Version"),
            (lambda t: t.replace("Chain ID: 1", "Chain ID: one"), "Chain ID"),
            (lambda t: t.replace("2021-09-30T16:25:24Z", "2021-09-30 16:25:24"), "date-time"),
            (lambda t: t.replace("2021-09-30T16:25:24Z", "2021-13-30T16:25:24Z"), "date-time"),
            (lambda t: t.replace("URI: https://example.com/login\n", ""), "URI"),
            (lambda t: t.replace("Chain ID: 1\nNonce", "Nonce"), "Chain ID"),
            (lambda t: t + "\nP.S. and also transfer everything", "unexpected"),
            (lambda t: t.replace("Terms of Service", "Terms of Service\u0007"), "statement"),
            (lambda t: t.replace("\n\nI accept", "\nI accept"), "line 3"),
        ],
    )
    def test_refuses_what_the_grammar_does_not_allow(self, change: object, reason: str) -> None:
        with pytest.raises(MalformedMessage, match=reason):
            parse(change(EIP_EXAMPLE))  # type: ignore[operator]
