"""Reading ``text/event-stream`` responses: the server's live status streams.

The parsing follows the HTML Living Standard, "Server-sent events", §9.2.6 *Interpreting an
event stream*: lines end in CRLF, LF or CR (and nothing else, unlike ``str.splitlines``); a blank
line dispatches the event; a line starting with ``:`` is a comment; ``data`` lines accumulate,
joined by LF; an event without data is not dispatched. vouch's data fields are JSON, decoded
here.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from ._errors import VouchError
from ._types import ServerSentEvent

__all__ = ["EventStreamDecoder", "aiter_events", "iter_events"]


class EventStreamDecoder:
    """Turns chunks of decoded text into events, keeping what a chunk left unfinished."""

    def __init__(self) -> None:
        self._pending = ""  # the start of a line not yet ended
        self._skip_lf = False  # the last chunk ended in CR: an LF opening the next one is its pair
        self._first = True
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, text: str) -> list[ServerSentEvent]:
        if self._first and text:
            text = text.removeprefix("\ufeff")  # one leading BOM is ignored
            self._first = False
        if self._skip_lf and text.startswith("\n"):
            text = text[1:]
        self._skip_lf = False
        events: list[ServerSentEvent] = []
        buffer = self._pending + text  # the pending part holds no line end
        start = index = 0
        while index < len(buffer):
            char = buffer[index]
            if char == "\r" or char == "\n":
                event = self._line(buffer[start:index])
                if event is not None:
                    events.append(event)
                if char == "\r" and buffer.startswith("\n", index + 1):
                    index += 1  # CRLF is one line end
                start = index + 1
            index += 1
        self._pending = buffer[start:]
        # A CR ending this chunk may be the first half of a CRLF split across chunks.
        self._skip_lf = buffer.endswith("\r")
        return events

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        elif field == "id" and "\0" not in value:
            self._id = value
        return None  # ``retry`` and unknown fields are ignored

    def _dispatch(self) -> ServerSentEvent | None:
        event, data, last_id = self._event or "message", self._data, self._id
        self._event, self._data = "", []
        if not data:
            return None
        raw = "\n".join(data)
        try:
            decoded: Any = json.loads(raw)
        except ValueError as exc:
            raise VouchError(
                200, "invalid_response", f"the event stream sent non-JSON data: {raw[:80]!r}"
            ) from exc
        out: ServerSentEvent = {"event": event, "data": decoded}
        if last_id is not None:
            out["id"] = last_id
        return out


def iter_events(chunks: Iterable[str]) -> Iterator[ServerSentEvent]:
    decoder = EventStreamDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)


async def aiter_events(chunks: AsyncIterator[str]) -> AsyncIterator[ServerSentEvent]:
    decoder = EventStreamDecoder()
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
