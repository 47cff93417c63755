"""Fixtures: an app wired to provider stand-ins (see ``tests/approval/standins.py``)."""

from tests.approval.standins import dapp, dc, dkeys, fake_api, smtp

__all__ = ["dapp", "dc", "dkeys", "fake_api", "smtp"]
