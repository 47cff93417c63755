"""The forms recipients are compared in: consent requests, HITL configs and inbound senders must
name a person the same way, or a press could not be matched with the consent it relies on.

Phone numbers are E.164 (ITU-T E.164; parsed with libphonenumber). A number only has to be
*possible* for its country, not assigned: the seed's own examples use the fictional
``+1 555`` range, and a number that receives nothing simply never answers. WhatsApp
business-scoped user ids (BSUID) are kept verbatim (``US.13491208655302741918``); emails are
lower-cased; Telegram chat ids are integers (negative for groups).
"""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

BSUID_RE = re.compile(r"[A-Z]{2}\.[A-Za-z0-9]{1,128}")
_PHONE_CHARS = re.compile(r"\+[0-9 ().\-]{4,30}")


class BadRecipient(ValueError):
    pass


def phone(value: str) -> str:
    text = value.strip()
    # "00" is the ITU-recommended international call prefix; it means the same as "+".
    text = "+" + text[2:] if text.startswith("00") else text
    if not _PHONE_CHARS.fullmatch(text):
        raise BadRecipient(
            "A phone number is in international format: + and the country code, then digits"
        )
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise BadRecipient(f"Not a phone number: {exc}") from exc
    if not phonenumbers.is_possible_number(number):
        raise BadRecipient("Not a possible phone number for its country code")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def bsuid(value: str) -> str:
    text = value.strip()
    match = BSUID_RE.fullmatch(text)
    if match is None or text[:2] not in phonenumbers.SUPPORTED_REGIONS:
        raise BadRecipient("A BSUID is a country code, a dot and an id: US.13491208655302741918")
    return text


def whatsapp(value: str) -> str:
    """A phone number or a business-scoped user id."""
    return bsuid(value) if BSUID_RE.fullmatch(value.strip()) else phone(value)


def email(value: str) -> str:
    try:
        info = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadRecipient(f"Invalid email address: {exc}") from exc
    return f"{info.local_part.lower()}@{info.domain.lower()}"


def telegram_chat(value: str | int) -> str:
    text = str(value).strip()
    digits = text[1:] if text.startswith("-") else text
    if not digits.isdigit() or len(text) > 20:
        raise BadRecipient("A Telegram chat id is a number")
    return str(int(text))


def normalize(channel: str, value: str | int) -> str:
    if channel == "telegram":
        return telegram_chat(value)
    if channel == "email":
        return email(str(value))
    if channel == "whatsapp":
        return whatsapp(str(value))
    return phone(str(value))
