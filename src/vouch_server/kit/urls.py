"""The SSRF guard (threat model §10): which outbound URLs vouch may call, and where it connects.

The guard is for what API callers supply — webhook endpoints, ``callback_url``, domain HTTP checks,
a project's own SMTP server. The operator's own settings (``VOUCH_*_API_BASE``, ``VOUCH_SMTP_URL``,
the RPC URLs) are trusted and never pass through it; see docs/security.md, "Which URLs are
guarded".

``check_callback_url`` (and ``check_host`` for a bare host) is syntactic, for registration time:
http(s) only, no userinfo, a host that is not ``localhost`` nor under ``.local``, ``.internal``,
``.localhost``, and — for an IP literal — a globally routable address. ``approve`` runs right
before each outbound request: it resolves the host afresh and requires every address to be
public, so a name that later points inside the network is refused at delivery. ``PinnedTransport``
then connects to exactly the addresses ``approve`` checked (the name is kept for ``Host`` and for
TLS SNI and certificate verification), so a second resolution cannot rebind the connection
elsewhere. ``allow_private`` (the ``VOUCH_ALLOW_PRIVATE_TARGETS`` setting) lifts the address rules
for tests and closed networks; pinning applies either way.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

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


def check_host(host: str, *, allow_private: bool = False) -> str:
    """Validate a host vouch will later connect to (a name or an IP literal, without brackets);
    returns it in comparable form (lower case, no root dot)."""
    host = host.strip().rstrip(".").lower()
    if not host:
        raise UnsafeUrl("URL must have a host")
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
    if port is not None and not 0 < port < 65536:
        raise UnsafeUrl("URL port is out of range")
    return check_host(parts.hostname or "", allow_private=allow_private)


# A resolver answers the addresses of (host, port) now. The system's is the default; tests and
# callers with their own DNS (``VOUCH_DNS_NAMESERVERS``) pass another.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``getaddrinfo`` gives for ``host`` (TCP), without IPv6 zone ids."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl("URL host does not resolve") from exc
    return sorted({str(info[4][0]).split("%")[0] for info in infos})


@dataclass(frozen=True)
class Approved:
    """A destination the guard approved: the name to speak to and the addresses to dial."""

    host: str
    port: int
    addresses: tuple[str, ...]


async def approve_host(
    host: str, port: int, *, allow_private: bool = False, resolver: Resolver | None = None
) -> Approved:
    """Resolve ``host`` once, now, and require every address to be public (unless allowed)."""
    host = check_host(host, allow_private=allow_private)
    try:
        found: Sequence[str] = [str(ipaddress.ip_address(host))]
    except ValueError:
        found = await (resolver or system_resolver)(host, port)
    if not found:
        raise UnsafeUrl("URL host does not resolve")
    addresses: list[str] = []
    for text in found:
        try:
            address = ipaddress.ip_address(text.split("%")[0])
        except ValueError:
            raise UnsafeUrl("URL host resolves to something that is not an address") from None
        if not allow_private and not _is_public(address):
            raise UnsafeUrl(
                f"URL host resolves to a private, loopback or reserved address ({address})"
            )
        addresses.append(str(address))
    return Approved(host, port, tuple(dict.fromkeys(addresses)))


async def approve(
    url: str, *, allow_private: bool = False, resolver: Resolver | None = None
) -> Approved:
    """``check_callback_url``, then ``approve_host`` for the URL's host and port."""
    host = check_callback_url(url, allow_private=allow_private)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return await approve_host(host, port, allow_private=allow_private, resolver=resolver)


async def resolve_public(
    url: str, *, allow_private: bool = False, resolver: Resolver | None = None
) -> list[str]:
    """The addresses ``approve`` checked for ``url``."""
    approved = await approve(url, allow_private=allow_private, resolver=resolver)
    return list(approved.addresses)


class PinnedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that connects only to the addresses the guard approved.

    Each request must be for the approved host and port (a redirect elsewhere, or any other host,
    is refused before a connection is made). The request goes to the first approved address that
    accepts a connection, with the URL's host replaced by that address; ``Host`` stays the name
    (httpx set it when the request was built), and for https the name is the TLS ``server_hostname``
    (the ``sni_hostname`` extension of httpcore), so SNI is the name and the certificate is checked
    against the name (RFC 6125), never against the address. Nothing re-resolves the name, so DNS
    rebinding between the check and the connection has nothing to act on.

    ``transport`` is the network below (a new ``httpx.AsyncHTTPTransport`` by default); it is
    closed with this transport, so the connections it opened end with the approval they were made
    for, and a connection verified for one name is never reused for another name on the same
    address.
    """

    def __init__(self, approved: Approved, transport: httpx.AsyncBaseTransport | None = None):
        self.approved = approved
        self._inner = transport or httpx.AsyncHTTPTransport(trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        host = url.host.rstrip(".").lower()
        port = url.port or (443 if url.scheme == "https" else 80)
        if (host, port) != (self.approved.host, self.approved.port):
            raise httpx.ConnectError(
                f"{host}:{port} is not the destination the SSRF guard approved", request=request
            )
        extensions = dict(request.extensions)
        if url.scheme == "https":
            extensions["sni_hostname"] = url.raw_host.decode("ascii").rstrip(".")
        error: httpx.TransportError | None = None
        for address in self.approved.addresses:
            pinned = httpx.Request(
                request.method,
                url.copy_with(host=address),
                headers=request.headers,
                stream=request.stream,
                extensions=extensions,
            )
            try:
                return await self._inner.handle_async_request(pinned)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                error = exc  # nothing was sent: the next approved address may answer
        assert error is not None  # approve() never yields an empty list
        raise error

    async def aclose(self) -> None:
        await self._inner.aclose()
