"""The method Protocol and the value types it trades in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.config import Settings
from vouch_server.models import Verification


@dataclass(frozen=True)
class ChallengeContext:
    verification: Verification
    code: str
    expires_at: datetime
    settings: Settings


@dataclass(frozen=True)
class SubmitContext:
    verification: Verification
    payload: dict[str, Any]
    settings: Settings
    code_key: bytes


@dataclass(frozen=True)
class Accepted:
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejected:
    """A submission that does not prove control; it counts as a failed attempt."""

    code: str
    message: str


@dataclass(frozen=True)
class NotYet:
    """A check that found no proof yet (a DNS record not published, a file not served). It is not
    an attempt: the person may still be setting it up."""

    code: str
    message: str


Outcome = Accepted | Rejected
CheckOutcome = Accepted | NotYet


@runtime_checkable
class VerificationMethod(Protocol):
    type: str
    channel: str

    def challenge(self, ctx: ChallengeContext) -> dict[str, Any]:
        """Fields of ``challenge`` in the create response (may contain the code)."""
        ...

    async def after_create(
        self, session: AsyncSession, ctx: ChallengeContext, *, test_mode: bool
    ) -> None:
        """Side effects once the verification row exists (sending, scheduling)."""
        ...

    async def check_submission(self, ctx: SubmitContext) -> Outcome:
        """Decide a ``submit``; raise ``ValidationFailed`` for a malformed one (not an attempt)."""
        ...

    async def check_now(self, ctx: SubmitContext) -> CheckOutcome:
        """Look for the proof now (``POST …/{id}/verify`` and background re-checks): DNS records,
        HTTP files. Methods without such a check raise ``BadRequest(code="method_not_supported")``."""
        ...


class BackgroundChecked(Protocol):
    """Marker: methods with ``background_check = True`` are re-checked while pending."""

    background_check: bool
