"""Social and exchange accounts (``type: social``, ``type: account``): OAuth 2.0 authorization code
grant (RFC 6749 §4.1) with PKCE (RFC 7636, ``S256``) and ``state`` (RFC 6749 §10.12), plus
OpenID Connect UserInfo (OIDC Core §5.3) where the provider has it.

Create: ``deep_link`` is the provider's authorization URL. ``state`` is
``<verification id>.<256 random bits>``; only the SHA-256 of the random part is stored. The PKCE
``code_verifier`` is not stored at all: it is an HMAC of the state under a key derived from the
server's master secret, so it can be recomputed at the callback and nowhere else.

Callback (``GET /oauth/callback/{provider}``, ``control/oauth_endpoints.py``): the state is checked
(a wrong one changes nothing and counts no attempt), the code is exchanged at the token endpoint
with the verifier and the client credentials, the profile is read, and each account name it
carries (handle, id or verified e-mail, per provider) is normalized like an identifier of the
verification's channel (``control/identifiers.py``) and compared with the identifier. A match
completes the verification; another account is a failed attempt. The integrator may relay the
callback itself with ``submit {state, authorization_code}``.

Providers are preconfigured below; each needs ``VOUCH_OAUTH_<PROVIDER>_CLIENT_ID`` and
``…_CLIENT_SECRET`` (its redirect URI registered as ``<VOUCH_PUBLIC_URL>/oauth/callback/<provider>``)
and takes ``…_AUTHORIZE_URL``, ``…_TOKEN_URL`` and ``…_USERINFO_URL`` overrides. A live-mode create
for a provider without credentials is refused with ``channel_not_configured``; in test mode it is
created without a link, to be completed with ``test-verify``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import quote, urlencode

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.config import Settings
from vouch_server.control.identifiers import InvalidIdentifier, normalize_identifier
from vouch_server.control.methods.base import (
    Accepted,
    ChallengeContext,
    CheckOutcome,
    Outcome,
    Rejected,
    SubmitContext,
)
from vouch_server.control.methods.registry import register
from vouch_server.errors import BadRequest, RetryLater, ValidationFailed
from vouch_server.kit.clock import isoformat_ms
from vouch_server.kit.secretbox import derive_key
from vouch_server.models import Verification

MAX_RESPONSE_BYTES: Final = 256 * 1024
MAX_CODE_CHARS: Final = 2048
MAX_STATE_CHARS: Final = 200

Accounts = Callable[[Any], list[str]]


def _dig(value: Any, *path: str | int) -> Any:
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or len(value) <= step:
                return None
        elif not isinstance(value, dict):
            return None
        value = value[step] if isinstance(step, int) else value.get(step)
    return value


def _strings(*values: Any) -> list[str]:
    out = []
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value:
            out.append(value)
    return out


def _verified_email(profile: Any) -> list[str]:
    # OIDC Core §5.1: trust an e-mail only when the provider says it verified it.
    if _dig(profile, "email_verified") in (True, "true"):
        return _strings(_dig(profile, "email"))
    return []


def _youtube_channels(profile: Any) -> list[str]:
    items = _dig(profile, "items")
    out: list[str] = []
    for item in items if isinstance(items, list) else []:
        out += _strings(_dig(item, "id"), _dig(item, "snippet", "customUrl"))
    return out


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    authorize_url: str
    token_url: str
    userinfo_url: str | None
    scope: str
    accounts: Accounts
    client_auth: Literal["client_secret_post", "client_secret_basic"] = "client_secret_post"
    client_id_param: str = "client_id"
    authorize_params: dict[str, str] = field(default_factory=dict)
    userinfo_headers: dict[str, str] = field(default_factory=dict)


_GOOGLE_AUTHORIZE = "https://accounts.google.com/o/oauth2/v2/auth"
_GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL)

PROVIDERS: Final[dict[str, Provider]] = {
    p.name: p
    for p in (
        Provider(
            "github",
            "GitHub",
            "https://github.com/login/oauth/authorize",
            "https://github.com/login/oauth/access_token",
            "https://api.github.com/user",
            "read:user",
            lambda p: _strings(_dig(p, "login")),
            userinfo_headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
            },
        ),
        Provider(
            "google",
            "Google",
            _GOOGLE_AUTHORIZE,
            _GOOGLE_TOKEN,
            "https://openidconnect.googleapis.com/v1/userinfo",
            "openid email",
            _verified_email,
            authorize_params={"prompt": "select_account"},
        ),
        Provider(
            "facebook",
            "Facebook",
            "https://www.facebook.com/v21.0/dialog/oauth",
            "https://graph.facebook.com/v21.0/oauth/access_token",
            "https://graph.facebook.com/v21.0/me?fields=id,name",
            "public_profile",
            # Graph API user ids are app-scoped; usernames are no longer readable.
            lambda p: _strings(_dig(p, "id")),
        ),
        Provider(
            "x",
            "X",
            "https://x.com/i/oauth2/authorize",
            "https://api.x.com/2/oauth2/token",
            "https://api.x.com/2/users/me",
            "users.read tweet.read",
            lambda p: _strings(_dig(p, "data", "username")),
            client_auth="client_secret_basic",
        ),
        Provider(
            "linkedin",
            "LinkedIn",
            "https://www.linkedin.com/oauth/v2/authorization",
            "https://www.linkedin.com/oauth/v2/accessToken",
            "https://api.linkedin.com/v2/userinfo",
            "openid profile",
            # OIDC gives the member's ``sub``; the public-profile slug needs partner access.
            lambda p: _strings(_dig(p, "vanityName"), _dig(p, "sub")),
        ),
        Provider(
            "instagram",
            "Instagram",
            "https://www.instagram.com/oauth/authorize",
            "https://api.instagram.com/oauth/access_token",
            "https://graph.instagram.com/me?fields=user_id,username",
            "instagram_business_basic",
            lambda p: _strings(_dig(p, "username")),
        ),
        Provider(
            "youtube",
            "YouTube",
            _GOOGLE_AUTHORIZE,
            _GOOGLE_TOKEN,
            "https://www.googleapis.com/youtube/v3/channels?part=snippet&mine=true",
            "https://www.googleapis.com/auth/youtube.readonly",
            _youtube_channels,
            authorize_params={"prompt": "select_account"},
        ),
        Provider(
            "tiktok",
            "TikTok",
            "https://www.tiktok.com/v2/auth/authorize/",
            "https://open.tiktokapis.com/v2/oauth/token/",
            "https://open.tiktokapis.com/v2/user/info/?fields=open_id,union_id,username",
            "user.info.basic,user.info.profile",
            lambda p: _strings(_dig(p, "data", "user", "username")),
            client_id_param="client_key",
        ),
        Provider(
            "coinbase",
            "Coinbase",
            "https://login.coinbase.com/oauth2/auth",
            "https://login.coinbase.com/oauth2/token",
            "https://api.coinbase.com/v2/user",
            "wallet:user:read wallet:user:email",
            lambda p: _strings(
                _dig(p, "data", "id"), _dig(p, "data", "email"), _dig(p, "data", "username")
            ),
        ),
        Provider(
            "kraken",
            "Kraken",
            "https://id.kraken.com/oauth/authorize",
            "https://api.kraken.com/oauth/token",
            # Kraken Connect documents no profile endpoint for OAuth clients: an operator sets
            # VOUCH_OAUTH_KRAKEN_USERINFO_URL to one returning the account (OIDC-style claims).
            None,
            "account.info:basic",
            lambda p: _strings(
                _dig(p, "sub"), _dig(p, "email"), _dig(p, "iiban"), _dig(p, "result", "iiban")
            ),
            client_auth="client_secret_basic",
        ),
    )
}


@dataclass(frozen=True)
class ProviderConfig:
    provider: Provider
    client_id: str | None
    client_secret: str | None
    authorize_url: str
    token_url: str
    userinfo_url: str | None

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret and self.userinfo_url)

    @property
    def missing(self) -> list[str]:
        prefix = f"VOUCH_OAUTH_{self.provider.name.upper()}_"
        names = [
            (self.client_id, "CLIENT_ID"),
            (self.client_secret, "CLIENT_SECRET"),
            (self.userinfo_url, "USERINFO_URL"),
        ]
        return [prefix + suffix for value, suffix in names if not value]


def provider_config(settings: Settings, name: str) -> ProviderConfig:
    """The provider's endpoints and the server-wide client credentials from settings."""
    provider = PROVIDERS[name]

    def setting(suffix: str) -> str | None:
        value = getattr(settings, f"oauth_{name}_{suffix}", None)
        return value if isinstance(value, str) and value else None

    return ProviderConfig(
        provider=provider,
        client_id=setting("client_id"),
        client_secret=setting("client_secret"),
        authorize_url=setting("authorize_url") or provider.authorize_url,
        token_url=setting("token_url") or provider.token_url,
        userinfo_url=setting("userinfo_url") or provider.userinfo_url,
    )


def redirect_uri(settings: Settings, provider: str) -> str:
    return f"{settings.public_url}/oauth/callback/{provider}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def code_verifier(settings: Settings, state: str) -> str:
    """RFC 7636 §4.1: 43 characters of base64url (256 bits), derived from the state."""
    key = derive_key(settings.master_key, "oauth-pkce")
    return _b64url(hmac.new(key, state.encode(), hashlib.sha256).digest())


def code_challenge(verifier: str) -> str:
    """RFC 7636 §4.2, ``S256``: BASE64URL(SHA256(ASCII(code_verifier)))."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def _state_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def state_matches(verification: Verification, state: str) -> bool:
    """Whether ``state`` is the one issued for ``verification`` (constant-time)."""
    verification_id, _, secret = state.partition(".")
    expected = (verification.method_state or {}).get("state_sha256")
    if not isinstance(expected, str) or verification_id != verification.id or not secret:
        return False
    return hmac.compare_digest(_state_digest(secret).encode(), expected.encode())


def verification_id_of(state: str) -> str:
    return state.partition(".")[0]


# --------------------------------------------------------------------------- HTTP to the provider


async def _json(response: httpx.Response) -> Any:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body.extend(chunk)
        if len(body) > MAX_RESPONSE_BYTES:
            raise RetryLater("The provider's answer is too large", code="provider_error")
    try:
        return json.loads(bytes(body))
    except ValueError:
        return None


async def _request(
    client: httpx.AsyncClient, method: str, url: str, **kwargs: Any
) -> tuple[int, Any]:
    try:
        async with client.stream(method, url, **kwargs) as response:
            return response.status_code, await _json(response)
    except httpx.HTTPError:
        raise RetryLater(
            "The account provider is unreachable", code="provider_unavailable"
        ) from None


async def exchange_code(
    config: ProviderConfig, settings: Settings, *, code: str, state: str, seconds: float
) -> str:
    """RFC 6749 §4.1.3 token request; returns the access token."""
    assert config.client_id is not None and config.client_secret is not None
    provider = config.provider
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(settings, provider.name),
        "code_verifier": code_verifier(settings, state),
    }
    headers = {"Accept": "application/json"}
    if provider.client_auth == "client_secret_basic":
        # RFC 6749 §2.3.1: both parts form-encoded before Basic encoding.
        pair = f"{quote(config.client_id, safe='')}:{quote(config.client_secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    else:
        form[provider.client_id_param] = config.client_id
        form["client_secret"] = config.client_secret
    async with httpx.AsyncClient(timeout=seconds, trust_env=False) as client:
        status, body = await _request(client, "POST", config.token_url, data=form, headers=headers)
    if status >= 500:
        raise RetryLater("The account provider failed; try again", code="provider_unavailable")
    token = _dig(body, "access_token")
    if status != 200 or not isinstance(token, str) or not token:
        error = _dig(body, "error")
        reason = error if isinstance(error, str) else f"HTTP {status}"
        raise _ExchangeRefused(f"The provider refused the authorization code ({reason[:60]})")
    return token


async def fetch_accounts(config: ProviderConfig, token: str, *, seconds: float) -> list[str]:
    assert config.userinfo_url is not None
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
        "User-Agent": "vouch",
        **config.provider.userinfo_headers,
    }
    async with httpx.AsyncClient(timeout=seconds, trust_env=False) as client:
        status, body = await _request(client, "GET", config.userinfo_url, headers=headers)
    if status >= 500:
        raise RetryLater("The account provider failed; try again", code="provider_unavailable")
    if status != 200 or body is None:
        raise _ExchangeRefused(f"The provider did not return the profile (HTTP {status})")
    return config.provider.accounts(body)


class _ExchangeRefused(Exception):
    pass


# --------------------------------------------------------------------------- the method


class OAuthMethod:
    def __init__(self, type_: str, channel: str) -> None:
        self.type = type_
        self.channel = channel

    def challenge(self, ctx: ChallengeContext) -> dict[str, Any]:
        config = provider_config(ctx.settings, self.channel)
        provider = config.provider
        secret = secrets.token_urlsafe(32)
        state = f"{ctx.verification.id}.{secret}"
        method_state = dict(ctx.verification.method_state or {})
        method_state["state_sha256"] = _state_digest(secret)
        ctx.verification.method_state = method_state
        data: dict[str, Any] = {
            "expires_at": isoformat_ms(ctx.expires_at),
            "provider": provider.name,
        }
        if not config.configured:
            data["instruction"] = (
                f"{provider.label} sign-in is not configured on this server; in test mode, "
                "complete the verification with test-verify"
            )
            return data
        assert config.client_id is not None
        params = {
            "response_type": "code",
            provider.client_id_param: config.client_id,
            "redirect_uri": redirect_uri(ctx.settings, provider.name),
            "scope": provider.scope,
            "state": state,
            "code_challenge": code_challenge(code_verifier(ctx.settings, state)),
            "code_challenge_method": "S256",
            **provider.authorize_params,
        }
        separator = "&" if "?" in config.authorize_url else "?"
        data["deep_link"] = config.authorize_url + separator + urlencode(params)
        data["instruction"] = (
            f"Open the link and sign in to {provider.label} as {ctx.verification.identifier}"
        )
        return data

    async def after_create(
        self, session: AsyncSession, ctx: ChallengeContext, *, test_mode: bool
    ) -> None:
        config = provider_config(ctx.settings, self.channel)
        if not config.configured and not test_mode:
            raise BadRequest(
                f"{config.provider.label} sign-in is not configured on this server "
                f"(set {', '.join(config.missing)})",
                code="channel_not_configured",
            )

    async def check_submission(self, ctx: SubmitContext) -> Outcome:
        payload = ctx.payload
        code = payload.get("authorization_code")
        state = payload.get("state")
        if code is None and ("code" in payload or "challenge_code" in payload):
            raise BadRequest(
                "Accounts are verified by signing in with the provider (deep_link), not by a code",
                code="method_not_supported",
            )
        for name, value, limit in (
            ("state", state, MAX_STATE_CHARS),
            ("authorization_code", code, MAX_CODE_CHARS),
        ):
            if not isinstance(value, str) or not value or len(value) > limit:
                raise ValidationFailed(
                    details=[{"field": name, "message": "Required string", "code": "invalid_type"}]
                )
        assert isinstance(state, str) and isinstance(code, str)
        if not state_matches(ctx.verification, state):
            raise BadRequest(
                "The OAuth state does not belong to this verification", code="invalid_state"
            )
        config = provider_config(ctx.settings, self.channel)
        if not config.configured:
            raise BadRequest(
                f"{config.provider.label} sign-in is not configured on this server",
                code="channel_not_configured",
            )
        timeout = ctx.settings.oauth_timeout_seconds
        try:
            token = await exchange_code(
                config, ctx.settings, code=code, state=state, seconds=timeout
            )
            accounts = await fetch_accounts(config, token, seconds=timeout)
        except _ExchangeRefused as exc:
            return Rejected("oauth_exchange_failed", str(exc))
        identifier = ctx.verification.identifier
        seen: list[str] = []
        for account in accounts:
            try:
                normalized = normalize_identifier(self.type, self.channel, account)
            except InvalidIdentifier:
                continue
            if hmac.compare_digest(normalized.encode(), identifier.encode()):
                return Accepted({"provider": self.channel})
            seen.append(normalized)
        shown = seen[0] if seen else "an account without a matching name"
        return Rejected(
            "account_mismatch",
            f"Signed in to {config.provider.label} as {shown[:100]}, not {identifier}",
        )

    async def check_now(self, ctx: SubmitContext) -> CheckOutcome:
        raise BadRequest(
            "Accounts are verified when the person signs in with the provider",
            code="method_not_supported",
        )


for _name in ("github", "google", "facebook", "x", "linkedin", "instagram", "youtube", "tiktok"):
    register(OAuthMethod("social", _name))
for _name in ("coinbase", "kraken"):
    register(OAuthMethod("account", _name))
