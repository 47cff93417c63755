"""Tests for vouch.kit.urls: the SSRF guard on outbound callback URLs."""

from __future__ import annotations

import ipaddress

import pytest

from vouch.kit.urls import UnsafeUrl, check_callback_url, resolve_public


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
