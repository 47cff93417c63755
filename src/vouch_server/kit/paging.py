"""List pages for the ``/api/v1`` collections, newest first, at a cost that does not grow with the
table.

proof.holdings pages with ``?page=&limit=`` and answers ``pagination: {hasMore, nextCursor, total,
page, limit}``. Here:

- ``hasMore`` comes from reading one row past the page, not from a count;
- ``nextCursor`` is the last row's id; passing it back as ``?cursor=`` continues right after that
  row by keyset (``(created_at, id) < (cursor's)``, on the scope's ``created_at`` index), so
  walking a whole collection costs the same per page however deep it goes, and rows created
  meanwhile never shift a page. ``page`` (OFFSET) keeps working for the clients that use it;
- ``total`` is counted exactly up to ``TOTAL_CAP`` (1,000) rows and reported as ``TOTAL_CAP`` beyond,
  with ``totalIsCapped: true``: a full ``count(*)`` on every page was the cost that grew with the
  table. (proof.holdings documents ``total`` as optional.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.errors import ValidationFailed

TOTAL_CAP = 1_000
# The deepest ?page= a list accepts: (page - 1) x limit stays far inside a 64-bit OFFSET (a page
# number past it answered 500 from the database driver); deeper walks use ?cursor=.
MAX_PAGE = 1_000_000
PageNumber = Annotated[int, Query(gt=0, le=MAX_PAGE, description="1-based page (OFFSET paging)")]


@dataclass(frozen=True)
class Page:
    rows: Sequence[Any]
    has_more: bool
    total: int
    total_capped: bool
    page: int
    limit: int
    by_cursor: bool

    def pagination(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "hasMore": self.has_more,
            "total": self.total,
            "page": self.page,
            "limit": self.limit,
        }
        if self.total_capped:
            out["totalIsCapped"] = True
        if self.has_more and self.rows:
            out["nextCursor"] = self.rows[-1].id
            if not self.by_cursor:
                out["nextPage"] = self.page + 1
        return out


async def fetch_page(
    session: AsyncSession,
    model: Any,
    conditions: Sequence[ColumnElement[bool]],
    *,
    page: int,
    limit: int,
    cursor: str | None = None,
) -> Page:
    """One page of ``model`` rows matching ``conditions``, newest first (``created_at``, ``id``)."""
    where = list(conditions)
    capped = await session.scalar(
        select(func.count()).select_from(
            select(model.id).where(*where).limit(TOTAL_CAP + 1).subquery()
        )
    )
    total = int(capped or 0)
    query = select(model).where(*where)
    if cursor is not None:
        anchor = await session.scalar(select(model.created_at).where(model.id == cursor, *where))
        if anchor is None:
            message = "cursor is not the id of an item of this list"
            raise ValidationFailed(
                message, details=[{"field": "cursor", "message": message, "code": "invalid_cursor"}]
            )
        query = query.where(
            or_(
                model.created_at < anchor,
                and_(model.created_at == anchor, model.id < cursor),
            )
        )
    else:
        query = query.offset((page - 1) * limit)
    rows = (
        await session.scalars(
            query.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)
        )
    ).all()
    return Page(
        rows=rows[:limit],
        has_more=len(rows) > limit,
        total=min(total, TOTAL_CAP),
        total_capped=total > TOTAL_CAP,
        page=page,
        limit=limit,
        by_cursor=cursor is not None,
    )
