"""Settings: ``VOUCH_*`` environment variables, optionally a ``vouch.toml`` in the data directory.

Environment variables win over the file; the file wins over defaults. Nothing here reads the
environment at import time: ``Settings()`` is built once by the entry point (CLI, tests) and passed
down, so a test can run several differently configured apps in one process.
"""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

SigningAlg = Literal["RS256", "ES256", "EdDSA"]


def _default_data_dir() -> Path:
    return Path(os.environ.get("VOUCH_DATA_DIR", ".vouch"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VOUCH_", extra="ignore", frozen=False)

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    redis_url: str | None = None
    public_url: str = "http://127.0.0.1:8080"
    issuer: str | None = None
    secret_key: str | None = None

    # Proof tokens.
    signing_alg: SigningAlg = "RS256"
    # A rotated key is published this long before it starts signing, so that verifiers holding a
    # cached JWKS (max-age 86400) have seen it by the time tokens carry its kid.
    key_publish_lead_seconds: int = 86400
    # Each key signs for at most this long; a successor is created a publish lead before the end.
    key_signing_window_days: int = 90
    # Published as every proof key's ``max_token_lifetime``: no proof outlives iat + this.
    max_token_lifetime_days: int = 400
    # Token Status List: the ``ttl`` relying parties may cache a list for (seconds).
    status_list_ttl_seconds: int = 60
    default_proof_expiry_days: int = 30

    # Verifications.
    max_attempts: int = 3
    expiry_sweep_seconds: float = 30.0

    # Safety baseline (threat model §6, §9).
    body_limit_bytes: int = 10 * 1024
    rate_limit_api: str = "100/minute"
    rate_limit_public: str = "60/minute"
    # The paged revocation list is read page after page by a cold verifier (1,000 pages at
    # 500,000 revocations), so it has its own, wider per-IP limit instead of the public one.
    rate_limit_revocation_list: str = "3000/minute"
    rate_limit_auth_failures: str = "30/minute"
    rate_limit_probes: str = "10/hour"
    rate_limit_enabled: bool = True
    trust_forwarded_for: bool = False
    # With VOUCH_TRUST_FORWARDED_FOR: the proxies (addresses or CIDR networks, comma-separated)
    # whose X-Forwarded-For entries are believed. The peer must be one of them, and the client is
    # the rightmost entry that is not.
    trusted_proxies: str = "127.0.0.1/8,::1"

    # -- metrics and logs (docs/self-hosting.md, "Metrics and logs") -------------------------
    # GET /metrics answers 404 unless metrics are enabled; setting a token enables them and
    # requires it as "Authorization: Bearer <token>".
    metrics_enabled: bool = False
    metrics_token: str | None = None
    # "json": one JSON object per line; "text": one readable line. Both carry the request id.
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"
    # One line per request on the "vouch.access" logger (uvicorn's own access log is off).
    access_log: bool = True
    # OpenTelemetry server spans (docs/self-hosting.md, "Tracing"); needs the ``otel`` extra.
    # The SDK's own OTEL_* variables (OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_ENDPOINT, …) apply.
    otel_enabled: bool = False

    # Providers (links in challenges; full channel support lives in the channel modules).
    telegram_bot_token: str | None = None
    # The operator's own bot (without @). Unset, no challenge links to a Telegram bot: a default
    # name would send people to a bot somebody else owns.
    telegram_bot_username: str = ""
    telegram_webhook_secret: str | None = None
    telegram_api_base: str = "https://api.telegram.org"
    whatsapp_phone_number: str | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_access_token: str | None = None
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None
    whatsapp_api_base: str = "https://graph.facebook.com"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_numbers: str | None = None
    twilio_api_base: str = "https://api.twilio.com"
    smtp_url: str | None = None
    email_from: str = "vouch@localhost"
    inbound_email_address: str | None = None
    inbound_email_secret: str | None = None
    dns_nameservers: str | None = None
    allow_private_targets: bool = False
    eth_rpc_url: str | None = None
    eas_rpc_url: str | None = None

    # -- webhooks and live status (webhooks issue) ------------------------------------------
    # Seconds to wait after each failed attempt (jitter ±20 % is added): about three days in all.
    webhook_retry_schedule: str = "5,300,1800,7200,18000,36000,50400,72000,72000"
    webhook_timeout_seconds: float = 15.0
    webhook_worker_enabled: bool = True
    webhook_poll_seconds: float = 1.0
    webhook_secret_overlap_seconds: int = 86400
    sse_heartbeat_seconds: float = 30.0
    sse_max_streams_per_project: int = 100

    # -- delegation and approvals (delegation issue) ----------------------------------------
    # How long a consent request waits for the person's Allow/Deny before it expires.
    authorization_request_ttl_seconds: int = 7 * 86400
    # Consent prompts per recipient (so vouch cannot be used to pester someone), and hits on the
    # hosted approval page per client address.
    authorization_prompt_rate_limit: str = "5/hour"
    approval_page_rate_limit: str = "30/minute"

    # -- email channel (channels issue, email part) -----------------------------------------
    # Outbound SMTP (VOUCH_SMTP_URL): seconds before a send gives up.
    smtp_timeout_seconds: float = 15.0
    # Largest inbound message the SMTP listener accepts (POST /inbound/email: 1 MiB at the edge).
    inbound_email_max_bytes: int = 1024 * 1024
    # Code + magic-link mails per verification, and automatic replies per sender address (so
    # vouch can neither be used to flood a mailbox nor be drawn into a mail loop).
    email_resend_rate_limit: str = "5/hour"
    email_reply_rate_limit: str = "10/hour"

    # -- domain, wallet, social/account and bot methods (methods issue) ----------------------
    # DNS: the TXT record is published at "<prefix>.<domain>"; look-ups give up after this long.
    dns_txt_prefix: str = "_vouch"
    dns_timeout_seconds: float = 5.0
    # Background re-checks of a pending domain verification, at most this often (24 h TTL).
    domain_recheck_seconds: float = 300.0
    # HTTP file check: the ports fetched (closed networks and tests may serve elsewhere), and the
    # bounds of each fetch (threat model §10: time, size, redirects).
    domain_https_port: int = 443
    domain_http_port: int = 80
    domain_http_timeout_seconds: float = 5.0
    domain_http_max_bytes: int = 4096
    domain_http_max_redirects: int = 3
    # Wallets: the chain the sign-in messages name (EIP-155 id; Solana cluster). VOUCH_ETH_RPC_URL
    # must serve that chain for EIP-1271 contract-wallet checks.
    wallet_eth_chain_id: int = 1
    wallet_solana_chain_id: str = "mainnet"
    # OAuth 2.0 / OIDC providers: the app's client id and secret, and optional endpoint overrides
    # (a proxy, a stand-in in tests). Without id and secret a provider is not configured.
    oauth_github_client_id: str | None = None
    oauth_github_client_secret: str | None = None
    oauth_github_authorize_url: str | None = None
    oauth_github_token_url: str | None = None
    oauth_github_userinfo_url: str | None = None
    oauth_google_client_id: str | None = None
    oauth_google_client_secret: str | None = None
    oauth_google_authorize_url: str | None = None
    oauth_google_token_url: str | None = None
    oauth_google_userinfo_url: str | None = None
    oauth_facebook_client_id: str | None = None
    oauth_facebook_client_secret: str | None = None
    oauth_facebook_authorize_url: str | None = None
    oauth_facebook_token_url: str | None = None
    oauth_facebook_userinfo_url: str | None = None
    oauth_x_client_id: str | None = None
    oauth_x_client_secret: str | None = None
    oauth_x_authorize_url: str | None = None
    oauth_x_token_url: str | None = None
    oauth_x_userinfo_url: str | None = None
    oauth_linkedin_client_id: str | None = None
    oauth_linkedin_client_secret: str | None = None
    oauth_linkedin_authorize_url: str | None = None
    oauth_linkedin_token_url: str | None = None
    oauth_linkedin_userinfo_url: str | None = None
    oauth_instagram_client_id: str | None = None
    oauth_instagram_client_secret: str | None = None
    oauth_instagram_authorize_url: str | None = None
    oauth_instagram_token_url: str | None = None
    oauth_instagram_userinfo_url: str | None = None
    oauth_youtube_client_id: str | None = None
    oauth_youtube_client_secret: str | None = None
    oauth_youtube_authorize_url: str | None = None
    oauth_youtube_token_url: str | None = None
    oauth_youtube_userinfo_url: str | None = None
    oauth_tiktok_client_id: str | None = None
    oauth_tiktok_client_secret: str | None = None
    oauth_tiktok_authorize_url: str | None = None
    oauth_tiktok_token_url: str | None = None
    oauth_tiktok_userinfo_url: str | None = None
    oauth_coinbase_client_id: str | None = None
    oauth_coinbase_client_secret: str | None = None
    oauth_coinbase_authorize_url: str | None = None
    oauth_coinbase_token_url: str | None = None
    oauth_coinbase_userinfo_url: str | None = None
    oauth_kraken_client_id: str | None = None
    oauth_kraken_client_secret: str | None = None
    oauth_kraken_authorize_url: str | None = None
    oauth_kraken_token_url: str | None = None
    oauth_kraken_userinfo_url: str | None = None
    oauth_timeout_seconds: float = 10.0

    # -- agent proofs (agents issue) --------------------------------------------------------
    # Lifetime of the proof token minted for one verified agent action (short: one action, once).
    agent_proof_lifetime_seconds: int = 3600
    # ZeroProof's published limits: 100 requests a minute per key, bursts of 20 a second.
    agent_rate_limit: str = "100/minute"
    agent_rate_limit_burst: str = "20/second"

    # -- signed records (records issue) -------------------------------------------------------
    # Application resources every project gets under /v2/{resource}, comma-separated; a project
    # adds its own by creating a record in /v2/resources.
    records_resources: str = "records"
    # Lifetime of the proof token minted when a record's status changes.
    records_status_proof_days: int = 365

    # -- location proofs (location issue) ------------------------------------------------------
    # Requests without an API key share this per-IP limit; keyed requests get the per-key one.
    location_rate_limit_public: str = "20/minute"
    location_rate_limit_api: str = "300/minute"
    # EAS (Ethereum Attestation Service) contract the attestations are addressed to: one default
    # (the OP-stack predeploy) and optional per-chain overrides, "CHAINID=0xADDRESS,…".
    eas_contract_address: str = "0x4200000000000000000000000000000000000021"
    eas_contract_addresses: str | None = None
    eas_version: str = "1.2.0"
    # The verify schema's UID when the caller names none; unset = the UID the schema string has
    # when registered without resolver and revocable (the same on every chain).
    location_verify_schema_uid: str | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = _default_data_dir() / "vouch.toml"
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'vouch.db').resolve()}"

    @property
    def effective_issuer(self) -> str:
        return self.issuer or self.public_url

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @cached_property
    def master_key(self) -> bytes:
        """The master secret for secrets at rest; generated into the data dir when unset."""
        if self.secret_key:
            return self.secret_key.encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip().encode()

    def safe_dump(self) -> dict[str, Any]:
        """Settings for display, with every secret masked."""
        hidden = {
            "secret_key",
            "telegram_bot_token",
            "telegram_webhook_secret",
            "whatsapp_access_token",
            "whatsapp_app_secret",
            "whatsapp_verify_token",
            "twilio_auth_token",
            "inbound_email_secret",
            "metrics_token",
        }
        data = self.model_dump(mode="json")
        hidden |= {k for k in data if k.startswith("oauth_") and k.endswith("_client_secret")}
        hidden |= {"smtp_url"}  # may carry a password
        for key in hidden:
            if data.get(key):
                data[key] = "***"
        return data
