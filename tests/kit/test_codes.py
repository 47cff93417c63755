"""Tests for vouch_server.kit.codes: challenge code format, uniformity, and HMAC digests."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import random
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vouch_server.kit.codes import (
    CODE_ALPHABET,
    CODE_LENGTH,
    code_digest,
    code_matches,
    generate_code,
)

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "proof_holdings_test_vectors.json"
CHALLENGE_FORMAT: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))[
    "challenge_format"
]
CODE_RE = re.compile(r"^[A-Z0-9]{6}$")
KEY = b"k" * 32

# 12,000 codes = 72,000 characters, 2,000 expected per character. Over 36,000 characters the
# modulo bias of `alphabet[byte % 36]` (A–D drawn 8/256 instead of 7/256) adds only ~62 to the
# statistic, too close to the uniform tail to tell apart reliably; at 72,000 it adds ~125.
SAMPLE_CODES = 12_000
# P(chi-square with 35 degrees of freedom > 90) ≈ 1e-6: a fair generator fails once in a million.
CHI_SQUARE_LIMIT = 90.0
# Each character's share within ±15 % of its expectation (about ±6.8 standard deviations).
BAND = 0.15


def _uniformity_problems(text: str) -> list[str]:
    """Why ``text`` does not look like uniform draws from the alphabet (empty when it does)."""
    counts = Counter(text)
    expected = len(text) / len(CODE_ALPHABET)
    problems = [f"unexpected character {c!r}" for c in counts if c not in CODE_ALPHABET]
    for char in CODE_ALPHABET:
        if abs(counts[char] - expected) > BAND * expected:
            problems.append(f"{char} drawn {counts[char]} times, expected {expected:.0f}")
    chi_square = sum((counts[c] - expected) ** 2 / expected for c in CODE_ALPHABET)
    if chi_square > CHI_SQUARE_LIMIT:
        problems.append(f"chi-square {chi_square:.1f} > {CHI_SQUARE_LIMIT}")
    return problems


def _biased_code(rng: random.Random) -> str:
    return "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in rng.randbytes(CODE_LENGTH))


def _sample(generate: Callable[[], str]) -> str:
    return "".join(generate() for _ in range(SAMPLE_CODES))


class TestCodeFormat:
    def test_alphabet_and_length_are_the_golden_vectors(self) -> None:
        assert CODE_ALPHABET == CHALLENGE_FORMAT["alphabet"]
        assert CODE_LENGTH == CHALLENGE_FORMAT["length"]
        assert CHALLENGE_FORMAT["regex"] == CODE_RE.pattern

    def test_alphabet_has_no_repeated_characters(self) -> None:
        assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET) == 36

    def test_entropy_is_log2_of_the_code_space(self) -> None:
        bits = CODE_LENGTH * math.log2(len(CODE_ALPHABET))
        assert round(bits, 1) == CHALLENGE_FORMAT["entropy_bits"] == 31.0

    def test_golden_example_matches_the_format(self) -> None:
        assert CODE_RE.match(CHALLENGE_FORMAT["example"])


class TestGenerateCode:
    def test_codes_are_six_upper_alphanumerics(self) -> None:
        for _ in range(1000):
            assert CODE_RE.match(generate_code())

    def test_length_can_be_chosen(self) -> None:
        assert len(generate_code(10)) == 10

    def test_codes_differ(self) -> None:
        assert len({generate_code() for _ in range(1000)}) > 990

    def test_every_character_is_drawn_uniformly(self) -> None:
        assert _uniformity_problems(_sample(generate_code)) == []

    def test_the_uniformity_check_catches_a_modulo_biased_generator(self) -> None:
        rng = random.Random(20260204)
        problems = _uniformity_problems(_sample(lambda: _biased_code(rng)))
        assert any(p.startswith("chi-square") for p in problems), problems

    def test_the_uniformity_check_catches_a_missing_character(self) -> None:
        text = _sample(generate_code).replace("Z", "A")
        assert "Z drawn 0 times, expected 2000" in _uniformity_problems(text)


class TestCodeDigest:
    def test_digest_is_hex_sha256_sized(self) -> None:
        assert re.fullmatch(r"[0-9a-f]{64}", code_digest(KEY, "ABC123"))

    def test_digest_is_keyed(self) -> None:
        assert code_digest(KEY, "ABC123") != code_digest(b"x" * 32, "ABC123")

    def test_digest_is_the_hmac_sha256_of_the_code(self) -> None:
        expected = hmac.new(KEY, b"ABC123", hashlib.sha256).hexdigest()
        assert code_digest(KEY, "ABC123") == expected

    def test_digest_does_not_contain_the_code(self) -> None:
        assert "ABC123" not in code_digest(KEY, "ABC123").upper()

    def test_different_codes_give_different_digests(self) -> None:
        assert code_digest(KEY, "ABC123") != code_digest(KEY, "ABC124")

    def test_case_and_surrounding_space_are_ignored(self) -> None:
        assert code_digest(KEY, " abc123\n") == code_digest(KEY, "ABC123")


class TestCodeMatches:
    def test_accepts_the_right_code(self) -> None:
        assert code_matches(KEY, "ABC123", code_digest(KEY, "ABC123"))

    @pytest.mark.parametrize("candidate", ["abc123", "AbC123", " abc123 "])
    def test_accepts_any_case(self, candidate: str) -> None:
        assert code_matches(KEY, candidate, code_digest(KEY, "ABC123"))

    @pytest.mark.parametrize("candidate", ["ABC124", "ABC12", "ABC1234", "", "0BC123"])
    def test_rejects_wrong_codes(self, candidate: str) -> None:
        assert not code_matches(KEY, candidate, code_digest(KEY, "ABC123"))

    def test_rejects_a_digest_made_with_another_key(self) -> None:
        assert not code_matches(KEY, "ABC123", code_digest(b"x" * 32, "ABC123"))

    def test_compares_in_constant_time(self, monkeypatch: pytest.MonkeyPatch) -> None:
        calls: list[tuple[str, str]] = []
        real = hmac.compare_digest

        def spy(a: str, b: str) -> bool:
            calls.append((a, b))
            return real(a, b)

        monkeypatch.setattr("vouch_server.kit.codes.hmac.compare_digest", spy)
        stored = code_digest(KEY, "ABC123")
        assert code_matches(KEY, "abc123", stored)
        assert not code_matches(KEY, "ZZZ999", stored)
        assert calls == [
            (stored, stored),
            (code_digest(KEY, "ZZZ999"), stored),
        ]
