"""What ``/health`` and ``/api/v1`` answer, for the OpenAPI document (describes the dicts the
handlers in ``app.py`` build; never validates them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class HealthServicesOut(BaseModel):
    database: Literal["up", "down"]
    redis: Literal["up", "down", "not_configured"]


class HealthOut(BaseModel):
    """The same body comes with 503 when a service is down."""

    status: Literal["healthy", "unhealthy"]
    timestamp: str
    version: str = Field(description="The server's version.")
    services: HealthServicesOut


class ApiInfoOut(BaseModel):
    name: str
    version: str
    description: str
