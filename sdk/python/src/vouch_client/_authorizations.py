"""``client.authorizations``: recipients' consent to be messaged (``/api/v1/authorizations``).

Create (the recipient is asked), list and every page, get, revoke, answer as the recipient
(test keys), and the audit export (JSON, or CSV text). The request builders are shared by
:class:`Authorizations` and :class:`AsyncAuthorizations`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import cast

from ._client import _Call, _compact, _query, _segment, _timestamp
from ._paging import AsyncResource, Paging, SyncResource, numbered
from ._types import Authorization, AuthorizationExport, AuthorizationList

__all__ = ["AsyncAuthorizations", "Authorizations"]

_BASE = "/api/v1/authorizations"


def _one(authorization_id: str, tail: str = "") -> str:
    return f"{_BASE}/{_segment(authorization_id)}{tail}"


def _create(
    channel: str,
    recipient: str | int | None,
    phone: str | None,
    bsuid: str | None,
    hitl_id: str | None,
    scope: str | None,
    business_name: str | None,
    expires_in: int | None,
) -> _Call:
    body = _compact(
        {
            "channel": channel,
            "recipient": recipient,
            "phone": phone,
            "bsuid": bsuid,
            "hitl_id": hitl_id,
            "scope": scope,
            "business_name": business_name,
            "expires_in": expires_in,
        }
    )
    return _Call("POST", _BASE, body=body)


def _list(
    page: int | None,
    limit: int | None,
    status: str | None,
    channel: str | None,
    recipient: str | None,
) -> _Call:
    params = _query(
        {"page": page, "limit": limit, "status": status, "channel": channel, "recipient": recipient}
    )
    return _Call("GET", _BASE, params=params)


def _pages(
    limit: int, status: str | None, channel: str | None, recipient: str | None
) -> Paging[int]:
    return numbered(lambda page: _list(page, limit, status, channel, recipient))


def _revoke(authorization_id: str, reason: str | None) -> _Call:
    return _Call("DELETE", _one(authorization_id), params=_query({"reason": reason}))


def _test_respond(authorization_id: str, action: str) -> _Call:
    return _Call("POST", _one(authorization_id, "/test-respond"), body={"action": action})


def _export(
    format: str,
    status: str | None,
    since: str | datetime | None,
    until: str | datetime | None,
) -> _Call:
    params = _query(
        {
            "format": format,
            "status": status,
            "from": None if since is None else _timestamp(since),
            "to": None if until is None else _timestamp(until),
        }
    )
    return _Call("GET", f"{_BASE}/export", params=params, text=format == "csv")


class Authorizations(SyncResource):
    """``client.authorizations``."""

    def create(
        self,
        channel: str,
        recipient: str | int | None = None,
        *,
        phone: str | None = None,
        bsuid: str | None = None,
        hitl_id: str | None = None,
        scope: str | None = None,
        business_name: str | None = None,
        expires_in: int | None = None,
    ) -> Authorization:
        """``POST /api/v1/authorizations``: ask ``recipient`` (a Telegram chat id, a phone
        number, an email address) to consent; ``deep_link`` is what they open."""
        call = _create(channel, recipient, phone, bsuid, hitl_id, scope, business_name, expires_in)
        return cast(Authorization, self._send(call))

    def list(
        self,
        *,
        page: int | None = None,
        limit: int | None = None,
        status: str | None = None,
        channel: str | None = None,
        recipient: str | None = None,
    ) -> AuthorizationList:
        call = _list(page, limit, status, channel, recipient)
        return cast(AuthorizationList, self._send(call))

    def iter(
        self,
        *,
        limit: int = 100,
        status: str | None = None,
        channel: str | None = None,
        recipient: str | None = None,
    ) -> Iterator[Authorization]:
        """Every authorization matching the filters, page by page."""
        return self._walk(_pages(limit, status, channel, recipient))

    def get(self, authorization_id: str) -> Authorization:
        return cast(Authorization, self._send(_Call("GET", _one(authorization_id))))

    def revoke(self, authorization_id: str, reason: str | None = None) -> Authorization:
        """Withdraw the consent (and its proof); ``reason`` defaults to ``user_request``."""
        return cast(Authorization, self._send(_revoke(authorization_id, reason)))

    def test_respond(self, authorization_id: str, action: str) -> Authorization:
        """Test keys only: ``approve`` or ``deny`` as the recipient would."""
        return cast(Authorization, self._send(_test_respond(authorization_id, action)))

    def export(
        self,
        *,
        status: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
    ) -> AuthorizationExport:
        """Consent records for an audit, oldest first (at most 10,000: see ``truncated``)."""
        return cast(AuthorizationExport, self._send(_export("json", status, since, until)))

    def export_csv(
        self,
        *,
        status: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
    ) -> str:
        """The same records as CSV text."""
        return cast(str, self._send(_export("csv", status, since, until)))


class AsyncAuthorizations(AsyncResource):
    """``async_client.authorizations``: the asynchronous twin of :class:`Authorizations`."""

    async def create(
        self,
        channel: str,
        recipient: str | int | None = None,
        *,
        phone: str | None = None,
        bsuid: str | None = None,
        hitl_id: str | None = None,
        scope: str | None = None,
        business_name: str | None = None,
        expires_in: int | None = None,
    ) -> Authorization:
        call = _create(channel, recipient, phone, bsuid, hitl_id, scope, business_name, expires_in)
        return cast(Authorization, await self._send(call))

    async def list(
        self,
        *,
        page: int | None = None,
        limit: int | None = None,
        status: str | None = None,
        channel: str | None = None,
        recipient: str | None = None,
    ) -> AuthorizationList:
        call = _list(page, limit, status, channel, recipient)
        return cast(AuthorizationList, await self._send(call))

    def iter(
        self,
        *,
        limit: int = 100,
        status: str | None = None,
        channel: str | None = None,
        recipient: str | None = None,
    ) -> AsyncIterator[Authorization]:
        return self._walk(_pages(limit, status, channel, recipient))

    async def get(self, authorization_id: str) -> Authorization:
        return cast(Authorization, await self._send(_Call("GET", _one(authorization_id))))

    async def revoke(self, authorization_id: str, reason: str | None = None) -> Authorization:
        return cast(Authorization, await self._send(_revoke(authorization_id, reason)))

    async def test_respond(self, authorization_id: str, action: str) -> Authorization:
        return cast(Authorization, await self._send(_test_respond(authorization_id, action)))

    async def export(
        self,
        *,
        status: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
    ) -> AuthorizationExport:
        call = _export("json", status, since, until)
        return cast(AuthorizationExport, await self._send(call))

    async def export_csv(
        self,
        *,
        status: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
    ) -> str:
        return cast(str, await self._send(_export("csv", status, since, until)))
