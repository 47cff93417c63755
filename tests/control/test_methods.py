"""The method registry: every (type, channel) of the catalog has a method, and each one satisfies
the ``VerificationMethod`` Protocol."""

from __future__ import annotations

import pytest

from vouch_server.control.catalog import CHANNELS_BY_TYPE, channel_valid_for
from vouch_server.control.methods import VerificationMethod, all_methods, get_method

PAIRS = [(t, c) for t, channels in CHANNELS_BY_TYPE.items() for c in channels]


class TestRegistry:
    def test_registry_covers_exactly_the_catalog(self) -> None:
        assert set(all_methods()) == set(PAIRS)

    @pytest.mark.parametrize(("type_", "channel"), PAIRS)
    def test_each_method_satisfies_the_protocol(self, type_: str, channel: str) -> None:
        method = get_method(type_, channel)
        assert isinstance(method, VerificationMethod)
        assert (method.type, method.channel) == (type_, channel)

    def test_pairs_outside_the_catalog_are_invalid(self) -> None:
        assert channel_valid_for("phone", "sms")
        assert not channel_valid_for("phone", "email")
        assert not channel_valid_for("email", "telegram")
        with pytest.raises(KeyError):
            get_method("phone", "email")
