"""``/oauth/callback/{provider}``: where OAuth providers send the person back (methods issue)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
