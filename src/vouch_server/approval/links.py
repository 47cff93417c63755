"""Signed, single-use, expiring links to the hosted page ``/approve/{token}``.

A token is ``<link id>.<expiry, Unix seconds>.<signature>``, the signature being base64url
HMAC-SHA256 (RFC 2104) of ``"<link id>.<expiry>"`` under a key derived from the master secret
(HKDF purpose ``approval-links``). The signature is checked in constant time before the database
is read, so a forged or altered token costs one HMAC; the ``approval_links`` row then says what the
link is for (a confirmation over the web or by email, or an email consent request), and marking it
used is a conditional ``UPDATE … WHERE used_at IS NULL``: of two presses of the same link exactly
one counts. The token itself is never stored.

Kinds: ``web`` (``POST /api/v1/confirmations/{id}/approval-link``), ``email`` (the approve/deny
links of an approval email; ``recipient`` is the address), ``consent`` (an email consent request).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.kit.clock import truncate_ms, utcnow
from vouch_server.kit.ids import new_object_id
from vouch_server.kit.secretbox import derive_key
from vouch_server.models.delegation import ApprovalLink
from vouch_server.runtime import Runtime

TOKEN_RE = re.compile(r"^([0-9a-f]{24})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")
KINDS = ("web", "email", "consent")


class LinkRefused(Exception):
    """Why a link cannot be used; ``code`` is stable, ``message`` is shown to the person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _key(runtime: Runtime) -> bytes:
    key = runtime.extras.get("approval_link_key")
    if not isinstance(key, bytes):
        key = derive_key(runtime.settings.master_key, "approval-links")
        runtime.extras["approval_link_key"] = key
    return key


def _signature(runtime: Runtime, link_id: str, expiry: int) -> str:
    mac = hmac.new(_key(runtime), f"{link_id}.{expiry}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


async def issue(
    session: AsyncSession,
    runtime: Runtime,
    *,
    kind: str,
    subject_id: str,
    expires_at: datetime,
    recipient: str | None = None,
) -> tuple[ApprovalLink, str]:
    """A new link row and its token (shown once: in the email, or to the API caller)."""
    if kind not in KINDS:
        raise ValueError(f"unknown link kind {kind!r}")
    expiry = int(expires_at.timestamp())
    row = ApprovalLink(
        id=new_object_id(),
        kind=kind,
        subject_id=subject_id,
        recipient=recipient,
        expires_at=datetime.fromtimestamp(expiry, UTC),
        created_at=truncate_ms(utcnow()),
    )
    session.add(row)
    await session.flush()
    return row, f"{row.id}.{expiry}.{_signature(runtime, row.id, expiry)}"


def url_for(runtime: Runtime, token: str, action: str | None = None) -> str:
    base = f"{runtime.settings.public_url}/approve/{token}"
    return f"{base}?action={action}" if action else base


def _signed_parts(runtime: Runtime, token: str) -> tuple[str, int] | None:
    """The link id and expiry of a well-formed token whose signature is right, else None."""
    match = TOKEN_RE.fullmatch(token)
    if match is None:
        return None
    link_id, expiry_text, signature = match.groups()
    expiry = int(expiry_text)
    if not hmac.compare_digest(_signature(runtime, link_id, expiry).encode(), signature.encode()):
        return None
    return link_id, expiry


def is_signed_and_current(runtime: Runtime, token: str) -> bool:
    """Whether ``token`` is a link this server signed that has not expired, without reading the
    database (one HMAC): what the edge asks before it reads more than 10 KB of a form."""
    signed = _signed_parts(runtime, token)
    return signed is not None and signed[1] > int(utcnow().timestamp())


async def open_link(session: AsyncSession, runtime: Runtime, token: str) -> ApprovalLink:
    """The link a token names, if its signature is right and it has not expired.

    Raises ``LinkRefused``: ``invalid_link`` (malformed or forged), ``link_expired``,
    ``link_used``. Reading does not use the link up; ``consume`` does."""
    signed = _signed_parts(runtime, token)
    if signed is None:
        raise LinkRefused("invalid_link", "This link is not valid.")
    link_id, expiry = signed
    row = await session.get(ApprovalLink, link_id)
    if row is None or int(row.expires_at.timestamp()) != expiry:
        raise LinkRefused("invalid_link", "This link is not valid.")
    if row.used_at is not None:
        raise LinkRefused("link_used", "This link has already been used.")
    if row.expires_at <= utcnow():
        raise LinkRefused("link_expired", "This link has expired.")
    return row


async def consume(session: AsyncSession, row: ApprovalLink) -> None:
    """Use the link up, once: a second use (a replay, a double submit, another process) fails."""
    now = truncate_ms(utcnow())
    result = await session.execute(
        update(ApprovalLink)
        .where(
            ApprovalLink.id == row.id,
            ApprovalLink.used_at.is_(None),
            ApprovalLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0)) != 1:
        raise LinkRefused("link_used", "This link has already been used.")
