"""Domain verification (``type: domain``): a DNS TXT record, a file on the web site, a code sent to an
administrative mailbox, or either of the first two (``auto``).

dns
    The person publishes ``<prefix>.<domain> TXT "vouch-verify=<token>"`` (RFC 1035 §3.3.14; the
    ``attribute=value`` form of RFC 1464). The token is 160 random bits, made at create time and
    kept in the verification's ``method_state``. ``POST …/{id}/verify`` looks it up with dnspython's
    async resolver (``VOUCH_DNS_NAMESERVERS`` or the system's); CNAMEs are followed (RFC 1034
    §3.6.2) whether the resolver returns the whole chain or only its first link; a record split into
    several character-strings is joined before comparing (as RFC 7208 §3.3 does for SPF), and any
    one of several TXT records may carry the value.

http
    The person serves ``vouch-verify=<token>`` at ``/.well-known/vouch-verify.txt`` (RFC 8615).
    vouch fetches it over https, then http. Every request goes through the SSRF guard
    (``vouch_server.kit.urls``, threat model §10): the host is refused by name (``localhost``, ``.local``,
    ``.internal``…), resolved once, every address must be public, and the connection is made to
    that checked address (the name is kept for ``Host`` and TLS SNI/certificate checks), so a
    second resolution cannot rebind it elsewhere. Redirects are followed by hand, at most
    ``domain_http_max_redirects``, each hop checked the same way; the body is read up to
    ``domain_http_max_bytes`` and the whole fetch is bounded by ``domain_http_timeout_seconds``.
    Proxies from the environment are ignored (they would bypass the guard).
    ``VOUCH_ALLOW_PRIVATE_TARGETS`` lifts the address rules for tests and closed networks.

email
    A code is sent to one of the mailboxes RFC 2142 and the CA/Browser Forum Baseline Requirements
    (§3.2.2.4.4) accept as proof of domain control: admin@, administrator@, webmaster@,
    hostmaster@, postmaster@ (``email_prefix``, default ``admin``); the person enters it
    (``submit {code}``). The mailbox is kept in ``method_state["send_to"]`` for the sender.

auto
    dns, then http, with one token for both.

Pending dns/http/auto verifications are also re-checked by the background sweep until they expire.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import secrets
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final, cast
from urllib.parse import urljoin, urlsplit

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver
import httpx
from dns.rdtypes.ANY.TXT import TXT
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.config import Settings
from vouch_server.control.methods.base import (
    Accepted,
    ChallengeContext,
    CheckOutcome,
    NotYet,
    Outcome,
    SubmitContext,
)
from vouch_server.control.methods.code import EmailCodeMethod
from vouch_server.control.methods.registry import register
from vouch_server.errors import BadRequest
from vouch_server.kit.clock import isoformat_ms, parse_instant, utcnow
from vouch_server.kit.urls import (
    Approved,
    PinnedTransport,
    UnsafeUrl,
    approve_host,
    check_callback_url,
)
from vouch_server.models import Verification

TOKEN_BYTES: Final = 20  # 160 bits: the issue asks for at least 128
VALUE_PREFIX: Final = "vouch-verify="
FILE_PATH: Final = "/.well-known/vouch-verify.txt"
ADMIN_MAILBOXES: Final = ("admin", "administrator", "webmaster", "hostmaster", "postmaster")
MAX_CNAME_HOPS: Final = 8
_USER_AGENT: Final = "vouch-domain-verification/1 (+https://github.com/vouch)"


# --------------------------------------------------------------------------- shared state


def _state(verification: Verification) -> dict[str, Any]:
    return dict(verification.method_state or {})


def ensure_token(verification: Verification) -> str:
    """The verification's token, made (and stored) on first use."""
    state = _state(verification)
    token = state.get("token")
    if not isinstance(token, str):
        token = secrets.token_hex(TOKEN_BYTES)
        state["token"] = token
        # A new dict, so the ORM sees the JSON column change.
        verification.method_state = state
    return token


def expected_value(verification: Verification) -> str:
    return VALUE_PREFIX + ensure_token(verification)


def record_name(domain: str, settings: Settings) -> str:
    prefix = settings.dns_txt_prefix.strip(".")
    return f"{prefix}.{domain}" if prefix else domain


def _matches(candidate: str, expected: str) -> bool:
    return hmac.compare_digest(candidate.strip().encode(), expected.encode())


# --------------------------------------------------------------------------- DNS


def parse_nameservers(raw: str) -> list[tuple[str, int]]:
    """``"10.0.0.53, [::1]:5353, 127.0.0.1:5300"`` → ``[(host, port), …]`` (default port 53)."""
    servers: list[tuple[str, int]] = []
    for part in raw.split(","):
        item = part.strip()
        if not item:
            continue
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else 53
        elif item.count(":") == 1:
            host, _, port_text = item.partition(":")
            port = int(port_text)
        else:  # a bare IPv6 address or a bare host
            host, port = item, 53
        servers.append((host, port))
    return servers


async def build_resolver(settings: Settings) -> dns.asyncresolver.Resolver:
    """A resolver on ``VOUCH_DNS_NAMESERVERS`` (``host[:port]``, comma-separated), else the
    system's configuration; never cached, so a re-check sees a record as soon as it is served."""
    if settings.dns_nameservers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        nameservers: list[dns.nameserver.Nameserver | str] = []
        loop = asyncio.get_running_loop()
        for host, port in parse_nameservers(settings.dns_nameservers):
            try:
                ipaddress.ip_address(host)
                addresses = [host]
            except ValueError:
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
                addresses = sorted({str(info[4][0]) for info in infos})
            nameservers.extend(dns.nameserver.Do53Nameserver(a, port) for a in addresses)
        resolver.nameservers = nameservers
    else:
        resolver = dns.asyncresolver.Resolver()
    resolver.timeout = settings.dns_timeout_seconds
    resolver.lifetime = settings.dns_timeout_seconds
    resolver.cache = None
    return resolver


class CnameChainTooLong(Exception):
    """More than ``MAX_CNAME_HOPS`` CNAMEs: a loop, or a chain no real zone needs."""


async def resolve_following_cnames(
    resolver: dns.asyncresolver.Resolver, name: str, rdtype: str
) -> dns.resolver.Answer | None:
    """The RRset of ``rdtype`` at ``name``, after any CNAME chain (RFC 1034 §3.6.2).

    A recursive resolver returns the whole chain; an authoritative server may return only the
    first CNAME, so the chain's end is queried again, at most ``MAX_CNAME_HOPS`` times. None when
    the name exists but has no such records."""
    qname = dns.name.from_text(name)
    for _ in range(MAX_CNAME_HOPS):
        answer = await resolver.resolve(qname, rdtype, raise_on_no_answer=False, search=False)
        if answer.rrset is not None:
            return answer
        if answer.canonical_name == qname:
            return None
        qname = answer.canonical_name
    raise CnameChainTooLong(name)


async def txt_values(resolver: dns.asyncresolver.Resolver, name: str) -> list[str]:
    """Every TXT record at ``name``, each one's character-strings joined without separator."""
    answer = await resolve_following_cnames(resolver, name, "TXT")
    if answer is None or answer.rrset is None:
        return []
    values = []
    for rdata in answer.rrset:
        strings: tuple[bytes, ...] = cast(TXT, rdata).strings
        values.append(b"".join(strings).decode("utf-8", errors="replace"))
    return values


async def check_dns(verification: Verification, settings: Settings) -> CheckOutcome:
    name = record_name(verification.identifier, settings)
    expected = expected_value(verification)
    try:
        resolver = await build_resolver(settings)
        values = await txt_values(resolver, name)
    except dns.resolver.NXDOMAIN:
        return NotYet("dns_record_not_found", f"No DNS name {name} (NXDOMAIN)")
    except (dns.exception.DNSException, CnameChainTooLong, OSError, ValueError) as exc:
        return NotYet(
            "dns_lookup_failed", f"DNS look-up of {name} TXT failed: {type(exc).__name__}"
        )
    if not values:
        return NotYet("dns_record_not_found", f"No TXT record at {name}")
    if any(_matches(value, expected) for value in values):
        return Accepted({"method": "dns", "record_name": name})
    return NotYet(
        "dns_record_mismatch",
        f"{len(values)} TXT record(s) at {name}, none equal to {expected}",
    )


# --------------------------------------------------------------------------- HTTP


class _Refused(Exception):
    """A fetch the SSRF guard refused, or one that could not give a usable answer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class _Hop:
    status: int
    body: bytes
    location: str | None


class GuardedFetcher:
    """GET a URL through the SSRF guard, pinning each connection to the address that was checked."""

    def __init__(
        self,
        settings: Settings,
        resolver: dns.asyncresolver.Resolver | None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.resolver = resolver
        self.transport = transport
        self.allow_private = settings.allow_private_targets

    async def addresses(self, host: str, port: int) -> Approved:
        """Resolve ``host`` once and require every address to be public (unless allowed)."""

        async def resolve(name: str, port: int) -> list[str]:
            found = await self._resolve(name, port)
            if not found:
                raise _Refused("fetch_failed", f"{name} has no address")
            return found

        try:
            return await approve_host(
                host, port, allow_private=self.allow_private, resolver=resolve
            )
        except UnsafeUrl as exc:
            raise _Refused("unsafe_target", f"{host}: {exc}") from None

    async def _resolve(self, host: str, port: int) -> list[str]:
        if self.resolver is not None:
            found: list[str] = []
            for rdtype in ("A", "AAAA"):
                try:
                    answer = await resolve_following_cnames(self.resolver, host, rdtype)
                except dns.resolver.NXDOMAIN:
                    raise _Refused("fetch_failed", f"{host} does not exist (NXDOMAIN)") from None
                except (dns.exception.DNSException, CnameChainTooLong) as exc:
                    if rdtype == "AAAA" and found:
                        break
                    raise _Refused(
                        "fetch_failed", f"{host}: DNS look-up failed ({type(exc).__name__})"
                    ) from None
                if answer is not None and answer.rrset is not None:
                    found.extend(str(cast(Any, rdata).address) for rdata in answer.rrset)
            return found
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror:
            raise _Refused("fetch_failed", f"{host} does not resolve") from None
        return sorted({str(info[4][0]).split("%")[0] for info in infos})

    async def get(self, url: str) -> tuple[str, bytes]:
        """Follow at most ``domain_http_max_redirects`` redirects; return the final URL and body
        of a 200 response."""
        current = url
        for _ in range(self.settings.domain_http_max_redirects + 1):
            hop = await self._hop(current)
            if hop.location is None:
                if hop.status != 200:
                    raise _Refused("file_not_found", f"{current} answered HTTP {hop.status}")
                return current, hop.body
            current = urljoin(current, hop.location)
        raise _Refused(
            "too_many_redirects",
            f"{url} redirected more than {self.settings.domain_http_max_redirects} times",
        )

    async def _hop(self, url: str) -> _Hop:
        try:
            host = check_callback_url(url, allow_private=self.allow_private)
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except (UnsafeUrl, ValueError) as exc:
            raise _Refused("unsafe_target", f"{url}: {exc}") from None
        approved = await self.addresses(host, port)
        # One pinned client per hop: each hop's host was checked on its own.
        async with httpx.AsyncClient(
            transport=PinnedTransport(approved, self.transport),
            timeout=self.settings.domain_http_timeout_seconds,
            follow_redirects=False,
            trust_env=False,  # an environment proxy would reach what the guard refused
        ) as client:
            request = client.build_request(
                "GET",
                url,
                headers={
                    "User-Agent": _USER_AGENT,
                    "Accept": "text/plain",
                    # Raw bytes are counted against the size limit; no decompression bombs.
                    "Accept-Encoding": "identity",
                },
            )
            try:
                response = await client.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise _Refused("fetch_failed", f"{url}: {type(exc).__name__}") from None
            try:
                if response.is_redirect:
                    return _Hop(response.status_code, b"", response.headers.get("location"))
                body = await self._read_bounded(response, url)
                return _Hop(response.status_code, body, None)
            finally:
                await response.aclose()

    async def _read_bounded(self, response: httpx.Response, url: str) -> bytes:
        limit = self.settings.domain_http_max_bytes
        body = bytearray()
        try:
            # Raw bytes: a compressed body is not inflated, so it cannot grow past the limit.
            async for chunk in response.aiter_raw():
                body.extend(chunk)
                if len(body) > limit:
                    raise _Refused("file_too_large", f"{url} is larger than {limit} bytes")
        except httpx.StreamConsumed:
            # An in-process transport hands over a body it has already read.
            body = bytearray(response.content)
            if len(body) > limit:
                raise _Refused("file_too_large", f"{url} is larger than {limit} bytes") from None
        return bytes(body)


# Which reason to report when both https and http fail: the most telling one first.
_HTTP_REASON_RANK: Final = (
    "unsafe_target",
    "file_mismatch",
    "file_too_large",
    "too_many_redirects",
    "file_not_found",
    "fetch_failed",
)


def file_urls(domain: str, settings: Settings) -> list[str]:
    https_port = "" if settings.domain_https_port == 443 else f":{settings.domain_https_port}"
    http_port = "" if settings.domain_http_port == 80 else f":{settings.domain_http_port}"
    return [
        f"https://{domain}{https_port}{FILE_PATH}",
        f"http://{domain}{http_port}{FILE_PATH}",
    ]


async def check_http(
    verification: Verification,
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None = None,
) -> CheckOutcome:
    expected = expected_value(verification)
    resolver = await build_resolver(settings) if settings.dns_nameservers else None
    fetcher = GuardedFetcher(settings, resolver, transport)
    failures: list[_Refused] = []
    for url in file_urls(verification.identifier, settings):
        try:
            async with asyncio.timeout(settings.domain_http_timeout_seconds):
                final_url, body = await fetcher.get(url)
        except _Refused as refused:
            failures.append(refused)
            continue
        except TimeoutError:
            failures.append(_Refused("fetch_failed", f"{url}: timed out"))
            continue
        text = body.decode("utf-8", errors="replace")
        if any(_matches(line, expected) for line in text.splitlines()):
            return Accepted({"method": "http", "url": final_url})
        failures.append(_Refused("file_mismatch", f"{final_url} does not contain {expected}"))
    worst = min(failures, key=lambda f: _HTTP_REASON_RANK.index(f.code))
    return NotYet(worst.code, "; ".join(f.message for f in failures))


# --------------------------------------------------------------------------- methods


def _background_not_due(ctx: SubmitContext) -> NotYet | None:
    """Background sweeps pass ``{"background": True}``: skip a domain checked recently, so a
    pending day-long verification costs a look-up every few minutes, not every sweep."""
    state = _state(ctx.verification)
    now = utcnow()
    last = state.get("checked_at")
    if ctx.payload.get("background") and isinstance(last, str):
        wait = timedelta(seconds=ctx.settings.domain_recheck_seconds)
        if now - parse_instant(last) < wait:
            return NotYet("not_due", "Checked recently; the next background check is later")
    state["checked_at"] = isoformat_ms(now)
    ctx.verification.method_state = state
    return None


def _combine(first: NotYet, second: NotYet) -> NotYet:
    return NotYet(first.code, f"{first.message}; {second.message}")


class _DomainCheckMethod:
    type = "domain"
    channel: str
    background_check = True
    # The network the HTTP check talks to; None is the real one. Tests put a stand-in web server
    # here when they need a "public" first hop that loopback cannot provide.
    transport: httpx.AsyncBaseTransport | None = None

    def _base_challenge(self, ctx: ChallengeContext) -> dict[str, Any]:
        return {"expires_at": isoformat_ms(ctx.expires_at)}

    async def after_create(
        self, session: AsyncSession, ctx: ChallengeContext, *, test_mode: bool
    ) -> None:
        return None

    async def check_submission(self, ctx: SubmitContext) -> Outcome:
        raise BadRequest(
            "Domain records and files are checked with POST /api/v1/verifications/{id}/verify "
            "(and in the background), not by submitting a code",
            code="method_not_supported",
        )

    async def _check(self, ctx: SubmitContext) -> CheckOutcome:
        raise NotImplementedError

    async def check_now(self, ctx: SubmitContext) -> CheckOutcome:
        not_due = _background_not_due(ctx)
        if not_due is not None:
            return not_due
        return await self._check(ctx)


def _dns_fields(ctx: ChallengeContext) -> dict[str, Any]:
    name = record_name(ctx.verification.identifier, ctx.settings)
    value = expected_value(ctx.verification)
    return {"record_type": "TXT", "record_name": name, "record_value": value}


def _http_fields(ctx: ChallengeContext) -> dict[str, Any]:
    return {
        "file_path": FILE_PATH,
        "file_content": expected_value(ctx.verification),
        "file_url": file_urls(ctx.verification.identifier, ctx.settings)[0],
    }


class DnsMethod(_DomainCheckMethod):
    channel = "dns"

    def challenge(self, ctx: ChallengeContext) -> dict[str, Any]:
        fields = _dns_fields(ctx)
        return {
            **self._base_challenge(ctx),
            **fields,
            "instruction": (
                f"Add a DNS TXT record named {fields['record_name']} with the value "
                f"{fields['record_value']}, then ask vouch to verify"
            ),
        }

    async def _check(self, ctx: SubmitContext) -> CheckOutcome:
        return await check_dns(ctx.verification, ctx.settings)


class HttpFileMethod(_DomainCheckMethod):
    channel = "http"

    def challenge(self, ctx: ChallengeContext) -> dict[str, Any]:
        fields = _http_fields(ctx)
        return {
            **self._base_challenge(ctx),
            **fields,
            "instruction": (
                f"Serve a file at {fields['file_url']} containing {fields['file_content']}, "
                "then ask vouch to verify"
            ),
        }

    async def _check(self, ctx: SubmitContext) -> CheckOutcome:
        return await check_http(ctx.verification, ctx.settings, self.transport)


class AutoMethod(_DomainCheckMethod):
    """``auto``: the DNS record or the file, whichever the person publishes.

    proof.holdings' ``dns_provider`` asks it to publish the record with the caller's DNS provider
    credentials; vouch does not take third-party DNS credentials (they would be secrets held for a
    24-hour challenge), so the field is accepted and ignored, never stored."""

    channel = "auto"

    def challenge(self, ctx: ChallengeContext) -> dict[str, Any]:
        dns_fields = _dns_fields(ctx)
        http_fields = _http_fields(ctx)
        return {
            **self._base_challenge(ctx),
            **dns_fields,
            **http_fields,
            "instruction": (
                f"Add a DNS TXT record named {dns_fields['record_name']} with the value "
                f"{dns_fields['record_value']}, or serve {http_fields['file_url']} containing it"
            ),
        }

    async def _check(self, ctx: SubmitContext) -> CheckOutcome:
        by_dns = await check_dns(ctx.verification, ctx.settings)
        if isinstance(by_dns, Accepted):
            return by_dns
        by_http = await check_http(ctx.verification, ctx.settings, self.transport)
        if isinstance(by_http, Accepted):
            return by_http
        return _combine(by_dns, by_http)


class DomainEmailMethod(EmailCodeMethod):
    """A code mailed to an administrative mailbox of the domain; the person enters it.

    The code is the secret that travels through the mailbox, so the create response shows it only
    in test mode (where nothing is sent); in live mode the integrator never sees it."""

    def __init__(self) -> None:
        super().__init__("domain", "email")

    def challenge(self, ctx: ChallengeContext) -> dict[str, Any]:
        state = _state(ctx.verification)
        prefix = state.get("email_prefix")
        if prefix not in ADMIN_MAILBOXES:
            prefix = ADMIN_MAILBOXES[0]
        mailbox = f"{prefix}@{ctx.verification.identifier}"
        ctx.verification.method_state = {**state, "email_prefix": prefix, "send_to": mailbox}
        data: dict[str, Any] = {
            "expires_at": isoformat_ms(ctx.expires_at),
            "instruction": f"Enter the code vouch emailed to {mailbox}",
            "send_to": mailbox,
            "email_prefix": prefix,
        }
        if ctx.verification.environment == "test":
            data["code"] = ctx.code
        return data

    # The verification service mails the code (and a magic link) to ``send_to`` once the
    # verification exists, in live mode; the create response never shows a live code.
    mails_code_on_create = True

    async def after_create(
        self, session: AsyncSession, ctx: ChallengeContext, *, test_mode: bool
    ) -> None:
        if not test_mode and not ctx.settings.smtp_url:
            raise BadRequest(
                "Domain email verification needs outbound mail (VOUCH_SMTP_URL) to be configured",
                code="channel_not_configured",
            )
        await super().after_create(session, ctx, test_mode=test_mode)


register(DnsMethod())
register(HttpFileMethod())
register(AutoMethod())
register(DomainEmailMethod())
