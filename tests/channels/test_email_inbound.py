"""Reverse email over HTTP (``POST /inbound/email``): DKIM-signed messages (dkimpy, RSA keys made
here, published by a DNS server on loopback) complete a verification; forged, broken, unsigned or
unaligned ones are refused and change nothing."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from tests.channels.email_standins import (
    EMAIL_FROM,
    SECRET,
    DkimKey,
    DnsStandIn,
    SmtpSink,
    client_for,
    compose,
    email_app,
    make_key,
    post_email,
    run_dns,
    run_smtp_sink,
    sign,
)
from tests.fixtures.tenancy import Keys, make_keys
from tests.fixtures.verifications import create_verification
from vouch_server.channels import email as mail
from vouch_server.models import OutboundMessage, Verification

IDENTIFIER = "Ona@Example.com"


@pytest.fixture(scope="module")
def example_key() -> DkimKey:
    return make_key("example.com")


@pytest.fixture(scope="module")
def evil_key() -> DkimKey:
    return make_key("evil-example.net", selector="mx")


@pytest.fixture
def dns_server(example_key: DkimKey, evil_key: DkimKey) -> Iterator[DnsStandIn]:
    with run_dns() as server:
        server.publish(example_key.name, example_key.record)
        server.publish(evil_key.name, evil_key.record)
        yield server


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with run_smtp_sink() as running:
        yield running


@pytest.fixture
async def eapp(settings_factory: Any, dns_server: DnsStandIn) -> AsyncIterator[FastAPI]:
    async with email_app(settings_factory, dns_server) as app:
        yield app


@pytest.fixture
async def ec(eapp: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(eapp) as client:
        yield client


@pytest.fixture
async def ekeys(eapp: FastAPI) -> Keys:
    return await make_keys(eapp.state.vouch)


async def new_email_verification(
    ec: httpx.AsyncClient, ekeys: Keys, *, identifier: str = IDENTIFIER, test: bool = False
) -> dict[str, Any]:
    headers = ekeys.test_headers if test else ekeys.live_headers
    return await create_verification(
        ec, headers, type="email", channel="email", identifier=identifier
    )


async def status(
    ec: httpx.AsyncClient, ekeys: Keys, id_: str, *, test: bool = False
) -> dict[str, Any]:
    headers = ekeys.test_headers if test else ekeys.live_headers
    response = await ec.get(f"/api/v1/verifications/{id_}", headers=headers)
    return response.json()  # type: ignore[no-any-return]


def other_code(code: str) -> str:
    return "AAAAAA" if code != "AAAAAA" else "BBBBBB"


class TestSignedMessagesComplete:
    async def test_signed_message_from_the_mailbox_completes_with_a_proof_token(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey, dns_server: DnsStandIn
    ) -> None:
        v = await new_email_verification(ec, ekeys)
        assert v["challenge"]["send_to"] == "verify@vouch.test"
        raw = sign(compose(f"Hi, my code is {v['challenge']['code']}"), example_key)
        response = await post_email(ec, raw)
        assert response.status_code == 200
        assert response.json() == {
            "ok": True,
            "accepted": True,
            "reason": "processed",
            "result": "verified",
        }
        body = await status(ec, ekeys, v["id"])
        assert body["status"] == "verified"
        assert body["proof_token"].count(".") == 2
        assert "s2026._domainkey.example.com." in dns_server.queries

    async def test_code_in_the_subject_of_a_mailto_message_is_enough(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey
    ) -> None:
        v = await new_email_verification(ec, ekeys)
        code = v["challenge"]["code"]
        raw = sign(compose("Sent from my phone", subject=code), example_key)
        assert (await post_email(ec, raw)).status_code == 200
        assert (await status(ec, ekeys, v["id"]))["status"] == "verified"

    async def test_code_after_a_paragraph_of_prose_is_found(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey
    ) -> None:
        v = await new_email_verification(ec, ekeys)
        prose = "Hello there, please verify myself. Thanks, regards, cheers, people, others:"
        raw = sign(compose(f"{prose} {v['challenge']['code']}"), example_key)
        assert (await post_email(ec, raw)).json()["result"] == "verified"

    async def test_sender_on_a_subdomain_aligns_with_the_parent_domain_signature(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey
    ) -> None:
        v = await new_email_verification(ec, ekeys, identifier="ona@mail.example.com")
        raw = sign(
            compose(v["challenge"]["code"], sender="Ona <ona@mail.example.com>"), example_key
        )
        assert (await post_email(ec, raw)).json()["result"] == "verified"
        assert (await status(ec, ekeys, v["id"]))["status"] == "verified"

    async def test_simple_canonicalization_and_a_plain_text_body_verify(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey
    ) -> None:
        v = await new_email_verification(ec, ekeys)
        raw = (
            "From: ona@example.com\r\nTo: verify@vouch.test\r\nSubject: code\r\n"
            f"Date: Tue, 04 Feb 2026 10:00:00 +0000\r\n\r\n{v['challenge']['code']}\r\n"
        ).encode()
        signed = sign(raw, example_key, canonicalize=(b"simple", b"simple"))
        assert (await post_email(ec, signed)).json()["result"] == "verified"

    async def test_test_mode_verification_completes_and_its_reply_is_recorded(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey, eapp: FastAPI
    ) -> None:
        v = await new_email_verification(ec, ekeys, test=True)
        raw = sign(compose(v["challenge"]["code"]), example_key)
        assert (await post_email(ec, raw)).json()["result"] == "verified"
        assert (await status(ec, ekeys, v["id"], test=True))["status"] == "verified"
        async with eapp.state.vouch.db.session() as session:
            rows = (await session.scalars(select(OutboundMessage))).all()
        assert [(r.channel, r.recipient, r.status, r.message_type) for r in rows] == [
            ("email", "ona@example.com", "recorded", "verified")
        ]
        assert v["challenge"]["code"] not in (rows[0].body or "")


class TestRefusedMessagesChangeNothing:
    async def assert_refused(
        self, ec: httpx.AsyncClient, ekeys: Keys, v: dict[str, Any], raw: bytes, reason: str
    ) -> None:
        response = await post_email(ec, raw)
        assert response.status_code == 200
        assert response.json() == {"ok": True, "accepted": False, "reason": reason}
        body = await status(ec, ekeys, v["id"])
        assert body["status"] == "pending" and body["attempts"] == 0

    async def test_from_forged_to_another_domain_after_signing(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey
    ) -> None:
        v = await new_email_verification(ec, ekeys, identifier="ona@other.org")
        raw = sign(compose(v["challenge"]["code"]), example_key)
        forged = raw.replace(b"<ona@example.com>", b"<ona@other.org>")
        await self.assert_refused(ec, ekeys, v, forged, "dkim_unaligned")

    async def test_from_forged_within_the_signed_domain(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey
    ) -> None:
        v = await new_email_verification(ec, ekeys, identifier="boss@example.com")
        raw = sign(compose(v["challenge"]["code"]), example_key)
        forged = raw.replace(b"<ona@example.com>", b"<boss@example.com>")
        await self.assert_refused(ec, ekeys, v, forged, "dkim_fail")

    async def test_body_changed_after_signing(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey
    ) -> None:
        v = await new_email_verification(ec, ekeys)
        code = v["challenge"]["code"]
        raw = sign(compose(f"my code is {other_code(code)}"), example_key)
        broken = raw.replace(other_code(code).encode(), code.encode())
        await self.assert_refused(ec, ekeys, v, broken, "dkim_fail")

    async def test_unsigned_message(self, ec: httpx.AsyncClient, ekeys: Keys) -> None:
        v = await new_email_verification(ec, ekeys)
        await self.assert_refused(ec, ekeys, v, compose(v["challenge"]["code"]), "dkim_none")

    async def test_valid_signature_by_an_unaligned_domain(
        self, ec: httpx.AsyncClient, ekeys: Keys, evil_key: DkimKey, dns_server: DnsStandIn
    ) -> None:
        v = await new_email_verification(ec, ekeys)
        raw = sign(compose(v["challenge"]["code"]), evil_key)
        await self.assert_refused(ec, ekeys, v, raw, "dkim_unaligned")
        # Nothing is looked up for a domain that could not count anyway.
        assert dns_server.queries == []

    async def test_signature_whose_key_is_not_published(
        self, ec: httpx.AsyncClient, ekeys: Keys
    ) -> None:
        v = await new_email_verification(ec, ekeys)
        raw = sign(compose(v["challenge"]["code"]), make_key("example.com", selector="gone"))
        await self.assert_refused(ec, ekeys, v, raw, "dkim_fail")

    async def test_signature_by_another_key_of_the_same_selector(
        self, ec: httpx.AsyncClient, ekeys: Keys
    ) -> None:
        v = await new_email_verification(ec, ekeys)
        raw = sign(compose(v["challenge"]["code"]), make_key("example.com"))
        await self.assert_refused(ec, ekeys, v, raw, "dkim_fail")

    async def test_body_length_tag_lets_nobody_append_a_code(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey
    ) -> None:
        v = await new_email_verification(ec, ekeys)
        raw = "From: ona@example.com\r\nTo: verify@vouch.test\r\nSubject: hello\r\n\r\nhello\r\n"
        signed = sign(raw.encode(), example_key, length=True)
        appended = signed + f"{v['challenge']['code']}\r\n".encode()
        await self.assert_refused(ec, ekeys, v, appended, "dkim_fail")

    async def test_rsa_sha1_signature(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey
    ) -> None:
        v = await new_email_verification(ec, ekeys)
        raw = sign(compose(v["challenge"]["code"]), example_key, signature_algorithm=b"rsa-sha1")
        await self.assert_refused(ec, ekeys, v, raw, "dkim_fail")

    async def test_second_from_field(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey
    ) -> None:
        v = await new_email_verification(ec, ekeys)
        raw = sign(compose(v["challenge"]["code"]), example_key)
        doubled = b"From: boss@example.com\r\n" + raw
        await self.assert_refused(ec, ekeys, v, doubled, "malformed_from")

    async def test_automatic_reply_quoting_a_code(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey
    ) -> None:
        v = await new_email_verification(ec, ekeys)
        raw = compose(
            f"I am out of office.\r\n> {v['challenge']['code']}",
            extra_headers={"Auto-Submitted": "auto-replied"},
        )
        await self.assert_refused(ec, ekeys, v, sign(raw, example_key), "automatic")

    async def test_refusal_is_logged_without_the_code(
        self,
        ec: httpx.AsyncClient,
        ekeys: Keys,
        evil_key: DkimKey,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        v = await new_email_verification(ec, ekeys)
        code = v["challenge"]["code"]
        with caplog.at_level(logging.INFO, logger="vouch"):
            await post_email(ec, sign(compose(code), evil_key))
        refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
        assert refusals and "example.com" in refusals[0]
        assert all(code not in r.getMessage() for r in caplog.records)


class TestSharedSecret:
    @pytest.mark.parametrize(
        "authorization",
        [None, "Bearer wrong-secret", f"Token {SECRET}", "Basic dm91Y2g6d3Jvbmc=", "Bearer "],
    )
    async def test_wrong_or_missing_secret_is_401_and_changes_nothing(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey, authorization: str | None
    ) -> None:
        v = await new_email_verification(ec, ekeys)
        headers = {"Content-Type": "message/rfc822"}
        if authorization is not None:
            headers["Authorization"] = authorization
        raw = sign(compose(v["challenge"]["code"]), example_key)
        response = await ec.post("/inbound/email", content=raw, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert (await status(ec, ekeys, v["id"]))["status"] == "pending"

    async def test_secret_as_basic_auth_password_is_accepted(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey
    ) -> None:
        v = await new_email_verification(ec, ekeys)
        raw = sign(compose(v["challenge"]["code"]), example_key)
        response = await ec.post("/inbound/email", content=raw, auth=("provider", SECRET))
        assert response.json()["result"] == "verified"

    async def test_route_is_closed_when_no_secret_is_configured(
        self, settings_factory: Any, dns_server: DnsStandIn
    ) -> None:
        async with (
            email_app(settings_factory, dns_server, inbound_email_secret=None) as app,
            client_for(app) as client,
        ):
            assert (await post_email(client, b"From: a@b.c\r\n\r\nx")).status_code == 401
            assert (await post_email(client, b"From: a@b.c\r\n\r\nx", "")).status_code == 401

    async def test_empty_body_is_400(self, ec: httpx.AsyncClient) -> None:
        response = await post_email(ec, b"")
        assert response.status_code == 400


class TestSenderAndRules:
    async def test_right_code_from_another_mailbox_counts_an_attempt(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey
    ) -> None:
        v = await new_email_verification(ec, ekeys)
        raw = sign(compose(v["challenge"]["code"], sender="rimas@example.com"), example_key)
        assert (await post_email(ec, raw)).json()["result"] == "wrong_sender"
        body = await status(ec, ekeys, v["id"])
        assert body["status"] == "pending" and body["attempts"] == 1

    async def test_right_code_completes_inside_the_api_backoff(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey
    ) -> None:
        # The backoff throttles API guesses; a DKIM-signed mail from the address is evidence.
        v = await new_email_verification(ec, ekeys)
        code = v["challenge"]["code"]
        wrong = sign(compose(f"code {other_code(code)}"), example_key)
        assert (await post_email(ec, wrong)).json()["result"] == "unknown_code"
        right = sign(compose(code), example_key)
        assert (await post_email(ec, right)).json()["result"] == "verified"
        body = await status(ec, ekeys, v["id"])
        assert body["status"] == "verified" and body["attempts"] == 1

    async def test_expiry_holds(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey, eapp: FastAPI
    ) -> None:
        v = await new_email_verification(ec, ekeys)
        right = sign(compose(v["challenge"]["code"]), example_key)
        async with eapp.state.vouch.db.session() as session:
            await session.execute(
                update(Verification).values(
                    challenge_expires_at=datetime.now(UTC) - timedelta(seconds=1)
                )
            )
        assert (await post_email(ec, right)).json()["result"] == "expired"
        assert (await status(ec, ekeys, v["id"]))["status"] == "expired"

    async def test_wrong_codes_exhaust_the_attempts(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey, eapp: FastAPI
    ) -> None:
        v = await new_email_verification(ec, ekeys)
        code = v["challenge"]["code"]
        results = []
        for _ in range(3):
            async with eapp.state.vouch.db.session() as session:
                await session.execute(update(Verification).values(next_attempt_at=None))
            raw = sign(compose(f"code {other_code(code)}"), example_key)
            results.append((await post_email(ec, raw)).json()["result"])
        assert results == ["unknown_code", "unknown_code", "failed"]
        raw = sign(compose(code), example_key)
        assert (await post_email(ec, raw)).json()["result"] == "unknown_code"
        assert (await status(ec, ekeys, v["id"]))["status"] == "failed"

    async def test_temporary_dns_failure_is_503_and_changes_nothing(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey, dns_server: DnsStandIn
    ) -> None:
        v = await new_email_verification(ec, ekeys)
        dns_server.failing = True
        response = await post_email(ec, sign(compose(v["challenge"]["code"]), example_key))
        assert response.status_code == 503
        assert (await status(ec, ekeys, v["id"]))["status"] == "pending"

    async def test_message_matching_nothing_gets_a_friendly_reply_by_smtp(
        self, settings_factory: Any, dns_server: DnsStandIn, example_key: DkimKey, sink: SmtpSink
    ) -> None:
        async with (
            email_app(settings_factory, dns_server, smtp_url=sink.url) as app,
            client_for(app) as client,
        ):
            raw = sign(compose("ZZZZZ9"), example_key)
            assert (await post_email(client, raw)).json()["result"] == "unknown_code"
        ((envelope_from, rcpts, reply),) = sink.messages
        assert rcpts == ["ona@example.com"] and envelope_from == EMAIL_FROM
        assert reply["Auto-Submitted"] == "auto-replied"
        assert reply["In-Reply-To"] == "<CAF=q7w+Jx9Y@mail.example.com>"
        assert "could not find" in reply.get_content()
        assert "ZZZZZ9" not in reply.as_string()


class TestAlignment:
    @pytest.mark.parametrize(
        ("signer", "author"),
        [
            ("example.com", "example.com"),
            ("example.com", "mail.example.com"),
            ("EXAMPLE.com.", "a.b.example.COM"),
            ("xn--bcher-kva.example", "bücher.example"),
        ],
    )
    def test_same_domain_or_parent_aligns(self, signer: str, author: str) -> None:
        assert mail.aligned(signer, author)

    @pytest.mark.parametrize(
        ("signer", "author"),
        [
            ("mail.example.com", "example.com"),  # a child does not vouch for its parent
            ("ample.com", "example.com"),
            ("example.com.evil.net", "example.com"),
            ("evil.net", "example.com"),
            ("com", "example.com"),
            ("", "example.com"),
            ("example.com", "[192.0.2.1]"),
        ],
    )
    def test_unrelated_child_lookalike_or_bare_tld_does_not_align(
        self, signer: str, author: str
    ) -> None:
        assert not mail.aligned(signer, author)


class TestParseMessage:
    @pytest.mark.parametrize(
        "sender",
        [
            "ona@example.com, rimas@example.com",
            "victim@example.com <a@evil.net>",
            "team: ona@example.com;",
            "not-an-address",
            "ona@[192.0.2.1]",
        ],
    )
    def test_from_must_be_exactly_one_mailbox(self, sender: str) -> None:
        with pytest.raises(mail.EmailRefused):
            mail.parse_message(compose("x", sender=sender))

    def test_text_is_subject_then_plain_body_and_html_only_mail_is_read(self) -> None:
        parsed = mail.parse_message(compose("body AB12CD", subject="Subject XY34ZW"))
        assert parsed.text.startswith("Subject XY34ZW\nbody AB12CD")
        assert parsed.from_address == "ona@example.com" and parsed.from_domain == "example.com"
        html_only = (
            b"From: ona@example.com\r\nContent-Type: text/html\r\n\r\n"
            b"<html><style>p{}</style><p>code&nbsp;QW12ER</p></html>"
        )
        assert "QW12ER" in mail.parse_message(html_only).text

    @pytest.mark.parametrize(
        "header",
        [
            "Auto-Submitted: auto-generated",
            "Precedence: bulk",
            "List-Id: <people.example.com>",
            "X-Autoreply: yes",
        ],
    )
    def test_machine_written_mail_is_marked_automatic(self, header: str) -> None:
        name, _, value = header.partition(": ")
        assert mail.parse_message(compose("x", extra_headers={name: value})).automatic
        assert not mail.parse_message(compose("x")).automatic
