"""Fixtures: an app wired to the provider stand-ins of ``tests/channels``."""

from tests.channels.conftest import capp, cc, ckeys, fake_api

__all__ = ["capp", "cc", "ckeys", "fake_api"]
