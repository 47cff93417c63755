"""Domain verification against a DNS server and a web server on loopback (``domain.py``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.control.methods.conftest import Build, Env
from tests.control.methods.standins import (
    DnsStandIn,
    HttpStandIn,
    Reply,
    self_signed_tls,
    unused_udp_port,
)
from vouch_server.control import service as control_service
from vouch_server.control.methods import SubmitContext, get_method
from vouch_server.control.methods.base import NotYet
from vouch_server.control.methods.domain import (
    AutoMethod,
    DnsMethod,
    DomainEmailMethod,
    HttpFileMethod,
    parse_nameservers,
)
from vouch_server.models import Verification

DOMAIN = "site.example"
FILE = "/.well-known/vouch-verify.txt"
PUBLIC_IP = "93.184.216.34"


async def dns_env(build: Build, dns_server: DnsStandIn, **settings: Any) -> Env:
    return await build(dns_nameservers=dns_server.nameserver, **settings)


def txt(value: str) -> str:
    return f'"{value}"'


class TestRegistration:
    def test_domain_channels_are_served_by_the_domain_methods(self) -> None:
        assert isinstance(get_method("domain", "dns"), DnsMethod)
        assert isinstance(get_method("domain", "http"), HttpFileMethod)
        assert isinstance(get_method("domain", "auto"), AutoMethod)
        assert isinstance(get_method("domain", "email"), DomainEmailMethod)
        assert get_method("domain", "dns").background_check is True  # type: ignore[attr-defined]


class TestParseNameservers:
    def test_host_port_forms(self) -> None:
        assert parse_nameservers("10.0.0.53, 127.0.0.1:5300,[::1]:5353, ::1") == [
            ("10.0.0.53", 53),
            ("127.0.0.1", 5300),
            ("::1", 5353),
            ("::1", 53),
        ]


class TestDnsChallenge:
    async def test_create_names_the_txt_record_and_a_128_bit_plus_token(
        self, build: Build, dns_server: DnsStandIn
    ) -> None:
        env = await dns_env(build, dns_server)
        data = await env.created("domain", "dns", "https://WWW.Site.Example/")
        challenge = data["challenge"]
        assert challenge["record_type"] == "TXT"
        assert challenge["record_name"] == "_vouch.site.example"
        match = re.fullmatch(r"vouch-verify=([0-9a-f]+)", challenge["record_value"])
        assert match is not None and len(match.group(1)) * 4 >= 128
        assert challenge["expires_at"] == data["challenge_expires_at"]
        assert "_vouch.site.example" in challenge["instruction"]

    async def test_tokens_differ_between_verifications(
        self, build: Build, dns_server: DnsStandIn
    ) -> None:
        env = await dns_env(build, dns_server)
        first = await env.created("domain", "dns", DOMAIN)
        second = await env.created("domain", "dns", DOMAIN)
        assert first["challenge"]["record_value"] != second["challenge"]["record_value"]

    async def test_prefix_is_configurable(self, build: Build, dns_server: DnsStandIn) -> None:
        env = await dns_env(build, dns_server, dns_txt_prefix="_acme-proof")
        data = await env.created("domain", "dns", DOMAIN)
        assert data["challenge"]["record_name"] == "_acme-proof.site.example"


class TestDnsVerify:
    async def test_matching_txt_record_completes_with_a_proof(
        self, build: Build, dns_server: DnsStandIn
    ) -> None:
        env = await dns_env(build, dns_server)
        data = await env.created("domain", "dns", DOMAIN)
        challenge = data["challenge"]
        dns_server.add(challenge["record_name"], "TXT", txt(challenge["record_value"]))
        response = await env.verify(data["id"])
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "verified"
        assert body["check"] == {"verified": True}
        assert body["proof_token"].startswith("eyJ")
        assert await env.proofs() == 1
        assert ("_vouch.site.example.", "TXT") in dns_server.queries

    async def test_a_value_split_into_several_strings_is_joined(
        self, build: Build, dns_server: DnsStandIn
    ) -> None:
        env = await dns_env(build, dns_server)
        data = await env.created("domain", "dns", DOMAIN)
        value = data["challenge"]["record_value"]
        dns_server.add(data["challenge"]["record_name"], "TXT", f'"{value[:20]}" "{value[20:]}"')
        assert (await env.verify(data["id"])).json()["status"] == "verified"

    async def test_any_of_several_txt_records_may_carry_the_value(
        self, build: Build, dns_server: DnsStandIn
    ) -> None:
        env = await dns_env(build, dns_server)
        data = await env.created("domain", "dns", DOMAIN)
        name = data["challenge"]["record_name"]
        dns_server.add(name, "TXT", txt("v=spf1 -all"), txt(data["challenge"]["record_value"]))
        dns_server.add(name, "TXT", txt("google-site-verification=abc"))
        assert (await env.verify(data["id"])).json()["status"] == "verified"

    @pytest.mark.parametrize("recursive", [True, False], ids=["whole-chain", "first-link-only"])
    async def test_cnames_are_followed(
        self, build: Build, dns_server: DnsStandIn, recursive: bool
    ) -> None:
        env = await dns_env(build, dns_server)
        dns_server.chase_cnames = recursive
        data = await env.created("domain", "dns", DOMAIN)
        name = data["challenge"]["record_name"]
        dns_server.add(name, "CNAME", "proofs.dns-host.example.")
        dns_server.add("proofs.dns-host.example", "CNAME", "final.dns-host.example.")
        dns_server.add("final.dns-host.example", "TXT", txt(data["challenge"]["record_value"]))
        assert (await env.verify(data["id"])).json()["status"] == "verified"

    async def test_a_cname_loop_is_a_lookup_failure(
        self, build: Build, dns_server: DnsStandIn
    ) -> None:
        env = await dns_env(build, dns_server)
        dns_server.chase_cnames = False
        data = await env.created("domain", "dns", DOMAIN)
        dns_server.add(data["challenge"]["record_name"], "CNAME", "a.loop.example.")
        dns_server.add("a.loop.example", "CNAME", "b.loop.example.")
        dns_server.add("b.loop.example", "CNAME", "a.loop.example.")
        check = (await env.verify(data["id"])).json()["check"]
        assert check["reason"] == "dns_lookup_failed"

    async def test_a_wrong_value_is_refused_with_a_reason_and_no_proof(
        self, build: Build, dns_server: DnsStandIn
    ) -> None:
        env = await dns_env(build, dns_server)
        data = await env.created("domain", "dns", DOMAIN)
        dns_server.add(data["challenge"]["record_name"], "TXT", txt("vouch-verify=" + "0" * 40))
        response = await env.verify(data["id"])
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "pending"
        assert body["check"]["verified"] is False
        assert body["check"]["reason"] == "dns_record_mismatch"
        assert data["challenge"]["record_value"] in body["check"]["message"]
        assert "proof_token" not in body
        assert body["attempts"] == 0
        assert await env.proofs() == 0

    async def test_another_verifications_record_does_not_count(
        self, build: Build, dns_server: DnsStandIn
    ) -> None:
        env = await dns_env(build, dns_server)
        mine = await env.created("domain", "dns", DOMAIN)
        other = await env.created("domain", "dns", DOMAIN)
        dns_server.add(
            other["challenge"]["record_name"], "TXT", txt(other["challenge"]["record_value"])
        )
        assert (await env.verify(mine["id"])).json()["check"]["reason"] == "dns_record_mismatch"
        assert (await env.verify(other["id"])).json()["status"] == "verified"

    async def test_a_missing_name_is_not_found(self, build: Build, dns_server: DnsStandIn) -> None:
        env = await dns_env(build, dns_server)
        data = await env.created("domain", "dns", DOMAIN)
        check = (await env.verify(data["id"])).json()["check"]
        assert check["reason"] == "dns_record_not_found"
        assert "NXDOMAIN" in check["message"]

    async def test_a_name_without_txt_records_is_not_found(
        self, build: Build, dns_server: DnsStandIn
    ) -> None:
        env = await dns_env(build, dns_server)
        data = await env.created("domain", "dns", DOMAIN)
        dns_server.add(data["challenge"]["record_name"], "A", "192.0.2.1")
        check = (await env.verify(data["id"])).json()["check"]
        assert check["reason"] == "dns_record_not_found"

    async def test_an_unanswering_nameserver_is_a_lookup_failure(self, build: Build) -> None:
        env = await build(dns_nameservers=f"127.0.0.1:{unused_udp_port()}", dns_timeout_seconds=0.3)
        data = await env.created("domain", "dns", DOMAIN)
        check = (await env.verify(data["id"])).json()["check"]
        assert check["reason"] == "dns_lookup_failed"

    async def test_code_submission_is_not_how_domains_complete(
        self, build: Build, dns_server: DnsStandIn
    ) -> None:
        env = await dns_env(build, dns_server)
        data = await env.created("domain", "dns", DOMAIN)
        response = await env.submit(data["id"], {"code": "ABC123"})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "method_not_supported"
        assert (await env.get(data["id"]))["attempts"] == 0


class TestBackgroundRecheck:
    async def test_sweep_completes_a_pending_domain_once_the_record_appears(
        self, build: Build, dns_server: DnsStandIn
    ) -> None:
        # No spacing between background checks here (the spacing has its own test below).
        env = await dns_env(build, dns_server, domain_recheck_seconds=0)
        data = await env.created("domain", "dns", DOMAIN)
        async with env.runtime.db.session() as session:
            assert await control_service.recheck_pending(session, env.runtime) == 0
        dns_server.add(
            data["challenge"]["record_name"], "TXT", txt(data["challenge"]["record_value"])
        )
        async with env.runtime.db.session() as session:
            assert await control_service.recheck_pending(session, env.runtime) == 1
        assert (await env.get(data["id"]))["status"] == "verified"
        assert await env.proofs() == 1

    async def test_background_checks_of_one_domain_are_spaced(
        self, build: Build, dns_server: DnsStandIn
    ) -> None:
        env = await dns_env(build, dns_server, domain_recheck_seconds=3600)
        data = await env.created("domain", "dns", DOMAIN)
        method = get_method("domain", "dns")
        outcomes = []
        for _ in range(2):
            async with env.runtime.db.session() as session:
                row = await session.get(Verification, data["id"])
                assert row is not None
                ctx = SubmitContext(row, {"background": True}, env.runtime.settings, b"")
                outcomes.append(await method.check_now(ctx))
        assert isinstance(outcomes[0], NotYet) and outcomes[0].code == "dns_record_not_found"
        assert isinstance(outcomes[1], NotYet) and outcomes[1].code == "not_due"
        # An explicit check is never held back.
        assert (await env.verify(data["id"])).json()["check"]["reason"] == "dns_record_not_found"


# --------------------------------------------------------------------------- HTTP


@pytest.fixture
def routes() -> dict[str, Reply]:
    return {}


@pytest.fixture
def web(routes: dict[str, Reply]) -> Iterator[HttpStandIn]:
    with HttpStandIn(lambda request: routes.get(request.path, Reply(404, "not found"))) as server:
        yield server


async def web_env(
    build: Build,
    dns_server: DnsStandIn,
    web: HttpStandIn,
    *,
    allow_private: bool = True,
    **extra: Any,
) -> Env:
    dns_server.add(DOMAIN, "A", "127.0.0.1")
    return await build(
        dns_nameservers=dns_server.nameserver,
        allow_private_targets=allow_private,
        domain_http_port=web.port,
        # A plain HTTP server on the https port: the TLS handshake fails, as with no https site.
        domain_https_port=web.port,
        **extra,
    )


class TestHttpChallenge:
    async def test_create_names_the_file_and_its_content(
        self, build: Build, dns_server: DnsStandIn
    ) -> None:
        env = await dns_env(build, dns_server)
        data = await env.created("domain", "http", DOMAIN)
        challenge = data["challenge"]
        assert challenge["file_path"] == FILE
        assert re.fullmatch(r"vouch-verify=[0-9a-f]{40}", challenge["file_content"])
        assert challenge["file_url"] == f"https://{DOMAIN}{FILE}"


class TestHttpVerify:
    async def test_a_served_file_completes_the_verification(
        self,
        build: Build,
        dns_server: DnsStandIn,
        web: HttpStandIn,
        routes: dict[str, Reply],
    ) -> None:
        env = await web_env(build, dns_server, web)
        data = await env.created("domain", "http", DOMAIN)
        routes[FILE] = Reply(200, data["challenge"]["file_content"] + "\n")
        response = await env.verify(data["id"])
        assert response.json()["status"] == "verified", response.text
        served = [r for r in web.requests if r.path == FILE]
        assert served and served[-1].headers["host"] == f"{DOMAIN}:{web.port}"
        assert await env.proofs() == 1

    async def test_a_wrong_file_is_refused_with_a_reason_and_no_proof(
        self,
        build: Build,
        dns_server: DnsStandIn,
        web: HttpStandIn,
        routes: dict[str, Reply],
    ) -> None:
        env = await web_env(build, dns_server, web)
        data = await env.created("domain", "http", DOMAIN)
        routes[FILE] = Reply(200, "vouch-verify=somebody-else")
        body = (await env.verify(data["id"])).json()
        assert body["status"] == "pending"
        assert body["check"]["reason"] == "file_mismatch"
        assert await env.proofs() == 0

    async def test_a_missing_file_is_not_found(
        self, build: Build, dns_server: DnsStandIn, web: HttpStandIn
    ) -> None:
        env = await web_env(build, dns_server, web)
        data = await env.created("domain", "http", DOMAIN)
        check = (await env.verify(data["id"])).json()["check"]
        assert check["reason"] == "file_not_found"
        assert "HTTP 404" in check["message"]

    async def test_a_file_on_a_private_address_is_refused_when_the_setting_is_off(
        self,
        build: Build,
        dns_server: DnsStandIn,
        web: HttpStandIn,
        routes: dict[str, Reply],
    ) -> None:
        env = await web_env(build, dns_server, web, allow_private=False)
        data = await env.created("domain", "http", DOMAIN)
        routes[FILE] = Reply(200, data["challenge"]["file_content"])
        body = (await env.verify(data["id"])).json()
        assert body["status"] == "pending"
        assert body["check"]["reason"] == "unsafe_target"
        assert "127.0.0.1" in body["check"]["message"]
        assert web.requests == []  # never connected
        assert await env.proofs() == 0

    async def test_redirects_are_followed_within_the_limit(
        self,
        build: Build,
        dns_server: DnsStandIn,
        web: HttpStandIn,
        routes: dict[str, Reply],
    ) -> None:
        env = await web_env(build, dns_server, web)
        data = await env.created("domain", "http", DOMAIN)
        routes[FILE] = Reply(301, b"", {"Location": "/moved/one"})
        routes["/moved/one"] = Reply(302, b"", {"Location": f"http://{DOMAIN}:{web.port}/two"})
        routes["/two"] = Reply(200, data["challenge"]["file_content"])
        assert (await env.verify(data["id"])).json()["status"] == "verified"

    async def test_endless_redirects_stop_at_the_limit(
        self,
        build: Build,
        dns_server: DnsStandIn,
        web: HttpStandIn,
        routes: dict[str, Reply],
    ) -> None:
        env = await web_env(build, dns_server, web, domain_http_max_redirects=2)
        data = await env.created("domain", "http", DOMAIN)
        routes[FILE] = Reply(302, b"", {"Location": FILE})
        check = (await env.verify(data["id"])).json()["check"]
        assert check["reason"] == "too_many_redirects"
        assert sum(1 for r in web.requests if r.path == FILE) == 3

    async def test_an_oversized_file_is_refused(
        self,
        build: Build,
        dns_server: DnsStandIn,
        web: HttpStandIn,
        routes: dict[str, Reply],
    ) -> None:
        env = await web_env(build, dns_server, web, domain_http_max_bytes=1024)
        data = await env.created("domain", "http", DOMAIN)
        routes[FILE] = Reply(200, data["challenge"]["file_content"] + "\n" + "x" * 5000)
        check = (await env.verify(data["id"])).json()["check"]
        assert check["reason"] == "file_too_large"

    async def test_a_slow_server_times_out(
        self,
        build: Build,
        dns_server: DnsStandIn,
        web: HttpStandIn,
        routes: dict[str, Reply],
    ) -> None:
        env = await web_env(build, dns_server, web, domain_http_timeout_seconds=0.3)
        data = await env.created("domain", "http", DOMAIN)
        routes[FILE] = Reply(200, data["challenge"]["file_content"], delay=1.0)
        body = (await env.verify(data["id"])).json()
        assert body["status"] == "pending"
        assert body["check"]["reason"] == "fetch_failed"


class _PublicWeb:
    """A web "on the internet" for the guard tests: loopback cannot pass the address rules, so the
    HTTP check's transport is this stand-in, reached only after the guard approved the address."""

    def __init__(self, responder: Any) -> None:
        self.seen: list[httpx.Request] = []
        self.responder = responder

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return self.responder(request)  # type: ignore[no-any-return]


class TestSsrfGuard:
    @pytest.fixture
    def public_web(self, monkeypatch: pytest.MonkeyPatch) -> Any:
        def install(responder: Any) -> _PublicWeb:
            web = _PublicWeb(responder)
            transport = httpx.MockTransport(web.handle)
            for channel in ("http", "auto"):
                monkeypatch.setattr(get_method("domain", channel), "transport", transport)
            return web

        return install

    async def test_the_connection_goes_to_the_checked_address_with_the_name_for_host_and_sni(
        self, build: Build, dns_server: DnsStandIn, public_web: Any
    ) -> None:
        dns_server.add(DOMAIN, "A", PUBLIC_IP)
        env = await build(dns_nameservers=dns_server.nameserver)
        data = await env.created("domain", "http", DOMAIN)
        content = data["challenge"]["file_content"]
        web = public_web(lambda request: httpx.Response(200, text=content))
        assert (await env.verify(data["id"])).json()["status"] == "verified"
        first = web.seen[0]
        assert first.url.scheme == "https"
        assert first.url.host == PUBLIC_IP
        assert first.headers["host"] == DOMAIN
        assert first.extensions["sni_hostname"] == DOMAIN

    async def test_a_redirect_to_a_private_address_is_refused(
        self, build: Build, dns_server: DnsStandIn, public_web: Any
    ) -> None:
        dns_server.add(DOMAIN, "A", PUBLIC_IP)
        dns_server.add("intranet.site.example", "A", "10.0.0.7")
        env = await build(dns_nameservers=dns_server.nameserver)
        data = await env.created("domain", "http", DOMAIN)
        content = data["challenge"]["file_content"]

        def respond(request: httpx.Request) -> httpx.Response:
            if request.url.host == PUBLIC_IP:
                return httpx.Response(302, headers={"Location": "http://intranet.site.example/"})
            return httpx.Response(200, text=content)

        web = public_web(respond)
        body = (await env.verify(data["id"])).json()
        assert body["status"] == "pending"
        assert body["check"]["reason"] == "unsafe_target"
        assert "10.0.0.7" in body["check"]["message"]
        assert {r.url.host for r in web.seen} == {PUBLIC_IP}
        assert await env.proofs() == 0

    @pytest.mark.parametrize(
        "location",
        [
            "http://localhost/.well-known/vouch-verify.txt",
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://printer.local/",
            "http://169.254.169.254/latest/meta-data/",
            "file:///etc/passwd",
        ],
    )
    async def test_redirects_to_local_names_and_addresses_are_refused(
        self, build: Build, dns_server: DnsStandIn, public_web: Any, location: str
    ) -> None:
        dns_server.add(DOMAIN, "A", PUBLIC_IP)
        env = await build(dns_nameservers=dns_server.nameserver)
        data = await env.created("domain", "http", DOMAIN)
        web = public_web(lambda request: httpx.Response(302, headers={"Location": location}))
        body = (await env.verify(data["id"])).json()
        assert body["check"]["reason"] == "unsafe_target"
        assert {r.url.host for r in web.seen} == {PUBLIC_IP}

    @pytest.mark.parametrize("domain", ["app.localhost", "intranet.internal", "nas.local"])
    async def test_local_names_are_refused_before_any_lookup(
        self, build: Build, public_web: Any, domain: str
    ) -> None:
        env = await build()  # the system resolver: it is never asked
        data = await env.created("domain", "http", domain)
        web = public_web(lambda request: httpx.Response(200, text="x"))
        body = (await env.verify(data["id"])).json()
        assert body["check"]["reason"] == "unsafe_target"
        assert web.seen == []

    async def test_an_ipv6_loopback_address_is_refused(
        self, build: Build, dns_server: DnsStandIn, public_web: Any
    ) -> None:
        dns_server.add(DOMAIN, "AAAA", "::1")
        env = await build(dns_nameservers=dns_server.nameserver)
        data = await env.created("domain", "http", DOMAIN)
        web = public_web(lambda request: httpx.Response(200, text="x"))
        check = (await env.verify(data["id"])).json()["check"]
        assert check["reason"] == "unsafe_target"
        assert "::1" in check["message"]
        assert web.seen == []

    async def test_a_name_with_one_private_address_among_public_ones_is_refused(
        self, build: Build, dns_server: DnsStandIn, public_web: Any
    ) -> None:
        dns_server.add(DOMAIN, "A", PUBLIC_IP, "192.168.1.10")
        env = await build(dns_nameservers=dns_server.nameserver)
        data = await env.created("domain", "http", DOMAIN)
        web = public_web(lambda request: httpx.Response(200, text="x"))
        assert (await env.verify(data["id"])).json()["check"]["reason"] == "unsafe_target"
        assert web.seen == []


class TestAuto:
    async def test_dns_first_then_http(
        self,
        build: Build,
        dns_server: DnsStandIn,
        web: HttpStandIn,
        routes: dict[str, Reply],
    ) -> None:
        env = await web_env(build, dns_server, web)
        data = await env.created("domain", "auto", DOMAIN)
        challenge = data["challenge"]
        assert challenge["record_name"] == "_vouch.site.example"
        assert challenge["file_content"] == challenge["record_value"]
        routes[FILE] = Reply(200, challenge["file_content"])
        body = (await env.verify(data["id"])).json()
        assert body["status"] == "verified"

    async def test_dns_alone_suffices(self, build: Build, dns_server: DnsStandIn) -> None:
        env = await dns_env(build, dns_server)
        data = await env.created("domain", "auto", DOMAIN)
        dns_server.add(
            data["challenge"]["record_name"], "TXT", txt(data["challenge"]["record_value"])
        )
        assert (await env.verify(data["id"])).json()["status"] == "verified"

    async def test_neither_gives_both_reasons(
        self, build: Build, dns_server: DnsStandIn, web: HttpStandIn
    ) -> None:
        env = await web_env(build, dns_server, web)
        data = await env.created("domain", "auto", DOMAIN, dns_provider={"provider": "cloudflare"})
        check = (await env.verify(data["id"])).json()["check"]
        assert check["reason"] == "dns_record_not_found"
        assert "HTTP 404" in check["message"]
        assert "dns_provider" not in (await env.row(data["id"])).method_state


class TestDomainEmail:
    async def test_the_prefix_is_validated(self, build: Build) -> None:
        env = await build()
        response = await env.create("domain", "email", DOMAIN, email_prefix="root")
        assert response.status_code == 400
        assert response.json()["error"]["details"][0]["field"] == "email_prefix"
        assert await env.verifications() == 0

    @pytest.mark.parametrize(
        "prefix", ["admin", "administrator", "webmaster", "hostmaster", "postmaster"]
    )
    async def test_the_challenge_names_the_chosen_mailbox(self, build: Build, prefix: str) -> None:
        env = await build()
        data = await env.created("domain", "email", DOMAIN, email_prefix=prefix)
        assert data["challenge"]["send_to"] == f"{prefix}@{DOMAIN}"
        assert data["challenge"]["email_prefix"] == prefix
        state = (await env.row(data["id"])).method_state
        assert state["send_to"] == f"{prefix}@{DOMAIN}"

    async def test_admin_is_the_default_mailbox(self, build: Build) -> None:
        env = await build()
        data = await env.created("domain", "email", DOMAIN)
        assert data["challenge"]["send_to"] == f"admin@{DOMAIN}"

    async def test_test_mode_shows_the_code_and_submit_completes(self, build: Build) -> None:
        env = await build()
        data = await env.created("domain", "email", DOMAIN, email_prefix="hostmaster")
        response = await env.submit(data["id"], {"code": data["challenge"]["code"]})
        assert response.status_code == 200
        assert response.json()["status"] == "verified"

    async def test_live_mode_never_shows_the_code(self, build: Build) -> None:
        from tests.channels.email_standins import run_smtp_sink

        with run_smtp_sink() as sink:
            env = await build(smtp_url=sink.url)
            response = await env.create("domain", "email", DOMAIN, live=True)
        assert response.status_code == 201
        assert "code" not in response.json()["challenge"]
        assert len(sink.messages) == 1  # the code went to the mailbox instead

    async def test_live_mode_with_mail_down_is_retry_later_and_stores_nothing(
        self, build: Build
    ) -> None:
        env = await build(smtp_url="smtp://127.0.0.1:9", smtp_timeout_seconds=2)
        response = await env.create("domain", "email", DOMAIN, live=True)
        assert response.status_code == 503
        assert await env.verifications() == 0

    async def test_live_mode_without_outbound_mail_is_not_configured(self, build: Build) -> None:
        env = await build()
        response = await env.create("domain", "email", DOMAIN, live=True)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "channel_not_configured"
        assert await env.verifications() == 0


class TestHttps:
    """A real TLS site on loopback: the pinned connection still sends SNI and checks the
    certificate against the domain name (the stand-in's certificate is trusted by the transport)."""

    async def _env(
        self,
        build: Build,
        dns_server: DnsStandIn,
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
        certificate_for: str,
        routes: dict[str, Reply],
    ) -> tuple[Env, HttpStandIn]:
        server_tls, client_tls = self_signed_tls(certificate_for, tmp_path)
        site = HttpStandIn(lambda r: routes.get(r.path, Reply(404, "nf")), tls=server_tls)
        monkeypatch.setattr(
            get_method("domain", "http"), "transport", httpx.AsyncHTTPTransport(verify=client_tls)
        )
        dns_server.add(DOMAIN, "A", "127.0.0.1")
        env = await build(
            dns_nameservers=dns_server.nameserver,
            allow_private_targets=True,
            domain_https_port=site.port,
            domain_http_port=unused_udp_port(),
        )
        return env, site

    async def test_the_file_is_fetched_over_https_with_the_domains_certificate(
        self,
        build: Build,
        dns_server: DnsStandIn,
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
        routes: dict[str, Reply],
    ) -> None:
        env, site = await self._env(build, dns_server, monkeypatch, tmp_path, DOMAIN, routes)
        with site:
            data = await env.created("domain", "http", DOMAIN)
            routes[FILE] = Reply(200, data["challenge"]["file_content"])
            body = (await env.verify(data["id"])).json()
        assert body["status"] == "verified", body
        assert site.requests[0].headers["host"] == f"{DOMAIN}:{site.port}"

    async def test_a_certificate_for_another_name_is_not_trusted(
        self,
        build: Build,
        dns_server: DnsStandIn,
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
        routes: dict[str, Reply],
    ) -> None:
        env, site = await self._env(
            build, dns_server, monkeypatch, tmp_path, "other.example", routes
        )
        with site:
            data = await env.created("domain", "http", DOMAIN)
            routes[FILE] = Reply(200, data["challenge"]["file_content"])
            body = (await env.verify(data["id"])).json()
        assert body["status"] == "pending"
        assert body["check"]["reason"] == "fetch_failed"
        assert site.requests == []
