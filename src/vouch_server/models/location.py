"""Tables of the location-proof family (Astral surface).

``location_attesters`` holds the secp256k1 key vouch signs EAS attestations with: generated once
per deployment, its private key sealed with AES-256-GCM (``kit.secretbox``, purpose
``location-attester``) with the row id and address as associated data, so every process of a
fleet signs with the same key and a copy of the database alone cannot.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vouch_server.models.base import Base, UTCDateTime


class LocationAttester(Base):
    __tablename__ = "location_attesters"

    # One well-known id ("default"): the primary key makes concurrent first starts agree on one key.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    address: Mapped[str] = mapped_column(String(42))
    private_key_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
