"""Client and AsyncClient: requests sent and errors raised.

Every test runs against both clients through the ``api`` fixture.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from vouch_client import (
    AsyncClient,
    AuthenticationError,
    BadRequest,
    Client,
    Conflict,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    RetryPolicy,
    ServerError,
    TransportError,
    VouchError,
)

BASE = "https://api.vouch.test"
KEY = "pk_test_abc123"


@dataclass
class Recorder:
    """MockTransport handler: records requests, answers with a canned response."""

    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    error: Exception | None = None
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        if self.raw is not None:
            return httpx.Response(self.status, content=self.raw, headers=self.headers)
        return httpx.Response(self.status, json=self.body, headers=self.headers)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def last_json(self) -> Any:
        return json.loads(self.last.content) if self.last.content else None


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@dataclass
class Api:
    """Calls a method on either client and awaits it when needed."""

    client: Client | AsyncClient

    async def __call__(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, method)(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


@pytest.fixture
def slept() -> list[float]:
    """The pauses the client asked for between retries (no time passes in tests)."""
    return []


@pytest.fixture(params=["sync", "async"])
async def api(
    request: pytest.FixtureRequest, recorder: Recorder, slept: list[float]
) -> AsyncIterator[Api]:
    transport = httpx.MockTransport(recorder)
    if request.param == "sync":
        with Client(BASE, api_key=KEY, transport=transport, sleep=slept.append) as client:
            yield Api(client)
    else:

        async def pause(seconds: float) -> None:
            slept.append(seconds)

        async with AsyncClient(BASE, api_key=KEY, transport=transport, sleep=pause) as aclient:
            yield Api(aclient)


def _envelope(code: str, message: str = "nope", **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


class TestCreateVerification:
    async def test_posts_the_given_fields_only(self, api: Api, recorder: Recorder) -> None:
        recorder.status, recorder.body = 201, {"id": "a" * 24, "status": "pending"}

        result = await api(
            "create_verification",
            "email",
            "email_otp",
            "alice@example.com",
            external_user_id="u-1",
            client_metadata={"plan": "pro"},
            expires_in=600,
        )

        assert result == {"id": "a" * 24, "status": "pending"}
        assert recorder.last.method == "POST"
        assert str(recorder.last.url) == f"{BASE}/api/v1/verifications"
        assert recorder.last_json() == {
            "type": "email",
            "channel": "email_otp",
            "identifier": "alice@example.com",
            "external_user_id": "u-1",
            "client_metadata": {"plan": "pro"},
            "expires_in": 600,
        }

    async def test_sends_the_api_key_as_a_bearer_token(self, api: Api, recorder: Recorder) -> None:
        await api("create_verification", "phone", "sms", "+14155550123")

        assert recorder.last.headers["Authorization"] == f"Bearer {KEY}"
        assert recorder.last.headers["Content-Type"] == "application/json"
        assert recorder.last.headers["User-Agent"].startswith("vouch-client-python/")


class TestGetVerification:
    async def test_gets_the_verification_by_id(self, api: Api, recorder: Recorder) -> None:
        recorder.body = {"id": "b" * 24}

        assert await api("get_verification", "b" * 24) == {"id": "b" * 24}
        assert recorder.last.method == "GET"
        assert recorder.last.url.path == f"/api/v1/verifications/{'b' * 24}"

    async def test_escapes_the_id_into_one_path_segment(self, api: Api, recorder: Recorder) -> None:
        await api("get_verification", "../proofs/x")

        assert recorder.last.url.raw_path == b"/api/v1/verifications/..%2Fproofs%2Fx"


class TestListVerifications:
    async def test_sends_only_the_filters_given(self, api: Api, recorder: Recorder) -> None:
        recorder.body = {
            "data": [],
            "pagination": {"hasMore": False, "total": 0, "page": 2, "limit": 10},
        }

        result = await api("list_verifications", page=2, limit=10, status="verified")

        assert result["pagination"]["page"] == 2
        assert recorder.last.method == "GET"
        assert recorder.last.url.path == "/api/v1/verifications"
        assert dict(recorder.last.url.params) == {"page": "2", "limit": "10", "status": "verified"}

    async def test_without_filters_sends_no_query(self, api: Api, recorder: Recorder) -> None:
        await api("list_verifications")

        assert recorder.last.url.query == b""


class TestSubmit:
    async def test_submits_a_code(self, api: Api, recorder: Recorder) -> None:
        await api("submit", "c" * 24, "123456")

        assert recorder.last.method == "POST"
        assert recorder.last.url.path == f"/api/v1/verifications/{'c' * 24}/submit"
        assert recorder.last_json() == {"code": "123456"}

    async def test_submits_a_challenge_code_with_its_source(
        self, api: Api, recorder: Recorder
    ) -> None:
        await api("submit", "c" * 24, challenge_code="VCH-42", source_identifier="@alice")

        assert recorder.last_json() == {"challenge_code": "VCH-42", "source_identifier": "@alice"}

    @pytest.mark.parametrize(
        "kwargs",
        [{}, {"code": "1", "challenge_code": "x"}, {"challenge_code": "x"}],
        ids=["nothing", "both-forms", "challenge-without-source"],
    )
    async def test_refuses_ambiguous_input_without_a_request(
        self, api: Api, recorder: Recorder, kwargs: dict[str, Any]
    ) -> None:
        with pytest.raises(ValueError, match="code"):
            await api("submit", "c" * 24, **kwargs)
        assert recorder.requests == []


class TestTestVerify:
    async def test_posts_to_test_verify(self, api: Api, recorder: Recorder) -> None:
        recorder.body = {"status": "verified", "proof_token": "x.y.z"}

        assert (await api("test_verify", "d" * 24))["status"] == "verified"
        assert recorder.last.method == "POST"
        assert recorder.last.url.path == f"/api/v1/verifications/{'d' * 24}/test-verify"
        assert recorder.last.content == b""


class TestValidateProof:
    async def test_posts_the_token_and_identifier(self, api: Api, recorder: Recorder) -> None:
        recorder.body = {"valid": False, "reason": "expired", "message": "Proof has expired"}

        result = await api("validate_proof", "x.y.z", identifier="alice@example.com")

        assert result == recorder.body
        assert recorder.last.url.path == "/api/v1/proofs/validate"
        assert recorder.last_json() == {"proof_token": "x.y.z", "identifier": "alice@example.com"}

    async def test_omits_identifier_when_not_given(self, api: Api, recorder: Recorder) -> None:
        await api("validate_proof", "x.y.z")

        assert recorder.last_json() == {"proof_token": "x.y.z"}


class TestProofStatus:
    async def test_gets_the_status(self, api: Api, recorder: Recorder) -> None:
        recorder.body = {"proof_id": "e" * 24, "status": "active"}

        assert (await api("proof_status", "e" * 24))["status"] == "active"
        assert recorder.last.method == "GET"
        assert recorder.last.url.path == f"/api/v1/proofs/{'e' * 24}/status"


class TestRevokeProof:
    async def test_posts_the_reason(self, api: Api, recorder: Recorder) -> None:
        await api("revoke_proof", "f" * 24, "key_compromise")

        assert recorder.last.method == "POST"
        assert recorder.last.url.path == f"/api/v1/proofs/{'f' * 24}/revoke"
        assert recorder.last_json() == {"reason": "key_compromise"}


class TestRevocationList:
    async def test_formats_a_datetime_since_as_utc_iso(self, api: Api, recorder: Recorder) -> None:
        since = datetime(2026, 2, 4, 12, 0, tzinfo=timezone(timedelta(hours=2)))

        await api("revocation_list", since=since, cursor="abc", limit=50)

        assert recorder.last.url.path == "/api/v1/proofs/revoked"
        assert dict(recorder.last.url.params) == {
            "since": "2026-02-04T10:00:00.000Z",
            "cursor": "abc",
            "limit": "50",
        }

    async def test_passes_a_string_since_through(self, api: Api, recorder: Recorder) -> None:
        await api("revocation_list", since="2026-02-04T10:00:00.000Z")

        assert recorder.last.url.params["since"] == "2026-02-04T10:00:00.000Z"


class TestJwks:
    async def test_gets_the_well_known_key_set(self, api: Api, recorder: Recorder) -> None:
        recorder.body = {"keys": [{"kid": "k1", "kty": "RSA"}]}

        assert (await api("jwks"))["keys"][0]["kid"] == "k1"
        assert recorder.last.url.path == "/.well-known/jwks.json"


class TestHealth:
    async def test_gets_health(self, api: Api, recorder: Recorder) -> None:
        recorder.body = {"status": "ok"}

        assert await api("health") == {"status": "ok"}
        assert str(recorder.last.url) == f"{BASE}/health"


class TestErrorMapping:
    @pytest.mark.parametrize(
        ("status", "code", "error"),
        [
            (400, "validation_error", BadRequest),
            (401, "unauthorized", AuthenticationError),
            (403, "test_mode_required", PermissionDenied),
            (404, "not_found", NotFound),
            (409, "conflict", Conflict),
            (413, "payload_too_large", PayloadTooLarge),
            (429, "rate_limited", RateLimited),
            (500, "internal_error", ServerError),
            (503, "unavailable", ServerError),
            (418, "teapot", VouchError),
        ],
    )
    async def test_status_maps_to_its_error_class(
        self, api: Api, recorder: Recorder, status: int, code: str, error: type[VouchError]
    ) -> None:
        recorder.status, recorder.body = status, _envelope(code, "went wrong", request_id="req_1")

        with pytest.raises(VouchError) as info:
            await api("health")
        assert type(info.value) is error
        assert info.value.status_code == status
        assert info.value.code == code
        assert info.value.message == "went wrong"
        assert info.value.request_id == "req_1"

    async def test_details_are_kept(self, api: Api, recorder: Recorder) -> None:
        details = [{"field": "identifier", "message": "bad email", "code": "invalid_format"}]
        recorder.status, recorder.body = 400, _envelope("validation_error", details=details)

        with pytest.raises(BadRequest) as info:
            await api("create_verification", "email", "email_otp", "nope")
        assert info.value.details == details

    async def test_rate_limit_reads_retry_after_header(self, api: Api, recorder: Recorder) -> None:
        recorder.status, recorder.body = 429, _envelope("rate_limited", retry_after=99)
        recorder.headers = {"Retry-After": "30"}

        with pytest.raises(RateLimited) as info:
            await api("health")
        assert info.value.retry_after == 30

    async def test_rate_limit_falls_back_to_the_envelope(
        self, api: Api, recorder: Recorder
    ) -> None:
        recorder.status, recorder.body = 429, _envelope("rate_limited", retry_after=12)

        with pytest.raises(RateLimited) as info:
            await api("health")
        assert info.value.retry_after == 12

    async def test_rate_limit_understands_an_http_date(self, api: Api, recorder: Recorder) -> None:
        when = datetime.now(UTC) + timedelta(seconds=120)
        recorder.status, recorder.body = 429, _envelope("rate_limited")
        recorder.headers = {"Retry-After": format_datetime(when, usegmt=True)}

        with pytest.raises(RateLimited) as info:
            await api("health")
        assert info.value.retry_after is not None
        assert 110 <= info.value.retry_after <= 120

    async def test_non_json_error_body_still_maps_by_status(
        self, api: Api, recorder: Recorder
    ) -> None:
        recorder.status, recorder.raw = 502, b"<html>Bad Gateway</html>"

        with pytest.raises(ServerError) as info:
            await api("health")
        assert info.value.code == "http_502"
        assert info.value.message == "Bad Gateway"

    async def test_network_failure_is_a_transport_error(self, api: Api, recorder: Recorder) -> None:
        recorder.error = httpx.ConnectError("connection refused")

        with pytest.raises(TransportError) as info:
            await api("health")
        assert info.value.status_code is None
        assert isinstance(info.value, VouchError)

    async def test_timeout_is_a_transport_error(self, api: Api, recorder: Recorder) -> None:
        recorder.error = httpx.ReadTimeout("timed out")

        with pytest.raises(TransportError, match="ReadTimeout"):
            await api("health")

    async def test_non_json_success_body_is_an_invalid_response(
        self, api: Api, recorder: Recorder
    ) -> None:
        recorder.raw = b"ok"

        with pytest.raises(VouchError) as info:
            await api("health")
        assert info.value.code == "invalid_response"


class TestClientInit:
    @pytest.mark.parametrize("cls", [Client, AsyncClient])
    def test_api_key_defaults_to_the_environment(
        self, cls: type[Client | AsyncClient], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("VOUCH_API_KEY", "pk_live_fromenv")

        assert cls().api_key == "pk_live_fromenv"
        assert cls(api_key="pk_test_explicit").api_key == "pk_test_explicit"

    async def test_defaults_to_the_local_server(
        self, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("VOUCH_API_KEY", raising=False)
        with Client(transport=httpx.MockTransport(recorder)) as client:
            client.health()

        assert str(recorder.last.url) == "http://127.0.0.1:8080/health"
        assert "Authorization" not in recorder.last.headers

    def test_strips_a_trailing_slash_from_base_url(self, recorder: Recorder) -> None:
        with Client(BASE + "/", transport=httpx.MockTransport(recorder)) as client:
            client.jwks()

        assert str(recorder.last.url) == f"{BASE}/.well-known/jwks.json"

    def test_refuses_both_transport_and_http_client(self, recorder: Recorder) -> None:
        transport = httpx.MockTransport(recorder)
        with httpx.Client() as http, pytest.raises(ValueError, match="not both"):
            Client(transport=transport, http_client=http)

    def test_uses_an_injected_http_client_and_leaves_it_open(self, recorder: Recorder) -> None:
        with httpx.Client(transport=httpx.MockTransport(recorder)) as http:
            with Client(BASE, api_key=KEY, http_client=http) as client:
                client.health()

            assert recorder.last.headers["Authorization"] == f"Bearer {KEY}"
            assert not http.is_closed


class TestClientClose:
    def test_closes_its_own_http_client(self, recorder: Recorder) -> None:
        client = Client(BASE, transport=httpx.MockTransport(recorder))
        client.close()

        with pytest.raises(RuntimeError, match="closed"):
            client.health()

    async def test_async_aclose_closes_its_own_http_client(self, recorder: Recorder) -> None:
        client = AsyncClient(BASE, transport=httpx.MockTransport(recorder))
        await client.aclose()

        with pytest.raises(RuntimeError, match="closed"):
            await client.health()


@dataclass
class Script:
    """MockTransport handler answering with the next scripted outcome each time."""

    outcomes: list[httpx.Response | Exception]
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def _ok(body: Any = None) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {"status": "healthy"})


def _fail(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=_envelope(f"http_{status}"), headers=headers)


@pytest.fixture(params=["sync", "async"])
def scripted(request: pytest.FixtureRequest, slept: list[float]) -> Any:
    def build(*outcomes: httpx.Response | Exception, retry: RetryPolicy | None = None) -> Any:
        script = Script(list(outcomes))
        transport = httpx.MockTransport(script)
        if request.param == "sync":
            client: Client | AsyncClient = Client(
                BASE, api_key=KEY, transport=transport, sleep=slept.append, retry=retry
            )
        else:

            async def pause(seconds: float) -> None:
                slept.append(seconds)

            client = AsyncClient(BASE, api_key=KEY, transport=transport, sleep=pause, retry=retry)
        return Api(client), script

    return build


class TestRetries:
    async def test_a_429_is_sent_again_after_retry_after_even_for_a_post(
        self, scripted: Any, slept: list[float]
    ) -> None:
        api, script = scripted(_fail(429, **{"Retry-After": "3"}), _ok({"id": "v1"}))
        created = await api("create_verification", "phone", "telegram", "+14155550100")
        assert created == {"id": "v1"}
        assert slept == [3.0] and len(script.requests) == 2
        assert script.requests[0].content == script.requests[1].content

    async def test_a_gateway_error_on_a_read_backs_off_and_retries(
        self, scripted: Any, slept: list[float]
    ) -> None:
        api, script = scripted(_fail(503), _fail(502), _ok())
        assert (await api("health"))["status"] == "healthy"
        assert len(script.requests) == 3
        assert len(slept) == 2 and 0 <= slept[0] <= 0.5 and 0 <= slept[1] <= 1.0

    @pytest.mark.parametrize(
        ("outcome", "error"),
        [
            (lambda: _fail(503), ServerError),  # a POST may have run: never sent twice
            (lambda: httpx.ReadTimeout("slow"), TransportError),  # sent, answer lost
        ],
    )
    async def test_a_post_that_may_have_run_is_not_sent_again(
        self, scripted: Any, slept: list[float], outcome: Any, error: type[Exception]
    ) -> None:
        api, script = scripted(outcome(), _ok())
        with pytest.raises(error):
            await api("create_verification", "phone", "telegram", "+14155550100")
        assert len(script.requests) == 1 and slept == []

    async def test_a_connection_never_made_is_retried_for_a_post(
        self, scripted: Any, slept: list[float]
    ) -> None:
        api, script = scripted(httpx.ConnectError("refused"), _ok({"id": "v1"}))
        assert (await api("create_verification", "phone", "telegram", "+1415555010"))["id"]
        assert len(script.requests) == 2 and len(slept) == 1

    async def test_a_500_is_not_retried(self, scripted: Any, slept: list[float]) -> None:
        api, script = scripted(_fail(500), _ok())
        with pytest.raises(ServerError):
            await api("health")
        assert len(script.requests) == 1

    async def test_retries_run_out_and_the_last_error_stands(
        self, scripted: Any, slept: list[float]
    ) -> None:
        api, script = scripted(*[_fail(429, **{"Retry-After": "2"})] * 3)
        with pytest.raises(RateLimited) as info:
            await api("health")
        assert info.value.retry_after == 2
        assert len(script.requests) == 3  # the first try and two retries
        assert slept == [2.0, 2.0]

    async def test_a_retry_after_longer_than_max_delay_is_waited_as_told(
        self, scripted: Any, slept: list[float]
    ) -> None:
        # vouch's per-minute limits answer up to 60 s; waiting only max_delay would be refused.
        api, script = scripted(_fail(429, **{"Retry-After": "60"}), _ok())
        assert (await api("health"))["status"] == "healthy"
        assert RetryPolicy().max_delay < 60
        assert slept == [60.0] and len(script.requests) == 2

    async def test_a_retry_after_beyond_max_retry_after_is_raised_at_once(
        self, scripted: Any, slept: list[float]
    ) -> None:
        api, script = scripted(_fail(429, **{"Retry-After": "3600"}), _ok())
        with pytest.raises(RateLimited) as info:
            await api("health")
        assert info.value.retry_after == 3600
        assert len(script.requests) == 1 and slept == []

    async def test_max_retry_after_is_the_callers_to_raise(
        self, scripted: Any, slept: list[float]
    ) -> None:
        retry = RetryPolicy(max_retry_after=3600)
        api, script = scripted(_fail(429, **{"Retry-After": "3600"}), _ok(), retry=retry)
        assert (await api("health"))["status"] == "healthy"
        assert slept == [3600.0] and len(script.requests) == 2

    async def test_computed_backoff_stays_within_max_delay(
        self, scripted: Any, slept: list[float]
    ) -> None:
        retry = RetryPolicy(backoff=100, max_delay=5, max_retry_after=600)
        api, script = scripted(_fail(503), _fail(429), _ok(), retry=retry)
        assert (await api("health"))["status"] == "healthy"
        assert len(slept) == 2 and all(0 <= s <= 5 for s in slept), slept
        assert len(script.requests) == 3

    async def test_retries_can_be_switched_off(self, scripted: Any, slept: list[float]) -> None:
        api, script = scripted(_fail(429), _ok(), retry=RetryPolicy(max_retries=0))
        with pytest.raises(RateLimited):
            await api("health")
        assert len(script.requests) == 1 and slept == []


class TestIterators:
    async def test_iter_verifications_follows_the_cursor_to_the_end(self, scripted: Any) -> None:
        pages = [
            {
                "data": [{"id": "c"}, {"id": "b"}],
                "pagination": {"hasMore": True, "nextCursor": "b"},
            },
            {"data": [{"id": "a"}], "pagination": {"hasMore": False}},
        ]
        api, script = scripted(*[_ok(p) for p in pages])
        result = api.client.iter_verifications(limit=2, status="verified")
        if isinstance(api.client, AsyncClient):
            ids = [item["id"] async for item in result]
        else:
            ids = [item["id"] for item in result]
        assert ids == ["c", "b", "a"]
        params = [dict(r.url.params) for r in script.requests]
        assert params == [
            {"limit": "2", "status": "verified"},
            {"limit": "2", "status": "verified", "cursor": "b"},
        ]

    async def test_iter_revocations_follows_next_cursor(self, scripted: Any) -> None:
        entry = {"proof_id": "p", "revoked_at": "2026-01-01T00:00:00.000Z", "reason": "fraud"}
        pages = [
            {"revoked": [entry], "has_more": True, "next_cursor": "k1"},
            {"revoked": [{**entry, "proof_id": "q"}], "has_more": False, "next_cursor": None},
        ]
        api, script = scripted(*[_ok(p) for p in pages])
        result = api.client.iter_revocations()
        if isinstance(api.client, AsyncClient):
            ids = [e["proof_id"] async for e in result]
        else:
            ids = [e["proof_id"] for e in result]
        assert ids == ["p", "q"]
        assert dict(script.requests[1].url.params)["cursor"] == "k1"
