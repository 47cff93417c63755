"""Walking every page of a list, and the base of ``client.<family>`` resources.

vouch lists page in two ways:

- by number (``?page=N&limit=`` answering ``pagination.hasMore``, or the records surface's
  ``?index=&limit=`` answering ``page.hasMore``): :func:`numbered`;
- by cursor (``?cursor=`` answering ``next_cursor``/``has_more`` or ``pagination.nextCursor``):
  :func:`cursored`.

A :class:`Paging` says which request fetches a position and how to reach the next one; the sync
and async walkers below send the same requests, so the logic lives here once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from ._client import AsyncClient, Client, _Call

P = TypeVar("P")


class _Stop:
    """What ``advance`` answers after the last page (a cursor position may itself be None)."""


STOP = _Stop()


@dataclass(frozen=True, slots=True)
class Paging(Generic[P]):
    """``call(position)`` fetches a page; ``advance(position, page)`` is the next position, or
    ``STOP`` after the last page; ``items`` names the page's list."""

    call: Callable[[P], _Call]
    start: P
    advance: Callable[[P, Mapping[str, Any]], P | _Stop]
    items: str = "data"


def _has_more(page: Mapping[str, Any]) -> bool:
    pagination = page.get("pagination")
    return isinstance(pagination, Mapping) and pagination.get("hasMore") is True


def numbered(
    call: Callable[[int], _Call],
    *,
    start: int = 1,
    step: int = 1,
    more: Callable[[Mapping[str, Any]], bool] = _has_more,
    items: str = "data",
) -> Paging[int]:
    """Page-number paging: positions ``start``, ``start + step``, … while ``more(page)``."""

    def advance(position: int, page: Mapping[str, Any]) -> int | _Stop:
        return position + step if more(page) else STOP

    return Paging(call, start, advance, items)


def _next_cursor(page: Mapping[str, Any]) -> str | None:
    pagination = page.get("pagination")
    if isinstance(pagination, Mapping):
        more, cursor = pagination.get("hasMore"), pagination.get("nextCursor")
    else:
        more, cursor = page.get("has_more"), page.get("next_cursor")
    return cursor if more is True and isinstance(cursor, str) and cursor else None


def cursored(
    call: Callable[[str | None], _Call],
    *,
    next_cursor: Callable[[Mapping[str, Any]], str | None] = _next_cursor,
    items: str = "data",
) -> Paging[str | None]:
    """Cursor paging: the first page without a cursor, then the cursor each page names."""

    def advance(_: str | None, page: Mapping[str, Any]) -> str | _Stop | None:
        cursor = next_cursor(page)
        return STOP if cursor is None else cursor

    return Paging(call, None, advance, items)


def _items(page: Any, key: str) -> list[Any]:
    items = page.get(key) if isinstance(page, Mapping) else None
    return items if isinstance(items, list) else []


def walk(send: Callable[[_Call], Any], paging: Paging[P]) -> Iterator[Any]:
    """Every item of every page, fetching each page when the previous one is used up."""
    position: P | _Stop = paging.start
    while not isinstance(position, _Stop):
        page = send(paging.call(position))
        items = _items(page, paging.items)
        yield from items
        # A page with nothing on it cannot move the walk forward: stop rather than loop.
        position = paging.advance(position, page) if items else STOP


async def awalk(send: Callable[[_Call], Awaitable[Any]], paging: Paging[P]) -> AsyncIterator[Any]:
    """The asynchronous twin of :func:`walk`."""
    position: P | _Stop = paging.start
    while not isinstance(position, _Stop):
        page = await send(paging.call(position))
        items = _items(page, paging.items)
        for item in items:
            yield item
        position = paging.advance(position, page) if items else STOP


class SyncResource:
    """A family of endpoints on a :class:`Client` (``client.webhooks``, …)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _send(self, call: _Call) -> Any:
        return self._client._send(call)

    def _walk(self, paging: Paging[Any]) -> Iterator[Any]:
        return walk(self._client._send, paging)


class AsyncResource:
    """A family of endpoints on an :class:`AsyncClient`."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def _send(self, call: _Call) -> Any:
        return await self._client._send(call)

    def _walk(self, paging: Paging[Any]) -> AsyncIterator[Any]:
        return awalk(self._client._send, paging)
