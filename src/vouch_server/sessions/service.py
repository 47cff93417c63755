"""Phone-first sessions (proof.holdings ``POST /api/v1/sessions``): verify a person's phone
number without asking for it first.

pending ──(the person's own message carries the session's code)──► verified
   └──(expires_at passes; checked on every read)──► expired

The session gives a code inside a deep link (Telegram ``/start``, WhatsApp ``wa.me`` text, an
``sms:`` link) and its QR code. The number is learnt from the provider's authenticated message
that brings the code back — the WhatsApp ``from``, the Twilio ``From``, or the Telegram user's
*own* shared contact (``contact.user_id`` = the sender) — never from the API caller. On that
message (``sessions.inbound``) the session creates an ordinary verification of that number on
that channel through control's own service and completes it there, so the proof it carries is
minted, recorded, announced and revocable exactly like any verification's.

Session codes are eight characters (control's reverse-OTP codes are six), so neither dispatcher
can take the other's code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.config import Settings
from vouch_server.control import service as control
from vouch_server.control.catalog import CHALLENGE_TTL_SECONDS, AssetType, Channel
from vouch_server.control.methods.code import parse_sms_numbers
from vouch_server.control.schemas import CreateVerification
from vouch_server.errors import BadRequest, NotFound, RetryLater
from vouch_server.kit.clock import isoformat_ms, truncate_ms, utcnow
from vouch_server.kit.codes import code_digest, generate_code
from vouch_server.kit.ids import new_object_id
from vouch_server.models import PhoneSession, Verification
from vouch_server.runtime import Runtime
from vouch_server.sessions import repository
from vouch_server.sessions.qr import png_data_url
from vouch_server.sessions.schemas import CreateSession
from vouch_server.tenancy import credentials
from vouch_server.tenancy.service import Principal

ID_PREFIX = "sess_"
CODE_LENGTH = 8
CODE_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{8}(?![A-Za-z0-9])")
TTL = timedelta(seconds=CHALLENGE_TTL_SECONDS["phone"])

# ``VOUCH_TWILIO_NUMBERS`` regions as proof.holdings names them in ``sms_dids``.
_REGIONS = {
    "US": ("americas", "Americas", "🇺🇸"),
    "CA": ("americas", "Americas", "🇨🇦"),
    "AMERICAS": ("americas", "Americas", "🌎"),
    "EU": ("europe", "Europe", "🇪🇺"),
    "EUROPE": ("europe", "Europe", "🇪🇺"),
    "IL": ("israel", "Israel", "🇮🇱"),
    "ISRAEL": ("israel", "Israel", "🇮🇱"),
}


def owner_of(row: PhoneSession) -> Principal:
    return Principal(project_id=row.project_id, environment=row.environment, api_key_id="")


def codes_in(runtime: Runtime, text: str | None) -> list[str]:
    """Digests of the session codes a message may carry (at most five candidates)."""
    found = list(dict.fromkeys(m.upper() for m in CODE_RE.findall(text or "")))[:5]
    return [code_digest(runtime.code_key, code) for code in found]


# -- create ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Setup:
    """What to show the person (returned once, on create)."""

    code: str
    deep_link: str
    instructions: str
    sms_dids: dict[str, dict[str, str]] | None = None


def _not_configured(what: str) -> BadRequest:
    return BadRequest(
        f"This channel is not configured on this server ({what})", code="channel_not_configured"
    )


def _setup(channel: str, code: str, settings: Settings) -> Setup:
    if channel == "telegram":
        bot = settings.telegram_bot_username.lstrip("@")
        if not bot:
            raise _not_configured("VOUCH_TELEGRAM_BOT_USERNAME")
        return Setup(
            code,
            f"https://t.me/{bot}?start={code}",
            f"Open the link (or scan the QR code) to chat with @{bot}, press Start, then share "
            "your phone number when asked.",
        )
    if channel == "whatsapp":
        number = settings.whatsapp_phone_number
        if not number:
            raise _not_configured("VOUCH_WHATSAPP_PHONE_NUMBER")
        return Setup(
            code,
            f"https://wa.me/{number.lstrip('+')}?text={quote(code)}",
            f"Open the link (or scan the QR code) and send the message {code} to {number} on "
            "WhatsApp.",
        )
    numbers = parse_sms_numbers(settings.twilio_numbers or "")
    if not numbers:
        raise _not_configured("VOUCH_TWILIO_NUMBERS")
    dids: dict[str, dict[str, str]] = {}
    for region, did in numbers.items():
        key, label, flag = _REGIONS.get(region, (region.lower(), region, ""))
        if key in dids:
            continue
        link = f"sms:{did}?body={quote(code)}"
        dids[key] = {
            "did": did,
            "label": label,
            "flag": flag,
            "qr_code": png_data_url(link),
            "qr_text": link,
        }
    first = next(iter(numbers.values()))
    return Setup(
        code,
        f"sms:{first}?body={quote(code)}",
        f"Text {code} to {first} from the phone you want to verify.",
        dids,
    )


async def create(
    session: AsyncSession, runtime: Runtime, principal: Principal, *, body: CreateSession
) -> tuple[PhoneSession, Setup]:
    settings = await credentials.effective_settings(session, runtime.settings, principal.project_id)
    code = generate_code(CODE_LENGTH)
    setup = _setup(body.channel.value, code, settings)
    now = truncate_ms(utcnow())
    row = PhoneSession(
        id=ID_PREFIX + new_object_id(),
        project_id=principal.project_id,
        environment=principal.environment,
        channel=body.channel.value,
        status="pending",
        code_digest=code_digest(runtime.code_key, code),
        client_metadata=body.client_metadata,
        context=body.context,
        expires_at=now + TTL,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row, setup


# -- read ------------------------------------------------------------------------------------------
async def expire_if_due(session: AsyncSession, runtime: Runtime, row: PhoneSession) -> PhoneSession:
    if row.status == "pending" and row.expires_at <= utcnow():
        if await repository.expire(session, row.id, truncate_ms(utcnow())):
            await _publish(session, runtime, row.id, "expired")
        await session.refresh(row)
    return row


async def get(
    session: AsyncSession, runtime: Runtime, principal: Principal, id_: str
) -> tuple[PhoneSession, Verification | None]:
    row = (
        await repository.get_scoped(session, principal, id_) if id_.startswith(ID_PREFIX) else None
    )
    if row is None:
        raise NotFound("Session not found")
    row = await expire_if_due(session, runtime, row)
    verification = None
    if row.verification_id is not None:
        verification = await control.get(session, runtime, owner_of(row), row.verification_id)
    return row, verification


# -- completion (from the provider's message) ------------------------------------------------------
async def complete(
    session: AsyncSession, runtime: Runtime, row: PhoneSession, phone: str
) -> PhoneSession:
    """The provider says ``phone`` sent this session's code: verify that number, once. Returns
    the session as it now stands (verified, or unchanged when it was no longer pending)."""
    now = truncate_ms(utcnow())
    if not await repository.claim(session, row.id, phone=phone, now=now):
        await session.refresh(row)
        return await expire_if_due(session, runtime, row)
    verification, _ = await control.create(
        session,
        runtime,
        owner_of(row),
        body=CreateVerification(
            type=AssetType.phone,
            channel=Channel(row.channel),
            identifier=phone,
            client_metadata=row.client_metadata,
        ),
    )
    # The provider-authenticated message from ``phone`` is the evidence: control completes the
    # verification and mints its proof exactly as for a reverse-OTP message. The verification
    # is new and this transaction's own, so nothing else can have completed it.
    if not await control.complete(session, runtime, verification):
        raise RetryLater("The session's verification could not be completed")
    await repository.attach_verification(
        session, row.id, verification_id=verification.id, verified_at=verification.verified_at
    )
    await session.refresh(row)
    await _publish(session, runtime, row.id, row.status)
    return row


async def _publish(session: AsyncSession, runtime: Runtime, id_: str, status: str) -> None:
    """Tell live listeners the session changed; delivered only if this transaction commits."""
    await runtime.bus.publish(session, f"session:{id_}", {"id": id_, "status": status})


# -- rendering -------------------------------------------------------------------------------------
def render_created(row: PhoneSession, setup: Setup) -> dict[str, Any]:
    """``CreateSessionResponse``."""
    body: dict[str, Any] = {
        "id": row.id,
        "channel": row.channel,
        "status": row.status,
        "deep_link": setup.deep_link,
        "qr_code": png_data_url(setup.deep_link),
        "qr_text": setup.deep_link,
        "expires_at": isoformat_ms(row.expires_at),
        "instructions": setup.instructions,
        "created_at": isoformat_ms(row.created_at),
        "test_mode": row.environment == "test",
    }
    if row.channel == "sms":
        body["sms_code"] = setup.code
        body["sms_message"] = setup.code
        body["sms_dids"] = setup.sms_dids
    if row.client_metadata is not None:
        body["client_metadata"] = row.client_metadata
    return body


def render(row: PhoneSession, verification: Verification | None) -> dict[str, Any]:
    """``Session``: once verified, the number the channel proved, the verification and its
    proof."""
    body: dict[str, Any] = {
        "id": row.id,
        "channel": row.channel,
        "status": row.status,
        "created_at": isoformat_ms(row.created_at),
        "expires_at": isoformat_ms(row.expires_at),
        "test_mode": row.environment == "test",
    }
    if row.status == "verified":
        body["phone_number"] = row.phone_number
        body["verification_id"] = row.verification_id
        if row.verified_at is not None:
            body["verified_at"] = isoformat_ms(row.verified_at)
        if (
            verification is not None
            and verification.proof_token is not None
            and verification.proof_expires_at is not None
        ):
            body["proof"] = {
                "token": verification.proof_token,
                "expires_at": isoformat_ms(verification.proof_expires_at),
            }
            if verification.status != "verified":
                body["proof"]["status"] = verification.status  # e.g. revoked since
    if row.client_metadata is not None:
        body["client_metadata"] = row.client_metadata
    if row.context is not None:
        body["context"] = row.context
    return body
