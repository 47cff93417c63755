"""``client.hitl``: human-in-the-loop configs (``/api/v1/hitl``).

Configs (create, list and every page, get, update, archive), their consent lifecycle
(``authorize``, ``finalize``), the end-to-end encryption keys (``keys``, approvers' keys) and
Telegram chat-id discovery. Asking the humans is ``client.confirmations``. The request builders
are shared by :class:`Hitl` and :class:`AsyncHitl`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import aclosing, closing
from typing import Any, cast

from ._client import _Call, _compact, _query, _segment
from ._paging import AsyncResource, Paging, SyncResource, numbered
from ._types import (
    ApproverKey,
    ApproverKeys,
    ChatIdDiscovery,
    HitlConfig,
    HitlConfigList,
    HitlKeys,
    ServerSentEvent,
)

__all__ = ["AsyncHitl", "Hitl"]

_BASE = "/api/v1/hitl"
_DISCOVERY = f"{_BASE}/chat-id-discovery"
# A discovery's stream ends with the first event that carries one of these.
_SETTLED = frozenset({"completed", "expired"})


def _discovery_events(token: str) -> str:
    return f"{_DISCOVERY}/{_segment(token)}/events"


def _settled(event: ServerSentEvent) -> bool:
    data = event["data"]
    return isinstance(data, dict) and data.get("status") in _SETTLED


def _config(hitl_id: str, tail: str = "") -> str:
    return f"{_BASE}/{_segment(hitl_id)}{tail}"


def _channels(channels: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]] | None:
    return None if channels is None else [dict(c) for c in channels]


def _create(name: str, channels: Sequence[Mapping[str, Any]], timeout_seconds: int | None) -> _Call:
    body = _compact(
        {"name": name, "channels": _channels(channels), "timeout_seconds": timeout_seconds}
    )
    return _Call("POST", _BASE, body=body)


def _update(
    hitl_id: str,
    name: str | None,
    channels: Sequence[Mapping[str, Any]] | None,
    timeout_seconds: int | None,
) -> _Call:
    body = _compact(
        {"name": name, "channels": _channels(channels), "timeout_seconds": timeout_seconds}
    )
    return _Call("PATCH", _config(hitl_id), body=body)


def _list(
    page: int | None, limit: int | None, status: str | None, environment: str | None
) -> _Call:
    params = _query({"page": page, "limit": limit, "status": status, "environment": environment})
    return _Call("GET", _BASE, params=params)


def _pages(limit: int, status: str | None, environment: str | None) -> Paging[int]:
    return numbered(lambda page: _list(page, limit, status, environment))


def _put_keys(hitl_id: str, keys: Mapping[str, Any]) -> _Call:
    return _Call("PUT", _config(hitl_id, "/keys"), body=dict(keys))


def _put_approver_key(hitl_id: str, authorization_id: str, public_key: str) -> _Call:
    path = _config(hitl_id, f"/approver-keys/{_segment(authorization_id)}")
    return _Call("PUT", path, body={"public_key": public_key})


class Hitl(SyncResource):
    """``client.hitl``."""

    def create(
        self,
        name: str,
        channels: Sequence[Mapping[str, Any]],
        *,
        timeout_seconds: int | None = None,
    ) -> HitlConfig:
        """``POST /api/v1/hitl``. ``channels``: e.g. ``[{"type": "telegram", "recipient":
        "12345"}]``. Created ``pending``; active once somebody can be asked."""
        return cast(HitlConfig, self._send(_create(name, channels, timeout_seconds)))

    def list(
        self,
        *,
        page: int | None = None,
        limit: int | None = None,
        status: str | None = None,
        environment: str | None = None,
    ) -> HitlConfigList:
        return cast(HitlConfigList, self._send(_list(page, limit, status, environment)))

    def iter(
        self, *, limit: int = 100, status: str | None = None, environment: str | None = None
    ) -> Iterator[HitlConfig]:
        """Every config matching the filters, page by page."""
        return self._walk(_pages(limit, status, environment))

    def get(self, hitl_id: str) -> HitlConfig:
        return cast(HitlConfig, self._send(_Call("GET", _config(hitl_id))))

    def update(
        self,
        hitl_id: str,
        *,
        name: str | None = None,
        channels: Sequence[Mapping[str, Any]] | None = None,
        timeout_seconds: int | None = None,
    ) -> HitlConfig:
        return cast(HitlConfig, self._send(_update(hitl_id, name, channels, timeout_seconds)))

    def delete(self, hitl_id: str) -> HitlConfig:
        """Archive the config (``DELETE``); it is answered ``archived``."""
        return cast(HitlConfig, self._send(_Call("DELETE", _config(hitl_id))))

    def authorize(self, hitl_id: str) -> dict[str, Any]:
        """Ask every recipient not yet asked for consent."""
        return cast(dict[str, Any], self._send(_Call("POST", _config(hitl_id, "/authorize"))))

    def finalize(self, hitl_id: str) -> HitlConfig:
        """``pending → active``; the answer adds the ``authorizations`` sent."""
        return cast(HitlConfig, self._send(_Call("POST", _config(hitl_id, "/finalize"))))

    def get_keys(self, hitl_id: str) -> HitlKeys:
        return cast(HitlKeys, self._send(_Call("GET", _config(hitl_id, "/keys"))))

    def put_keys(self, hitl_id: str, keys: Mapping[str, Any]) -> HitlKeys:
        """Upload the encryption keypair (``public_key``, ``encrypted_private_key``,
        ``kdf_salt``, …); confirmations must then be ciphertext."""
        return cast(HitlKeys, self._send(_put_keys(hitl_id, keys)))

    def delete_keys(self, hitl_id: str) -> dict[str, Any]:
        return cast(dict[str, Any], self._send(_Call("DELETE", _config(hitl_id, "/keys"))))

    def approver_keys(self, hitl_id: str) -> ApproverKeys:
        return cast(ApproverKeys, self._send(_Call("GET", _config(hitl_id, "/approver-keys"))))

    def put_approver_key(self, hitl_id: str, authorization_id: str, public_key: str) -> ApproverKey:
        call = _put_approver_key(hitl_id, authorization_id, public_key)
        return cast(ApproverKey, self._send(call))

    def start_chat_id_discovery(self) -> ChatIdDiscovery:
        """A Telegram link that tells you the chat id of whoever opens it."""
        return cast(ChatIdDiscovery, self._send(_Call("POST", _DISCOVERY)))

    def chat_id_discovery(self, token: str) -> ChatIdDiscovery:
        """``pending`` until the link is opened, then ``completed`` with ``chat_id``."""
        call = _Call("GET", f"{_DISCOVERY}/{_segment(token)}")
        return cast(ChatIdDiscovery, self._send(call))

    def watch_chat_id_discovery(self, token: str) -> Iterator[ServerSentEvent]:
        """Follow the discovery live (``GET …/chat-id-discovery/{token}/events``): ``connected``
        with its current state, a ``heartbeat`` now and then while it is ``pending``, and
        ``status_changed`` once it is ``completed`` (with ``chat_id``) or ``expired``, where the
        iterator stops. Leaving the loop early closes the connection."""
        with closing(self._client._stream(_discovery_events(token))) as events:
            for event in events:
                yield event
                if _settled(event):
                    return


class AsyncHitl(AsyncResource):
    """``async_client.hitl``: the asynchronous twin of :class:`Hitl`."""

    async def create(
        self,
        name: str,
        channels: Sequence[Mapping[str, Any]],
        *,
        timeout_seconds: int | None = None,
    ) -> HitlConfig:
        return cast(HitlConfig, await self._send(_create(name, channels, timeout_seconds)))

    async def list(
        self,
        *,
        page: int | None = None,
        limit: int | None = None,
        status: str | None = None,
        environment: str | None = None,
    ) -> HitlConfigList:
        return cast(HitlConfigList, await self._send(_list(page, limit, status, environment)))

    def iter(
        self, *, limit: int = 100, status: str | None = None, environment: str | None = None
    ) -> AsyncIterator[HitlConfig]:
        return self._walk(_pages(limit, status, environment))

    async def get(self, hitl_id: str) -> HitlConfig:
        return cast(HitlConfig, await self._send(_Call("GET", _config(hitl_id))))

    async def update(
        self,
        hitl_id: str,
        *,
        name: str | None = None,
        channels: Sequence[Mapping[str, Any]] | None = None,
        timeout_seconds: int | None = None,
    ) -> HitlConfig:
        call = _update(hitl_id, name, channels, timeout_seconds)
        return cast(HitlConfig, await self._send(call))

    async def delete(self, hitl_id: str) -> HitlConfig:
        return cast(HitlConfig, await self._send(_Call("DELETE", _config(hitl_id))))

    async def authorize(self, hitl_id: str) -> dict[str, Any]:
        call = _Call("POST", _config(hitl_id, "/authorize"))
        return cast(dict[str, Any], await self._send(call))

    async def finalize(self, hitl_id: str) -> HitlConfig:
        return cast(HitlConfig, await self._send(_Call("POST", _config(hitl_id, "/finalize"))))

    async def get_keys(self, hitl_id: str) -> HitlKeys:
        return cast(HitlKeys, await self._send(_Call("GET", _config(hitl_id, "/keys"))))

    async def put_keys(self, hitl_id: str, keys: Mapping[str, Any]) -> HitlKeys:
        return cast(HitlKeys, await self._send(_put_keys(hitl_id, keys)))

    async def delete_keys(self, hitl_id: str) -> dict[str, Any]:
        call = _Call("DELETE", _config(hitl_id, "/keys"))
        return cast(dict[str, Any], await self._send(call))

    async def approver_keys(self, hitl_id: str) -> ApproverKeys:
        call = _Call("GET", _config(hitl_id, "/approver-keys"))
        return cast(ApproverKeys, await self._send(call))

    async def put_approver_key(
        self, hitl_id: str, authorization_id: str, public_key: str
    ) -> ApproverKey:
        call = _put_approver_key(hitl_id, authorization_id, public_key)
        return cast(ApproverKey, await self._send(call))

    async def start_chat_id_discovery(self) -> ChatIdDiscovery:
        return cast(ChatIdDiscovery, await self._send(_Call("POST", _DISCOVERY)))

    async def chat_id_discovery(self, token: str) -> ChatIdDiscovery:
        call = _Call("GET", f"{_DISCOVERY}/{_segment(token)}")
        return cast(ChatIdDiscovery, await self._send(call))

    async def watch_chat_id_discovery(self, token: str) -> AsyncIterator[ServerSentEvent]:
        """See :meth:`Hitl.watch_chat_id_discovery`."""
        async with aclosing(self._client._stream(_discovery_events(token))) as events:
            async for event in events:
                yield event
                if _settled(event):
                    return
