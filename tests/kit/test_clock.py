"""Tests for vouch_server.kit.clock: the instant wire format and its parser."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from vouch_server.kit.clock import iso_or_none, isoformat_ms, parse_instant, truncate_ms, utcnow

WIRE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


class TestUtcnow:
    def test_is_aware_utc(self) -> None:
        now = utcnow()
        assert now.tzinfo is not None
        assert now.utcoffset() == timedelta(0)

    def test_is_now(self) -> None:
        assert abs(utcnow() - datetime.now(UTC)) < timedelta(seconds=5)


class TestIsoformatMs:
    def test_renders_milliseconds_and_z(self) -> None:
        value = datetime(2026, 2, 4, 10, 0, tzinfo=UTC)
        assert isoformat_ms(value) == "2026-02-04T10:00:00.000Z"

    def test_truncates_microseconds_to_milliseconds(self) -> None:
        value = datetime(2026, 2, 4, 10, 0, 0, 123999, tzinfo=UTC)
        assert isoformat_ms(value) == "2026-02-04T10:00:00.123Z"

    def test_naive_values_are_taken_as_utc(self) -> None:
        assert isoformat_ms(datetime(2026, 2, 4, 10, 0)) == "2026-02-04T10:00:00.000Z"

    def test_other_offsets_are_converted_to_utc(self) -> None:
        value = datetime(
            2026, 2, 4, 11, 30, 0, 5000, tzinfo=timezone(timedelta(hours=1, minutes=30))
        )
        assert isoformat_ms(value) == "2026-02-04T10:00:00.005Z"

    def test_conversion_can_cross_a_date(self) -> None:
        value = datetime(2026, 2, 3, 20, 0, tzinfo=timezone(timedelta(hours=-5)))
        assert isoformat_ms(value) == "2026-02-04T01:00:00.000Z"

    def test_output_always_has_the_wire_shape(self) -> None:
        assert WIRE_RE.match(isoformat_ms(utcnow()))


class TestIsoOrNone:
    def test_none_stays_none(self) -> None:
        assert iso_or_none(None) is None

    def test_a_value_is_formatted(self) -> None:
        value = datetime(2026, 2, 4, 10, 0, tzinfo=UTC)
        assert iso_or_none(value) == "2026-02-04T10:00:00.000Z"


class TestParseInstant:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2026-02-04T10:00:00.000Z", datetime(2026, 2, 4, 10, 0, tzinfo=UTC)),
            ("2026-02-04T10:00:00.250z", datetime(2026, 2, 4, 10, 0, 0, 250000, tzinfo=UTC)),
            ("2026-02-04T10:00:00", datetime(2026, 2, 4, 10, 0, tzinfo=UTC)),
            ("2026-02-04T11:00:00+01:00", datetime(2026, 2, 4, 10, 0, tzinfo=UTC)),
            ("  2026-02-04T10:00:00Z\n", datetime(2026, 2, 4, 10, 0, tzinfo=UTC)),
        ],
    )
    def test_parses_to_aware_utc(self, text: str, expected: datetime) -> None:
        parsed = parse_instant(text)
        assert parsed == expected
        assert parsed.utcoffset() == timedelta(0)

    def test_round_trips_isoformat_ms(self) -> None:
        value = datetime(2026, 2, 4, 10, 0, 0, 123000, tzinfo=UTC)
        assert parse_instant(isoformat_ms(value)) == value
        assert isoformat_ms(parse_instant("2026-02-04T10:00:00.123Z")) == "2026-02-04T10:00:00.123Z"

    @pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01T00:00:00Z"])
    def test_rejects_non_instants(self, text: str) -> None:
        with pytest.raises(ValueError):
            parse_instant(text)


class TestTruncateMs:
    def test_drops_sub_millisecond_precision(self) -> None:
        value = datetime(2026, 2, 4, 10, 0, 0, 123999, tzinfo=UTC)
        assert truncate_ms(value) == datetime(2026, 2, 4, 10, 0, 0, 123000, tzinfo=UTC)

    def test_truncated_value_survives_the_wire_format(self) -> None:
        value = truncate_ms(utcnow())
        assert parse_instant(isoformat_ms(value)) == value
