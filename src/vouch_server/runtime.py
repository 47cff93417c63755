"""What one running vouch process holds: settings, database, keyring, token service, limiter.

Built once per app (``create_app``) or per CLI command, and reached from request handlers through
``request.app.state.vouch``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vouch_server.config import Settings
from vouch_server.database import Database
from vouch_server.kit.bus import Bus, build_bus
from vouch_server.kit.ratelimit import RateLimiter
from vouch_server.kit.secretbox import derive_key
from vouch_server.observability.metrics import Metrics
from vouch_server.signing.keys import Keyring
from vouch_server.signing.tokens import TokenService


@dataclass
class Runtime:
    settings: Settings
    db: Database
    keyring: Keyring
    tokens: TokenService
    limiter: RateLimiter
    code_key: bytes
    bus: Bus
    extras: dict[str, object] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        keyring = Keyring(settings)
        metrics = Metrics()
        return cls(
            settings=settings,
            db=Database(settings),
            keyring=keyring,
            tokens=TokenService(settings, keyring, metrics=metrics),
            limiter=RateLimiter(settings, on_refused=metrics.rate_limit_refused),
            code_key=derive_key(settings.master_key, "challenge-codes"),
            bus=build_bus(settings),
            metrics=metrics,
        )

    async def close(self) -> None:
        await self.bus.stop()
        await self.limiter.close()
        await self.db.dispose()
