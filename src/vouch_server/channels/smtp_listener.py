"""The built-in SMTP listener (RFC 5321) for reverse email: ``vouch serve --smtp-port N``.

It accepts mail for ``VOUCH_INBOUND_EMAIL_ADDRESS`` only (``RCPT TO`` anything else is 550), up to
``VOUCH_INBOUND_EMAIL_MAX_BYTES`` (announced with the SIZE extension, RFC 1870), and hands each
message to the same processing as ``POST /inbound/email`` (``control.email_flow.receive``). The
answer to ``DATA`` tells the sending server what happened: 250 when the message was taken, 550 when
it proves nothing (unsigned or spoofed: refused in the session, so no bounce of ours reaches a
forged sender), 451 when a DKIM key could not be fetched now (the sender retries), 450 when one
address sends too much.

The SMTP protocol (aiosmtpd) runs on its own thread and event loop; each message is processed on
the event loop that owns the runtime (its database engine, limiter and live-status bus are bound to
that loop). Plain SMTP only: put a TLS-terminating MTA in front for STARTTLS.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Coroutine
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession

from vouch_server.control import email_flow
from vouch_server.errors import RetryLater
from vouch_server.runtime import Runtime

log = logging.getLogger("vouch.channels.smtp")

_REFUSED = "550 5.7.1 Message refused: no valid DKIM signature aligned with the From address"
# DKIM look-ups, the dispatcher and a reply by SMTP all fit well within this.
PROCESS_TIMEOUT_SECONDS = 90.0
_MALFORMED = "550 5.6.0 Message refused: it must have exactly one From address"


def _answer(outcome: email_flow.EmailOutcome) -> str:
    if outcome.accepted or outcome.reason == "automatic":
        # Automatic mail (bounces, auto-replies) is taken and dropped: refusing it would bounce.
        return "250 2.0.0 OK"
    if outcome.reason.startswith("dkim_"):
        return _REFUSED
    return _MALFORMED


async def process(runtime: Runtime, raw: bytes, mail_from: str | None, peer: str) -> str:
    """One message, on the runtime's loop, in its own unit of work; returns the SMTP reply."""
    settings = runtime.settings
    state = await runtime.limiter.hit(settings.rate_limit_public, "smtp", peer)
    if not state.allowed:
        return "450 4.7.1 Too many messages from your address; try again later"
    try:
        async with runtime.db.session() as session:
            outcome = await email_flow.receive(session, runtime, raw, envelope_sender=mail_from)
    except RetryLater:
        return "451 4.4.3 Temporary failure checking the message; try again later"
    except Exception:
        log.exception("processing an inbound email failed")
        return "451 4.3.0 Local error; try again later"
    return _answer(outcome)


class _Handler:
    """aiosmtpd handler hooks (``handle_RCPT``, ``handle_DATA``)."""

    def __init__(
        self, runtime: Runtime, address: str, target: asyncio.AbstractEventLoop | None
    ) -> None:
        self.runtime = runtime
        self.address = address.strip().lower()
        self.target = target

    async def handle_RCPT(
        self,
        server: SMTP,
        session: SmtpSession,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.strip().lower() != self.address:
            return "550 5.1.1 Recipient address rejected: not a vouch mailbox"
        if address not in envelope.rcpt_tos:
            envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        raw = envelope.original_content
        if raw is None:
            content = envelope.content
            raw = (
                content.encode("utf-8", "surrogateescape") if isinstance(content, str) else content
            )
        peer = str(session.peer[0]) if isinstance(session.peer, tuple) else "unknown"
        job = process(self.runtime, raw or b"", envelope.mail_from, peer)
        return await self._run(job)

    async def _run(self, job: Coroutine[Any, Any, str]) -> str:
        if self.target is None or self.target is asyncio.get_running_loop():
            return await job
        try:
            future = asyncio.run_coroutine_threadsafe(job, self.target)
        except RuntimeError:  # the app's loop is closed (shutting down)
            job.close()
            return "451 4.3.0 Local error; try again later"
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), PROCESS_TIMEOUT_SECONDS)
        except TimeoutError:  # cancelled on the app's loop; the sender retries later
            return "451 4.3.0 Local error; try again later"


class SmtpListener:
    """A running listener; ``port`` is the bound port (useful with port 0). ``stop()`` closes it."""

    def __init__(
        self, runtime: Runtime, sock: socket.socket, target: asyncio.AbstractEventLoop | None
    ) -> None:
        address = runtime.settings.inbound_email_address or ""
        self.host, self.port = sock.getsockname()[:2]
        self._sock = sock
        self._runtime = runtime
        self._handler = _Handler(runtime, address, target)
        self._hostname = address.rpartition("@")[2] or "localhost"
        self._limit = runtime.settings.inbound_email_max_bytes
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="vouch-smtp", daemon=True)

    def _factory(self) -> SMTP:
        return SMTP(
            self._handler,
            hostname=self._hostname,
            ident="vouch",
            data_size_limit=self._limit,
            enable_SMTPUTF8=True,
            decode_data=False,
            timeout=120,
            loop=self._loop,
        )

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            server = self._loop.run_until_complete(
                self._loop.create_server(self._factory, sock=self._sock)
            )
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            tasks = asyncio.all_tasks(self._loop)
            for task in tasks:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._loop.run_until_complete(server.wait_closed())
            if self._handler.target is None:
                # The runtime was used on this loop only; its connections die with it.
                self._loop.run_until_complete(self._runtime.close())
            self._loop.close()

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._sock.close()


def start_smtp_listener(
    runtime: Runtime,
    host: str,
    port: int,
    *,
    loop: asyncio.AbstractEventLoop | None = None,
) -> SmtpListener:
    """Listen for SMTP on ``host:port`` (0 = any free port) and return the running listener.

    Call it from the event loop that serves the app (an async ``main`` before ``await
    server.serve()``, or a lifespan hook), or pass that ``loop``: messages are processed there.
    Called outside any event loop without ``loop``, messages are processed on the listener's own
    loop, so ``runtime`` must then be one only the listener uses (``Runtime.build(settings)``,
    e.g. beside a multi-worker server on PostgreSQL); ``stop()`` then closes it.
    """
    if not runtime.settings.inbound_email_address:
        raise ValueError("VOUCH_INBOUND_EMAIL_ADDRESS must be set to receive email")
    if loop is None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family)  # binds now: errors surface here
    sock.setblocking(False)
    listener = SmtpListener(runtime, sock, loop)
    try:
        listener.start()
    except BaseException:
        sock.close()
        raise
    log.info(
        "SMTP listener on %s:%s for %s",
        listener.host,
        listener.port,
        runtime.settings.inbound_email_address,
    )
    return listener
