"""Tests for vouch_server.kit.ids: ObjectId-shaped, time-ordered, unguessable ids."""

from __future__ import annotations

import time

import pytest

from vouch_server.kit.ids import OBJECT_ID_RE, is_object_id, new_object_id


class TestNewObjectId:
    def test_ids_are_24_lowercase_hex(self) -> None:
        for _ in range(200):
            assert OBJECT_ID_RE.fullmatch(new_object_id())

    def test_first_four_bytes_are_the_unix_seconds(self) -> None:
        assert new_object_id(now=0x65BF5A20).startswith("65bf5a20")
        assert new_object_id(now=1.9).startswith("00000001")

    def test_default_time_is_now(self) -> None:
        before = int(time.time())
        seconds = int(new_object_id()[:8], 16)
        assert before <= seconds <= int(time.time())

    def test_ids_sort_by_creation_second(self) -> None:
        earlier = new_object_id(now=1_700_000_000)
        later = new_object_id(now=1_700_000_001)
        assert earlier < later

    def test_random_part_differs_within_one_second(self) -> None:
        ids = {new_object_id(now=1_700_000_000) for _ in range(1000)}
        assert len(ids) == 1000

    def test_seconds_beyond_32_bits_wrap_instead_of_growing_the_id(self) -> None:
        value = new_object_id(now=2**32 + 5)
        assert len(value) == 24
        assert value.startswith("00000005")


class TestIsObjectId:
    def test_accepts_a_new_id(self) -> None:
        assert is_object_id(new_object_id())

    @pytest.mark.parametrize(
        "value",
        [
            "",
            "65bf5a20" + "0" * 15,  # 23 characters
            "65bf5a20" + "0" * 17,  # 25 characters
            "65BF5A20" + "0" * 16,  # upper case
            "65bf5a20" + "g" * 16,  # not hex
            "65bf5a20" + "0" * 16 + "\n",
        ],
    )
    def test_rejects_anything_else(self, value: str) -> None:
        assert not is_object_id(value)
