"""vouch: a self-hostable trust server."""

__version__ = "0.1.0"
