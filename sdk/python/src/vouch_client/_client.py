"""HTTP clients for the vouch REST API."""

from __future__ import annotations

import asyncio
import functools
import os
import random
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterator,
    Mapping,
)
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Self, cast
from urllib.parse import quote

import httpx

from ._errors import (
    AuthenticationError,
    BadRequest,
    Conflict,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    ServerError,
    TransportError,
    VouchError,
)
from ._paging import Paging, awalk, cursored, walk
from ._sse import aiter_events, iter_events
from ._types import (
    JSONWebKeySet,
    ProofValidation,
    RevocationListPage,
    RevokedEntry,
    RevokeReason,
    ServerSentEvent,
    VerificationList,
)
from ._version import __version__

if TYPE_CHECKING:
    from types import TracebackType

    from ._agent_api import Agents, AsyncAgents
    from ._authorizations import AsyncAuthorizations, Authorizations
    from ._hitl import AsyncHitl, Hitl
    from ._record_api import AsyncRecords, Records
    from ._templates import AsyncTemplates, Templates
    from ._webhook_api import AsyncWebhooks, Webhooks

__all__ = ["AsyncClient", "Client", "RetryPolicy"]

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
DEFAULT_TIMEOUT = 10.0
API_KEY_ENV = "VOUCH_API_KEY"

_STATUS_ERRORS: dict[int, type[VouchError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: BadRequest,
    429: RateLimited,
}


@dataclass(frozen=True, slots=True)
class _Call:
    method: str
    path: str
    params: dict[str, str] | None = None
    body: Any = None
    # The answer is text (a CSV export), not JSON.
    text: bool = False


def _query(values: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters from keyword values: ``None`` left out, booleans as ``true``/``false``."""
    out: dict[str, str] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


def _segment(value: str) -> str:
    if not value:
        raise ValueError("an id must not be empty")
    return quote(value, safe="")


def _compact(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _timestamp(value: str | datetime) -> str:
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---------------------------------------------------------------- request builders
# Shared by the sync and async clients so both send exactly the same requests.


def _create_verification(
    type: str,
    channel: str,
    identifier: str,
    external_user_id: str | None,
    client_metadata: Mapping[str, Any] | None,
    callback_url: str | None,
    expires_in: int | None,
    proof_expiry_days: int | None,
) -> _Call:
    body = _compact(
        {
            "type": type,
            "channel": channel,
            "identifier": identifier,
            "external_user_id": external_user_id,
            "client_metadata": dict(client_metadata) if client_metadata is not None else None,
            "callback_url": callback_url,
            "expires_in": expires_in,
            "proof_expiry_days": proof_expiry_days,
        }
    )
    return _Call("POST", "/api/v1/verifications", body=body)


def _list_verifications(
    page: int | None,
    limit: int | None,
    status: str | None,
    type: str | None,
    channel: str | None,
    external_user_id: str | None,
    cursor: str | None = None,
) -> _Call:
    params = _compact(
        {
            "page": page,
            "cursor": cursor,
            "limit": limit,
            "status": status,
            "type": type,
            "channel": channel,
            "external_user_id": external_user_id,
        }
    )
    return _Call("GET", "/api/v1/verifications", params={k: str(v) for k, v in params.items()})


def _submit(
    verification_id: str,
    code: str | None,
    challenge_code: str | None,
    source_identifier: str | None,
) -> _Call:
    if code is not None:
        if challenge_code is not None or source_identifier is not None:
            raise ValueError("pass either code, or challenge_code and source_identifier")
        body: dict[str, Any] = {"code": code}
    elif challenge_code is not None and source_identifier is not None:
        body = {"challenge_code": challenge_code, "source_identifier": source_identifier}
    else:
        raise ValueError("pass either code, or challenge_code and source_identifier")
    return _Call("POST", f"/api/v1/verifications/{_segment(verification_id)}/submit", body=body)


def _validate_proof(proof_token: str, identifier: str | None) -> _Call:
    body = _compact({"proof_token": proof_token, "identifier": identifier})
    return _Call("POST", "/api/v1/proofs/validate", body=body)


def _revocation_list(since: str | datetime | None, cursor: str | None, limit: int | None) -> _Call:
    params: dict[str, str] = {}
    if since is not None:
        params["since"] = _timestamp(since)
    if cursor is not None:
        params["cursor"] = cursor
    if limit is not None:
        params["limit"] = str(limit)
    return _Call("GET", "/api/v1/proofs/revoked", params=params)


def _verification_pages(
    limit: int,
    status: str | None,
    type: str | None,
    channel: str | None,
    external_user_id: str | None,
) -> Paging[str | None]:
    return cursored(
        lambda cursor: _list_verifications(
            None, limit, status, type, channel, external_user_id, cursor
        )
    )


def _revocation_pages(since: str | datetime | None, limit: int | None) -> Paging[str | None]:
    return cursored(lambda cursor: _revocation_list(since, cursor, limit), items="revoked")


# ---------------------------------------------------------------- responses


def _retry_after(response: httpx.Response, envelope: Mapping[str, Any]) -> int | None:
    header = response.headers.get("Retry-After")
    if header is not None:
        header = header.strip()
        if header.isdigit():
            return int(header)
        try:
            when = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0, int((when - datetime.now(UTC)).total_seconds()))
    value = envelope.get("retry_after")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _envelope(payload: Any) -> dict[str, Any]:
    """The error's fields, whichever surface answered.

    vouch's ``{"error": {"code", "message", "details", "request_id"}}``; the agents surface's
    ``{"error": "<title>", "message", "details"?}`` (the title is its only code); the records
    surface's ``{"data": {"reason", "detail", "custom": {"details"?, "requestId"?}}}``.
    """
    if not isinstance(payload, dict):
        return {}
    error = payload.get("error")
    if isinstance(error, dict):
        return error
    if isinstance(error, str):
        return {
            "code": error,
            "message": payload.get("message") or error,
            "details": payload.get("details"),
            "retry_after": payload.get("retry_after"),
        }
    data = payload.get("data")
    if isinstance(data, dict) and isinstance(data.get("reason"), str):
        custom = data.get("custom")
        if not isinstance(custom, dict):
            custom = {}
        return {
            "code": data["reason"],
            "message": data.get("detail"),
            "details": custom.get("details"),
            "request_id": custom.get("requestId"),
            "retry_after": custom.get("retry_after"),
        }
    return {}


def _error_for(response: httpx.Response) -> VouchError:
    status = response.status_code
    try:
        payload = response.json()
    except ValueError:
        payload = None
    envelope = _envelope(payload)
    code = envelope.get("code")
    message = envelope.get("message")
    details = envelope.get("details")
    request_id = envelope.get("request_id") or response.headers.get("X-Request-ID")
    code = code if isinstance(code, str) else f"http_{status}"
    message = message if isinstance(message, str) else (response.reason_phrase or "HTTP error")
    details = [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []
    request_id = request_id if isinstance(request_id, str) else None

    cls = _STATUS_ERRORS.get(status) or (ServerError if status >= 500 else VouchError)
    if cls is RateLimited:
        return RateLimited(
            status,
            code,
            message,
            details,
            request_id,
            response=response,
            retry_after=_retry_after(response, envelope),
        )
    return cls(status, code, message, details, request_id, response=response)


def _decode(response: httpx.Response, *, text: bool = False) -> Any:
    if not response.is_success:
        raise _error_for(response)
    if text:
        return response.text
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise VouchError(
            response.status_code,
            "invalid_response",
            "the server returned a non-JSON body",
            response=response,
        ) from exc


# ---------------------------------------------------------------- retries

DEFAULT_MAX_RETRIES = 2
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# 429: refused before any work, so any method may be sent again. 502/503/504: a gateway or an
# overloaded server; the request may or may not have run, so only idempotent methods retry.
_RETRY_ANY = frozenset({429})
_RETRY_IDEMPOTENT = frozenset({502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to wait before sending a request again.

    ``max_retries`` extra attempts at most. When the server says how long to wait
    (``Retry-After``), that wait is kept as told up to ``max_retry_after``: a shorter wait would
    be refused again. A longer one is not waited for; the error is raised at once, its
    ``retry_after`` saying when to come back. Without a ``Retry-After`` the wait is ``backoff``
    doubled each time, at most ``max_delay``, with full jitter. Connection failures before
    anything was sent (``httpx.ConnectError``, ``ConnectTimeout``) are retried for any method;
    other transport errors for idempotent methods only.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff: float = 0.5
    max_delay: float = 30.0
    # vouch's per-key and per-IP limits count per minute, so their Retry-After is at most 60 s.
    max_retry_after: float = 60.0

    def wait(
        self,
        method: str,
        attempt: int,
        *,
        response: httpx.Response | None = None,
        error: httpx.RequestError | None = None,
        jitter: float = 1.0,
    ) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to stop here."""
        if attempt >= self.max_retries:
            return None
        if error is not None:
            sent_nothing = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
            if not (sent_nothing or method in _IDEMPOTENT):
                return None
        elif response is not None:
            status = response.status_code
            if not (
                status in _RETRY_ANY or (status in _RETRY_IDEMPOTENT and method in _IDEMPOTENT)
            ):
                return None
            told = _retry_after(response, {})
            if told is not None:
                return float(told) if told <= self.max_retry_after else None
        else:
            return None
        return float(min(self.backoff * (2**attempt), self.max_delay) * jitter)


class _Base:
    def __init__(
        self, base_url: str, api_key: str | None, retry: RetryPolicy | None = None
    ) -> None:
        self.retry = retry if retry is not None else RetryPolicy()
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        self._headers = {
            "Accept": "application/json",
            "User-Agent": f"vouch-client-python/{__version__}",
        }
        if self.api_key:
            self._headers["Authorization"] = f"Bearer {self.api_key}"

    def _request_kwargs(self, call: _Call) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"headers": self._headers}
        if call.params:
            kwargs["params"] = call.params
        if call.body is not None:
            kwargs["json"] = call.body
        return kwargs


def _transport_error(exc: httpx.RequestError) -> TransportError:
    return TransportError(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


def _stream_timeout(timeout: httpx.Timeout) -> httpx.Timeout:
    """The client's timeouts, except reading: a live stream is quiet between events (the server
    sends a heartbeat every 30 seconds by default), and it ends when the server ends it."""
    return httpx.Timeout(None, connect=timeout.connect, write=timeout.write, pool=timeout.pool)


_STREAM_HEADERS = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}


class Client(_Base):
    """Synchronous client for the vouch API.

    ``api_key`` defaults to the ``VOUCH_API_KEY`` environment variable. Pass
    ``transport`` (e.g. ``httpx.MockTransport``) or a ready ``http_client``
    to control networking; an injected ``http_client`` is not closed by
    :meth:`close`.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        api_key: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if transport is not None and http_client is not None:
            raise ValueError("pass transport or http_client, not both")
        super().__init__(base_url, api_key, retry)
        self._sleep = sleep
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=timeout, transport=transport)

    def _send(self, call: _Call) -> Any:
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    call.method, self.base_url + call.path, **self._request_kwargs(call)
                )
            except httpx.RequestError as exc:
                delay = self.retry.wait(call.method, attempt, error=exc, jitter=random.random())
                if delay is None:
                    raise _transport_error(exc) from exc
            else:
                delay = self.retry.wait(
                    call.method, attempt, response=response, jitter=random.random()
                )
                if delay is None:
                    return _decode(response, text=call.text)
                response.close()
            self._sleep(delay)
            attempt += 1

    def _stream(self, path: str) -> Generator[ServerSentEvent]:
        """The events of a ``text/event-stream`` answer, as they arrive; an error answer raises
        as :meth:`_send` would (without retries). The request goes out on the first ``next``."""
        headers = {**self._headers, **_STREAM_HEADERS}
        timeout = _stream_timeout(self._http.timeout)
        try:
            with self._http.stream(
                "GET", self.base_url + path, headers=headers, timeout=timeout
            ) as response:
                if not response.is_success:
                    response.read()
                    raise _error_for(response)
                yield from iter_events(response.iter_text())
        except httpx.RequestError as exc:
            raise _transport_error(exc) from exc

    def iter_verifications(
        self,
        *,
        limit: int = 100,
        status: str | None = None,
        type: str | None = None,
        channel: str | None = None,
        external_user_id: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every verification matching the filters, newest first, page by page (keyset
        ``cursor``: rows created meanwhile never shift or repeat an item)."""
        return walk(self._send, _verification_pages(limit, status, type, channel, external_user_id))

    def iter_revocations(
        self, *, since: str | datetime | None = None, limit: int | None = None
    ) -> Iterator[RevokedEntry]:
        """Every entry of the revocation list, as sent (not verified: use ``Verifier``)."""
        return walk(self._send, _revocation_pages(since, limit))

    def create_verification(
        self,
        type: str,
        channel: str,
        identifier: str,
        *,
        external_user_id: str | None = None,
        client_metadata: Mapping[str, Any] | None = None,
        callback_url: str | None = None,
        expires_in: int | None = None,
        proof_expiry_days: int | None = None,
    ) -> dict[str, Any]:
        """``POST /api/v1/verifications``: start a verification."""
        call = _create_verification(
            type,
            channel,
            identifier,
            external_user_id,
            client_metadata,
            callback_url,
            expires_in,
            proof_expiry_days,
        )
        return cast(dict[str, Any], self._send(call))

    def get_verification(self, verification_id: str) -> dict[str, Any]:
        """``GET /api/v1/verifications/{id}``."""
        call = _Call("GET", f"/api/v1/verifications/{_segment(verification_id)}")
        return cast(dict[str, Any], self._send(call))

    def list_verifications(
        self,
        *,
        page: int | None = None,
        limit: int | None = None,
        status: str | None = None,
        type: str | None = None,
        channel: str | None = None,
        external_user_id: str | None = None,
    ) -> VerificationList:
        """``GET /api/v1/verifications`` with optional filters."""
        call = _list_verifications(page, limit, status, type, channel, external_user_id)
        return cast(VerificationList, self._send(call))

    def submit(
        self,
        verification_id: str,
        code: str | None = None,
        *,
        challenge_code: str | None = None,
        source_identifier: str | None = None,
    ) -> dict[str, Any]:
        """``POST /api/v1/verifications/{id}/submit`` with a ``code``, or a
        ``challenge_code`` plus ``source_identifier``."""
        call = _submit(verification_id, code, challenge_code, source_identifier)
        return cast(dict[str, Any], self._send(call))

    def test_verify(self, verification_id: str) -> dict[str, Any]:
        """``POST /api/v1/verifications/{id}/test-verify`` (test keys only)."""
        call = _Call("POST", f"/api/v1/verifications/{_segment(verification_id)}/test-verify")
        return cast(dict[str, Any], self._send(call))

    def validate_proof(self, proof_token: str, *, identifier: str | None = None) -> ProofValidation:
        """``POST /api/v1/proofs/validate``: ask the server (online) about a token."""
        return cast(ProofValidation, self._send(_validate_proof(proof_token, identifier)))

    def proof_status(self, proof_id: str) -> dict[str, Any]:
        """``GET /api/v1/proofs/{id}/status``."""
        call = _Call("GET", f"/api/v1/proofs/{_segment(proof_id)}/status")
        return cast(dict[str, Any], self._send(call))

    def revoke_proof(self, proof_id: str, reason: RevokeReason) -> dict[str, Any]:
        """``POST /api/v1/proofs/{id}/revoke``."""
        call = _Call("POST", f"/api/v1/proofs/{_segment(proof_id)}/revoke", body={"reason": reason})
        return cast(dict[str, Any], self._send(call))

    def revocation_list(
        self,
        *,
        since: str | datetime | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> RevocationListPage:
        """``GET /api/v1/proofs/revoked``: one page, as sent — not verified.

        Use :class:`vouch_client.Verifier` to check proofs against the signed list.
        """
        return cast(RevocationListPage, self._send(_revocation_list(since, cursor, limit)))

    def jwks(self) -> JSONWebKeySet:
        """``GET /.well-known/jwks.json``."""
        return cast(JSONWebKeySet, self._send(_Call("GET", "/.well-known/jwks.json")))

    def health(self) -> dict[str, Any]:
        """``GET /health``."""
        return cast(dict[str, Any], self._send(_Call("GET", "/health")))

    # ---------------------------------------------------------------- API families
    @functools.cached_property
    def webhooks(self) -> Webhooks:
        """Webhook endpoints and deliveries."""
        from ._webhook_api import Webhooks

        return Webhooks(self)

    @functools.cached_property
    def hitl(self) -> Hitl:
        """Human-in-the-loop configs, their keys and chat-id discovery."""
        from ._hitl import Hitl

        return Hitl(self)

    @functools.cached_property
    def authorizations(self) -> Authorizations:
        """Recipients' consent to be messaged."""
        from ._authorizations import Authorizations

        return Authorizations(self)

    @functools.cached_property
    def templates(self) -> Templates:
        """Message templates."""
        from ._templates import Templates

        return Templates(self)

    @functools.cached_property
    def agents(self) -> Agents:
        """Agent registration and keys (``/v1/agents``)."""
        from ._agent_api import Agents

        return Agents(self)

    @functools.cached_property
    def records(self) -> Records:
        """Signed records (``/v2/{resource}``)."""
        from ._record_api import Records

        return Records(self)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(_Base):
    """Asynchronous twin of :class:`Client`; close with ``await client.aclose()``."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        api_key: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if transport is not None and http_client is not None:
            raise ValueError("pass transport or http_client, not both")
        super().__init__(base_url, api_key, retry)
        self._sleep = sleep
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout, transport=transport)

    async def _send(self, call: _Call) -> Any:
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    call.method, self.base_url + call.path, **self._request_kwargs(call)
                )
            except httpx.RequestError as exc:
                delay = self.retry.wait(call.method, attempt, error=exc, jitter=random.random())
                if delay is None:
                    raise _transport_error(exc) from exc
            else:
                delay = self.retry.wait(
                    call.method, attempt, response=response, jitter=random.random()
                )
                if delay is None:
                    return _decode(response, text=call.text)
                await response.aclose()
            await self._sleep(delay)
            attempt += 1

    async def _stream(self, path: str) -> AsyncGenerator[ServerSentEvent]:
        """The events of a ``text/event-stream`` answer; see :meth:`Client._stream`."""
        headers = {**self._headers, **_STREAM_HEADERS}
        timeout = _stream_timeout(self._http.timeout)
        try:
            async with self._http.stream(
                "GET", self.base_url + path, headers=headers, timeout=timeout
            ) as response:
                if not response.is_success:
                    await response.aread()
                    raise _error_for(response)
                async for event in aiter_events(response.aiter_text()):
                    yield event
        except httpx.RequestError as exc:
            raise _transport_error(exc) from exc

    def iter_verifications(
        self,
        *,
        limit: int = 100,
        status: str | None = None,
        type: str | None = None,
        channel: str | None = None,
        external_user_id: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """See :meth:`Client.iter_verifications` (``async for``)."""
        pages = _verification_pages(limit, status, type, channel, external_user_id)
        return awalk(self._send, pages)

    def iter_revocations(
        self, *, since: str | datetime | None = None, limit: int | None = None
    ) -> AsyncIterator[RevokedEntry]:
        """See :meth:`Client.iter_revocations` (``async for``)."""
        return awalk(self._send, _revocation_pages(since, limit))

    async def create_verification(
        self,
        type: str,
        channel: str,
        identifier: str,
        *,
        external_user_id: str | None = None,
        client_metadata: Mapping[str, Any] | None = None,
        callback_url: str | None = None,
        expires_in: int | None = None,
        proof_expiry_days: int | None = None,
    ) -> dict[str, Any]:
        """``POST /api/v1/verifications``: start a verification."""
        call = _create_verification(
            type,
            channel,
            identifier,
            external_user_id,
            client_metadata,
            callback_url,
            expires_in,
            proof_expiry_days,
        )
        return cast(dict[str, Any], await self._send(call))

    async def get_verification(self, verification_id: str) -> dict[str, Any]:
        """``GET /api/v1/verifications/{id}``."""
        call = _Call("GET", f"/api/v1/verifications/{_segment(verification_id)}")
        return cast(dict[str, Any], await self._send(call))

    async def list_verifications(
        self,
        *,
        page: int | None = None,
        limit: int | None = None,
        status: str | None = None,
        type: str | None = None,
        channel: str | None = None,
        external_user_id: str | None = None,
    ) -> VerificationList:
        """``GET /api/v1/verifications`` with optional filters."""
        call = _list_verifications(page, limit, status, type, channel, external_user_id)
        return cast(VerificationList, await self._send(call))

    async def submit(
        self,
        verification_id: str,
        code: str | None = None,
        *,
        challenge_code: str | None = None,
        source_identifier: str | None = None,
    ) -> dict[str, Any]:
        """``POST /api/v1/verifications/{id}/submit``."""
        call = _submit(verification_id, code, challenge_code, source_identifier)
        return cast(dict[str, Any], await self._send(call))

    async def test_verify(self, verification_id: str) -> dict[str, Any]:
        """``POST /api/v1/verifications/{id}/test-verify`` (test keys only)."""
        call = _Call("POST", f"/api/v1/verifications/{_segment(verification_id)}/test-verify")
        return cast(dict[str, Any], await self._send(call))

    async def validate_proof(
        self, proof_token: str, *, identifier: str | None = None
    ) -> ProofValidation:
        """``POST /api/v1/proofs/validate``."""
        return cast(ProofValidation, await self._send(_validate_proof(proof_token, identifier)))

    async def proof_status(self, proof_id: str) -> dict[str, Any]:
        """``GET /api/v1/proofs/{id}/status``."""
        call = _Call("GET", f"/api/v1/proofs/{_segment(proof_id)}/status")
        return cast(dict[str, Any], await self._send(call))

    async def revoke_proof(self, proof_id: str, reason: RevokeReason) -> dict[str, Any]:
        """``POST /api/v1/proofs/{id}/revoke``."""
        call = _Call("POST", f"/api/v1/proofs/{_segment(proof_id)}/revoke", body={"reason": reason})
        return cast(dict[str, Any], await self._send(call))

    async def revocation_list(
        self,
        *,
        since: str | datetime | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> RevocationListPage:
        """``GET /api/v1/proofs/revoked``: one page, as sent — not verified."""
        return cast(RevocationListPage, await self._send(_revocation_list(since, cursor, limit)))

    async def jwks(self) -> JSONWebKeySet:
        """``GET /.well-known/jwks.json``."""
        return cast(JSONWebKeySet, await self._send(_Call("GET", "/.well-known/jwks.json")))

    async def health(self) -> dict[str, Any]:
        """``GET /health``."""
        return cast(dict[str, Any], await self._send(_Call("GET", "/health")))

    # ---------------------------------------------------------------- API families
    @functools.cached_property
    def webhooks(self) -> AsyncWebhooks:
        """Webhook endpoints and deliveries."""
        from ._webhook_api import AsyncWebhooks

        return AsyncWebhooks(self)

    @functools.cached_property
    def hitl(self) -> AsyncHitl:
        """Human-in-the-loop configs, their keys and chat-id discovery."""
        from ._hitl import AsyncHitl

        return AsyncHitl(self)

    @functools.cached_property
    def authorizations(self) -> AsyncAuthorizations:
        """Recipients' consent to be messaged."""
        from ._authorizations import AsyncAuthorizations

        return AsyncAuthorizations(self)

    @functools.cached_property
    def templates(self) -> AsyncTemplates:
        """Message templates."""
        from ._templates import AsyncTemplates

        return AsyncTemplates(self)

    @functools.cached_property
    def agents(self) -> AsyncAgents:
        """Agent registration and keys (``/v1/agents``)."""
        from ._agent_api import AsyncAgents

        return AsyncAgents(self)

    @functools.cached_property
    def records(self) -> AsyncRecords:
        """Signed records (``/v2/{resource}``)."""
        from ._record_api import AsyncRecords

        return AsyncRecords(self)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
