"""Email routes: ``POST /inbound/email`` (raw RFC 5322 from providers that forward mail over HTTP)
and the magic link of outbound email codes (channels issue — email part)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
