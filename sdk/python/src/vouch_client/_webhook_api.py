"""``client.webhooks``: webhook endpoints and their deliveries.

``/api/v1/webhook-endpoints`` (create, list, get, update, delete, rotate a secret, rotate the
secret of verifications' own ``callback_url``) and ``/api/v1/webhook-deliveries`` (list, every
page, one with its request and response, stats, retry). The request builders are shared by
:class:`Webhooks` and :class:`AsyncWebhooks`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import cast

from ._client import _Call, _compact, _query, _segment
from ._paging import AsyncResource, Paging, SyncResource, numbered
from ._types import (
    CallbackSecret,
    DeliveryRetry,
    WebhookDelivery,
    WebhookDeliveryList,
    WebhookDeliveryStats,
    WebhookEndpoint,
    WebhookEndpointList,
)

__all__ = ["AsyncWebhooks", "Webhooks"]

_ENDPOINTS = "/api/v1/webhook-endpoints"
_DELIVERIES = "/api/v1/webhook-deliveries"


def _endpoint(endpoint_id: str) -> str:
    return f"{_ENDPOINTS}/{_segment(endpoint_id)}"


def _create_endpoint(
    url: str, events: Sequence[str] | None, description: str | None, enabled: bool | None
) -> _Call:
    body = _compact(
        {
            "url": url,
            "events": list(events) if events is not None else None,
            "description": description,
            "enabled": enabled,
        }
    )
    return _Call("POST", _ENDPOINTS, body=body)


def _update_endpoint(
    endpoint_id: str,
    url: str | None,
    events: Sequence[str] | None,
    description: str | None,
    enabled: bool | None,
) -> _Call:
    body = _compact(
        {
            "url": url,
            "events": list(events) if events is not None else None,
            "description": description,
            "enabled": enabled,
        }
    )
    return _Call("PATCH", _endpoint(endpoint_id), body=body)


def _list_deliveries(
    page: int | None,
    limit: int | None,
    status: str | None,
    event_type: str | None,
    verification_id: str | None,
) -> _Call:
    params = _query(
        {
            "page": page,
            "limit": limit,
            "status": status,
            "event_type": event_type,
            "verification_id": verification_id,
        }
    )
    return _Call("GET", _DELIVERIES, params=params)


def _deliveries(
    limit: int, status: str | None, event_type: str | None, verification_id: str | None
) -> Paging[int]:
    return numbered(lambda page: _list_deliveries(page, limit, status, event_type, verification_id))


def _delivery(delivery_id: str) -> str:
    return f"{_DELIVERIES}/{_segment(delivery_id)}"


_ROTATE_CALLBACK = _Call("POST", f"{_ENDPOINTS}/callback-secret/rotate")
_STATS = _Call("GET", f"{_DELIVERIES}/stats")


class Webhooks(SyncResource):
    """``client.webhooks``."""

    def create_endpoint(
        self,
        url: str,
        *,
        events: Sequence[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> WebhookEndpoint:
        """``POST /api/v1/webhook-endpoints``; the answer carries the signing ``secret`` once."""
        call = _create_endpoint(url, events, description, enabled)
        return cast(WebhookEndpoint, self._send(call))

    def list_endpoints(self) -> WebhookEndpointList:
        return cast(WebhookEndpointList, self._send(_Call("GET", _ENDPOINTS)))

    def get_endpoint(self, endpoint_id: str) -> WebhookEndpoint:
        return cast(WebhookEndpoint, self._send(_Call("GET", _endpoint(endpoint_id))))

    def update_endpoint(
        self,
        endpoint_id: str,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> WebhookEndpoint:
        """``PATCH``: only the fields given change."""
        call = _update_endpoint(endpoint_id, url, events, description, enabled)
        return cast(WebhookEndpoint, self._send(call))

    def delete_endpoint(self, endpoint_id: str) -> None:
        self._send(_Call("DELETE", _endpoint(endpoint_id)))

    def rotate_secret(self, endpoint_id: str) -> WebhookEndpoint:
        """A new signing secret (in the answer); the old one keeps verifying for a while
        (``previous_secret_expires_at``)."""
        call = _Call("POST", f"{_endpoint(endpoint_id)}/rotate-secret")
        return cast(WebhookEndpoint, self._send(call))

    def rotate_callback_secret(self) -> CallbackSecret:
        """The secret that signs deliveries to a verification's own ``callback_url``."""
        return cast(CallbackSecret, self._send(_ROTATE_CALLBACK))

    def list_deliveries(
        self,
        *,
        page: int | None = None,
        limit: int | None = None,
        status: str | None = None,
        event_type: str | None = None,
        verification_id: str | None = None,
    ) -> WebhookDeliveryList:
        call = _list_deliveries(page, limit, status, event_type, verification_id)
        return cast(WebhookDeliveryList, self._send(call))

    def iter_deliveries(
        self,
        *,
        limit: int = 100,
        status: str | None = None,
        event_type: str | None = None,
        verification_id: str | None = None,
    ) -> Iterator[WebhookDelivery]:
        """Every delivery matching the filters, page by page."""
        return self._walk(_deliveries(limit, status, event_type, verification_id))

    def get_delivery(self, delivery_id: str) -> WebhookDelivery:
        """One delivery with the ``request`` sent and the ``response_body`` received."""
        return cast(WebhookDelivery, self._send(_Call("GET", _delivery(delivery_id))))

    def delivery_stats(self) -> WebhookDeliveryStats:
        return cast(WebhookDeliveryStats, self._send(_STATS))

    def retry_delivery(self, delivery_id: str) -> DeliveryRetry:
        """Send a failed delivery again, now."""
        call = _Call("POST", f"{_delivery(delivery_id)}/retry")
        return cast(DeliveryRetry, self._send(call))


class AsyncWebhooks(AsyncResource):
    """``async_client.webhooks``: the asynchronous twin of :class:`Webhooks`."""

    async def create_endpoint(
        self,
        url: str,
        *,
        events: Sequence[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> WebhookEndpoint:
        call = _create_endpoint(url, events, description, enabled)
        return cast(WebhookEndpoint, await self._send(call))

    async def list_endpoints(self) -> WebhookEndpointList:
        return cast(WebhookEndpointList, await self._send(_Call("GET", _ENDPOINTS)))

    async def get_endpoint(self, endpoint_id: str) -> WebhookEndpoint:
        return cast(WebhookEndpoint, await self._send(_Call("GET", _endpoint(endpoint_id))))

    async def update_endpoint(
        self,
        endpoint_id: str,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> WebhookEndpoint:
        call = _update_endpoint(endpoint_id, url, events, description, enabled)
        return cast(WebhookEndpoint, await self._send(call))

    async def delete_endpoint(self, endpoint_id: str) -> None:
        await self._send(_Call("DELETE", _endpoint(endpoint_id)))

    async def rotate_secret(self, endpoint_id: str) -> WebhookEndpoint:
        call = _Call("POST", f"{_endpoint(endpoint_id)}/rotate-secret")
        return cast(WebhookEndpoint, await self._send(call))

    async def rotate_callback_secret(self) -> CallbackSecret:
        return cast(CallbackSecret, await self._send(_ROTATE_CALLBACK))

    async def list_deliveries(
        self,
        *,
        page: int | None = None,
        limit: int | None = None,
        status: str | None = None,
        event_type: str | None = None,
        verification_id: str | None = None,
    ) -> WebhookDeliveryList:
        call = _list_deliveries(page, limit, status, event_type, verification_id)
        return cast(WebhookDeliveryList, await self._send(call))

    def iter_deliveries(
        self,
        *,
        limit: int = 100,
        status: str | None = None,
        event_type: str | None = None,
        verification_id: str | None = None,
    ) -> AsyncIterator[WebhookDelivery]:
        """``async for delivery in client.webhooks.iter_deliveries(): ...``"""
        return self._walk(_deliveries(limit, status, event_type, verification_id))

    async def get_delivery(self, delivery_id: str) -> WebhookDelivery:
        return cast(WebhookDelivery, await self._send(_Call("GET", _delivery(delivery_id))))

    async def delivery_stats(self) -> WebhookDeliveryStats:
        return cast(WebhookDeliveryStats, await self._send(_STATS))

    async def retry_delivery(self, delivery_id: str) -> DeliveryRetry:
        call = _Call("POST", f"{_delivery(delivery_id)}/retry")
        return cast(DeliveryRetry, await self._send(call))
