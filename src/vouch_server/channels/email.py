"""Email: who a message is from, proven by DKIM; and sending mail over SMTP.

Inbound (reverse OTP): a message counts only when a DKIM signature (RFC 6376) verifies for a domain
aligned with the ``From:`` address — the RFC 5322 author a person sees, which is what DMARC
(RFC 7489 §3.1) protects. Public keys are fetched from ``<s>._domainkey.<d>`` (RFC 6376 §3.6.2.1)
through vouch's own resolver (``VOUCH_DNS_NAMESERVERS``), never the library's default. On top of a
valid signature, a signature is only taken when

- its ``d=`` is the From domain or a parent of it (relaxed alignment, RFC 7489 §3.1.1). vouch has
  no Public Suffix List, so it never aligns the other way (``d=`` below the From domain): a
  parent's DNS operator already controls every name beneath it, a child's does not;
- it signs ``From`` (RFC 6376 §5.4: "The From header field MUST be signed");
- it covers the whole body — a ``l=`` body length would let anyone append text (a code) to a
  message signed for someone else (RFC 6376 §8.2);
- it is not ``rsa-sha1`` (RFC 8301 §3.1) and its RSA key has at least 1024 bits (RFC 8301 §3.2).

The message must have exactly one ``From`` field with exactly one mailbox (RFC 5322 §3.6), parsed
from the same bytes DKIM verified, so a second or malformed author cannot ride on a signature.

Outbound: ``smtp://user:pass@host:port`` (STARTTLS when offered; ``?starttls=required`` insists,
``?starttls=off`` never) and ``smtps://…`` (implicit TLS, RFC 8314), sent with the standard
library's ``smtplib`` in a worker thread. The operator's ``VOUCH_SMTP_URL`` is trusted as set (a
local relay is normal); a project's own SMTP URL was typed into the API, so ``send_mail`` puts its
host through the SSRF guard at every send and connects to the address the guard approved, while
STARTTLS / implicit TLS still verify the certificate against the host name.
"""

from __future__ import annotations

import asyncio
import email
import email.errors
import email.message
import email.policy
import html
import logging
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.headerregistry import AddressHeader
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Final
from urllib.parse import parse_qs, unquote, urlsplit

import dkim  # type: ignore[import-untyped]
import dkim.util  # type: ignore[import-untyped]
import dns.exception
import dns.name
import dns.nameserver
import dns.resolver
import idna
from dns.rdtypes.ANY.TXT import TXT

from vouch_server.config import Settings
from vouch_server.errors import RetryLater
from vouch_server.kit.clock import utcnow
from vouch_server.kit.urls import Resolver, UnsafeUrl, approve_host

log = logging.getLogger("vouch.channels.email")
_dkim_log = logging.getLogger("vouch.channels.email.dkim")

# A message may carry several signatures (its author's domain, an ESP, a forwarder); only the
# first few are tried, so one message cannot make vouch run dozens of DNS look-ups.
MAX_SIGNATURES: Final = 8
MAX_TEXT_CHARS: Final = 4000
MIN_RSA_BITS: Final = 1024
# RFC 3834 §5 and long-standing conventions that mark mail no person wrote.
_AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}


class EmailRefused(Exception):
    """The message cannot be read as mail from one author (not an HTTP error: an outcome)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ParsedEmail:
    from_address: str  # the addr-spec as written (the caller normalizes it)
    from_domain: str  # ASCII (A-label) lower case, for alignment
    text: str  # subject, then the body as plain text
    message_id: str | None
    # Written by a machine (auto-replies, bounces, lists): never a person sending a code.
    automatic: bool


@dataclass(frozen=True)
class DkimResult:
    """``pass`` (``domain`` is the aligned ``d=`` that verified), ``none`` (no signature),
    ``unaligned`` (no signature by an aligned domain), ``fail`` (an aligned signature did not
    verify), ``temperror`` (its key could not be fetched now), ``malformed``."""

    status: str
    domain: str | None = None

    @property
    def passed(self) -> bool:
        return self.status == "pass" and self.domain is not None


# -- parsing -------------------------------------------------------------------------------------
def ascii_domain(name: str) -> str | None:
    """A domain in its comparable form: lower-case A-labels without the root dot (RFC 5890).
    None for anything that is not a host name (an address literal, an empty label)."""
    text = name.strip().rstrip(".").lower()
    if not text or text.startswith("[") or any(not label for label in text.split(".")):
        return None
    try:
        return idna.encode(text, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        return text if text.isascii() and re.fullmatch(r"[a-z0-9._-]+", text) else None


def _single_mailbox(raw_value: bytes) -> tuple[str, str]:
    try:
        value = raw_value.decode("utf-8")  # RFC 6532 allows UTF-8 in header fields
    except UnicodeDecodeError as exc:
        raise EmailRefused("malformed_from") from exc
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", value).strip()
    header = email.policy.SMTPUTF8.header_factory("From", unfolded)
    if not isinstance(header, AddressHeader):
        raise EmailRefused("malformed_from")
    defects: tuple[Exception, ...] = getattr(header, "defects", ())
    serious = [d for d in defects if not isinstance(d, email.errors.ObsoleteHeaderDefect)]
    groups = header.groups
    if serious or len(header.addresses) != 1 or any(g.display_name for g in groups):
        # "victim@example.com <a@evil.com>" or two authors: a reader cannot tell who wrote it.
        raise EmailRefused("malformed_from")
    address = header.addresses[0]
    domain = ascii_domain(address.domain) if address.domain else None
    if not address.username or domain is None:
        raise EmailRefused("malformed_from")
    return address.addr_spec, domain


def _html_to_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", markup)
    return html.unescape(re.sub(r"(?s)<[^>]*>", " ", markup))


def _body_text(message: email.message.EmailMessage) -> str:
    try:
        part = message.get_body(preferencelist=("plain", "html"))
        if part is None:
            return ""
        content = part.get_content()
    except (LookupError, ValueError, KeyError, AttributeError, AssertionError):
        # An unknown charset or a broken transfer encoding: the subject may still carry the code.
        return ""
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        content = _html_to_text(content)
    return content


def _is_automatic(message: email.message.EmailMessage) -> bool:
    auto = str(message.get("Auto-Submitted", "no")).split(";")[0].strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (
        auto != "no"
        or precedence in _AUTOMATIC_PRECEDENCE
        or "X-Autoreply" in message
        or "X-Autorespond" in message
        or "List-Id" in message
        or message.get_content_type() == "multipart/report"  # DSNs, read receipts (RFC 6522)
    )


def parse_message(raw: bytes) -> ParsedEmail:
    """Read an RFC 5322 message: its one author, its text, whether a machine wrote it."""
    try:
        headers, _ = dkim.rfc822_parse(raw)
    except dkim.DKIMException as exc:
        raise EmailRefused("malformed") from exc
    # The author is read from the same header bytes DKIM verifies, not from a second parser's
    # idea of them.
    authors = [value for name, value in headers if name.lower() == b"from"]
    if len(authors) != 1:
        raise EmailRefused("malformed_from")
    address, domain = _single_mailbox(authors[0])
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    if len(message.get_all("From") or []) != 1:
        raise EmailRefused("malformed_from")
    try:
        subject = str(message.get("Subject", "") or "")
    except (ValueError, IndexError):
        subject = ""
    text = f"{subject}\n{_body_text(message)}"[:MAX_TEXT_CHARS]
    message_id = str(message.get("Message-ID", "") or "").strip()
    return ParsedEmail(
        from_address=address,
        from_domain=domain,
        text=text,
        message_id=message_id if re.fullmatch(r"<[^<>\s]{1,250}>", message_id) else None,
        automatic=_is_automatic(message),
    )


# -- DKIM ----------------------------------------------------------------------------------------
def aligned(signing_domain: str, from_domain: str) -> bool:
    """Relaxed alignment (RFC 7489 §3.1.1), one way: ``d=`` is the From domain or a parent of it.

    ``d=example.com`` aligns with ``a@mail.example.com``; ``d=mail.example.com`` does not align
    with ``a@example.com`` (without a Public Suffix List a child domain may belong to someone
    else), nor ``d=example.com.evil.net`` / ``d=ample.com`` with ``a@example.com``. A bare TLD
    never vouches for anyone."""
    signer = ascii_domain(signing_domain)
    author = ascii_domain(from_domain)
    if signer is None or author is None or "." not in signer:
        return False
    return author == signer or author.endswith("." + signer)


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


def _resolver(settings: Settings) -> dns.resolver.Resolver:
    """A blocking resolver on ``VOUCH_DNS_NAMESERVERS`` (else the system's); worker threads only."""
    if settings.dns_nameservers:
        resolver = dns.resolver.Resolver(configure=False)
        servers: list[dns.nameserver.Nameserver | str] = []
        for host, port in parse_nameservers(settings.dns_nameservers):
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
            addresses = sorted({str(info[4][0]) for info in infos})
            servers.extend(dns.nameserver.Do53Nameserver(a, port) for a in addresses)
        resolver.nameservers = servers
    else:
        resolver = dns.resolver.Resolver()
    resolver.timeout = settings.dns_timeout_seconds
    resolver.lifetime = settings.dns_timeout_seconds
    return resolver


class TxtLookup:
    """dkimpy's ``dnsfunc``: the key record at ``<s>._domainkey.<d>.`` through vouch's resolver.

    A missing name is "no key" (the signature fails); a resolver that cannot answer is a temporary
    error, remembered so the caller can ask the sender to retry instead of refusing the mail."""

    def __init__(self, resolver: dns.resolver.Resolver) -> None:
        self.resolver = resolver
        self.failed_temporarily = False

    def __call__(self, name: bytes | str, timeout: float = 5.0) -> bytes | None:
        qname = name.decode("ascii", "replace") if isinstance(name, bytes) else name
        try:
            answer = self.resolver.resolve(
                dns.name.from_text(qname), "TXT", raise_on_no_answer=False, search=False
            )
        except dns.resolver.NXDOMAIN:
            return None
        except (dns.resolver.NoNameservers, dns.exception.Timeout) as exc:
            self.failed_temporarily = True
            raise dkim.DnsTimeoutError(type(exc).__name__) from exc
        except dns.exception.DNSException:
            return None
        if answer.rrset is None:
            return None
        records = [b"".join(rdata.strings) for rdata in answer.rrset if isinstance(rdata, TXT)]
        # RFC 6376 §3.6.2.2: with several records the result is undefined; take one that is a key.
        return next((r for r in records if b"p=" in r), records[0] if records else None)


def _signed_headers(tags: dict[bytes, bytes]) -> list[bytes]:
    return [h.lower() for h in re.split(rb"\s*:\s*", tags.get(b"h", b"").strip()) if h]


def verify_dkim(raw: bytes, from_domain: str, lookup: TxtLookup, *, timeout: float) -> DkimResult:
    """Blocking: the first aligned DKIM signature that verifies (see the module docstring)."""
    try:
        verifier = dkim.DKIM(raw, logger=_dkim_log, minkey=MIN_RSA_BITS, timeout=timeout)
    except dkim.DKIMException:
        return DkimResult("malformed")
    signatures = [v for k, v in verifier.headers if k.lower() == b"dkim-signature"]
    if not signatures:
        return DkimResult("none")
    status = "unaligned"
    for index, value in enumerate(signatures[:MAX_SIGNATURES]):
        try:
            tags: dict[bytes, bytes] = dkim.util.parse_tag_value(value)
        except dkim.util.InvalidTagValueList:
            continue
        try:
            domain = tags.get(b"d", b"").decode("utf-8").strip()
        except UnicodeDecodeError:
            continue
        if not aligned(domain, from_domain):
            continue  # no DNS look-up for domains that could not count anyway
        algorithm = tags.get(b"a", b"").strip().lower()
        if algorithm == b"rsa-sha1" or b"l" in tags or b"from" not in _signed_headers(tags):
            status = "fail" if status != "temperror" else status
            continue
        lookup.failed_temporarily = False
        try:
            verified = bool(verifier.verify(idx=index, dnsfunc=lookup))
        except dkim.DKIMException:
            verified = False
        if verified:
            return DkimResult("pass", ascii_domain(domain))
        if lookup.failed_temporarily:
            status = "temperror"
        elif status != "temperror":
            status = "fail"
    return DkimResult(status)


async def authenticate(raw: bytes, from_domain: str, settings: Settings) -> DkimResult:
    """DKIM-verify ``raw`` for ``from_domain`` (DNS and RSA run in a worker thread)."""

    def run() -> DkimResult:
        try:
            resolver = _resolver(settings)
        except (OSError, ValueError, dns.exception.DNSException):
            log.warning("no usable DNS resolver for DKIM look-ups", exc_info=True)
            return DkimResult("temperror")
        lookup = TxtLookup(resolver)
        return verify_dkim(raw, from_domain, lookup, timeout=settings.dns_timeout_seconds)

    return await asyncio.to_thread(run)


# -- SMTP sending --------------------------------------------------------------------------------
class InvalidSmtpUrl(ValueError):
    pass


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    starttls: str  # "auto" | "required" | "off"
    username: str | None
    password: str | None

    def __repr__(self) -> str:  # never print the password
        return f"SmtpTarget(host={self.host!r}, port={self.port}, tls={self.implicit_tls})"


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://user:pass@host:port`` (default port 25) or ``smtps://…`` (default 465)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidSmtpUrl("SMTP URL is not valid") from exc
    if parts.scheme not in ("smtp", "smtps"):
        raise InvalidSmtpUrl("SMTP URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise InvalidSmtpUrl("SMTP URL must name a host")
    starttls = (parse_qs(parts.query).get("starttls") or ["auto"])[0].lower()
    if starttls not in ("auto", "required", "off"):
        raise InvalidSmtpUrl("starttls must be auto, required or off")
    implicit = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname,
        port=port or (465 if implicit else 25),
        implicit_tls=implicit,
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def build_message(
    *,
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    auto_submitted: str = "auto-generated",
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A plain-text message (RFC 5322) marked as written by a machine (RFC 3834
    ``Auto-Submitted``), so that well-behaved auto-responders do not answer it."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = " ".join(subject.split())[:200]
    message["Date"] = format_datetime(utcnow())
    domain = sender.rpartition("@")[2].strip("> ") or None
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = auto_submitted
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    return message


class _PinnedConnect:
    """Dials ``pinned_address`` (when set) instead of resolving the host again. ``smtplib`` keeps
    the name it was given in ``_host``, which is what STARTTLS and ``SMTP_SSL`` pass to TLS as
    ``server_hostname``: SNI and the certificate check stay on the name."""

    pinned_address: str | None = None

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        dial = self.pinned_address or host
        sock: socket.socket = super()._get_socket(dial, port, timeout)  # type: ignore[misc]
        return sock


class _PinnedSMTP(_PinnedConnect, smtplib.SMTP):
    pass


class _PinnedSMTPSSL(_PinnedConnect, smtplib.SMTP_SSL):
    pass


def _connect(
    target: SmtpTarget,
    addresses: tuple[str, ...] | None,
    *,
    timeout: float,
    local_hostname: str,
    context: ssl.SSLContext,
) -> smtplib.SMTP:
    """An SMTP session to ``target``: through the resolver, or to the first of the approved
    ``addresses`` that accepts the connection."""
    error: OSError | None = None
    for address in addresses or (None,):
        client: _PinnedSMTP | _PinnedSMTPSSL
        if target.implicit_tls:
            client = _PinnedSMTPSSL(local_hostname=local_hostname, timeout=timeout, context=context)
        else:
            client = _PinnedSMTP(local_hostname=local_hostname, timeout=timeout)
        client.pinned_address = address
        try:
            client.connect(target.host, target.port)
        except OSError as exc:
            client.close()
            error = exc
            continue
        return client
    assert error is not None
    raise error


def _send_blocking(
    target: SmtpTarget,
    message: EmailMessage,
    *,
    timeout: float,
    local_hostname: str,
    addresses: tuple[str, ...] | None = None,
) -> None:
    context = ssl.create_default_context()
    client = _connect(
        target, addresses, timeout=timeout, local_hostname=local_hostname, context=context
    )
    with client:
        client.ehlo()
        if not target.implicit_tls and target.starttls != "off":
            if client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            elif target.starttls == "required":
                raise smtplib.SMTPNotSupportedError("server does not offer STARTTLS")
        if target.username is not None:
            client.login(target.username, target.password or "")
        client.send_message(message)


async def send(
    settings: Settings,
    target: SmtpTarget,
    message: EmailMessage,
    *,
    addresses: tuple[str, ...] | None = None,
) -> None:
    """Hand ``message`` to the SMTP server (at one of ``addresses`` when given, else wherever its
    name resolves); any failure is ``RetryLater`` (without credentials)."""
    local_hostname = urlsplit(settings.public_url).hostname or "localhost"
    try:
        await asyncio.to_thread(
            _send_blocking,
            target,
            message,
            timeout=settings.smtp_timeout_seconds,
            local_hostname=local_hostname,
            addresses=addresses,
        )
    except smtplib.SMTPResponseException as exc:
        raise RetryLater(f"SMTP server refused the message ({exc.smtp_code})") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise RetryLater(f"SMTP send failed: {type(exc).__name__}") from exc


async def send_mail(
    server: Settings,
    effective: Settings,
    message: EmailMessage,
    *,
    resolver: Resolver | None = None,
) -> None:
    """Send ``message`` through the SMTP URL in force for a project (``effective``: the server
    settings with the project's own credentials laid over them).

    The operator's ``VOUCH_SMTP_URL`` is used as set. A project's own SMTP URL is caller-supplied:
    its host is resolved now (``resolver``, else the system's), every address must pass the SSRF
    guard (``VOUCH_ALLOW_PRIVATE_TARGETS`` lifts that), and the connection goes to an approved
    address — a name that has changed since registration cannot lead inside the network."""
    if not effective.smtp_url:
        raise RetryLater("VOUCH_SMTP_URL is not configured")
    try:
        target = parse_smtp_url(effective.smtp_url)
    except InvalidSmtpUrl as exc:
        raise RetryLater(str(exc)) from exc
    addresses = None
    if effective.smtp_url != server.smtp_url:
        try:
            approved = await approve_host(
                target.host,
                target.port,
                allow_private=server.allow_private_targets,
                resolver=resolver,
            )
        except UnsafeUrl as exc:
            raise RetryLater(f"SMTP host refused: {exc}") from exc
        addresses = approved.addresses
    await send(server, target, message, addresses=addresses)
