"""Built-in code methods.

``ReverseOtpMethod`` (phone over WhatsApp, Telegram, SMS; seed "The Innovation: Reverse OTP"): vouch
shows a code and the person sends it *to* vouch from the asset. Control is proven by who the message
came from, which only the provider can vouch for: the provider webhooks of the channel modules
complete these. A live ``submit`` is refused (``unsupported_for_type``): a caller's word about the
sender is not evidence — unless it relays the provider's own signed message (``submit {relay}``,
``vouch_server.control.relay``), which vouch checks itself and the proof marks ``relayed``. In test mode
``submit {challenge_code, source_identifier}`` still works, so integrations can be built without a
provider account.

``EmailCodeMethod`` (email): in live mode the code travels only to the mailbox (mailed at create,
never in a response), so knowing it proves control and ``submit {code}`` completes the
verification. Without outbound mail, a server with an inbound address shows the code for the person
to mail *to* vouch (DKIM-checked on arrival) and refuses ``submit``; with neither, a live email
verification is refused at create.

``AwaitingMethod``: channels whose proof is a signature, an OAuth grant, a DNS record or an HTTP file.
They can be created (and completed with ``test-verify`` in test mode); a code ``submit`` cannot
prove them and is refused without counting an attempt.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.control.catalog import CHANNELS_BY_TYPE
from vouch_server.control.identifiers import InvalidIdentifier, normalize_identifier
from vouch_server.control.methods.base import (
    Accepted,
    ChallengeContext,
    CheckOutcome,
    Outcome,
    Rejected,
    SubmitContext,
)
from vouch_server.control.methods.registry import register, register_placeholder
from vouch_server.errors import BadRequest, ValidationFailed
from vouch_server.kit.clock import isoformat_ms
from vouch_server.kit.codes import code_matches

_CHANNEL_LABEL = {"whatsapp": "WhatsApp", "telegram": "Telegram", "sms": "SMS", "email": "email"}


def _submitted_code(payload: dict[str, Any]) -> str:
    code = payload.get("code", payload.get("challenge_code"))
    if not isinstance(code, str) or not code.strip():
        raise ValidationFailed(
            details=[{"field": "code", "message": "Required", "code": "invalid_type"}]
        )
    if len(code.strip()) > 64:
        raise ValidationFailed(
            details=[{"field": "code", "message": "Too long", "code": "too_big"}]
        )
    return code


class _CodeMethodBase:
    type: str
    channel: str
    requires_source = True

    def __init__(self, type_: str, channel: str) -> None:
        self.type = type_
        self.channel = channel

    def challenge(self, ctx: ChallengeContext) -> dict[str, Any]:
        return {
            "code": ctx.code,
            "expires_at": isoformat_ms(ctx.expires_at),
            "instruction": f"Send {ctx.code} via {_CHANNEL_LABEL.get(self.channel, self.channel)}",
        }

    async def after_create(
        self, session: AsyncSession, ctx: ChallengeContext, *, test_mode: bool
    ) -> None:
        return None

    def refuses_live_submit(self, ctx: SubmitContext) -> bool:
        """Whether a live ``submit`` could only rest on the caller's word."""
        return False

    async def check_submission(self, ctx: SubmitContext) -> Outcome:
        if ctx.verification.environment == "live" and self.refuses_live_submit(ctx):
            raise BadRequest(
                f"A {self.type} verification over {self.channel} is completed by the person's own "
                "message to vouch, not by submitting its code",
                code="unsupported_for_type",
            )
        code = _submitted_code(ctx.payload)
        source = ctx.payload.get("source_identifier")
        if source is None and self.requires_source:
            raise ValidationFailed(
                "A reverse-OTP code proves control only together with its sender",
                details=[
                    {
                        "field": "source_identifier",
                        "message": "Required: the phone or address the code was sent from",
                        "code": "invalid_type",
                    }
                ],
            )
        # Always compare the code, so that timing does not depend on the sender check below.
        code_ok = code_matches(ctx.code_key, code, ctx.verification.code_digest)
        if source is not None:
            if not isinstance(source, str):
                raise ValidationFailed(
                    details=[
                        {
                            "field": "source_identifier",
                            "message": "Expected string",
                            "code": "invalid_type",
                        }
                    ]
                )
            v = ctx.verification
            try:
                normalized = normalize_identifier(v.type, v.channel, source)
            except InvalidIdentifier:
                normalized = None
            if normalized != v.identifier:
                return Rejected(
                    "source_mismatch", "The code was not sent from the asset being verified"
                )
        if not code_ok:
            return Rejected("invalid_code", "Invalid challenge code")
        return Accepted()

    async def check_now(self, ctx: SubmitContext) -> CheckOutcome:
        raise BadRequest(
            f"Channel '{self.channel}' has nothing to check; it completes by a message or submit",
            code="method_not_supported",
        )


class ReverseOtpMethod(_CodeMethodBase):
    requires_source = True

    def refuses_live_submit(self, ctx: SubmitContext) -> bool:
        return True

    async def check_submission(self, ctx: SubmitContext) -> Outcome:
        if "relay" in ctx.payload:
            from vouch_server.control import relay

            return relay.check(ctx)
        return await super().check_submission(ctx)

    def challenge(self, ctx: ChallengeContext) -> dict[str, Any]:
        data = super().challenge(ctx)
        settings = ctx.settings
        code = ctx.code
        if self.channel == "telegram" and settings.telegram_bot_username.lstrip("@"):
            bot = settings.telegram_bot_username.lstrip("@")
            # The golden vector shows the bare code as the instruction: the deep link carries it.
            data["instruction"] = code
            data["deep_link"] = f"https://t.me/{bot}?start={code}"
            data["send_to"] = f"@{bot}"
        elif self.channel == "whatsapp" and settings.whatsapp_phone_number:
            number = settings.whatsapp_phone_number
            data["instruction"] = f"Send {code} to {number} on WhatsApp"
            data["deep_link"] = f"https://wa.me/{number.lstrip('+')}?text={quote(code)}"
            data["send_to"] = number
        elif self.channel == "sms" and settings.twilio_numbers:
            dids = parse_sms_numbers(settings.twilio_numbers)
            if dids:
                first = next(iter(dids.values()))
                data["instruction"] = f"Text {code} to {first}"
                data["deep_link"] = f"sms:{first}?body={quote(code)}"
                data["send_to"] = first
                data["sms_dids"] = dids
        return data


CODE_DELIVERY = "code_delivery"  # method_state: "mail" (vouch mails the code) or "inbound"


class EmailCodeMethod(_CodeMethodBase):
    requires_source = False

    def _delivery(self, ctx: ChallengeContext) -> str:
        if ctx.verification.environment == "test" or ctx.settings.smtp_url:
            return "mail"
        return "inbound" if ctx.settings.inbound_email_address else "none"

    # The verification service mails the code once the verification exists (live mode), when
    # ``mails_code`` says this verification's code goes by mail.
    mails_code_on_create = True

    def mails_code(self, verification: Any) -> bool:
        return bool((verification.method_state or {}).get(CODE_DELIVERY, "mail") == "mail")

    def challenge(self, ctx: ChallengeContext) -> dict[str, Any]:
        data = super().challenge(ctx)
        delivery = self._delivery(ctx)
        ctx.verification.method_state = {
            **(ctx.verification.method_state or {}),
            CODE_DELIVERY: delivery,
        }
        inbound = ctx.settings.inbound_email_address
        if ctx.verification.environment == "live" and delivery == "mail":
            # The code reaches only the mailbox: knowing it is what proves control.
            del data["code"]
            data["instruction"] = f"Enter the code vouch emailed to {ctx.verification.identifier}"
            data["send_to"] = ctx.verification.identifier
        elif inbound:
            data["instruction"] = f"Email {ctx.code} to {inbound}"
            data["send_to"] = inbound
            data["deep_link"] = f"mailto:{inbound}?subject={quote(ctx.code)}&body={quote(ctx.code)}"
        else:
            data["instruction"] = f"Enter the code {ctx.code} sent to your mailbox"
        return data

    async def after_create(
        self, session: AsyncSession, ctx: ChallengeContext, *, test_mode: bool
    ) -> None:
        if not test_mode and self._delivery(ctx) == "none":
            raise BadRequest(
                "Live email verification needs outbound mail (VOUCH_SMTP_URL, or the project's "
                "PUT /api/v1/channels/email/credentials) or an inbound address "
                "(VOUCH_INBOUND_EMAIL_ADDRESS)",
                code="channel_not_configured",
            )

    def refuses_live_submit(self, ctx: SubmitContext) -> bool:
        # A code shown for the person to mail to vouch is known to the caller too.
        return (ctx.verification.method_state or {}).get(CODE_DELIVERY) == "inbound"


class AwaitingMethod(_CodeMethodBase):
    def challenge(self, ctx: ChallengeContext) -> dict[str, Any]:
        data = super().challenge(ctx)
        data["instruction"] = f"Verification code: {ctx.code}"
        return data

    async def check_submission(self, ctx: SubmitContext) -> Outcome:
        raise BadRequest(
            f"Channel '{self.channel}' is not completed by a code submission",
            code="method_not_supported",
        )


def parse_sms_numbers(raw: str) -> dict[str, str]:
    """``US=+13125550100,EU=+37052000000`` → ``{"US": "+13125550100", "EU": "+37052000000"}``."""
    out: dict[str, str] = {}
    for part in raw.split(","):
        region, sep, number = part.strip().partition("=")
        if sep and number.strip():
            out[region.strip().upper()] = number.strip()
    return out


for _channel in CHANNELS_BY_TYPE["phone"]:
    register(ReverseOtpMethod("phone", _channel))
register(EmailCodeMethod("email", "email"))
register_placeholder(EmailCodeMethod("domain", "email"))
for _type, _channels in CHANNELS_BY_TYPE.items():
    for _channel in _channels:
        if (_type, _channel) not in {("email", "email"), ("domain", "email")} and _type != "phone":
            register_placeholder(AwaitingMethod(_type, _channel))
