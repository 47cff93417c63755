"""``client.agents``: registering agents and their keys (``/v1/agents``).

Register, list and every page (by cursor), get, delete; add a key (optionally revoking the
previous ones), revoke a key, deposit a Web Bot Auth directory signature. Keys may be given as an
:class:`vouch_client.agents.AgentKey`, its base64url public key, or a public JWK. The request
builders are shared by :class:`Agents` and :class:`AsyncAgents`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, cast

from ._client import _Call, _compact, _query, _segment
from ._paging import AsyncResource, Paging, SyncResource, cursored
from ._types import Agent, AgentList
from .agents import AgentKey

__all__ = ["AgentPublicKey", "Agents", "AsyncAgents"]

_BASE = "/v1/agents"

AgentPublicKey = AgentKey | str | Mapping[str, Any]


def _public(key: AgentPublicKey) -> str | dict[str, Any]:
    if isinstance(key, AgentKey):
        return key.public_key
    return key if isinstance(key, str) else dict(key)


def _agent(agent_id: str, tail: str = "") -> str:
    return f"{_BASE}/{_segment(agent_id)}{tail}"


def _register(agent_id: str, public_key: AgentPublicKey, name: str | None) -> _Call:
    body = _compact({"agent_id": agent_id, "name": name, "public_key": _public(public_key)})
    return _Call("POST", _BASE, body=body)


def _list(limit: int | None, cursor: str | None) -> _Call:
    return _Call("GET", _BASE, params=_query({"limit": limit, "cursor": cursor}))


def _pages(limit: int) -> Paging[str | None]:
    return cursored(lambda cursor: _list(limit, cursor))


def _add_key(agent_id: str, public_key: AgentPublicKey, revoke_previous: bool | None) -> _Call:
    body = _compact({"public_key": _public(public_key), "revoke_previous": revoke_previous})
    return _Call("POST", _agent(agent_id, "/keys"), body=body)


def _key(agent_id: str, kid: str, tail: str = "") -> str:
    return _agent(agent_id, f"/keys/{_segment(kid)}{tail}")


def _directory_signature(agent_id: str, kid: str, signature_input: str, signature: str) -> _Call:
    body = {"signature_input": signature_input, "signature": signature}
    return _Call("PUT", _key(agent_id, kid, "/directory-signature"), body=body)


class Agents(SyncResource):
    """``client.agents``."""

    def register(
        self, agent_id: str, public_key: AgentPublicKey, *, name: str | None = None
    ) -> Agent:
        """``POST /v1/agents``: the agent and its first key."""
        return cast(Agent, self._send(_register(agent_id, public_key, name)))

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> AgentList:
        return cast(AgentList, self._send(_list(limit, cursor)))

    def iter(self, *, limit: int = 100) -> Iterator[Agent]:
        """Every agent of the project, page by page (``next_cursor``)."""
        return self._walk(_pages(limit))

    def get(self, agent_id: str) -> Agent:
        return cast(Agent, self._send(_Call("GET", _agent(agent_id))))

    def delete(self, agent_id: str) -> Agent:
        """The agent stops proving anything; answered with ``deleted_at`` set."""
        return cast(Agent, self._send(_Call("DELETE", _agent(agent_id))))

    def add_key(
        self, agent_id: str, public_key: AgentPublicKey, *, revoke_previous: bool | None = None
    ) -> Agent:
        """Another key (rotation); ``revoke_previous=True`` revokes the others at once."""
        return cast(Agent, self._send(_add_key(agent_id, public_key, revoke_previous)))

    def revoke_key(self, agent_id: str, kid: str) -> Agent:
        return cast(Agent, self._send(_Call("DELETE", _key(agent_id, kid))))

    def deposit_directory_signature(
        self, agent_id: str, kid: str, *, signature_input: str, signature: str
    ) -> Agent:
        """The RFC 9421 signature the key directory serves for ``kid`` (Web Bot Auth)."""
        call = _directory_signature(agent_id, kid, signature_input, signature)
        return cast(Agent, self._send(call))


class AsyncAgents(AsyncResource):
    """``async_client.agents``: the asynchronous twin of :class:`Agents`."""

    async def register(
        self, agent_id: str, public_key: AgentPublicKey, *, name: str | None = None
    ) -> Agent:
        return cast(Agent, await self._send(_register(agent_id, public_key, name)))

    async def list(self, *, limit: int | None = None, cursor: str | None = None) -> AgentList:
        return cast(AgentList, await self._send(_list(limit, cursor)))

    def iter(self, *, limit: int = 100) -> AsyncIterator[Agent]:
        return self._walk(_pages(limit))

    async def get(self, agent_id: str) -> Agent:
        return cast(Agent, await self._send(_Call("GET", _agent(agent_id))))

    async def delete(self, agent_id: str) -> Agent:
        return cast(Agent, await self._send(_Call("DELETE", _agent(agent_id))))

    async def add_key(
        self, agent_id: str, public_key: AgentPublicKey, *, revoke_previous: bool | None = None
    ) -> Agent:
        return cast(Agent, await self._send(_add_key(agent_id, public_key, revoke_previous)))

    async def revoke_key(self, agent_id: str, kid: str) -> Agent:
        return cast(Agent, await self._send(_Call("DELETE", _key(agent_id, kid))))

    async def deposit_directory_signature(
        self, agent_id: str, kid: str, *, signature_input: str, signature: str
    ) -> Agent:
        call = _directory_signature(agent_id, kid, signature_input, signature)
        return cast(Agent, await self._send(call))
