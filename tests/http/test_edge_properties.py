"""Property-based: whatever JSON reaches ``/v2`` or ``/verify/v0`` — arbitrary documents, nesting
past the documented depth, strings with lone surrogates — the answer is never a 5xx, and a 4xx
is in that surface's own format (Minka's ``{"data": {reason, …}}``; RFC 9457 problem details)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.tenancy import make_keys
from tests.location.factories import fixture_proof
from vouch_server.app import create_app
from vouch_server.http import MAX_JSON_DEPTH

PROPERTY = settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
documents = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=16,
)
lone_surrogate = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
surrogate_strings = st.tuples(st.text(max_size=6), lone_surrogate, st.text(max_size=6)).map("".join)


def _nest(depth: int, kind: str) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


too_deep = st.builds(
    _nest,
    st.integers(min_value=MAX_JSON_DEPTH + 1, max_value=300),
    st.sampled_from(["list", "dict"]),
)


def _string_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _string_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _string_paths(child, (*path, index))
    elif isinstance(value, str):
        yield path


def _replaced(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    copy = json.loads(json.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copy


class _Client:
    """A synchronous face on the real app (hypothesis runs synchronous tests): requests are run
    on the event loop of a blocking portal, through httpx's ASGI transport."""

    def __init__(self, portal: BlockingPortal, client: httpx.AsyncClient) -> None:
        self.portal = portal
        self.client = client

    def request(
        self, method: str, path: str, document: Any, headers: dict[str, str]
    ) -> httpx.Response:
        # ensure_ascii writes lone surrogates as "\udXXX" escapes, as an attacker would send them.
        content = json.dumps(document).encode()

        async def send() -> httpx.Response:
            return await self.client.request(method, path, content=content, headers=headers)

        return self.portal.call(send)

    def post(self, path: str, document: Any, headers: dict[str, str]) -> httpx.Response:
        return self.request("POST", path, document, headers)


@contextmanager
def _running(settings_factory: Any) -> Iterator[tuple[_Client, dict[str, str]]]:
    app = create_app(settings_factory(rate_limit_enabled=False, webhook_worker_enabled=False))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(app.router.lifespan_context(app)),
    ):
        keys = portal.call(make_keys, app.state.vouch)
        client = httpx.AsyncClient(transport=transport, base_url="https://vouch.test")
        try:
            yield (
                _Client(portal, client),
                {
                    "Authorization": f"Bearer {keys.test}",
                    "Content-Type": "application/json",
                },
            )
        finally:
            portal.call(client.aclose)


def _assert_minka(response: httpx.Response, *, bad: bool) -> None:
    assert response.status_code < 500, response.text
    if bad:
        assert response.status_code == 400, response.text
    if response.status_code >= 400:
        payload = response.json()
        assert set(payload) == {"data", "hash", "meta"}, payload
        assert set(payload["data"]) == {"reason", "detail", "custom"}, payload
        if bad:
            assert payload["data"]["reason"] == "api.body-malformed"


def _assert_problem(response: httpx.Response, *, bad: bool) -> None:
    assert response.status_code < 500, response.text
    if bad:
        assert response.status_code == 400, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        payload = response.json()
        assert payload["type"].startswith("https://astral.global/errors/")
        assert payload["status"] == response.status_code


class TestRecordsSurface:
    def test_arbitrary_json_is_never_a_5xx(self, settings_factory: Any) -> None:
        with _running(settings_factory) as (client, headers):

            @PROPERTY
            @given(document=documents, wrap=st.booleans())
            def check(document: Any, wrap: bool) -> None:
                body = {"data": document} if wrap else document
                _assert_minka(client.post("/v2/records", body, headers), bad=False)

            check()

    def test_deep_nesting_and_lone_surrogates_are_its_400(self, settings_factory: Any) -> None:
        with _running(settings_factory) as (client, headers):

            @PROPERTY
            @given(
                bad=too_deep | surrogate_strings,
                where=st.sampled_from(["value", "handle", "key"]),
                method=st.sampled_from(["POST", "PUT", "PROOF"]),
            )
            def check(bad: Any, where: str, method: str) -> None:
                if where == "key" and isinstance(bad, str):
                    data: Any = {bad: 1}
                elif where == "handle":
                    data = {"handle": bad}
                else:
                    data = {"x": bad}
                body = {"data": data}
                if method == "POST":
                    response = client.post("/v2/records", body, headers)
                elif method == "PUT":
                    response = client.request("PUT", "/v2/records/some-handle", body, headers)
                else:
                    proof = {"method": "ed25519-v2", "public": "x", "digest": "y", "result": bad}
                    response = client.post("/v2/records/some-handle/proofs", proof, headers)
                _assert_minka(response, bad=True)

            check()


class TestLocationSurface:
    def test_arbitrary_json_is_never_a_5xx(self, settings_factory: Any) -> None:
        with _running(settings_factory) as (client, headers):

            @PROPERTY
            @given(
                document=documents,
                field=st.sampled_from(["stamp", "proof", None]),
                path=st.sampled_from(["/verify/v0/stamp", "/verify/v0/proof"]),
            )
            def check(document: Any, field: str | None, path: str) -> None:
                body = {field: document} if field else document
                _assert_problem(client.post(path, body, headers), bad=False)

            check()

    def test_deep_nesting_and_lone_surrogates_are_its_400(self, settings_factory: Any) -> None:
        proof = {"proof": fixture_proof()}
        paths = list(_string_paths(proof))
        with _running(settings_factory) as (client, headers):

            @PROPERTY
            @given(bad=too_deep | surrogate_strings, path=st.sampled_from(paths))
            def check(bad: Any, path: tuple[Any, ...]) -> None:
                # A genuine proof with one of its strings replaced by the bad value.
                body = _replaced(proof, path, bad)
                _assert_problem(client.post("/verify/v0/proof", body, headers), bad=True)
                if path[:2] == ("proof", "stamps"):
                    stamp = {"stamp": body["proof"]["stamps"][path[2]]}
                    _assert_problem(client.post("/verify/v0/stamp", stamp, headers), bad=True)

            check()
