"""Stand-ins for the email world on loopback: an authoritative DNS server that publishes DKIM keys
(dnspython's message API over UDP), DKIM signers (dkimpy with RSA keys made here), an SMTP server
that collects what vouch sends (aiosmtpd), and an app wired to them."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import dkim  # type: ignore[import-untyped]
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dns.rdtypes.ANY.TXT import TXT
from fastapi import FastAPI

from vouch_server.app import create_app

INBOUND = "verify@vouch.test"
SECRET = "inbound-email-secret-0123456789"
EMAIL_FROM = "noreply@vouch.test"
SMTP_USER = "vouch-relay"
SMTP_PASSWORD = "relay-pass-word"


# -- DNS -------------------------------------------------------------------------------------------
@dataclass
class DnsStandIn:
    """TXT records by name; every query is recorded. ``failing`` answers SERVFAIL to all."""

    port: int = 0
    records: dict[str, list[bytes]] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)
    failing: bool = False

    @property
    def nameservers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def publish(self, name: str, value: bytes) -> None:
        self.records.setdefault(name.lower().rstrip(".") + ".", []).append(value)

    def answer(self, wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name = question.name.to_text().lower()
        self.queries.append(name)
        if self.failing:
            response.set_rcode(dns.rcode.SERVFAIL)
        elif name not in self.records:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.TXT:
            rdatas = [
                # A TXT character-string holds at most 255 bytes (RFC 1035 §3.3): split long keys.
                TXT(
                    dns.rdataclass.IN,
                    dns.rdatatype.TXT,
                    [value[i : i + 255] for i in range(0, len(value), 255)],
                )
                for value in self.records[name]
            ]
            response.answer.append(dns.rrset.from_rdata_list(question.name, 300, rdatas))
        return response.to_wire()  # type: ignore[no-any-return]


@contextmanager
def run_dns() -> Iterator[DnsStandIn]:
    server = DnsStandIn()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    server.port = sock.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                wire, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            sock.sendto(server.answer(wire), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()


# -- DKIM ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DkimKey:
    selector: str
    domain: str
    private_pem: bytes
    record: bytes  # the TXT value published at <selector>._domainkey.<domain>

    @property
    def name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"


def make_key(domain: str, selector: str = "s2026", bits: int = 2048) -> DkimKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public_der)
    return DkimKey(selector, domain, private_pem, record)


SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"mime-version"]


def sign(raw: bytes, key: DkimKey, **options: Any) -> bytes:
    """Prepend a DKIM-Signature as the author's mail server would (relaxed/relaxed, like Gmail)."""
    options.setdefault("canonicalize", (b"relaxed", b"relaxed"))
    options.setdefault("include_headers", SIGNED_HEADERS)
    signature = dkim.sign(
        raw, key.selector.encode(), key.domain.encode(), key.private_pem, **options
    )
    return signature + raw  # type: ignore[no-any-return]


def compose(
    body: str,
    *,
    sender: str = "Ona Petraitė <ona@example.com>",
    to: str = INBOUND,
    subject: str = "Verification",
    extra_headers: dict[str, str] | None = None,
) -> bytes:
    """A message as a mail client writes it: multipart/alternative, plain and HTML."""
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        "Date: Tue, 04 Feb 2026 10:00:00 +0000",
        "Message-ID: <CAF=q7w+Jx9Y@mail.example.com>",
        "MIME-Version: 1.0",
        *(f"{k}: {v}" for k, v in (extra_headers or {}).items()),
        'Content-Type: multipart/alternative; boundary="000000000000b1f0c2"',
        "",
        "--000000000000b1f0c2",
        'Content-Type: text/plain; charset="UTF-8"',
        "",
        body,
        "",
        "--000000000000b1f0c2",
        'Content-Type: text/html; charset="UTF-8"',
        "",
        f'<div dir="ltr">{body}</div>',
        "",
        "--000000000000b1f0c2--",
        "",
    ]
    return "\r\n".join(lines).encode("utf-8")


# -- SMTP ------------------------------------------------------------------------------------------
@dataclass
class SmtpSink:
    port: int = 0
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{self.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 2.0.0 Queued"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def run_smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port())

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
        ok = (
            isinstance(auth, LoginPassword)
            and auth.login == SMTP_USER.encode()
            and auth.password == SMTP_PASSWORD.encode()
        )
        if ok:
            sink.logins.append(SMTP_USER)
        return AuthResult(success=ok)

    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=sink.port,
        server_hostname="relay.test",
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


# -- the app ---------------------------------------------------------------------------------------
@asynccontextmanager
async def email_app(
    settings_factory: Any, dns_server: DnsStandIn, **overrides: Any
) -> AsyncIterator[FastAPI]:
    values: dict[str, Any] = {
        "allow_private_targets": True,
        "webhook_worker_enabled": False,
        "inbound_email_address": INBOUND,
        "inbound_email_secret": SECRET,
        "dns_nameservers": dns_server.nameservers,
        "dns_timeout_seconds": 2.0,
        "email_from": EMAIL_FROM,
    }
    values.update(overrides)
    app = create_app(settings_factory(**values))
    await app.state.vouch.limiter.reset()
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def client_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://vouch.test") as client:
        yield client


async def post_email(
    client: httpx.AsyncClient, raw: bytes, secret: str | None = SECRET
) -> httpx.Response:
    headers = {"Content-Type": "message/rfc822"}
    if secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    return await client.post("/inbound/email", content=raw, headers=headers)
