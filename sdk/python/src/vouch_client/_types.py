"""Public data types: verified proof claims and API response shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, Required, TypedDict

__all__ = [
    "Agent",
    "AgentKeyInfo",
    "AgentList",
    "ApproverKey",
    "ApproverKeys",
    "Authorization",
    "AuthorizationExport",
    "AuthorizationList",
    "CallbackSecret",
    "ChatIdDiscovery",
    "DeliveryRetry",
    "HitlConfig",
    "HitlConfigList",
    "HitlKeys",
    "JSONWebKeySet",
    "Pagination",
    "ProofClaims",
    "ProofValidation",
    "Record",
    "RecordChanges",
    "RecordList",
    "RecordMeta",
    "RecordPage",
    "RevocationListPage",
    "RevokeReason",
    "RevokedEntry",
    "Template",
    "TemplateDeleted",
    "TemplateList",
    "TemplatePreview",
    "TemplateRendering",
    "VerificationList",
    "WebhookDelivery",
    "WebhookDeliveryList",
    "WebhookDeliveryStats",
    "WebhookEndpoint",
    "WebhookEndpointList",
]

RevokeReason = Literal["user_request", "fraud", "key_compromise", "asset_transferred", "other"]


@dataclass(frozen=True, slots=True)
class ProofClaims:
    """The claims of a proof token that passed every check.

    ``sub`` is the proof id (which is also the verification id). Claims a
    proof family does not carry (for example ``channel`` on some non-control
    proofs) are ``None``; everything the token contained is in ``raw``.
    """

    iss: str
    sub: str
    iat: int
    exp: int
    type: str
    jti: str | None = None
    proof_schema_version: str | None = None
    channel: str | None = None
    identifier_hash: str | None = None
    verified_at: str | None = None
    user_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def proof_id(self) -> str:
        """Alias for ``sub``."""
        return self.sub


class RevokedEntry(TypedDict):
    proof_id: str
    revoked_at: str
    reason: str


class RevocationListPage(TypedDict):
    """One page of ``GET /api/v1/proofs/revoked``, as sent (not verified).

    Only the ``revoked`` array inside the ``signature`` JWT is trustworthy;
    :class:`vouch_client.Verifier` checks it for you.
    """

    revoked: list[RevokedEntry]
    issued_at: str
    count: int
    signature: str
    kid: str
    has_more: bool
    next_cursor: str | None


class Pagination(TypedDict):
    hasMore: bool
    nextCursor: NotRequired[str | None]
    total: int
    page: int
    limit: int


class VerificationList(TypedDict):
    data: list[dict[str, Any]]
    pagination: Pagination


class ProofValidation(TypedDict, total=False):
    """``{"valid": true, "verification": {...}}`` or ``{"valid": false, "reason", "message"}``."""

    valid: Required[bool]
    verification: dict[str, Any]
    reason: str
    message: str


class JSONWebKeySet(TypedDict):
    keys: list[dict[str, Any]]


# ---------------------------------------------------------------- webhooks


class WebhookEndpoint(TypedDict):
    """An endpoint; ``secret`` only when it is created or its secret rotated."""

    id: str
    url: str
    description: str | None
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    test_mode: bool
    created_at: str
    updated_at: str
    secret: NotRequired[str]
    previous_secret_expires_at: NotRequired[str | None]


class WebhookEndpointList(TypedDict):
    data: list[WebhookEndpoint]


class CallbackSecret(TypedDict):
    secret: str
    previous_secret_expires_at: str | None


class WebhookDelivery(TypedDict):
    """A delivery; ``request`` and ``response_body`` only when fetched by id."""

    id: str
    event_id: str
    event_type: str
    verification_id: str | None
    endpoint_id: str | None
    url: str
    status: str
    attempts: int
    max_attempts: int
    last_attempt_at: str | None
    next_retry_at: str | None
    delivered_at: str | None
    verification_request_id: str | None
    response_status: int | None
    error_message: str | None
    test_mode: bool
    created_at: str
    updated_at: str
    request: NotRequired[dict[str, Any]]
    response_body: NotRequired[str | None]


class WebhookDeliveryList(TypedDict):
    data: list[WebhookDelivery]
    pagination: Pagination


class WebhookDeliveryStats(TypedDict):
    """Delivery figures: totals by status, the success rate, recent failures."""

    total: int
    by_status: dict[str, int]
    delivery_rate: str
    recent_failures_24h: NotRequired[int]
    retrying: NotRequired[int]
    delivered: int
    failed: int
    pending: int
    success_rate: float


class DeliveryRetry(TypedDict):
    success: bool
    delivery: WebhookDelivery


# ---------------------------------------------------------------- HITL


class HitlConfig(TypedDict):
    """A HITL config; ``finalize`` adds ``authorizations``."""

    id: str
    user_id: str
    name: str
    profile_id: str | None
    circle_id: str | None
    channels: list[dict[str, Any]]
    timeout_seconds: int
    status: str
    keypair: dict[str, Any] | None
    encrypted: bool
    environment: str
    created_at: str
    updated_at: str
    test_mode: bool
    activated_at: NotRequired[str]
    archived_at: NotRequired[str]
    authorizations: NotRequired[list[dict[str, Any]]]


class HitlConfigList(TypedDict):
    data: list[HitlConfig]
    pagination: Pagination
    limits: dict[str, Any]


class HitlKeys(TypedDict):
    hitl_id: str
    public_key: str
    kid: str
    encrypted_private_key: Any
    kdf_salt: str
    wrapped_dek: NotRequired[str | None]
    dek_iv: NotRequired[str | None]
    dek_tag: NotRequired[str | None]
    backup_wrapped_dek: NotRequired[str | None]
    backup_dek_iv: NotRequired[str | None]
    backup_dek_tag: NotRequired[str | None]
    created_at: str
    updated_at: str


class ApproverKey(TypedDict):
    hitl_id: NotRequired[str]
    authorization_id: str
    public_key: str
    kid: str
    created_at: str


class ApproverKeys(TypedDict):
    hitl_id: str
    data: list[ApproverKey]
    approver_keys: dict[str, str]


class ChatIdDiscovery(TypedDict):
    """A started discovery (``token``, ``deep_link``, …) or its state (``status``, ``chat_id``)."""

    token: NotRequired[str]
    deep_link: NotRequired[str]
    qr_code: NotRequired[str]
    qr_text: NotRequired[str]
    expires_in: NotRequired[int]
    expires_at: str
    status: NotRequired[str]
    chat_id: NotRequired[str]


class ServerSentEvent(TypedDict):
    """One event of a live status stream: its ``event`` name (``connected``,
    ``status_changed``, ``heartbeat``, …), its JSON ``data``, and ``id`` when the server set one."""

    event: str
    data: Any
    id: NotRequired[str]


# ---------------------------------------------------------------- authorizations


class Authorization(TypedDict):
    id: str
    status: str
    hitl_id: str | None
    channel: str
    recipient: str | None
    recipient_hash: NotRequired[str]
    recipient_display_name: NotRequired[str | None]
    scope: str
    business_name: NotRequired[str | None]
    enrolled: NotRequired[bool]
    confirmations_sent: NotRequired[int]
    expires_in: NotRequired[int]
    expires_at: NotRequired[str | None]
    created_at: str
    updated_at: str
    test_mode: bool
    deep_link: NotRequired[str]


class AuthorizationList(TypedDict):
    data: list[Authorization]
    pagination: Pagination


class AuthorizationExport(TypedDict):
    data: list[dict[str, Any]]
    count: int
    truncated: bool
    exported_at: str


# ---------------------------------------------------------------- templates


class Template(TypedDict):
    """A template in force: the project's (``is_custom``, ``id``, ``version``) or the default."""

    channel: str
    message_type: str
    body: str
    subject: NotRequired[str | None]
    button_text: NotRequired[str | None]
    button_url_template: NotRequired[str | None]
    is_active: bool
    is_custom: bool
    id: NotRequired[str]
    profile_id: NotRequired[str]
    version: NotRequired[int]
    updated_at: NotRequired[str]


class TemplateList(TypedDict):
    templates: list[Template]
    channels: list[str]
    message_types: list[str]
    conversation_types: list[str]
    variables: list[dict[str, str]]


class TemplateDeleted(TypedDict):
    deleted: bool
    channel: str
    message_type: str
    template: Template


class TemplatePreview(TypedDict):
    channel: str
    message_type: str
    rendered: dict[str, Any]
    variables: dict[str, Any]


class TemplateRendering(TemplatePreview):
    is_custom: bool


# ---------------------------------------------------------------- agents


class AgentKeyInfo(TypedDict):
    kid: str
    public_key: str
    jwk: dict[str, str]
    status: str
    created_at: str
    revoked_at: str | None
    directory_signature_expires_at: str | None


class Agent(TypedDict):
    agent_id: str
    name: str | None
    status: str
    created_at: str
    updated_at: str
    deleted_at: str | None
    keys: list[AgentKeyInfo]
    test_mode: bool


class AgentList(TypedDict):
    data: list[Agent]
    has_more: bool
    next_cursor: str | None


# ---------------------------------------------------------------- records


class RecordMeta(TypedDict):
    proofs: list[dict[str, Any]]
    status: NotRequired[str | None]
    labels: NotRequired[list[str]]
    owners: NotRequired[list[str]]
    moment: NotRequired[str]
    statusProof: NotRequired[dict[str, Any]]


class Record(TypedDict):
    """``{luid, hash, data, meta}``: check it offline with ``records.verify_record``."""

    luid: str
    hash: str
    data: dict[str, Any]
    meta: RecordMeta


class RecordPage(TypedDict):
    index: int
    limit: int
    hasMore: bool


class RecordList(TypedDict):
    """A signed list (``records.verify_list``) and its ``page``."""

    hash: str
    data: list[Record]
    meta: dict[str, Any]
    page: RecordPage


class RecordChanges(TypedDict):
    """Every version, oldest first (``records.verify_changes``)."""

    hash: str
    data: list[Record]
    meta: dict[str, Any]
