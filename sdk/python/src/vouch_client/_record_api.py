"""``client.records``: signed records (``/v2/{resource}``, the Minka Ledger surface).

Create, list and every page (``?index=&limit=``, with ``meta.status`` / ``meta.labels`` /
``data.<field>`` filters), get, update (a new version), the history, and adding proofs. Sign and
check offline with :mod:`vouch_client.records`. The request builders are shared by
:class:`Records` and :class:`AsyncRecords`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, cast

from ._client import _Call, _compact, _query, _segment
from ._paging import AsyncResource, Paging, SyncResource, numbered
from ._types import Record, RecordChanges, RecordList

__all__ = ["AsyncRecords", "Records"]


def _base(resource: str) -> str:
    return f"/v2/{_segment(resource)}"


def _one(resource: str, record_id: str, tail: str = "") -> str:
    return f"{_base(resource)}/{_segment(record_id)}{tail}"


def _record_body(
    data: Mapping[str, Any], proofs: Sequence[Mapping[str, Any]] | None, hash: str | None
) -> dict[str, Any]:
    meta = None if proofs is None else {"proofs": [dict(p) for p in proofs]}
    return _compact({"data": dict(data), "hash": hash, "meta": meta})


def _create(
    resource: str,
    data: Mapping[str, Any],
    proofs: Sequence[Mapping[str, Any]] | None,
    hash: str | None,
) -> _Call:
    return _Call("POST", _base(resource), body=_record_body(data, proofs, hash))


def _update(
    resource: str,
    record_id: str,
    data: Mapping[str, Any],
    proofs: Sequence[Mapping[str, Any]] | None,
    hash: str | None,
) -> _Call:
    return _Call("PUT", _one(resource, record_id), body=_record_body(data, proofs, hash))


def _list(
    resource: str, index: int | None, limit: int | None, filters: Mapping[str, Any] | None
) -> _Call:
    params = _query({**(filters or {}), "index": index, "limit": limit})
    return _Call("GET", _base(resource), params=params)


def _more(page: Mapping[str, Any]) -> bool:
    meta = page.get("page")
    return isinstance(meta, Mapping) and meta.get("hasMore") is True


def _pages(resource: str, limit: int, filters: Mapping[str, Any] | None) -> Paging[int]:
    # ``index`` counts pages from 0 (the server skips ``index * limit`` records).
    return numbered(lambda index: _list(resource, index, limit, filters), start=0, more=_more)


def _add_proofs(resource: str, record_id: str, proofs: Sequence[Mapping[str, Any]]) -> _Call:
    return _Call("POST", _one(resource, record_id, "/proofs"), body=[dict(p) for p in proofs])


class Records(SyncResource):
    """``client.records``."""

    def create(
        self,
        resource: str,
        data: Mapping[str, Any],
        *,
        proofs: Sequence[Mapping[str, Any]] | None = None,
        hash: str | None = None,
    ) -> Record:
        """``POST /v2/{resource}``; ``proofs`` from :func:`vouch_client.records.sign_proof`."""
        return cast(Record, self._send(_create(resource, data, proofs, hash)))

    def list(
        self,
        resource: str,
        *,
        index: int | None = None,
        limit: int | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> RecordList:
        """One page; ``filters`` e.g. ``{"meta.status": "approved", "data.handle": "acme"}``."""
        return cast(RecordList, self._send(_list(resource, index, limit, filters)))

    def iter(
        self, resource: str, *, limit: int = 100, filters: Mapping[str, Any] | None = None
    ) -> Iterator[Record]:
        """Every record matching ``filters``, page by page."""
        return self._walk(_pages(resource, limit, filters))

    def get(self, resource: str, record_id: str) -> Record:
        return cast(Record, self._send(_Call("GET", _one(resource, record_id))))

    def update(
        self,
        resource: str,
        record_id: str,
        data: Mapping[str, Any],
        *,
        proofs: Sequence[Mapping[str, Any]] | None = None,
        hash: str | None = None,
    ) -> Record:
        """``PUT``: a new version; ``data.parent`` must be the current version's ``hash``."""
        return cast(Record, self._send(_update(resource, record_id, data, proofs, hash)))

    def changes(self, resource: str, record_id: str) -> RecordChanges:
        """Every version, oldest first (check it with ``records.verify_changes``)."""
        call = _Call("GET", _one(resource, record_id, "/changes"))
        return cast(RecordChanges, self._send(call))

    def add_proofs(
        self, resource: str, record_id: str, proofs: Sequence[Mapping[str, Any]]
    ) -> Record:
        """Sign the current version (1 to 20 proofs)."""
        return cast(Record, self._send(_add_proofs(resource, record_id, proofs)))


class AsyncRecords(AsyncResource):
    """``async_client.records``: the asynchronous twin of :class:`Records`."""

    async def create(
        self,
        resource: str,
        data: Mapping[str, Any],
        *,
        proofs: Sequence[Mapping[str, Any]] | None = None,
        hash: str | None = None,
    ) -> Record:
        return cast(Record, await self._send(_create(resource, data, proofs, hash)))

    async def list(
        self,
        resource: str,
        *,
        index: int | None = None,
        limit: int | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> RecordList:
        return cast(RecordList, await self._send(_list(resource, index, limit, filters)))

    def iter(
        self, resource: str, *, limit: int = 100, filters: Mapping[str, Any] | None = None
    ) -> AsyncIterator[Record]:
        return self._walk(_pages(resource, limit, filters))

    async def get(self, resource: str, record_id: str) -> Record:
        return cast(Record, await self._send(_Call("GET", _one(resource, record_id))))

    async def update(
        self,
        resource: str,
        record_id: str,
        data: Mapping[str, Any],
        *,
        proofs: Sequence[Mapping[str, Any]] | None = None,
        hash: str | None = None,
    ) -> Record:
        return cast(Record, await self._send(_update(resource, record_id, data, proofs, hash)))

    async def changes(self, resource: str, record_id: str) -> RecordChanges:
        call = _Call("GET", _one(resource, record_id, "/changes"))
        return cast(RecordChanges, await self._send(call))

    async def add_proofs(
        self, resource: str, record_id: str, proofs: Sequence[Mapping[str, Any]]
    ) -> Record:
        return cast(Record, await self._send(_add_proofs(resource, record_id, proofs)))
