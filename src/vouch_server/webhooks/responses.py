"""What the webhook endpoints and delivery log answer, for the OpenAPI description.

Documentation only: the handlers send the dicts of ``service.render_endpoint`` and
``service.render_delivery`` as they are (``vouch_server.openapi.documented``); these models say
what those dicts hold, with proof.holdings' field names.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

DeliveryStatusValue = Literal["pending", "delivered", "failed"]


class WebhookEndpointOut(BaseModel):
    """A registered webhook endpoint (its signing secret is never shown again)."""

    id: str
    url: str
    description: str | None
    events: list[str] = Field(description="Event types sent here; empty means every event.")
    enabled: bool
    disabled_reason: str | None = Field(description="Why the endpoint was switched off, if it was.")
    test_mode: bool
    created_at: str
    updated_at: str


class WebhookEndpointWithSecretOut(WebhookEndpointOut):
    """A newly created endpoint, with the secret that signs its deliveries (shown this once)."""

    secret: str = Field(description="The signing secret; store it now, it is not shown again.")


class WebhookEndpointRotatedOut(WebhookEndpointWithSecretOut):
    """The endpoint with its new signing secret (shown this once)."""

    previous_secret_expires_at: str | None = Field(
        description="Until when deliveries are also signed with the old secret."
    )


class WebhookEndpointListOut(BaseModel):
    data: list[WebhookEndpointOut]


class WebhookCallbackSecretOut(BaseModel):
    """The new secret that signs deliveries to verifications' own ``callback_url``."""

    secret: str = Field(description="Shown this once.")
    previous_secret_expires_at: str | None = Field(
        description="Until when the old secret also signs deliveries."
    )


class WebhookDeliveryOut(BaseModel):
    """One event's delivery to one endpoint."""

    id: str
    event_id: str
    event_type: str
    verification_id: str | None = Field(description="The object the event is about.")
    endpoint_id: str
    url: str
    status: DeliveryStatusValue
    attempts: int
    max_attempts: int
    last_attempt_at: str | None
    next_retry_at: str | None = Field(description="Set while the delivery waits for a retry.")
    delivered_at: str | None
    verification_request_id: str | None = Field(
        description="Set for verification_request.* events."
    )
    response_status: int | None = Field(description="HTTP status of the last attempt.")
    error_message: str | None
    test_mode: bool
    created_at: str
    updated_at: str


class WebhookDeliveryRequestOut(BaseModel):
    """What was (or will be) sent."""

    headers: dict[str, str] | None
    payload: dict[str, Any] | None


class WebhookDeliveryDetailOut(WebhookDeliveryOut):
    """A delivery with what was sent and what the endpoint answered."""

    request: WebhookDeliveryRequestOut
    response_body: str | None
    payload: dict[str, Any] | None = Field(description="The event as sent (also under request).")


class WebhookDeliveryPaginationOut(BaseModel):
    hasMore: bool
    total: int
    page: int
    limit: int
    nextCursor: str | None = Field(default=None, description="Present when there is a next page.")


class WebhookDeliveryListOut(BaseModel):
    data: list[WebhookDeliveryOut]
    pagination: WebhookDeliveryPaginationOut


class WebhookDeliveryCountsOut(BaseModel):
    pending: int
    delivered: int
    failed: int


class WebhookDeliveryStatsOut(BaseModel):
    """Delivery figures for this key's project and environment."""

    total: int
    by_status: WebhookDeliveryCountsOut
    delivery_rate: str = Field(description='Success rate as text, e.g. "97.5%".')
    recent_failures_24h: int
    retrying: int = Field(description="Pending deliveries whose last attempt failed.")
    delivered: int
    failed: int
    pending: int
    success_rate: float = Field(description="Percent of tried deliveries that succeeded.")


class WebhookDeliveryRetriedOut(BaseModel):
    success: Literal[True]
    delivery: WebhookDeliveryOut
