"""What can be verified: asset types, their channels, and challenge lifetimes.

From the seed's "Asset Types" table (``000_…``) and the threat model's TTLs (``001_…`` §4):
phone 10 min, email 30 min, domain 24 h, social and wallet 10 min. Accounts and Telegram bots are
not given a TTL by the seeds; they follow social and wallet (10 min).
"""

from __future__ import annotations

from enum import StrEnum


class AssetType(StrEnum):
    phone = "phone"
    email = "email"
    domain = "domain"
    social = "social"
    wallet = "wallet"
    account = "account"
    telegram_bot = "telegram_bot"


class Channel(StrEnum):
    whatsapp = "whatsapp"
    telegram = "telegram"
    sms = "sms"
    email = "email"
    dns = "dns"
    http = "http"
    auto = "auto"
    github = "github"
    google = "google"
    facebook = "facebook"
    x = "x"
    linkedin = "linkedin"
    instagram = "instagram"
    youtube = "youtube"
    tiktok = "tiktok"
    ethereum = "ethereum"
    solana = "solana"
    bitcoin = "bitcoin"
    coinbase = "coinbase"
    kraken = "kraken"
    telegram_bot_token = "telegram_bot_token"  # noqa: S105 (a channel name, not a secret)


class Status(StrEnum):
    pending = "pending"
    verified = "verified"
    failed = "failed"
    expired = "expired"
    revoked = "revoked"


CHANNELS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "phone": ("whatsapp", "telegram", "sms"),
    "email": ("email",),
    "domain": ("dns", "http", "email", "auto"),
    "social": ("github", "google", "facebook", "x", "linkedin", "instagram", "youtube", "tiktok"),
    "wallet": ("ethereum", "solana", "bitcoin"),
    "account": ("coinbase", "kraken"),
    "telegram_bot": ("telegram_bot_token",),
}

CHALLENGE_TTL_SECONDS: dict[str, int] = {
    "phone": 10 * 60,
    "email": 30 * 60,
    "domain": 24 * 60 * 60,
    "social": 10 * 60,
    "wallet": 10 * 60,
    "account": 10 * 60,
    "telegram_bot": 10 * 60,
}

# Proof lifetime bounds (API: ``expires_in`` seconds or ``proof_expiry_days``).
MIN_PROOF_LIFETIME = 60 * 60
MAX_PROOF_LIFETIME = 365 * 24 * 60 * 60

# Exponential backoff between attempts (threat model §6): 1 s, 2 s, 4 s, 8 s, 16 s.
BACKOFF_SECONDS = (1, 2, 4, 8, 16)


def channel_valid_for(type_: str, channel: str) -> bool:
    return channel in CHANNELS_BY_TYPE.get(type_, ())
