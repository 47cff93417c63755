"""The SSRF guard (threat model §10): which outbound URLs vouch may call.

Two checks. ``check_callback_url`` is syntactic, for registration time: http(s) only, no userinfo,
a host that is not ``localhost`` nor under ``.local``, ``.internal``, ``.localhost``, and — for an
IP literal — a globally routable address. ``resolve_public`` runs right before each outbound
request: it resolves the host afresh and requires every address to be public, so a name that
later points inside the network (DNS rebinding) is refused at delivery. ``allow_private`` (the
``VOUCH_ALLOW_PRIVATE_TARGETS`` setting) lifts the address rules for tests and closed networks.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from urllib.parse import urlsplit

BLOCKED_SUFFIXES = (".local", ".internal", ".localhost", ".localdomain", ".home.arpa")
BLOCKED_HOSTS = {"localhost", "localhost.localdomain", "metadata.google.internal"}


class UnsafeUrl(ValueError):
    pass


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NUMERIC_LABEL = re.compile(r"^(?:[0-9]+|0x[0-9a-f]*)$")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _IPV4_COMPATIBLE or any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and not _is_public(embedded):
            return False
    return address.is_global and not address.is_multicast


def _numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """A host whose last label is a number is an IPv4 literal, whatever its shorthand.

    Resolvers (``inet_aton``) and browsers read ``127.1``, ``0x7f.0.0.1`` or ``2130706433`` as
    127.0.0.1, so those must meet the address rules rather than pass as domain names.
    """
    if not _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        raise UnsafeUrl("URL host is not a valid IPv4 address") from None


def check_callback_url(url: str, *, allow_private: bool = False) -> str:
    """Validate a URL vouch will later call; returns its host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl("URL is not valid") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("URL must use http or https")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("URL must not contain credentials")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeUrl("URL must have a host")
    if port is not None and not 0 < port < 65536:
        raise UnsafeUrl("URL port is out of range")
    if allow_private:
        return host
    if host in BLOCKED_HOSTS or host.endswith(BLOCKED_SUFFIXES):
        raise UnsafeUrl("URL host is not allowed (local or internal name)")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(host)
    except ValueError:
        numeric = _numeric_ipv4(host)
        if numeric is not None:
            if not _is_public(numeric):
                raise UnsafeUrl("URL points to a private, loopback or reserved address") from None
            return host
        if "." not in host:
            raise UnsafeUrl("URL host must be a fully qualified domain name") from None
        return host
    if not _is_public(address):
        raise UnsafeUrl("URL points to a private, loopback or reserved address")
    return host


async def resolve_public(url: str, *, allow_private: bool = False) -> list[str]:
    """Resolve the URL's host now and require every address to be public."""
    host = check_callback_url(url, allow_private=allow_private)
    port = urlsplit(url).port or (443 if url.startswith("https") else 80)
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeUrl("URL host does not resolve") from exc
    addresses = sorted({str(info[4][0]) for info in infos})
    if not allow_private:
        for text in addresses:
            if not _is_public(ipaddress.ip_address(text.split("%")[0])):
                raise UnsafeUrl("URL host resolves to a private, loopback or reserved address")
    return addresses
