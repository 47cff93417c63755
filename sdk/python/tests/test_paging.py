"""The page walkers behind every ``iter…``: which requests they send, when they stop, and that the
sync and async clients send exactly the same ones (a transport stand-in answers)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from vouch_client import AsyncClient, Client, NotFound, RetryPolicy

Page = Callable[[httpx.Request], dict[str, Any]]


def numbered_pages(pages: int, *, key: str = "pagination") -> Page:
    def answer(request: httpx.Request) -> dict[str, Any]:
        if key == "page":
            n = int(request.url.params.get("index", "0")) + 1
            return {"data": [{"n": n}], "page": {"hasMore": n < pages}}
        n = int(request.url.params.get("page", "1"))
        return {"data": [{"n": n}], "pagination": {"hasMore": n < pages}}

    return answer


def cursor_pages(pages: int) -> Page:
    def answer(request: httpx.Request) -> dict[str, Any]:
        n = int(request.url.params.get("cursor", "c0")[1:]) + 1
        more = n < pages
        return {"data": [{"n": n}], "has_more": more, "next_cursor": f"c{n}" if more else None}

    return answer


WALKS: dict[str, tuple[Callable[[Any], Any], Page]] = {
    "webhooks.iter_deliveries": (lambda c: c.webhooks.iter_deliveries(limit=1), numbered_pages(3)),
    "hitl.iter": (lambda c: c.hitl.iter(limit=1, status="active"), numbered_pages(3)),
    "authorizations.iter": (lambda c: c.authorizations.iter(limit=1), numbered_pages(3)),
    "confirmations.iter": (lambda c: c.confirmations.iter(limit=1), numbered_pages(3)),
    "agents.iter": (lambda c: c.agents.iter(limit=1), cursor_pages(3)),
    "records.iter": (
        lambda c: c.records.iter("records", limit=1, filters={"meta.status": "ok"}),
        numbered_pages(3, key="page"),
    ),
}


def run_sync(walk: Callable[[Any], Any], answer: Page) -> tuple[list[Any], list[str]]:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=answer(request))

    with Client("https://v.test", api_key="k", transport=httpx.MockTransport(handler)) as c:
        return [item["n"] for item in walk(c)], seen


def run_async(walk: Callable[[Any], Any], answer: Page) -> tuple[list[Any], list[str]]:
    seen: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=answer(request))

    async def main() -> list[Any]:
        transport = httpx.MockTransport(handler)
        async with AsyncClient("https://v.test", api_key="k", transport=transport) as c:
            return [item["n"] async for item in walk(c)]

    return asyncio.run(main()), seen


class TestEveryIterator:
    @pytest.mark.parametrize("name", list(WALKS))
    def test_walks_every_page_once_in_order(self, name: str) -> None:
        walk, answer = WALKS[name]
        items, seen = run_sync(walk, answer)
        assert items == [1, 2, 3]
        assert len(seen) == 3

    @pytest.mark.parametrize("name", list(WALKS))
    def test_sync_and_async_send_the_same_requests(self, name: str) -> None:
        walk, answer = WALKS[name]
        assert run_sync(walk, answer) == run_async(walk, answer)

    def test_records_pages_count_from_index_zero(self) -> None:
        _, seen = run_sync(*WALKS["records.iter"])
        assert [httpx.URL(u).params["index"] for u in seen] == ["0", "1", "2"]
        assert all(httpx.URL(u).params["meta.status"] == "ok" for u in seen)

    def test_agents_follow_next_cursor(self) -> None:
        _, seen = run_sync(*WALKS["agents.iter"])
        assert [httpx.URL(u).params.get("cursor") for u in seen] == [None, "c1", "c2"]


class TestStopping:
    def test_an_empty_page_that_claims_more_ends_the_walk(self) -> None:
        calls = 0

        def handler(request: httpx.Request) -> httpx.Response:
            nonlocal calls
            calls += 1
            return httpx.Response(200, json={"data": [], "pagination": {"hasMore": True}})

        with Client("https://v.test", transport=httpx.MockTransport(handler)) as c:
            assert list(c.hitl.iter()) == []
        assert calls == 1

    def test_a_page_is_retried_like_any_request(self) -> None:
        answers = [
            httpx.Response(503, headers={"Retry-After": "2"}),
            httpx.Response(200, json={"data": [{"n": 1}], "pagination": {"hasMore": False}}),
        ]
        delays: list[float] = []

        def handler(request: httpx.Request) -> httpx.Response:
            return answers.pop(0)

        with Client(
            "https://v.test",
            transport=httpx.MockTransport(handler),
            retry=RetryPolicy(max_retries=1),
            sleep=delays.append,
        ) as c:
            assert [a["n"] for a in c.authorizations.iter()] == [1]
        assert delays == [2.0]


class TestErrorEnvelopes:
    @pytest.mark.parametrize(
        ("body", "code", "message"),
        [
            ({"error": {"code": "not_found", "message": "No such"}}, "not_found", "No such"),
            ({"error": "Agent not found", "message": "No agent"}, "Agent not found", "No agent"),
            (
                {"data": {"reason": "record.not-found", "detail": "No record", "custom": {}}},
                "record.not-found",
                "No record",
            ),
        ],
        ids=["vouch", "agents", "records"],
    )
    def test_each_surface_maps_to_code_and_message(
        self, body: dict[str, Any], code: str, message: str
    ) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(404, json=body)

        with (
            Client("https://v.test", transport=httpx.MockTransport(handler)) as c,
            pytest.raises(NotFound) as caught,
        ):
            c.agents.get("x")
        assert (caught.value.code, caught.value.message) == (code, message)
