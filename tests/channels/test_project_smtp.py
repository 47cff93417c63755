"""A project's own SMTP URL (``PUT /api/v1/channels/email/credentials``) is caller-supplied: the
SSRF guard refuses a local or private host at registration, checks the host again at every send,
and the connection goes to the address it approved."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from tests.channels.email_standins import SMTP_PASSWORD, SMTP_USER, SmtpSink, run_smtp_sink
from tests.fixtures.network import ScriptedDns
from tests.fixtures.tenancy import Keys, make_keys
from vouch_server.channels import email as mail
from vouch_server.config import Settings
from vouch_server.errors import RetryLater
from vouch_server.runtime import Runtime
from vouch_server.tenancy import credentials

PATH = "/api/v1/channels/email/credentials"
MAIL_HOST = "mail.acme.example"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with run_smtp_sink() as s:
        yield s


def message() -> EmailMessage:
    return mail.build_message(
        sender="verify@acme.example", recipient="ona@example.com", subject="code", text="hello"
    )


async def project_settings(runtime: Runtime, keys: Keys, server: Settings) -> Settings:
    async with runtime.db.session() as session:
        return await credentials.effective_settings(session, server, keys.project_id)


async def store(runtime: Runtime, keys: Keys, smtp_url: str, *, allow_private: bool) -> None:
    """Store a project's SMTP credentials as an install with the given setting would have."""
    settings = runtime.settings.model_copy(update={"allow_private_targets": allow_private})
    async with runtime.db.session() as session:
        body = {"smtp_url": smtp_url, "email_from": "verify@acme.example"}
        await credentials.put(session, settings, keys.project_id, "email", body)
        await session.commit()


class TestRegistration:
    @pytest.mark.parametrize(
        "smtp_url",
        [
            "smtp://10.0.0.1",
            "smtp://user:pass@10.0.0.1:587",
            "smtps://127.0.0.1:465",
            "smtp://[::1]:25",
            "smtp://169.254.169.254",
            "smtp://127.1",
            "smtp://localhost:25",
            "smtp://relay.internal",
            "smtp://mail.corp.local",
            "smtp://relay",
        ],
    )
    async def test_a_local_or_private_smtp_host_is_refused_and_nothing_is_stored(
        self, client: httpx.AsyncClient, keys: Keys, runtime: Runtime, smtp_url: str
    ) -> None:
        assert runtime.settings.allow_private_targets is False
        body = {"smtp_url": smtp_url, "email_from": "verify@acme.example"}
        response = await client.put(PATH, json=body, headers=keys.test_headers)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert [d["field"] for d in error["details"]] == ["smtp_url"]
        assert "pass" not in response.text  # the URL's password is not echoed
        stored = await client.get(PATH, headers=keys.test_headers)
        assert stored.json() == {"channel": "email", "configured": False}

    async def test_a_public_smtp_host_is_accepted(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        body = {
            "smtp_url": "smtp://user:secret@smtp.acme-mail.example:587?starttls=required",
            "email_from": "verify@acme.example",
        }
        response = await client.put(PATH, json=body, headers=keys.test_headers)
        assert response.status_code == 200, response.text
        assert "secret" not in response.text
        assert response.json()["public"] == {"email_from": "verify@acme.example"}

    async def test_allow_private_targets_lets_a_closed_network_register_a_private_host(
        self, settings_factory: Any
    ) -> None:
        settings = settings_factory(allow_private_targets=True)
        runtime = Runtime.build(settings)
        try:
            keys = await make_keys(runtime)
            await store(runtime, keys, "smtp://10.0.0.1", allow_private=True)
            effective = await project_settings(runtime, keys, settings)
        finally:
            await runtime.close()
        assert effective.smtp_url == "smtp://10.0.0.1"

    async def test_a_project_credential_cannot_carry_a_provider_api_base(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        body = {
            "bot_token": "123456:project-own-bot-token",
            "bot_username": "acme_verify_bot",
            "webhook_secret": "acme-webhook-secret-1234",
            "api_base": "http://127.0.0.1:8081",
        }
        response = await client.put(
            "/api/v1/channels/telegram/credentials", json=body, headers=keys.test_headers
        )
        assert response.status_code == 400
        assert response.json()["error"]["details"][0]["field"] == "api_base"


class TestSendTime:
    async def test_a_stored_private_host_is_refused_when_sending(
        self, runtime: Runtime, keys: Keys, sink: SmtpSink
    ) -> None:
        # Stored while private targets were allowed; sent by a server where they are not.
        await store(runtime, keys, sink.url + "?starttls=off", allow_private=True)
        server = runtime.settings
        assert server.allow_private_targets is False
        effective = await project_settings(runtime, keys, server)
        with pytest.raises(RetryLater, match="SMTP host refused"):
            await mail.send_mail(server, effective, message())
        assert sink.messages == []

    async def test_a_name_that_now_resolves_to_a_private_address_is_refused(
        self, runtime: Runtime, keys: Keys, sink: SmtpSink
    ) -> None:
        url = f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@{MAIL_HOST}:{sink.port}?starttls=off"
        await store(runtime, keys, url, allow_private=False)  # a public name: accepted
        dns = ScriptedDns()
        dns.script(MAIL_HOST, ["127.0.0.1"])
        effective = await project_settings(runtime, keys, runtime.settings)
        with pytest.raises(RetryLater, match="private, loopback or reserved"):
            await mail.send_mail(runtime.settings, effective, message(), resolver=dns)
        assert dns.lookups == [MAIL_HOST]
        assert sink.messages == []

    async def test_the_connection_goes_to_the_address_the_guard_approved(
        self, settings_factory: Any, sink: SmtpSink
    ) -> None:
        # The stand-in listens on loopback, so this install allows private targets (the pin is
        # the same either way). The name exists only in the scripted DNS: it answers 127.0.0.1
        # (the sink) to the guard and 127.0.0.2 (nothing listens there) to any later look-up.
        server = settings_factory(allow_private_targets=True)
        url = f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@{MAIL_HOST}:{sink.port}?starttls=off"
        effective = server.model_copy(update={"smtp_url": url})
        dns = ScriptedDns()
        dns.script(MAIL_HOST, ["127.0.0.1"], ["127.0.0.2"])
        await mail.send_mail(server, effective, message(), resolver=dns)
        assert dns.lookups == [MAIL_HOST]
        ((_, rcpt, got),) = sink.messages
        assert rcpt == ["ona@example.com"] and got["Subject"] == "code"
        assert sink.logins == [SMTP_USER]
