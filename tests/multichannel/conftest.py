"""Fixtures: the plain app (``client``/``keys``) and one wired to the provider stand-ins of
``tests/channels`` (``cc``/``ckeys``/``fake_api``), for channels completed by provider messages."""

from tests.channels.conftest import capp, cc, ckeys, fake_api

__all__ = ["capp", "cc", "ckeys", "fake_api"]
