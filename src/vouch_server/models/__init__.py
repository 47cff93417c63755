"""ORM tables, one module each. Importing this package registers every table on ``Base.metadata``."""

# Each family's tables live in its own module; importing them registers them on Base.metadata.
from vouch_server.models import agents as _agents  # noqa: F401
from vouch_server.models import delegation as _delegation  # noqa: F401
from vouch_server.models import hitl as _hitl  # noqa: F401
from vouch_server.models import location as _location  # noqa: F401
from vouch_server.models import profiles as _profiles  # noqa: F401
from vouch_server.models import records as _records  # noqa: F401
from vouch_server.models.api_key import ApiKey, ApiKeyEpoch
from vouch_server.models.base import Base
from vouch_server.models.channels import (
    ChannelCredential,
    ChannelLink,
    MessageTemplate,
    OutboundMessage,
)
from vouch_server.models.project import Project
from vouch_server.models.proof import Proof
from vouch_server.models.requests import VerificationRequest, VerificationRequestAsset
from vouch_server.models.sessions import PhoneSession, VerificationGroup, VerificationGroupMember
from vouch_server.models.signing_key import SigningKey, StatusListCounter
from vouch_server.models.verification import Verification
from vouch_server.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "ApiKey",
    "ApiKeyEpoch",
    "Base",
    "ChannelCredential",
    "ChannelLink",
    "MessageTemplate",
    "OutboundMessage",
    "PhoneSession",
    "Project",
    "Proof",
    "SigningKey",
    "StatusListCounter",
    "Verification",
    "VerificationGroup",
    "VerificationGroupMember",
    "VerificationRequest",
    "VerificationRequestAsset",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
