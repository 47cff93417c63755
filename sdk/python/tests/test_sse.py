"""The event-stream decoder (HTML Living Standard, "Server-sent events", §9.2.6): events cut at
any byte boundary, every kind of line end, comments, multi-line data, and only real line ends."""

from __future__ import annotations

import pytest

from vouch_client import VouchError
from vouch_client._sse import EventStreamDecoder, iter_events

STREAM = (
    ": a comment line, ignored\n"
    'event: connected\ndata: {"status":"pending"}\n\n'
    'event: heartbeat\r\ndata: {"at":"2026-01-01T00:00:00.000Z"}\r\n\r\n'
    'id: 7\revent: status_changed\rdata: {"status":\rdata: "completed"}\r\r'
)
EXPECTED = [
    {"event": "connected", "data": {"status": "pending"}},
    {"event": "heartbeat", "data": {"at": "2026-01-01T00:00:00.000Z"}},
    {"event": "status_changed", "data": {"status": "completed"}, "id": "7"},
]


class TestEventStreamDecoder:
    def test_a_whole_stream_in_one_chunk(self) -> None:
        assert list(iter_events([STREAM])) == EXPECTED

    @pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
    def test_any_chunking_gives_the_same_events(self, size: int) -> None:
        chunks = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
        assert list(iter_events(chunks)) == EXPECTED

    def test_a_crlf_split_across_chunks_is_one_line_end(self) -> None:
        # Were the LF read as a second line end, the blank line would dispatch early.
        decoder = EventStreamDecoder()
        assert decoder.feed("data: [1,\r") == []
        assert decoder.feed("\ndata: 2]\r\n") == []
        assert decoder.feed("\r\n") == [{"event": "message", "data": [1, 2]}]

    def test_other_unicode_line_breaks_stay_inside_the_data(self) -> None:
        (event,) = iter_events(['data: "a\u2028b\x85c"\n\n'])
        assert event["data"] == "a\u2028b\x85c"

    def test_a_leading_bom_is_not_part_of_the_first_field_name(self) -> None:
        (event,) = iter_events(['\ufeffevent:ping\ndata:"x"\n\n'])
        assert event == {"event": "ping", "data": "x"}

    def test_an_event_without_data_is_not_dispatched(self) -> None:
        assert list(iter_events(["event: nothing\n\n: just a comment\n\n"])) == []

    def test_an_unfinished_event_is_not_dispatched(self) -> None:
        assert list(iter_events(['event: cut\ndata: {"status":"pending"}\n'])) == []

    def test_data_that_is_not_json_is_an_invalid_response(self) -> None:
        with pytest.raises(VouchError) as bad:
            list(iter_events(["data: not json\n\n"]))
        assert bad.value.code == "invalid_response"
