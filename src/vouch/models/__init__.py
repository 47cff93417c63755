"""ORM tables, one module each. Importing this package registers every table on ``Base.metadata``."""

# Each family's tables live in its own module; importing them registers them on Base.metadata.
from vouch.models import agents as _agents  # noqa: F401
from vouch.models import delegation as _delegation  # noqa: F401
from vouch.models import location as _location  # noqa: F401
from vouch.models import records as _records  # noqa: F401
from vouch.models.api_key import ApiKey, ApiKeyEpoch
from vouch.models.base import Base
from vouch.models.channels import ChannelCredential, ChannelLink, MessageTemplate, OutboundMessage
from vouch.models.project import Project
from vouch.models.proof import Proof
from vouch.models.signing_key import SigningKey, StatusListCounter
from vouch.models.verification import Verification
from vouch.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "ApiKey",
    "ApiKeyEpoch",
    "Base",
    "ChannelCredential",
    "ChannelLink",
    "MessageTemplate",
    "OutboundMessage",
    "Project",
    "Proof",
    "SigningKey",
    "StatusListCounter",
    "Verification",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
