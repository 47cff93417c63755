"""Verification requests (multi-asset) and the verified-users view."""
