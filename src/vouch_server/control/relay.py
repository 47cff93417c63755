"""Relayed provider evidence for a reverse-OTP ``submit``.

An integrator that runs its own WhatsApp Business or Twilio account receives the person's message
on its own webhook, not on vouch's. It can still complete a live phone verification by handing
vouch that message exactly as the provider delivered it — the raw body and the provider's
signature header — in ``submit``::

    {"relay": {"body": "<raw request body>",
               "headers": {"X-Hub-Signature-256": "sha256=…"}}}                  # WhatsApp
    {"relay": {"body": "From=%2B3706…&Body=…", "url": "https://your.app/twilio",
               "headers": {"X-Twilio-Signature": "…"}}}                           # Twilio SMS

vouch checks the signature with the project's own channel credentials (``PUT
/api/v1/channels/{channel}/credentials``, or the server's when the project has none) — the same
check its ``/inbound`` webhooks make (Meta: HMAC-SHA256 of the raw body with the app secret;
Twilio: HMAC over the called URL and the sorted form fields with the auth token) — and only then
reads the sender and the code from the message. The sender must be the phone being verified and
one of the message's code-like words its code. A WhatsApp message must also have been sent after
the verification was created.

The evidence is only as strong as the secrecy of the project's provider secret, which the
integrator holds too; the proof therefore says ``relayed: true`` so a relying party can tell it
from one where the person messaged vouch directly.

Telegram is not accepted: its sender's number arrives as a separately shared contact, not in the
message that carries the code, so one signed update cannot show both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from vouch_server.channels import sms, whatsapp
from vouch_server.config import Settings
from vouch_server.control.identifiers import InvalidIdentifier, normalize_identifier
from vouch_server.control.methods.base import Accepted, Outcome, Rejected, SubmitContext
from vouch_server.errors import BadRequest, ValidationFailed
from vouch_server.kit.clock import utcnow
from vouch_server.kit.codes import code_matches

# A message may be stamped slightly before the verification row (clocks of two systems).
CLOCK_SKEW = timedelta(minutes=2)
MAX_RELAY_BODY = 64 * 1024
RELAYED_CLAIM = "relayed"


@dataclass(frozen=True)
class RelayedMessage:
    sender: str | None  # as the provider gave it, before normalizing
    text: str
    sent_at: datetime | None


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        details=[{"field": f"relay.{field}", "message": message, "code": "invalid_type"}]
    )


def _header(headers: dict[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name and isinstance(value, str):
            return value
    return None


def _shape(relay: Any) -> tuple[bytes, dict[str, Any], str | None]:
    if not isinstance(relay, dict):
        raise _invalid("", "Expected an object with body and headers")
    body, headers, url = relay.get("body"), relay.get("headers"), relay.get("url")
    if not isinstance(body, str) or not body:
        raise _invalid("body", "Required: the provider's raw request body, as a string")
    if not isinstance(headers, dict):
        raise _invalid("headers", "Required: the provider's request headers, as an object")
    if url is not None and not isinstance(url, str):
        raise _invalid("url", "Expected string")
    raw = body.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_RELAY_BODY:
        raise _invalid("body", f"At most {MAX_RELAY_BODY} bytes")
    return raw, headers, url


def _bad_signature(provider: str) -> BadRequest:
    return BadRequest(
        f"The relayed message does not carry a valid {provider} signature for this project's "
        "channel credentials",
        code="invalid_signature",
    )


def _not_configured(setting: str) -> BadRequest:
    return BadRequest(
        f"Relayed messages are checked with the channel's secret ({setting}, or the project's "
        "channel credentials), which is not configured",
        code="channel_not_configured",
    )


def _objects(value: Any, key: str) -> list[dict[str, Any]]:
    items = value.get(key) if isinstance(value, dict) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _items(notification: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``messages`` of a notification (``entry[].changes[].value.messages[]``)."""
    return [
        item
        for entry in _objects(notification, "entry")
        for change in _objects(entry, "changes")
        for item in _objects(change.get("value"), "messages")
    ]


def _whatsapp(raw: bytes, headers: dict[str, Any], settings: Settings) -> list[RelayedMessage]:
    if not settings.whatsapp_app_secret:
        raise _not_configured("VOUCH_WHATSAPP_APP_SECRET")
    signature = _header(headers, whatsapp.SIGNATURE_HEADER)
    if not whatsapp.signature_valid(settings.whatsapp_app_secret, raw, signature):
        raise _bad_signature("X-Hub-Signature-256")
    try:
        notification = json.loads(raw)
    except ValueError as exc:
        raise _invalid("body", "Not JSON") from exc
    if not isinstance(notification, dict):
        raise _invalid("body", "Not a WhatsApp webhook notification")
    stamps: dict[str, datetime] = {}
    for item in _items(notification):
        if str(item.get("timestamp", "")).isdigit():
            stamps[str(item.get("id"))] = datetime.fromtimestamp(int(item["timestamp"]), UTC)
    return [
        RelayedMessage(m.phone, m.text, stamps.get(str(m.message_id)))
        for m in whatsapp.parse_messages(notification)
    ]


def _twilio(
    raw: bytes, headers: dict[str, Any], url: str | None, settings: Settings
) -> list[RelayedMessage]:
    if not settings.twilio_auth_token:
        raise _not_configured("VOUCH_TWILIO_AUTH_TOKEN")
    if not url:
        raise _invalid("url", "Required: the URL Twilio called, exactly as configured")
    is_json = raw.lstrip().startswith(b"{")
    params = [] if is_json else parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    signed = sms.signature_valid(
        settings.twilio_auth_token,
        url,
        params,
        sha1_header=_header(headers, sms.SIGNATURE_HEADER),
        sha256_header=_header(headers, sms.SIGNATURE_256_HEADER),
    )
    if not signed or (is_json and not sms.body_hash_valid(url, raw)):
        raise _bad_signature("X-Twilio-Signature")
    if is_json:
        try:
            fields = json.loads(raw)
        except ValueError as exc:
            raise _invalid("body", "Not JSON") from exc
        if not isinstance(fields, dict):
            raise _invalid("body", "Not a Twilio webhook body")
    else:
        fields = dict(params)
    return [
        RelayedMessage(str(fields.get("From") or "") or None, str(fields.get("Body") or ""), None)
    ]


def check(ctx: SubmitContext) -> Outcome:
    """Decide a ``submit`` that relays the provider's signed message (see the module text)."""
    from vouch_server.control.inbound import (
        candidate_codes,  # the dispatcher's reading of a message
    )

    verification = ctx.verification
    raw, headers, url = _shape(ctx.payload.get("relay"))
    if verification.channel == "whatsapp":
        messages = _whatsapp(raw, headers, ctx.settings)
    elif verification.channel == "sms":
        messages = _twilio(raw, headers, url, ctx.settings)
    else:
        raise BadRequest(
            f"Relayed messages are not accepted on {verification.channel}: the person's own "
            "message to vouch's bot completes it",
            code="unsupported_for_type",
        )
    if not messages:
        raise _invalid("body", "The notification carries no message")
    created = verification.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    code_seen = False
    for message in messages:
        if message.sent_at is not None and not (
            created - CLOCK_SKEW <= message.sent_at <= utcnow() + CLOCK_SKEW
        ):
            continue  # sent before this verification existed: it cannot carry its code
        if verification.channel == "whatsapp" and message.sent_at is None:
            continue
        # Compare every candidate, so timing does not say which word (if any) matched.
        matched = [
            code_matches(ctx.code_key, code, verification.code_digest)
            for code in candidate_codes(message.text)
        ]
        if not any(matched):
            continue
        code_seen = True
        try:
            sender = normalize_identifier(
                verification.type, verification.channel, message.sender or ""
            )
        except InvalidIdentifier:
            sender = None
        if sender == verification.identifier:
            return Accepted({"claims": {RELAYED_CLAIM: True}})
    if code_seen:
        return Rejected("source_mismatch", "The code was not sent from the asset being verified")
    return Rejected("invalid_code", "The relayed message does not carry this verification's code")
