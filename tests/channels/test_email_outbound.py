"""Outbound email: ``POST …/{id}/resend`` mails a fresh code and a magic link through SMTP (an
aiosmtpd stand-in collects it) in live mode and records it in test mode; the code completes with
``submit``, the link only with the POST behind its confirm button, once, before expiry."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from tests.channels.email_standins import (
    EMAIL_FROM,
    INBOUND,
    SMTP_USER,
    DnsStandIn,
    SmtpSink,
    client_for,
    email_app,
    free_port,
    run_dns,
    run_smtp_sink,
)
from tests.fixtures.tenancy import Keys, make_keys
from tests.fixtures.verifications import create_verification
from vouch_server.channels import email as mail
from vouch_server.models import OutboundMessage, Verification

LINK = re.compile(r"https://vouch\.test(/verify/[0-9a-f]+/email)\?token=([A-Za-z0-9_\-.]+)")
CODE = re.compile(r"is ([A-Z0-9]{6})\.")


@pytest.fixture
def dns_server() -> Iterator[DnsStandIn]:
    with run_dns() as server:
        yield server


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with run_smtp_sink() as running:
        yield running


@pytest.fixture
async def eapp(
    settings_factory: Any, dns_server: DnsStandIn, sink: SmtpSink
) -> AsyncIterator[FastAPI]:
    async with email_app(settings_factory, dns_server, smtp_url=sink.url) as app:
        yield app


@pytest.fixture
async def ec(eapp: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(eapp) as client:
        yield client


@pytest.fixture
async def ekeys(eapp: FastAPI) -> Keys:
    return await make_keys(eapp.state.vouch)


def headers(ekeys: Keys, test: bool) -> dict[str, str]:
    return ekeys.test_headers if test else ekeys.live_headers


async def new_verification(
    ec: httpx.AsyncClient, ekeys: Keys, *, test: bool = False, **body: Any
) -> dict[str, Any]:
    values = {"type": "email", "channel": "email", "identifier": "Ona@Example.com", **body}
    return await create_verification(ec, headers(ekeys, test), **values)


async def resend(
    ec: httpx.AsyncClient, ekeys: Keys, id_: str, *, test: bool = False
) -> httpx.Response:
    return await ec.post(f"/api/v1/verifications/{id_}/resend", headers=headers(ekeys, test))


async def status(ec: httpx.AsyncClient, ekeys: Keys, id_: str, *, test: bool = False) -> Any:
    return (await ec.get(f"/api/v1/verifications/{id_}", headers=headers(ekeys, test))).json()


def flip(char: str) -> str:
    return "B" if char == "A" else "A"


async def mailed(ec: httpx.AsyncClient, ekeys: Keys, sink: SmtpSink) -> tuple[str, str, str, str]:
    """Create a live verification, resend it; the mailed (id, code, link path, token)."""
    v = await new_verification(ec, ekeys)
    assert (await resend(ec, ekeys, v["id"])).status_code == 200
    text = sink.messages[-1][2].get_content()
    code = CODE.search(text)
    link = LINK.search(text)
    assert code and link
    return v["id"], code.group(1), link.group(1), link.group(2)


class TestResend:
    async def test_live_create_mails_the_code_and_never_shows_it(
        self, ec: httpx.AsyncClient, ekeys: Keys, sink: SmtpSink
    ) -> None:
        response = await ec.post(
            "/api/v1/verifications",
            json={"type": "email", "channel": "email", "identifier": "Ona@Example.com"},
            headers=ekeys.live_headers,
        )
        assert response.status_code == 201, response.text
        v = response.json()
        ((_, rcpts, message),) = sink.messages
        assert rcpts == ["ona@example.com"]
        code = CODE.search(message.get_content())
        assert code
        # The code reached only the mailbox: not the challenge, not anywhere in the response.
        assert "code" not in v["challenge"]
        assert code.group(1) not in response.text
        assert v["challenge"]["send_to"] == "ona@example.com"
        fetched = await ec.get(f"/api/v1/verifications/{v['id']}", headers=ekeys.live_headers)
        assert code.group(1) not in fetched.text

    async def test_live_mode_sends_code_and_link_through_smtp(
        self, ec: httpx.AsyncClient, ekeys: Keys, sink: SmtpSink
    ) -> None:
        v = await new_verification(ec, ekeys)
        response = await resend(ec, ekeys, v["id"])
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["delivery"] == {"channel": "email", "to": "ona@example.com", "status": "sent"}
        assert "challenge" not in body and body["status"] == "pending"
        # One mail at create, one for the resend.
        (_, (envelope_from, rcpts, message)) = sink.messages
        assert sink.logins == [SMTP_USER, SMTP_USER]
        assert rcpts == ["ona@example.com"] and envelope_from == EMAIL_FROM
        assert message["From"] == EMAIL_FROM and message["To"] == "ona@example.com"
        assert message["Auto-Submitted"] == "auto-generated"
        text = message.get_content()
        code = CODE.search(text)
        assert code and code.group(1) in message["Subject"]
        assert LINK.search(text)

    async def test_mailed_code_completes_with_submit(
        self, ec: httpx.AsyncClient, ekeys: Keys, sink: SmtpSink
    ) -> None:
        id_, code, _, _ = await mailed(ec, ekeys, sink)
        response = await ec.post(
            f"/api/v1/verifications/{id_}/submit", json={"code": code}, headers=ekeys.live_headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "verified"

    async def test_resend_issues_a_fresh_code_and_retires_the_first(
        self, ec: httpx.AsyncClient, ekeys: Keys, sink: SmtpSink
    ) -> None:
        v = await new_verification(ec, ekeys)
        first = CODE.search(sink.messages[0][2].get_content())
        assert first and "code" not in v["challenge"]
        assert (await resend(ec, ekeys, v["id"])).status_code == 200
        response = await ec.post(
            f"/api/v1/verifications/{v['id']}/submit",
            json={"code": first.group(1)},
            headers=ekeys.live_headers,
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_code"

    async def test_test_mode_records_instead_of_sending(
        self, ec: httpx.AsyncClient, ekeys: Keys, sink: SmtpSink, eapp: FastAPI
    ) -> None:
        v = await new_verification(ec, ekeys, test=True)
        response = await resend(ec, ekeys, v["id"], test=True)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["delivery"]["status"] == "recorded"
        assert sink.messages == []
        async with eapp.state.vouch.db.session() as session:
            (row,) = (await session.scalars(select(OutboundMessage))).all()
        assert (row.channel, row.recipient, row.message_type, row.environment) == (
            "email",
            "ona@example.com",
            "email_code",
            "test",
        )
        assert body["challenge"]["code"] in (row.body or "")
        assert body["challenge"]["magic_link"] in (row.body or "")
        assert row.payload and row.payload["magic_link"] == body["challenge"]["magic_link"]

    async def test_live_row_keeps_no_body(
        self, ec: httpx.AsyncClient, ekeys: Keys, sink: SmtpSink, eapp: FastAPI
    ) -> None:
        await mailed(ec, ekeys, sink)
        async with eapp.state.vouch.db.session() as session:
            rows = (await session.scalars(select(OutboundMessage))).all()
        assert len(rows) == 2  # at create and the resend
        for row in rows:
            assert row.status == "sent" and row.body is None and row.payload is None

    async def test_inbound_only_live_shows_the_code_to_mail_and_refuses_submit(
        self, settings_factory: Any, dns_server: DnsStandIn
    ) -> None:
        async with email_app(settings_factory, dns_server) as app, client_for(app) as client:
            keys = await make_keys(app.state.vouch)
            v = await new_verification(client, keys)
            # No outbound mail: the person mails the code to vouch, whose DKIM check is the
            # evidence. The caller sees the code, so the caller's own submit proves nothing.
            code = v["challenge"]["code"]
            assert v["challenge"]["send_to"] == INBOUND
            assert code in v["challenge"]["instruction"]
            response = await client.post(
                f"/api/v1/verifications/{v['id']}/submit",
                json={"code": code},
                headers=keys.live_headers,
            )
            after = await status(client, keys, v["id"])
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "unsupported_for_type"
        assert after["status"] == "pending" and after["attempts"] == 0

    async def test_domain_verification_mails_its_administrative_mailbox(
        self, ec: httpx.AsyncClient, ekeys: Keys, sink: SmtpSink
    ) -> None:
        v = await new_verification(ec, ekeys, type="domain", identifier="example.com")
        assert (await resend(ec, ekeys, v["id"])).status_code == 200
        assert sink.messages[-1][1] == ["admin@example.com"]

    async def test_only_email_verifications_can_be_resent(
        self, ec: httpx.AsyncClient, ekeys: Keys
    ) -> None:
        v = await create_verification(ec, ekeys.live_headers, channel="sms")
        response = await resend(ec, ekeys, v["id"])
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "method_not_supported"

    async def test_another_projects_verification_is_404(
        self, ec: httpx.AsyncClient, ekeys: Keys
    ) -> None:
        v = await new_verification(ec, ekeys, test=True)
        response = await ec.post(
            f"/api/v1/verifications/{v['id']}/resend", headers=Keys.auth(ekeys.other_test)
        )
        assert response.status_code == 404

    async def test_completed_verification_is_not_resent(
        self, ec: httpx.AsyncClient, ekeys: Keys, sink: SmtpSink
    ) -> None:
        v = await new_verification(ec, ekeys, test=True)
        await ec.post(f"/api/v1/verifications/{v['id']}/test-verify", headers=ekeys.test_headers)
        response = await resend(ec, ekeys, v["id"], test=True)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_status"

    async def test_resends_are_rate_limited(
        self, ec: httpx.AsyncClient, ekeys: Keys, sink: SmtpSink
    ) -> None:
        v = await new_verification(ec, ekeys)
        # The mail sent at create counts against the same limit.
        codes = [(await resend(ec, ekeys, v["id"])).status_code for _ in range(5)]
        assert codes == [200] * 4 + [429]
        assert len(sink.messages) == 5

    async def test_live_mode_without_smtp_is_refused(
        self, settings_factory: Any, dns_server: DnsStandIn
    ) -> None:
        async with (
            email_app(settings_factory, dns_server, inbound_email_address=None) as app,
            client_for(app) as client,
        ):
            keys = await make_keys(app.state.vouch)
            response = await client.post(
                "/api/v1/verifications",
                json={"type": "email", "channel": "email", "identifier": "ona@example.com"},
                headers=keys.live_headers,
            )
            async with app.state.vouch.db.session() as session:
                stored = (await session.scalars(select(Verification))).all()
        # Neither outbound mail nor an inbound address: a live code could reach no one but the
        # caller, so the verification is refused and nothing is stored.
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "channel_not_configured"
        assert "VOUCH_SMTP_URL" in response.json()["error"]["message"]
        assert stored == []

    async def test_smtp_failure_at_create_is_503_and_stores_nothing(
        self, settings_factory: Any, dns_server: DnsStandIn
    ) -> None:
        down = f"smtp://127.0.0.1:{free_port()}"
        async with (
            email_app(settings_factory, dns_server, smtp_url=down, smtp_timeout_seconds=2) as app,
            client_for(app) as client,
        ):
            keys = await make_keys(app.state.vouch)
            response = await client.post(
                "/api/v1/verifications",
                json={"type": "email", "channel": "email", "identifier": "ona@example.com"},
                headers=keys.live_headers,
            )
            # The code could not be mailed, so the verification is not created at all.
            assert response.status_code == 503
            async with app.state.vouch.db.session() as session:
                assert (await session.scalars(select(OutboundMessage))).all() == []
                assert (await session.scalars(select(Verification))).all() == []


class TestMagicLink:
    async def test_opening_the_link_shows_a_button_and_completes_nothing(
        self, ec: httpx.AsyncClient, ekeys: Keys, sink: SmtpSink
    ) -> None:
        id_, _, path, token = await mailed(ec, ekeys, sink)
        page = await ec.get(path, params={"token": token})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-store"
        assert '<form method="post" action="email">' in page.text
        assert "ona@example.com" in page.text
        again = await ec.get(path, params={"token": token})
        assert again.status_code == 200
        assert (await status(ec, ekeys, id_))["status"] == "pending"

    async def test_post_completes_once(
        self, ec: httpx.AsyncClient, ekeys: Keys, sink: SmtpSink
    ) -> None:
        id_, _, path, token = await mailed(ec, ekeys, sink)
        confirmed = await ec.post(path, data={"token": token})
        assert confirmed.status_code == 200 and "confirmed" in confirmed.text
        body = await status(ec, ekeys, id_)
        assert body["status"] == "verified" and body["proof_token"]
        second = await ec.post(path, data={"token": token})
        assert second.status_code == 410 and "already" in second.text
        assert (await ec.get(path, params={"token": token})).status_code == 410

    async def test_the_browser_that_confirms_is_remembered_for_smart_reuse(
        self, ec: httpx.AsyncClient, ekeys: Keys, sink: SmtpSink
    ) -> None:
        _, _, path, token = await mailed(ec, ekeys, sink)
        opened = await ec.get(path, params={"token": token})
        assert "vouch_person" not in opened.headers.get("set-cookie", "")
        assert '<link rel="stylesheet" href="/static/hosted.css">' in opened.text
        assert "<style" not in opened.text and "unsafe-inline" not in str(opened.headers)
        assert "<strong>ona@example.com</strong>" in opened.text
        confirmed = await ec.post(path, data={"token": token})
        cookie = confirmed.headers.get("set-cookie", "")
        assert cookie.startswith("vouch_person=") and "HttpOnly" in cookie
        used = await ec.post(path, data={"token": token})
        assert used.status_code == 410 and "set-cookie" not in used.headers

    async def test_link_expires_with_its_challenge(
        self, ec: httpx.AsyncClient, ekeys: Keys, sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        id_, _, path, token = await mailed(ec, ekeys, sink)
        later = datetime.now(UTC) + timedelta(minutes=31)
        monkeypatch.setattr("vouch_server.control.service.utcnow", lambda: later)
        monkeypatch.setattr("vouch_server.control.email_flow.utcnow", lambda: later)
        response = await ec.post(path, data={"token": token})
        assert response.status_code == 410 and "expired" in response.text
        monkeypatch.undo()
        assert (await status(ec, ekeys, id_))["status"] == "expired"

    @pytest.mark.parametrize("mangle", ["mac", "nonce", "empty", "query_only"])
    async def test_tampered_or_missing_token_is_refused(
        self, ec: httpx.AsyncClient, ekeys: Keys, sink: SmtpSink, mangle: str
    ) -> None:
        id_, _, path, token = await mailed(ec, ekeys, sink)
        nonce, _, mac = token.partition(".")
        if mangle == "query_only":
            response = await ec.post(path, params={"token": token})
        else:
            bad = {
                "mac": f"{nonce}.{mac[:-1]}{flip(mac[-1])}",
                "nonce": f"{flip(nonce[0])}{nonce[1:]}.{mac}",
                "empty": "",
            }[mangle]
            response = await ec.post(path, data={"token": bad})
        assert response.status_code == 404 and "not valid" in response.text
        assert (await status(ec, ekeys, id_))["status"] == "pending"

    async def test_a_newer_mail_replaces_the_link(
        self, ec: httpx.AsyncClient, ekeys: Keys, sink: SmtpSink
    ) -> None:
        id_, _, path, token = await mailed(ec, ekeys, sink)
        assert (await resend(ec, ekeys, id_)).status_code == 200
        assert (await ec.post(path, data={"token": token})).status_code == 404
        newer = LINK.search(sink.messages[-1][2].get_content())
        assert newer
        assert (await ec.post(newer.group(1), data={"token": newer.group(2)})).status_code == 200

    async def test_token_of_one_verification_does_not_open_another(
        self, ec: httpx.AsyncClient, ekeys: Keys, sink: SmtpSink
    ) -> None:
        first_id, _, _, token = await mailed(ec, ekeys, sink)
        second_id, _, second_path, _ = await mailed(ec, ekeys, sink)
        assert (await ec.post(second_path, data={"token": token})).status_code == 404
        assert (await status(ec, ekeys, first_id))["status"] == "pending"
        assert (await status(ec, ekeys, second_id))["status"] == "pending"

    async def test_failed_verification_cannot_be_completed_by_its_link(
        self, ec: httpx.AsyncClient, ekeys: Keys, sink: SmtpSink, eapp: FastAPI
    ) -> None:
        id_, _, path, token = await mailed(ec, ekeys, sink)
        async with eapp.state.vouch.db.session() as session:
            await session.execute(update(Verification).values(status="failed"))
        response = await ec.post(path, data={"token": token})
        assert response.status_code == 410
        assert (await status(ec, ekeys, id_))["status"] == "failed"


class TestSmtpUrl:
    def test_smtp_url_forms(self) -> None:
        plain = mail.parse_smtp_url("smtp://user%40x:p%3Ass@relay.example.com:2525")
        assert (plain.host, plain.port, plain.implicit_tls, plain.starttls) == (
            "relay.example.com",
            2525,
            False,
            "auto",
        )
        assert (plain.username, plain.password) == ("user@x", "p:ss")
        assert "p:ss" not in repr(plain)
        tls = mail.parse_smtp_url("smtps://relay.example.com")
        assert (tls.port, tls.implicit_tls, tls.username) == (465, True, None)
        assert mail.parse_smtp_url("smtp://h?starttls=required").starttls == "required"
        assert mail.parse_smtp_url("smtp://h").port == 25

    @pytest.mark.parametrize(
        "url", ["http://relay.example.com", "smtp://", "smtp://h:99999", "smtp://h?starttls=maybe"]
    )
    def test_bad_smtp_urls_are_refused(self, url: str) -> None:
        with pytest.raises(mail.InvalidSmtpUrl):
            mail.parse_smtp_url(url)


class TestDomainMailboxCode:
    async def test_live_domain_email_mails_the_code_at_create_and_it_completes(
        self, ec: httpx.AsyncClient, ekeys: Keys, sink: SmtpSink
    ) -> None:
        import re

        response = await ec.post(
            "/api/v1/verifications",
            json={
                "type": "domain",
                "channel": "email",
                "identifier": "example.com",
                "email_prefix": "hostmaster",
            },
            headers=ekeys.live_headers,
        )
        assert response.status_code == 201, response.text
        created = response.json()
        assert "code" not in created["challenge"]  # a live code goes to the mailbox only
        (_sender, recipients, message) = sink.messages[-1]
        assert recipients == ["hostmaster@example.com"]
        body = message.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        code = re.search(r"\b([A-Z0-9]{6})\b", text)
        assert code is not None
        done = await ec.post(
            f"/api/v1/verifications/{created['id']}/submit",
            json={"code": code.group(1)},
            headers=ekeys.live_headers,
        )
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "verified"
