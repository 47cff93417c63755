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


class WebhookEndpoint(TypedDict, total=False):
    """An endpoint; ``secret`` only when it is created or its secret rotated."""

    id: Required[str]
    url: Required[str]
    description: Required[str | None]
    events: Required[list[str]]
    enabled: Required[bool]
    disabled_reason: Required[str | None]
    test_mode: Required[bool]
    created_at: Required[str]
    updated_at: Required[str]
    secret: str
    previous_secret_expires_at: str | None


class WebhookEndpointList(TypedDict):
    data: list[WebhookEndpoint]


class CallbackSecret(TypedDict):
    secret: str
    previous_secret_expires_at: str | None


class WebhookDelivery(TypedDict, total=False):
    """A delivery; ``request`` and ``response_body`` only when fetched by id."""

    id: Required[str]
    event_id: Required[str]
    event_type: Required[str]
    verification_id: Required[str | None]
    endpoint_id: Required[str | None]
    url: Required[str]
    status: Required[str]
    attempts: Required[int]
    max_attempts: Required[int]
    last_attempt_at: Required[str | None]
    next_retry_at: Required[str | None]
    delivered_at: Required[str | None]
    verification_request_id: Required[str | None]
    response_status: Required[int | None]
    error_message: Required[str | None]
    test_mode: Required[bool]
    created_at: Required[str]
    updated_at: Required[str]
    request: dict[str, Any]
    response_body: str | None


class WebhookDeliveryList(TypedDict):
    data: list[WebhookDelivery]
    pagination: Pagination


class WebhookDeliveryStats(TypedDict, total=False):
    """Delivery figures: totals by status, the success rate, recent failures."""

    total: Required[int]
    by_status: Required[dict[str, int]]
    delivery_rate: Required[str]
    recent_failures_24h: int
    retrying: int
    delivered: Required[int]
    failed: Required[int]
    pending: Required[int]
    success_rate: Required[float]


class DeliveryRetry(TypedDict):
    success: bool
    delivery: WebhookDelivery


# ---------------------------------------------------------------- HITL


class HitlConfig(TypedDict, total=False):
    """A HITL config; ``finalize`` adds ``authorizations``."""

    id: Required[str]
    user_id: Required[str]
    name: Required[str]
    profile_id: Required[str | None]
    circle_id: Required[str | None]
    channels: Required[list[dict[str, Any]]]
    timeout_seconds: Required[int]
    status: Required[str]
    keypair: Required[dict[str, Any] | None]
    encrypted: Required[bool]
    environment: Required[str]
    created_at: Required[str]
    updated_at: Required[str]
    test_mode: Required[bool]
    activated_at: str
    archived_at: str
    authorizations: list[dict[str, Any]]


class HitlConfigList(TypedDict):
    data: list[HitlConfig]
    pagination: Pagination
    limits: dict[str, Any]


class HitlKeys(TypedDict, total=False):
    hitl_id: Required[str]
    public_key: Required[str]
    kid: Required[str]
    encrypted_private_key: Required[Any]
    kdf_salt: Required[str]
    wrapped_dek: str | None
    dek_iv: str | None
    dek_tag: str | None
    backup_wrapped_dek: str | None
    backup_dek_iv: str | None
    backup_dek_tag: str | None
    created_at: Required[str]
    updated_at: Required[str]


class ApproverKey(TypedDict, total=False):
    hitl_id: str
    authorization_id: Required[str]
    public_key: Required[str]
    kid: Required[str]
    created_at: Required[str]


class ApproverKeys(TypedDict):
    hitl_id: str
    data: list[ApproverKey]
    approver_keys: dict[str, str]


class ChatIdDiscovery(TypedDict, total=False):
    """A started discovery (``token``, ``deep_link``, …) or its state (``status``, ``chat_id``)."""

    token: str
    deep_link: str
    qr_code: str
    qr_text: str
    expires_in: int
    expires_at: Required[str]
    status: str
    chat_id: str


# ---------------------------------------------------------------- authorizations


class Authorization(TypedDict, total=False):
    id: Required[str]
    status: Required[str]
    hitl_id: Required[str | None]
    channel: Required[str]
    recipient: Required[str | None]
    recipient_hash: str
    recipient_display_name: str | None
    scope: Required[str]
    business_name: str | None
    enrolled: bool
    confirmations_sent: int
    expires_in: int
    expires_at: str | None
    created_at: Required[str]
    updated_at: Required[str]
    test_mode: Required[bool]
    deep_link: str


class AuthorizationList(TypedDict):
    data: list[Authorization]
    pagination: Pagination


class AuthorizationExport(TypedDict):
    data: list[dict[str, Any]]
    count: int
    truncated: bool
    exported_at: str


# ---------------------------------------------------------------- templates


class Template(TypedDict, total=False):
    """A template in force: the project's (``is_custom``, ``id``, ``version``) or the default."""

    channel: Required[str]
    message_type: Required[str]
    body: Required[str]
    subject: str | None
    button_text: str | None
    button_url_template: str | None
    is_active: Required[bool]
    is_custom: Required[bool]
    id: str
    profile_id: str
    version: int
    updated_at: str


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


class RecordMeta(TypedDict, total=False):
    proofs: Required[list[dict[str, Any]]]
    status: str | None
    labels: list[str]
    owners: list[str]
    moment: str
    statusProof: dict[str, Any]


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


class RecordList(TypedDict, total=False):
    """A signed list (``records.verify_list``) and its ``page``."""

    hash: Required[str]
    data: Required[list[Record]]
    meta: Required[dict[str, Any]]
    page: Required[RecordPage]


class RecordChanges(TypedDict):
    """Every version, oldest first (``records.verify_changes``)."""

    hash: str
    data: list[Record]
    meta: dict[str, Any]
