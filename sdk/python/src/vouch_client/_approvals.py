"""Human approvals for agent authors: ``client.confirmations`` and ``require_approval``.

    with vouch_client.require_approval(client, hitl_id, "Deploy v2.1 to production?") as approval:
        deploy()                      # runs only once a human approved; approval.proof_token

    @vouch_client.require_approval(client, hitl_id, lambda version: f"Deploy {version}?")
    def deploy(version: str) -> None: ...

A denial, or no answer before the request's timeout, raises :class:`ApprovalDenied` (with the
human's comment). Waiting uses the server's long poll (``GET /api/v1/confirmations/{id}?wait=N``,
at most 60 s per request), so an approval is seen within moments of the button press.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpx

from ._client import AsyncClient, Client, _Call, _compact, _decode, _segment, _transport_error
from ._paging import Paging, awalk, numbered, walk

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["Approval", "ApprovalDenied", "AsyncConfirmations", "Confirmations", "require_approval"]

LONG_POLL_MAX = 60
# Extra seconds an HTTP request may take beyond the long poll it asked for.
_SLACK = 15.0

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Approval:
    """A human's approval, with the signed proof of it (verify it offline with ``Verifier``)."""

    confirmation_id: str
    comment: str | None
    channel: str | None
    decided_at: str | None
    proof_token: str | None
    confirmation: dict[str, Any] = field(repr=False)


class ApprovalDenied(Exception):
    """The human denied the request, or nobody answered in time.

    ``status`` is ``denied``, ``expired`` (the request's timeout passed: ``comment`` is the
    server's ``"timeout"``) or ``pending`` (``require_approval``'s own ``timeout`` ran out first).
    """

    def __init__(
        self,
        message: str = "",
        *,
        confirmation_id: str | None = None,
        status: str = "denied",
        comment: str | None = None,
        channel: str | None = None,
        proof_token: str | None = None,
    ) -> None:
        super().__init__(message or f"approval {status}")
        self.confirmation_id = confirmation_id
        self.status = status
        self.comment = comment
        self.channel = channel
        self.proof_token = proof_token

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {
            "confirmation_id": self.confirmation_id,
            "status": self.status,
            "comment": self.comment,
            "channel": self.channel,
            "proof_token": self.proof_token,
        }
        return (_rebuild, (type(self), (str(self),), kwargs))


def _rebuild(cls: type[Exception], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Exception:
    return cls(*args, **kwargs)


def verdict(confirmation: Mapping[str, Any]) -> Approval:
    """An approved confirmation as an :class:`Approval`; anything else raises ApprovalDenied."""
    response = confirmation.get("response") or {}
    status = str(confirmation.get("status"))
    if status == "approved":
        return Approval(
            confirmation_id=str(confirmation["id"]),
            comment=response.get("text"),
            channel=response.get("channel"),
            decided_at=confirmation.get("decided_at"),
            proof_token=confirmation.get("proof_token"),
            confirmation=dict(confirmation),
        )
    if status == "pending":
        message = "no decision before the wait ran out"
    elif status == "expired":
        message = "the approval request timed out"
    else:
        via = response.get("channel")
        message = f"the approval request was denied via {via}" if via else "denied"
        if response.get("text"):
            message += f": {response['text']}"
    raise ApprovalDenied(
        message,
        confirmation_id=str(confirmation.get("id")),
        status=status,
        comment=response.get("text"),
        channel=response.get("channel"),
        proof_token=confirmation.get("proof_token"),
    )


def _create(
    hitl_id: str,
    message: str,
    proof_expiry_days: int | None,
    timeout_seconds: int | None,
) -> _Call:
    body = _compact(
        {
            "hitl_id": hitl_id,
            "message": message,
            "proof_expiry_days": proof_expiry_days,
            "timeout_seconds": timeout_seconds,
        }
    )
    return _Call("POST", "/api/v1/confirmations", body=body)


def _poll(confirmation_id: str, wait: int) -> _Call:
    return _Call(
        "GET", f"/api/v1/confirmations/{_segment(confirmation_id)}", params={"wait": str(wait)}
    )


def _list(page: int | None, limit: int | None, status: str | None, hitl_id: str | None) -> _Call:
    params = _compact({"page": page, "limit": limit, "status": status, "hitl_id": hitl_id})
    return _Call("GET", "/api/v1/confirmations", params={k: str(v) for k, v in params.items()})


def _pages(limit: int, status: str | None, hitl_id: str | None) -> Paging[int]:
    return numbered(lambda page: _list(page, limit, status, hitl_id))


def _wait_step(deadline: float | None) -> int:
    if deadline is None:
        return LONG_POLL_MAX
    return max(0, min(LONG_POLL_MAX, int(deadline - time.monotonic())))


class Confirmations:
    """``client.confirmations``: approval requests (``/api/v1/confirmations``)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _send(self, call: _Call, *, seconds: float | None = None) -> Any:
        if seconds is None:
            return self._client._send(call)
        kwargs = self._client._request_kwargs(call)
        try:
            response = self._client._http.request(
                call.method, self._client.base_url + call.path, timeout=seconds, **kwargs
            )
        except httpx.RequestError as exc:
            raise _transport_error(exc) from exc
        return _decode(response)

    def create(
        self,
        hitl_id: str,
        message: str,
        *,
        proof_expiry_days: int | None = None,
        timeout_seconds: int | None = None,
    ) -> dict[str, Any]:
        """``POST /api/v1/confirmations``: ask the HITL config's humans."""
        call = _create(hitl_id, message, proof_expiry_days, timeout_seconds)
        return cast(dict[str, Any], self._send(call))

    def get(self, confirmation_id: str) -> dict[str, Any]:
        call = _Call("GET", f"/api/v1/confirmations/{_segment(confirmation_id)}")
        return cast(dict[str, Any], self._send(call))

    def list(
        self,
        *,
        page: int | None = None,
        limit: int | None = None,
        status: str | None = None,
        hitl_id: str | None = None,
    ) -> dict[str, Any]:
        return cast(dict[str, Any], self._send(_list(page, limit, status, hitl_id)))

    def iter(
        self, *, limit: int = 100, status: str | None = None, hitl_id: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every confirmation matching the filters, page by page."""
        return walk(self._client._send, _pages(limit, status, hitl_id))

    def wait(self, confirmation_id: str, *, timeout: float | None = None) -> dict[str, Any]:
        """The confirmation once decided (approved, denied or expired), or as it is when
        ``timeout`` seconds have passed (``None``: until the request's own timeout)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            step = _wait_step(deadline)
            current = cast(
                dict[str, Any],
                self._send(_poll(confirmation_id, step), seconds=step + _SLACK),
            )
            if current.get("status") != "pending" or step == 0:
                return current

    def approval_link(self, confirmation_id: str) -> dict[str, Any]:
        """``POST …/{id}/approval-link``: a signed, single-use link to the approval page."""
        call = _Call("POST", f"/api/v1/confirmations/{_segment(confirmation_id)}/approval-link")
        return cast(dict[str, Any], self._send(call))

    def test_respond(
        self, confirmation_id: str, action: str, text: str | None = None
    ) -> dict[str, Any]:
        """Test keys only: decide as the human would."""
        call = _Call(
            "POST",
            f"/api/v1/confirmations/{_segment(confirmation_id)}/test-respond",
            body=_compact({"action": action, "text": text}),
        )
        return cast(dict[str, Any], self._send(call))


class AsyncConfirmations:
    """``async_client.confirmations``: the asynchronous twin of :class:`Confirmations`."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def _send(self, call: _Call, *, seconds: float | None = None) -> Any:
        if seconds is None:
            return await self._client._send(call)
        kwargs = self._client._request_kwargs(call)
        try:
            response = await self._client._http.request(
                call.method, self._client.base_url + call.path, timeout=seconds, **kwargs
            )
        except httpx.RequestError as exc:
            raise _transport_error(exc) from exc
        return _decode(response)

    async def create(
        self,
        hitl_id: str,
        message: str,
        *,
        proof_expiry_days: int | None = None,
        timeout_seconds: int | None = None,
    ) -> dict[str, Any]:
        call = _create(hitl_id, message, proof_expiry_days, timeout_seconds)
        return cast(dict[str, Any], await self._send(call))

    async def get(self, confirmation_id: str) -> dict[str, Any]:
        call = _Call("GET", f"/api/v1/confirmations/{_segment(confirmation_id)}")
        return cast(dict[str, Any], await self._send(call))

    async def list(
        self,
        *,
        page: int | None = None,
        limit: int | None = None,
        status: str | None = None,
        hitl_id: str | None = None,
    ) -> dict[str, Any]:
        return cast(dict[str, Any], await self._send(_list(page, limit, status, hitl_id)))

    def iter(
        self, *, limit: int = 100, status: str | None = None, hitl_id: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        return awalk(self._client._send, _pages(limit, status, hitl_id))

    # The same signature as the sync client's ``wait``: ``timeout`` bounds the long polls.
    async def wait(
        self,
        confirmation_id: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            step = _wait_step(deadline)
            current = cast(
                dict[str, Any],
                await self._send(_poll(confirmation_id, step), seconds=step + _SLACK),
            )
            if current.get("status") != "pending" or step == 0:
                return current

    async def approval_link(self, confirmation_id: str) -> dict[str, Any]:
        call = _Call("POST", f"/api/v1/confirmations/{_segment(confirmation_id)}/approval-link")
        return cast(dict[str, Any], await self._send(call))

    async def test_respond(
        self, confirmation_id: str, action: str, text: str | None = None
    ) -> dict[str, Any]:
        call = _Call(
            "POST",
            f"/api/v1/confirmations/{_segment(confirmation_id)}/test-respond",
            body=_compact({"action": action, "text": text}),
        )
        return cast(dict[str, Any], await self._send(call))


Message = str | Callable[..., str]
OnRequest = Callable[[dict[str, Any]], Any]


class ApprovalGate:
    """What :func:`require_approval` returns: a context manager (``with`` / ``async with``)
    and a decorator (of plain and ``async`` functions)."""

    def __init__(
        self,
        client: Client | AsyncClient,
        hitl_id: str,
        message: Message,
        *,
        timeout: float | None,
        proof_expiry_days: int | None,
        on_request: OnRequest | None,
    ) -> None:
        self.client = client
        self.hitl_id = hitl_id
        self.message = message
        self.timeout = timeout
        self.proof_expiry_days = proof_expiry_days
        self.on_request = on_request
        self.approval: Approval | None = None

    def _text(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        return self.message(*args, **kwargs) if callable(self.message) else self.message

    def _sync_confirmations(self) -> Confirmations:
        if not isinstance(self.client, Client):
            raise TypeError("use `async with` / an async function with an AsyncClient")
        return Confirmations(self.client)

    def _async_confirmations(self) -> AsyncConfirmations:
        if not isinstance(self.client, AsyncClient):
            raise TypeError("use `with` / a plain function with a (sync) Client")
        return AsyncConfirmations(self.client)

    def ask(self, *args: Any, **kwargs: Any) -> Approval:
        """Ask and wait (blocking); the approval, or ApprovalDenied."""
        confirmations = self._sync_confirmations()
        created = confirmations.create(
            self.hitl_id, self._text(args, kwargs), proof_expiry_days=self.proof_expiry_days
        )
        if self.on_request is not None:
            self.on_request(created)
        final = confirmations.wait(created["id"], timeout=self.timeout)
        return verdict(final)

    async def ask_async(self, *args: Any, **kwargs: Any) -> Approval:
        confirmations = self._async_confirmations()
        created = await confirmations.create(
            self.hitl_id, self._text(args, kwargs), proof_expiry_days=self.proof_expiry_days
        )
        if self.on_request is not None:
            result = self.on_request(created)
            if inspect.isawaitable(result):
                await result
        final = await confirmations.wait(created["id"], timeout=self.timeout)
        return verdict(final)

    # -- context manager -------------------------------------------------------------------------
    def __enter__(self) -> Approval:
        self.approval = self.ask()
        return self.approval

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def __aenter__(self) -> Approval:
        self.approval = await self.ask_async()
        return self.approval

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    # -- decorator ---------------------------------------------------------------------------------
    def __call__(self, func: F) -> F:
        """Run ``func`` only after approval. A ``message`` callable gets ``func``'s arguments; a
        ``func`` with an ``approval`` parameter receives the :class:`Approval`."""
        wants_approval = "approval" in inspect.signature(func).parameters

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                approval = await self.ask_async(*args, **kwargs)
                if wants_approval:
                    kwargs["approval"] = approval
                return await func(*args, **kwargs)

            return cast(F, run_async)

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            approval = self.ask(*args, **kwargs)
            if wants_approval:
                kwargs["approval"] = approval
            return func(*args, **kwargs)

        return cast(F, run)


def require_approval(
    client: Client | AsyncClient,
    hitl_id: str,
    message: Message,
    *,
    timeout: float | None = None,
    proof_expiry_days: int | None = None,
    on_request: OnRequest | None = None,
) -> ApprovalGate:
    """Ask the humans of HITL config ``hitl_id`` before an action runs.

    Use as ``with require_approval(...) as approval:`` (``async with`` for an ``AsyncClient``)
    or as a decorator. Returns the :class:`Approval` with its proof token; raises
    :class:`ApprovalDenied` on a denial, on the request's timeout, or when ``timeout`` seconds
    (client side) pass first. ``on_request`` is called with the created confirmation (e.g. to
    show its ``approval_url``)."""
    return ApprovalGate(
        client,
        hitl_id,
        message,
        timeout=timeout,
        proof_expiry_days=proof_expiry_days,
        on_request=on_request,
    )


def _confirmations_of(client: Client) -> Confirmations:
    cached = client.__dict__.get("_confirmations")
    if not isinstance(cached, Confirmations):
        cached = Confirmations(client)
        client.__dict__["_confirmations"] = cached
    return cached


def _async_confirmations_of(client: AsyncClient) -> AsyncConfirmations:
    cached = client.__dict__.get("_confirmations")
    if not isinstance(cached, AsyncConfirmations):
        cached = AsyncConfirmations(client)
        client.__dict__["_confirmations"] = cached
    return cached


# ``client.confirmations`` (the clients live in _client.py, which this module extends).
setattr(Client, "confirmations", property(_confirmations_of))  # noqa: B010
setattr(AsyncClient, "confirmations", property(_async_confirmations_of))  # noqa: B010
