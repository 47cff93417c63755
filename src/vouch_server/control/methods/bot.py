"""Telegram bots (``type: telegram_bot``, ``channel: telegram_bot_token``): the owner proves control
of a bot by handing vouch its token once.

``submit {code: <bot token>}`` (``bot_token`` is accepted too): vouch calls ``getMe`` at
``VOUCH_TELEGRAM_API_BASE`` (Telegram Bot API, "Making requests" and ``getMe``: the token is part of
the path, ``/bot<token>/getMe``) and requires the returned bot's ``username`` to equal the
identifier (case-insensitively, as Telegram treats usernames). The call completes the
verification on the spot.

The token is a full credential for the bot, so it is used for that one call and then dropped: it
is never stored (the failure reason is a fixed code), never echoed in an error, and the request
line httpx logs at INFO — which contains the URL — has it redacted by a filter on the ``httpx``
logger.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Final

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

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

# "<bot id>:<secret>" as BotFather issues it (the secret is 35 characters today).
BOT_TOKEN_RE: Final = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{30,100}")
_TOKEN_IN_TEXT: Final = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{20,}")
MAX_RESPONSE_BYTES: Final = 64 * 1024


class RedactBotTokens(logging.Filter):
    """Replace anything shaped like a bot token in a log record's text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a record whose args do not fit its format: leave it alone
            return True
        redacted = _TOKEN_IN_TEXT.sub("<redacted>", text)
        if redacted != text:
            record.msg, record.args = redacted, ()
        return True


_REDACTOR: Final = RedactBotTokens()


def install_log_redaction() -> None:
    logger = logging.getLogger("httpx")
    if _REDACTOR not in logger.filters:
        logger.addFilter(_REDACTOR)


install_log_redaction()


def _submitted_token(payload: dict[str, Any]) -> str:
    value = payload.get("bot_token", payload.get("code", payload.get("challenge_code")))
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(
            details=[
                {"field": "code", "message": "Required: the bot token", "code": "invalid_type"}
            ]
        )
    token = value.strip()
    if BOT_TOKEN_RE.fullmatch(token) is None:
        # Never echo the value: it may be a real token with a typo.
        raise ValidationFailed(
            "Not a Telegram bot token",
            details=[
                {
                    "field": "code",
                    "message": "Expected a bot token as BotFather gives it (<bot id>:<secret>)",
                    "code": "invalid_string",
                }
            ],
        )
    return token


async def get_me(api_base: str, token: str, *, seconds: float) -> tuple[int, Any]:
    """``GET {api_base}/bot{token}/getMe``; the HTTP status and the decoded body (or None)."""
    url = f"{api_base.rstrip('/')}/bot{token}/getMe"
    try:
        async with (
            httpx.AsyncClient(timeout=seconds, trust_env=False) as client,
            client.stream("GET", url) as response,
        ):
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > MAX_RESPONSE_BYTES:
                    raise RetryLater("Telegram's answer is too large", code="provider_error")
            status = response.status_code
    except httpx.HTTPError:
        # ``from None``: the exception holds the request, whose URL holds the token.
        raise RetryLater(
            "Telegram is unreachable; try again", code="provider_unavailable"
        ) from None
    try:
        return status, json.loads(bytes(body))
    except ValueError:
        return status, None


class TelegramBotTokenMethod:
    type = "telegram_bot"
    channel = "telegram_bot_token"

    def challenge(self, ctx: ChallengeContext) -> dict[str, Any]:
        return {
            "expires_at": isoformat_ms(ctx.expires_at),
            "instruction": (
                f"Submit the token of @{ctx.verification.identifier} (from @BotFather); vouch uses "
                "it once to ask Telegram which bot it belongs to, and does not keep it"
            ),
        }

    async def after_create(
        self, session: AsyncSession, ctx: ChallengeContext, *, test_mode: bool
    ) -> None:
        return None

    async def check_submission(self, ctx: SubmitContext) -> Outcome:
        token = _submitted_token(ctx.payload)
        status, body = await get_me(
            ctx.settings.telegram_api_base, token, seconds=ctx.settings.oauth_timeout_seconds
        )
        ok = isinstance(body, dict) and body.get("ok") is True
        if not ok:
            if status in (401, 403, 404):
                return Rejected("invalid_bot_token", "Telegram does not accept this bot token")
            raise RetryLater("Telegram did not answer getMe; try again", code="provider_error")
        assert isinstance(body, dict)
        result = body.get("result")
        username = result.get("username") if isinstance(result, dict) else None
        if not isinstance(username, str) or not username:
            return Rejected("bot_mismatch", "Telegram returned no bot username for this token")
        expected = ctx.verification.identifier
        if username.lower() != expected:
            return Rejected(
                "bot_mismatch", f"The token belongs to @{username[:40]}, not @{expected}"
            )
        return Accepted({"bot_id": result.get("id") if isinstance(result, dict) else None})

    async def check_now(self, ctx: SubmitContext) -> CheckOutcome:
        raise BadRequest(
            "Telegram bots are verified by submitting the bot token", code="method_not_supported"
        )


register(TelegramBotTokenMethod())
