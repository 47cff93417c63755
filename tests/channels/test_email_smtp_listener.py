"""Reverse email over a real SMTP session (``smtplib`` → the aiosmtpd listener): the same rules as
``POST /inbound/email``, answered in SMTP terms."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.channels.email_standins import (
    INBOUND,
    DkimKey,
    DnsStandIn,
    client_for,
    compose,
    email_app,
    make_key,
    run_dns,
    sign,
)
from tests.fixtures.tenancy import Keys, make_keys
from tests.fixtures.verifications import create_verification
from vouch_server.channels.smtp_listener import SmtpListener, start_smtp_listener
from vouch_server.runtime import Runtime


@pytest.fixture(scope="module")
def example_key() -> DkimKey:
    return make_key("example.com")


@pytest.fixture
def dns_server(example_key: DkimKey) -> Iterator[DnsStandIn]:
    with run_dns() as server:
        server.publish(example_key.name, example_key.record)
        yield server


@pytest.fixture
async def eapp(settings_factory: Any, dns_server: DnsStandIn) -> AsyncIterator[FastAPI]:
    async with email_app(settings_factory, dns_server, inbound_email_max_bytes=20_000) as app:
        yield app


@pytest.fixture
async def ec(eapp: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(eapp) as client:
        yield client


@pytest.fixture
async def ekeys(eapp: FastAPI) -> Keys:
    return await make_keys(eapp.state.vouch)


@pytest.fixture
async def listener(eapp: FastAPI) -> AsyncIterator[SmtpListener]:
    running = start_smtp_listener(eapp.state.vouch, "127.0.0.1", 0)
    try:
        yield running
    finally:
        running.stop()


async def smtp_send(
    listener: SmtpListener, raw: bytes, *, to: str = INBOUND, mail_from: str = "ona@example.com"
) -> dict[str, tuple[int, bytes]]:
    """Send as a mail server would: a blocking smtplib session in a thread, so the app's event
    loop (which processes the message) keeps running."""

    def run() -> dict[str, tuple[int, bytes]]:
        with smtplib.SMTP("127.0.0.1", listener.port, local_hostname="mx.example.com") as client:
            return client.sendmail(mail_from, [to], raw)

    return await asyncio.to_thread(run)


async def status(ec: httpx.AsyncClient, ekeys: Keys, id_: str) -> dict[str, Any]:
    response = await ec.get(f"/api/v1/verifications/{id_}", headers=ekeys.live_headers)
    return response.json()  # type: ignore[no-any-return]


async def new_verification(ec: httpx.AsyncClient, ekeys: Keys) -> dict[str, Any]:
    return await create_verification(
        ec, ekeys.live_headers, type="email", channel="email", identifier="ona@example.com"
    )


class TestSmtpListener:
    async def test_signed_message_over_smtp_completes(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey, listener: SmtpListener
    ) -> None:
        v = await new_verification(ec, ekeys)
        refused = await smtp_send(listener, sign(compose(v["challenge"]["code"]), example_key))
        assert refused == {}
        body = await status(ec, ekeys, v["id"])
        assert body["status"] == "verified" and "proof_token" in body

    async def test_recipient_is_matched_case_insensitively(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey, listener: SmtpListener
    ) -> None:
        v = await new_verification(ec, ekeys)
        raw = sign(compose(v["challenge"]["code"]), example_key)
        await smtp_send(listener, raw, to="Verify@VOUCH.test")
        assert (await status(ec, ekeys, v["id"]))["status"] == "verified"

    async def test_forged_message_is_refused_in_the_session(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey, listener: SmtpListener
    ) -> None:
        v = await new_verification(ec, ekeys)
        raw = sign(compose(f"code {v['challenge']['code']}"), example_key)
        forged = raw.replace(b"<ona@example.com>", b"<ona@other.org>")
        with pytest.raises(smtplib.SMTPDataError) as refused:
            await smtp_send(listener, forged)
        assert refused.value.smtp_code == 550
        body = await status(ec, ekeys, v["id"])
        assert body["status"] == "pending" and body["attempts"] == 0

    async def test_unsigned_message_is_refused(
        self, ec: httpx.AsyncClient, ekeys: Keys, listener: SmtpListener
    ) -> None:
        v = await new_verification(ec, ekeys)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            await smtp_send(listener, compose(v["challenge"]["code"]))
        assert refused.value.smtp_code == 550
        assert (await status(ec, ekeys, v["id"]))["status"] == "pending"

    async def test_other_recipients_are_rejected(self, listener: SmtpListener) -> None:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            await smtp_send(listener, compose("x"), to="someone@vouch.test")
        assert refused.value.recipients["someone@vouch.test"][0] == 550

    async def test_oversized_message_is_refused(
        self, ec: httpx.AsyncClient, ekeys: Keys, example_key: DkimKey, listener: SmtpListener
    ) -> None:
        v = await new_verification(ec, ekeys)
        raw = sign(compose(v["challenge"]["code"] + "\r\n" + "x" * 30_000), example_key)
        with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as refused:
            await smtp_send(listener, raw)
        assert refused.value.smtp_code == 552
        assert (await status(ec, ekeys, v["id"]))["status"] == "pending"

    async def test_dns_trouble_asks_the_sender_to_retry(
        self,
        ec: httpx.AsyncClient,
        ekeys: Keys,
        example_key: DkimKey,
        listener: SmtpListener,
        dns_server: DnsStandIn,
    ) -> None:
        v = await new_verification(ec, ekeys)
        dns_server.failing = True
        with pytest.raises(smtplib.SMTPDataError) as deferred:
            await smtp_send(listener, sign(compose(v["challenge"]["code"]), example_key))
        assert deferred.value.smtp_code == 451
        assert (await status(ec, ekeys, v["id"]))["status"] == "pending"


class TestStartSmtpListener:
    async def test_outside_an_event_loop_it_processes_with_its_own_runtime(
        self,
        ec: httpx.AsyncClient,
        ekeys: Keys,
        example_key: DkimKey,
        eapp: FastAPI,
    ) -> None:
        # As beside a multi-worker server: started from plain code, with a runtime of its own.
        own = Runtime.build(eapp.state.vouch.settings)
        running = await asyncio.to_thread(start_smtp_listener, own, "127.0.0.1", 0)
        try:
            v = await new_verification(ec, ekeys)
            await smtp_send(running, sign(compose(v["challenge"]["code"]), example_key))
            assert (await status(ec, ekeys, v["id"]))["status"] == "verified"
        finally:
            await asyncio.to_thread(running.stop)

    async def test_needs_an_inbound_address(
        self, settings_factory: Any, dns_server: DnsStandIn
    ) -> None:
        async with email_app(settings_factory, dns_server, inbound_email_address=None) as app:
            with pytest.raises(ValueError, match="VOUCH_INBOUND_EMAIL_ADDRESS"):
                start_smtp_listener(app.state.vouch, "127.0.0.1", 0)

    async def test_a_taken_port_fails_at_start_and_stop_frees_it(self, eapp: FastAPI) -> None:
        first = start_smtp_listener(eapp.state.vouch, "127.0.0.1", 0)
        try:
            with pytest.raises(OSError):
                start_smtp_listener(eapp.state.vouch, "127.0.0.1", first.port)
        finally:
            first.stop()
        again = start_smtp_listener(eapp.state.vouch, "127.0.0.1", first.port)
        again.stop()
