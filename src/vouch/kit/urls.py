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
import socket
from urllib.parse import urlsplit

BLOCKED_SUFFIXES = (".local", ".internal", ".localhost", ".localdomain", ".home.arpa")
BLOCKED_HOSTS = {"localhost", "localhost.localdomain", "metadata.google.internal"}


class UnsafeUrl(ValueError):
    pass


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


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
        address = ipaddress.ip_address(host)
    except ValueError:
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
