"""Time: one place that says what "now" is, and the wire format for instants.

Bodies carry ISO 8601 UTC instants with millisecond precision and a ``Z`` suffix
(``2026-02-04T10:00:00.000Z``), exactly as proof.holdings' golden vectors do.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def isoformat_ms(value: datetime) -> str:
    """RFC 3339 / ISO 8601 instant in UTC with milliseconds: ``2026-02-04T10:00:00.000Z``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else isoformat_ms(value)


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant; a value without offset is taken as UTC."""
    parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def truncate_ms(value: datetime) -> datetime:
    """Drop sub-millisecond precision so stored and rendered instants agree."""
    return value.replace(microsecond=(value.microsecond // 1000) * 1000)
