"""Tests for vouch_server.kit.urls: the SSRF guard on outbound callback URLs."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from tests.fixtures.network import ScriptedDns
from vouch_server.kit.urls import (
    Approved,
    PinnedTransport,
    UnsafeUrl,
    approve,
    check_callback_url,
    check_host,
    resolve_public,
)


def _refused(url: str, match: str) -> None:
    with pytest.raises(UnsafeUrl, match=match):
        check_callback_url(url)


class TestCheckCallbackUrl:
    @pytest.mark.parametrize(
        ("url", "host"),
        [
            ("https://example.com/hooks/vouch", "example.com"),
            ("http://example.com:8080/x?y=1", "example.com"),
            ("HTTPS://API.Example.COM./hook", "api.example.com"),
            ("https://8.8.8.8/hook", "8.8.8.8"),
            ("https://[2606:4700:4700::1111]/hook", "2606:4700:4700::1111"),
            ("https://[::ffff:8.8.8.8]/hook", "::ffff:8.8.8.8"),
            ("https://1.1.1.1./hook", "1.1.1.1"),
        ],
    )
    def test_accepts_public_hosts_and_returns_the_host(self, url: str, host: str) -> None:
        assert check_callback_url(url) == host

    @pytest.mark.parametrize(
        "url", ["ftp://example.com/", "file:///etc/passwd", "gopher://example.com/", "example.com"]
    )
    def test_refuses_other_schemes(self, url: str) -> None:
        _refused(url, "http or https")

    @pytest.mark.parametrize(
        "url",
        [
            "https://user:pass@example.com/",
            "https://user@example.com/",
            "https://:pass@example.com/",
            "https://example.com\\@127.0.0.1/",
        ],
    )
    def test_refuses_userinfo(self, url: str) -> None:
        _refused(url, "credentials")

    @pytest.mark.parametrize("url", ["https:///path", "https://:443/"])
    def test_refuses_a_missing_host(self, url: str) -> None:
        _refused(url, "must have a host")

    @pytest.mark.parametrize("url", ["https://example.com:0/", "https://example.com:99999/"])
    def test_refuses_bad_ports(self, url: str) -> None:
        with pytest.raises(UnsafeUrl):
            check_callback_url(url)

    def test_refuses_unparseable_urls(self) -> None:
        _refused("https://[::1/", "not valid")

    @pytest.mark.parametrize(
        "url",
        [
            "http://localhost/",
            "http://LOCALHOST./",
            "http://localhost.localdomain/",
            "http://printer.local/",
            "http://db.internal/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://app.localhost/",
            "http://nas.home.arpa/",
        ],
    )
    def test_refuses_local_and_internal_names(self, url: str) -> None:
        _refused(url, "local or internal name")

    @pytest.mark.parametrize(
        "host",
        [
            "127.0.0.1",  # loopback
            "127.8.9.10",
            "10.1.2.3",  # private
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",  # link-local (cloud metadata)
            "100.64.0.1",  # CGNAT
            "0.0.0.0",  # unspecified
            "224.0.0.1",  # multicast
            "255.255.255.255",  # broadcast
            "192.0.2.1",  # documentation
            "198.18.0.1",  # benchmarking
            "[::1]",  # IPv6 loopback
            "[::]",
            "[fd00::1]",  # IPv6 ULA
            "[fc00::1]",
            "[fe80::1]",  # IPv6 link-local
            "[fe80::1%25eth0]",
            "[ff02::1]",  # IPv6 multicast
            "[2001:db8::1]",  # documentation
            "[::ffff:127.0.0.1]",  # IPv4-mapped loopback
            "[::ffff:10.0.0.1]",  # IPv4-mapped private
            "[::ffff:a9fe:a9fe]",  # IPv4-mapped link-local, hex form
            "[::127.0.0.1]",  # IPv4-compatible loopback
            "[2002:7f00:1::]",  # 6to4 around 127.0.0.1
            "[2002:a00:1::]",  # 6to4 around 10.0.0.1
            "[64:ff9b::a00:1]",  # NAT64 around 10.0.0.1
            "[64:ff9b::a9fe:a9fe]",  # NAT64 around 169.254.169.254
        ],
    )
    def test_refuses_non_public_address_literals(self, host: str) -> None:
        _refused(f"http://{host}/hook", "private, loopback or reserved")

    @pytest.mark.parametrize(
        "host",
        ["127.1", "0x7f.0.0.1", "0177.0.0.1", "2130706433", "0x7f000001", "10.1", "169.254.43518"],
    )
    def test_refuses_shorthand_ipv4_literals_of_non_public_addresses(self, host: str) -> None:
        _refused(f"http://{host}/hook", "private, loopback or reserved")

    @pytest.mark.parametrize("host", ["1.2.3.4.5", "256.1.1.1", "example.0x"])
    def test_refuses_hosts_that_end_like_an_address_but_are_none(self, host: str) -> None:
        _refused(f"http://{host}/hook", "not a valid IPv4 address")

    def test_accepts_shorthand_ipv4_literals_of_public_addresses(self) -> None:
        assert check_callback_url("http://134744072/") == "134744072"  # 8.8.8.8

    @pytest.mark.parametrize("url", ["http://intranet/", "http://router./", "https://vouch:8443/"])
    def test_refuses_single_label_hosts(self, url: str) -> None:
        _refused(url, "fully qualified")

    @pytest.mark.parametrize(
        ("url", "host"),
        [
            ("http://localhost:8080/hook", "localhost"),
            ("http://127.0.0.1/hook", "127.0.0.1"),
            ("http://10.0.0.5/hook", "10.0.0.5"),
            ("http://[::1]/hook", "::1"),
            ("http://printer.local/hook", "printer.local"),
            ("http://intranet/hook", "intranet"),
        ],
    )
    def test_allow_private_lifts_the_address_and_name_rules(self, url: str, host: str) -> None:
        assert check_callback_url(url, allow_private=True) == host

    @pytest.mark.parametrize(
        "url", ["ftp://127.0.0.1/", "http://user:pw@127.0.0.1/", "http:///x", "http://h:0/"]
    )
    def test_allow_private_keeps_the_syntax_rules(self, url: str) -> None:
        with pytest.raises(UnsafeUrl):
            check_callback_url(url, allow_private=True)


class TestResolvePublic:
    async def test_refuses_a_loopback_literal(self) -> None:
        with pytest.raises(UnsafeUrl, match="private, loopback or reserved"):
            await resolve_public("http://127.0.0.1/")

    async def test_refuses_a_shorthand_loopback_literal(self) -> None:
        # The resolver reads ``127.1`` as 127.0.0.1; it must not pass as a domain name.
        with pytest.raises(UnsafeUrl, match="private, loopback or reserved"):
            await resolve_public("http://127.1/")

    async def test_refuses_an_ipv4_mapped_loopback_literal(self) -> None:
        with pytest.raises(UnsafeUrl, match="private, loopback or reserved"):
            await resolve_public("http://[::ffff:127.0.0.1]/")

    async def test_resolves_a_name_when_private_targets_are_allowed(self) -> None:
        addresses = await resolve_public("http://localhost:8080/", allow_private=True)
        assert addresses
        assert all(ipaddress.ip_address(a).is_loopback for a in addresses)

    async def test_returns_a_public_literal_as_is(self) -> None:
        assert await resolve_public("https://8.8.8.8/hook") == ["8.8.8.8"]

    async def test_refuses_a_name_that_does_not_resolve(self) -> None:
        with pytest.raises(UnsafeUrl, match="does not resolve"):
            await resolve_public("http://nothing.invalid/", allow_private=True)

    async def test_refuses_blocked_names_before_resolving(self) -> None:
        with pytest.raises(UnsafeUrl, match="local or internal name"):
            await resolve_public("http://localhost/")


class TestCheckHost:
    @pytest.mark.parametrize(
        "host", ["10.0.0.1", "127.1", "::1", "localhost", "relay.internal", "relay", ""]
    )
    def test_refuses_what_check_callback_url_refuses(self, host: str) -> None:
        with pytest.raises(UnsafeUrl):
            check_host(host)

    def test_returns_the_comparable_form(self) -> None:
        assert check_host("Mail.Example.COM.") == "mail.example.com"


class TestApprove:
    async def test_asks_the_given_resolver_once_and_keeps_its_answer(self) -> None:
        dns = ScriptedDns()
        dns.script("hooks.example.com", ["93.184.216.34", "2606:2800:220:1::1", "93.184.216.34"])
        approved = await approve("https://hooks.example.com:8443/x", resolver=dns)
        assert approved == Approved(
            "hooks.example.com", 8443, ("93.184.216.34", "2606:2800:220:1::1")
        )
        assert dns.lookups == ["hooks.example.com"]

    async def test_one_private_answer_among_public_ones_is_refused(self) -> None:
        dns = ScriptedDns()
        dns.script("hooks.example.com", ["93.184.216.34", "10.0.0.7"])
        with pytest.raises(UnsafeUrl, match=r"private, loopback or reserved address \(10.0.0.7\)"):
            await approve("http://hooks.example.com/", resolver=dns)

    async def test_an_ipv4_mapped_private_answer_is_refused(self) -> None:
        dns = ScriptedDns()
        dns.script("hooks.example.com", ["::ffff:169.254.169.254"])
        with pytest.raises(UnsafeUrl, match="private, loopback or reserved"):
            await approve("http://hooks.example.com/", resolver=dns)

    async def test_allow_private_approves_a_private_answer(self) -> None:
        dns = ScriptedDns()
        dns.script("hooks.example.com", ["10.0.0.7"])
        approved = await approve("http://hooks.example.com/", allow_private=True, resolver=dns)
        assert approved.addresses == ("10.0.0.7",)

    async def test_a_literal_is_not_looked_up(self) -> None:
        dns = ScriptedDns()
        assert (await approve("http://93.184.216.34/", resolver=dns)).addresses == (
            "93.184.216.34",
        )
        assert dns.lookups == []


class _Wire:
    """The network under the pinned transport: records what it is asked to carry; ``down``
    addresses refuse the connection."""

    def __init__(self, *down: str) -> None:
        self.down = set(down)
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if request.url.host in self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, text="ok")


class TestPinnedTransport:
    async def _get(self, approved: Approved, wire: _Wire, url: str) -> httpx.Response:
        transport = PinnedTransport(approved, httpx.MockTransport(wire))
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.get(url)

    async def test_connects_to_the_address_and_keeps_the_name_for_host_and_sni(self) -> None:
        wire = _Wire()
        approved = Approved("hooks.example.com", 443, ("93.184.216.34",))
        response = await self._get(approved, wire, "https://hooks.example.com/a?b=1")
        assert response.status_code == 200
        (sent,) = wire.seen
        assert str(sent.url) == "https://93.184.216.34/a?b=1"
        assert sent.headers["host"] == "hooks.example.com"
        assert sent.extensions["sni_hostname"] == "hooks.example.com"

    async def test_plain_http_keeps_the_port_in_host_and_sets_no_sni(self) -> None:
        wire = _Wire()
        approved = Approved("hooks.example.com", 8080, ("2606:2800:220:1::1",))
        await self._get(approved, wire, "http://hooks.example.com:8080/")
        (sent,) = wire.seen
        assert str(sent.url) == "http://[2606:2800:220:1::1]:8080/"
        assert sent.headers["host"] == "hooks.example.com:8080"
        assert "sni_hostname" not in sent.extensions

    async def test_the_next_approved_address_is_tried_when_one_refuses(self) -> None:
        wire = _Wire("93.184.216.34")
        approved = Approved("hooks.example.com", 80, ("93.184.216.34", "93.184.216.35"))
        response = await self._get(approved, wire, "http://hooks.example.com/")
        assert response.status_code == 200
        assert [r.url.host for r in wire.seen] == ["93.184.216.34", "93.184.216.35"]

    async def test_when_every_address_refuses_the_error_is_raised(self) -> None:
        wire = _Wire("93.184.216.34")
        approved = Approved("hooks.example.com", 80, ("93.184.216.34",))
        with pytest.raises(httpx.ConnectError):
            await self._get(approved, wire, "http://hooks.example.com/")

    @pytest.mark.parametrize(
        "url",
        [
            "http://other.example.com/",
            "http://hooks.example.com:8080/",
            "https://hooks.example.com/",
        ],
    )
    async def test_a_request_for_another_destination_is_refused_unsent(self, url: str) -> None:
        wire = _Wire()
        approved = Approved("hooks.example.com", 80, ("93.184.216.34",))
        with pytest.raises(httpx.ConnectError, match="not the destination"):
            await self._get(approved, wire, url)
        assert wire.seen == []
