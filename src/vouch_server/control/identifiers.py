"""Normalization and validation of proof-of-control identifiers.

A proof of control binds a person to an asset (a phone number, a mailbox, a domain, a
social account, a wallet, an exchange account, a Telegram bot).  The identifier of that
asset is normalized to one canonical string so that the same asset always yields the same
``identifier_hash`` (SHA-256, hex) -- the value that signed proofs carry.  The rules are a
compatibility contract with the proof.holdings golden vectors
(``tests/fixtures/proof_holdings_test_vectors.json``); changing any output is a breaking
change for every proof already issued.

Every input is stripped of surrounding whitespace first; empty input and input longer than
500 characters are rejected.  Per type:

phone (whatsapp, telegram, sms)
    International input only (``+`` or ``00`` prefix, no default region), parsed with
    ``phonenumbers`` (Google libphonenumber metadata) and written in E.164 (ITU-T
    Recommendation E.164), e.g. ``+37069199199``.  The number must pass
    ``phonenumbers.is_valid_number``, with one exception: Ofcom's range reserved for
    drama/documentation (``+44 7700 900000``-``900999``), which libphonenumber reports
    as invalid but which the golden vectors use.  Only digits and the usual visual
    separators are allowed, so vanity letters, ``tel:`` URIs and extensions are refused
    rather than silently dropped.  WhatsApp may identify a user by a Business-Scoped User
    ID (BSUID, ``US.13491208655302741918``: an upper-case ISO 3166-1 alpha-2 code, a dot,
    1-128 ASCII alphanumerics); for channel ``whatsapp`` a BSUID is accepted verbatim
    (case kept: Meta says to store it exactly as received).  The country code is checked
    against libphonenumber's region list, which covers every ISO 3166 code that has a
    telephone numbering plan, i.e. every country a WhatsApp account can come from.

email (email)
    Validated by ``email-validator`` (RFC 5321/5322 syntax, RFC 6531 internationalized
    addresses, IDNA 2008 domains) without DNS lookups.  The output is the whole address
    in lower case, local part included (golden vector ``John.Doe@Example.COM`` ->
    ``john.doe@example.com``); plus addressing is kept.  The domain is the library's
    normalized (Unicode, NFC) form, so an internationalized domain stays in Unicode.

domain (dns, http, email, auto)
    Lower-cased; a ``http://``/``https://`` scheme, any path, query or fragment, a port,
    the root (trailing) dot and one leading ``www.`` are removed.  ``www.`` is kept when
    removing it would leave a single label (``www.com`` is itself a registrable domain).
    The result must be a hostname per RFC 1035 section 2.3.1 as relaxed by RFC 1123
    section 2.1 (labels of 1-63 ``a-z0-9`` with inner hyphens, at most 253 characters),
    with at least two labels and a TLD that is not all-numeric.  IDN input is converted
    to its A-label (punycode) form with the ``idna`` package (IDNA 2008 + UTS #46), and
    existing ``xn--`` labels must decode.  IP addresses are refused.

social (github, google, facebook, x, linkedin, instagram, youtube, tiktok)
    A handle, with one optional leading ``@``, or a profile URL of that platform (scheme
    optional) reduced to the handle.  URLs pointing anywhere but a profile (a repository,
    a post, another host) are refused rather than guessed at.

    ========= ============================================ ==========================
    platform  accepted                                     output
    ========= ============================================ ==========================
    github    ``[A-Za-z0-9]`` with single inner hyphens,   lower case
              1-39 chars
    x         ``[A-Za-z0-9_]``, 1-15 chars (x.com and      lower case
              twitter.com URLs)
    instagram ``[A-Za-z0-9._]``, 1-30 chars                lower case
    tiktok    ``[A-Za-z0-9._]``, 1-24 chars (URL: ``/@h``) lower case
    linkedin  ``[A-Za-z0-9-]``, 3-100 chars (URL:          lower case
              ``/in/slug``)
    facebook  ``[A-Za-z0-9.]``, 5-50 chars, or a numeric   lower case
              profile id of any length up to 20 digits
              (also from ``profile.php?id=``)
    youtube   handle ``[A-Za-z0-9._-]``, 3-30 chars        handle: lower case
              (``@h`` or URL ``/@h``); or channel id       channel id: case kept
              ``UC`` + 22 ``[A-Za-z0-9_-]`` (bare, or URL
              ``/channel/UC...``)
    google    an e-mail address                            as for type email
    ========= ============================================ ==========================

    All of these platforms treat handles case-insensitively, so lower-casing prevents
    ``Octocat`` and ``octocat`` from becoming two assets; YouTube channel ids are opaque
    case-sensitive tokens.  A bare 24-character ``UC...`` string is read as a channel id,
    because a handle written with ``@`` (or ``/@`` in a URL) is unambiguous.

wallet
    ethereum: ``0x`` + 40 hex digits.  Mixed-case hex must carry a valid EIP-55 checksum
    (verified with ``eth_utils``); all-lower and all-upper hex carry no checksum and are
    accepted.  Output is lower case (golden vector).

    solana: base58 decoding to exactly 32 bytes (an ed25519 public key); output
    unchanged, since base58 is case-sensitive.

    bitcoin: mainnet only.  Legacy P2PKH (``1...``, version 0x00) and P2SH (``3...``,
    version 0x05) are checked with Base58Check and returned unchanged.  Native segwit
    ``bc1...`` addresses are checked per BIP-173 (bech32, witness v0 with a 20 or 32
    byte program) and BIP-350 (bech32m, witness v1-16 such as taproot) and returned in
    lower case; mixed case is invalid per BIP-173.  Testnet/regtest addresses
    (``tb1``, ``bcrt1``, ``m``/``n``/``2``) are refused with a message saying so.

account (coinbase, kraken)
    An address containing ``@`` is normalized as an e-mail; otherwise a 1-100 character
    user id of ``[A-Za-z0-9._-]``, kept as is (exchanges do not document ids as
    case-insensitive).

telegram_bot (telegram_bot_token)
    A bot username, optionally with ``@`` or as a ``t.me``/``telegram.me`` URL: 5-32
    characters of ``[A-Za-z0-9_]`` ending in ``bot`` (any case), per Telegram's BotFather
    rules; output lower case without ``@`` since Telegram usernames are case-insensitive.

Error messages quote at most 100 characters of the input, so a hostile 500-character
identifier cannot be reflected back in full.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Callable
from typing import Final, Literal
from urllib.parse import SplitResult, parse_qs, urlsplit

import base58
import bech32
import idna
import phonenumbers
from email_validator import EmailNotValidError, validate_email
from eth_utils.address import is_checksum_address

__all__ = ["InvalidIdentifier", "identifier_hash", "normalize_identifier"]

MAX_IDENTIFIER_LENGTH: Final = 500
_MAX_ECHO: Final = 100


class InvalidIdentifier(ValueError):
    """An identifier that cannot be normalized.

    ``message`` says what is wrong in words fit for an end user; it never echoes more
    than 100 characters of the input.
    """

    message: str

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _quote(text: str) -> str:
    """Quote user input for an error message, cut so it can never exceed 100 characters."""
    if len(text) > _MAX_ECHO:
        return repr(text[:_MAX_ECHO]) + "..."
    return repr(text)


def _clip(detail: str) -> str:
    """Cut a library's error text, which may embed parts of the input, to 100 characters."""
    return detail if len(detail) <= _MAX_ECHO else detail[:_MAX_ECHO] + "..."


# --------------------------------------------------------------------------- phone

# Visual separators people paste; letters are excluded so that vanity numbers, "ext."
# suffixes and tel: URIs are refused instead of being rewritten by libphonenumber.
_PHONE_RE: Final = re.compile(r"\+[0-9 ()./-]+")
# Ofcom reserves 07700 900000-900999 for drama and documentation; libphonenumber calls it
# invalid, yet the proof.holdings golden vectors normalize +44 7700 900123.
_FICTIONAL_E164_RE: Final = re.compile(r"\+447700900[0-9]{3}")
_BSUID_RE: Final = re.compile(r"([A-Z]{2})\.[A-Za-z0-9]{1,128}")


def _normalize_phone(channel: str, value: str) -> str:
    if channel == "whatsapp":
        bsuid = _BSUID_RE.fullmatch(value)
        if bsuid is not None:
            if bsuid.group(1) not in phonenumbers.SUPPORTED_REGIONS:
                raise InvalidIdentifier(
                    f"Invalid WhatsApp BSUID {_quote(value)}: "
                    f"{bsuid.group(1)!r} is not a country code"
                )
            return value
    # "00" is the ITU-recommended international call prefix; it means the same as "+".
    candidate = "+" + value[2:] if value.startswith("00") else value
    if _PHONE_RE.fullmatch(candidate) is None:
        raise InvalidIdentifier(
            f"Invalid phone number {_quote(value)}: use international format starting "
            "with + and the country code, digits and separators only"
        )
    try:
        number = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentifier(f"Invalid phone number {_quote(value)}: {_clip(str(exc))}") from exc
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(number) and _FICTIONAL_E164_RE.fullmatch(e164) is None:
        raise InvalidIdentifier(
            f"Invalid phone number {_quote(value)}: not a valid number for its country code"
        )
    return e164


# --------------------------------------------------------------------------- email


def _normalize_email(value: str) -> str:
    try:
        info = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidIdentifier(f"Invalid email address: {_clip(str(exc))}") from exc
    return f"{info.local_part.lower()}@{info.domain.lower()}"


def _normalize_email_type(channel: str, value: str) -> str:
    return _normalize_email(value)


# --------------------------------------------------------------------------- domain

_LABEL_RE: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_PORT_RE: Final = re.compile(r"[0-9]{1,5}")
_MAX_HOSTNAME_LENGTH: Final = 253


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _normalize_domain(channel: str, value: str) -> str:
    host = value.lower()
    for scheme in ("https://", "http://"):
        if host.startswith(scheme):
            host = host[len(scheme) :]
            break
    host = re.split(r"[/?#]", host, maxsplit=1)[0]
    if _is_ip_address(host):
        raise InvalidIdentifier(f"Invalid domain {_quote(value)}: IP addresses are not domains")
    if ":" in host:
        host, _, port = host.rpartition(":")
        if _PORT_RE.fullmatch(port) is None:
            raise InvalidIdentifier(f"Invalid domain {_quote(value)}: malformed port")
    host = host.removesuffix(".")
    if host.startswith("www.") and "." in host[4:]:
        host = host[4:]
    if _is_ip_address(host):
        raise InvalidIdentifier(f"Invalid domain {_quote(value)}: IP addresses are not domains")
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise InvalidIdentifier(
                f"Invalid domain {_quote(value)}: not a valid internationalized domain name "
                f"({_clip(str(exc))})"
            ) from exc
    _check_hostname(host, value)
    return host


def _check_hostname(host: str, original: str) -> None:
    if len(host) > _MAX_HOSTNAME_LENGTH:
        raise InvalidIdentifier(
            f"Invalid domain {_quote(original)}: longer than {_MAX_HOSTNAME_LENGTH} characters"
        )
    labels = host.split(".")
    if len(labels) < 2:
        raise InvalidIdentifier(
            f"Invalid domain {_quote(original)}: needs at least two labels, e.g. example.com"
        )
    for label in labels:
        if _LABEL_RE.fullmatch(label) is None:
            raise InvalidIdentifier(
                f"Invalid domain {_quote(original)}: each label must be 1-63 letters, digits "
                "or inner hyphens"
            )
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except idna.IDNAError as exc:
                raise InvalidIdentifier(
                    f"Invalid domain {_quote(original)}: malformed punycode label"
                ) from exc
    if labels[-1].isdigit():
        # RFC 3696 section 2: an all-numeric TLD would be indistinguishable from an IPv4 octet.
        raise InvalidIdentifier(f"Invalid domain {_quote(original)}: the TLD cannot be numeric")


# --------------------------------------------------------------------------- social


def _split_url(value: str, hosts: frozenset[str], what: str) -> tuple[list[str], SplitResult]:
    """Return the path segments of a profile URL on one of ``hosts``."""
    url = value if "://" in value else "https://" + value
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError as exc:
        raise InvalidIdentifier(f"Invalid {what} URL {_quote(value)}") from exc
    if parts.scheme not in ("http", "https"):
        raise InvalidIdentifier(f"Invalid {what} URL {_quote(value)}: use http or https")
    # A port or user-info is never part of a profile link; refusing it avoids look-alikes
    # such as https://github.com@evil.example/.
    if parts.netloc.lower() != host or host not in hosts:
        raise InvalidIdentifier(f"Invalid {what} URL {_quote(value)}: not a {what} profile link")
    return [segment for segment in parts.path.split("/") if segment], parts


def _profile_segment(value: str, hosts: frozenset[str], what: str, prefix: str = "") -> str:
    segments, _ = _split_url(value, hosts, what)
    if len(segments) != 1 or not segments[0].startswith(prefix):
        raise InvalidIdentifier(f"Invalid {what} URL {_quote(value)}: not a profile link")
    return segments[0].removeprefix(prefix)


def _is_url(value: str) -> bool:
    # No platform allows "/" in a handle, so a slash means the user pasted a link.
    return "/" in value


def _checked_handle(value: str, handle: str, pattern: re.Pattern[str], what: str, rule: str) -> str:
    if pattern.fullmatch(handle) is None:
        raise InvalidIdentifier(f"Invalid {what} username {_quote(value)}: {rule}")
    return handle.lower()


_GITHUB_HOSTS: Final = frozenset({"github.com", "www.github.com"})
_GITHUB_RE: Final = re.compile(r"(?=[A-Za-z0-9-]{1,39}\Z)[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
_X_HOSTS: Final = frozenset(
    {"x.com", "www.x.com", "mobile.x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com"}
)
_X_RE: Final = re.compile(r"[A-Za-z0-9_]{1,15}")
_INSTAGRAM_HOSTS: Final = frozenset({"instagram.com", "www.instagram.com"})
_INSTAGRAM_RE: Final = re.compile(r"[A-Za-z0-9._]{1,30}")
_TIKTOK_HOSTS: Final = frozenset({"tiktok.com", "www.tiktok.com", "m.tiktok.com"})
_TIKTOK_RE: Final = re.compile(r"[A-Za-z0-9._]{1,24}")
_LINKEDIN_HOSTS: Final = frozenset({"linkedin.com", "www.linkedin.com"})
_LINKEDIN_RE: Final = re.compile(r"[A-Za-z0-9-]{3,100}")
_FACEBOOK_HOSTS: Final = frozenset({"facebook.com", "www.facebook.com", "m.facebook.com"})
_FACEBOOK_RE: Final = re.compile(r"[A-Za-z0-9.]{5,50}|[0-9]{1,20}")
_YOUTUBE_HOSTS: Final = frozenset({"youtube.com", "www.youtube.com", "m.youtube.com"})
_YOUTUBE_HANDLE_RE: Final = re.compile(r"[A-Za-z0-9._-]{3,30}")
_YOUTUBE_CHANNEL_RE: Final = re.compile(r"UC[A-Za-z0-9_-]{22}")


def _social_github(value: str) -> str:
    handle = (
        _profile_segment(value, _GITHUB_HOSTS, "GitHub")
        if _is_url(value)
        else value.removeprefix("@")
    )
    return _checked_handle(
        value, handle, _GITHUB_RE, "GitHub", "1-39 letters, digits or single inner hyphens"
    )


def _social_x(value: str) -> str:
    handle = _profile_segment(value, _X_HOSTS, "X") if _is_url(value) else value.removeprefix("@")
    return _checked_handle(value, handle, _X_RE, "X", "1-15 letters, digits or underscores")


def _social_instagram(value: str) -> str:
    handle = (
        _profile_segment(value, _INSTAGRAM_HOSTS, "Instagram")
        if _is_url(value)
        else value.removeprefix("@")
    )
    return _checked_handle(
        value, handle, _INSTAGRAM_RE, "Instagram", "1-30 letters, digits, periods or underscores"
    )


def _social_tiktok(value: str) -> str:
    handle = (
        _profile_segment(value, _TIKTOK_HOSTS, "TikTok", prefix="@")
        if _is_url(value)
        else value.removeprefix("@")
    )
    return _checked_handle(
        value, handle, _TIKTOK_RE, "TikTok", "1-24 letters, digits, periods or underscores"
    )


def _social_linkedin(value: str) -> str:
    if _is_url(value):
        segments, _ = _split_url(value, _LINKEDIN_HOSTS, "LinkedIn")
        if len(segments) != 2 or segments[0] != "in":
            raise InvalidIdentifier(
                f"Invalid LinkedIn URL {_quote(value)}: expected a linkedin.com/in/... profile"
            )
        handle = segments[1]
    else:
        handle = value.removeprefix("@")
    return _checked_handle(
        value, handle, _LINKEDIN_RE, "LinkedIn", "3-100 letters, digits or hyphens"
    )


def _social_facebook(value: str) -> str:
    if _is_url(value):
        segments, parts = _split_url(value, _FACEBOOK_HOSTS, "Facebook")
        if segments == ["profile.php"]:
            # Profiles without a vanity name are only reachable by numeric id.
            ids = parse_qs(parts.query).get("id", [])
            if len(ids) != 1 or not ids[0].isascii() or not ids[0].isdigit():
                raise InvalidIdentifier(
                    f"Invalid Facebook URL {_quote(value)}: profile.php needs a numeric id"
                )
            handle = ids[0]
        elif len(segments) == 1:
            handle = segments[0]
        else:
            raise InvalidIdentifier(f"Invalid Facebook URL {_quote(value)}: not a profile link")
    else:
        handle = value.removeprefix("@")
    return _checked_handle(
        value,
        handle,
        _FACEBOOK_RE,
        "Facebook",
        "5-50 letters, digits or periods, or a numeric profile id",
    )


def _social_youtube(value: str) -> str:
    if _is_url(value):
        segments, _ = _split_url(value, _YOUTUBE_HOSTS, "YouTube")
        if len(segments) == 2 and segments[0] == "channel":
            return _youtube_channel_id(value, segments[1])
        if len(segments) == 1 and segments[0].startswith("@"):
            handle = segments[0][1:]
        else:
            raise InvalidIdentifier(
                f"Invalid YouTube URL {_quote(value)}: expected youtube.com/@handle or "
                "youtube.com/channel/UC..."
            )
    elif value.startswith("@"):
        handle = value[1:]
    elif _YOUTUBE_CHANNEL_RE.fullmatch(value) is not None:
        return value
    else:
        handle = value
    return _checked_handle(
        value,
        handle,
        _YOUTUBE_HANDLE_RE,
        "YouTube",
        "3-30 letters, digits, periods, underscores or hyphens",
    )


def _youtube_channel_id(value: str, channel_id: str) -> str:
    if _YOUTUBE_CHANNEL_RE.fullmatch(channel_id) is None:
        raise InvalidIdentifier(
            f"Invalid YouTube channel id {_quote(value)}: expected UC followed by 22 characters"
        )
    return channel_id


_SOCIAL: Final[dict[str, Callable[[str], str]]] = {
    "github": _social_github,
    "google": _normalize_email,
    "facebook": _social_facebook,
    "x": _social_x,
    "linkedin": _social_linkedin,
    "instagram": _social_instagram,
    "youtube": _social_youtube,
    "tiktok": _social_tiktok,
}


def _normalize_social(channel: str, value: str) -> str:
    normalizer = _SOCIAL.get(channel)
    if normalizer is None:
        raise InvalidIdentifier(f"Unsupported social platform {_quote(channel)}")
    return normalizer(value)


# --------------------------------------------------------------------------- wallets

_ETHEREUM_RE: Final = re.compile(r"0x[0-9a-fA-F]{40}")
_BASE58_RE: Final = re.compile(r"[1-9A-HJ-NP-Za-km-z]+")
_SOLANA_KEY_BYTES: Final = 32

_P2PKH_VERSION: Final = 0x00
_P2SH_VERSION: Final = 0x05
_TESTNET_VERSIONS: Final = frozenset({0x6F, 0xC4})
_BASE58CHECK_PAYLOAD_BYTES: Final = 21

_SEGWIT_HRP: Final = "bc"
_TESTNET_HRPS: Final = ("tb1", "bcrt1")
# BIP-350, "Bech32m": the checksum constant M that replaces bech32's 1.
_BECH32M_CONST: Final = 0x2BC830A3
_BECH32_MAX_LENGTH: Final = 90


def _normalize_ethereum(value: str) -> str:
    if _ETHEREUM_RE.fullmatch(value) is None:
        raise InvalidIdentifier(
            f"Invalid Ethereum address {_quote(value)}: expected 0x followed by 40 hex digits"
        )
    digits = value[2:]
    mixed_case = digits not in (digits.lower(), digits.upper())
    if mixed_case and not is_checksum_address(value):
        raise InvalidIdentifier(
            f"Invalid Ethereum address {_quote(value)}: mixed-case address fails the EIP-55 "
            "checksum (a character is wrong or its case was changed)"
        )
    return "0x" + digits.lower()


def _normalize_solana(value: str) -> str:
    if _BASE58_RE.fullmatch(value) is None:
        raise InvalidIdentifier(f"Invalid Solana address {_quote(value)}: not base58")
    key = base58.b58decode(value)
    if len(key) != _SOLANA_KEY_BYTES:
        raise InvalidIdentifier(
            f"Invalid Solana address {_quote(value)}: decodes to {len(key)} bytes, "
            f"expected {_SOLANA_KEY_BYTES}"
        )
    return value


def _normalize_bitcoin(value: str) -> str:
    lowered = value.lower()
    if lowered.startswith(_TESTNET_HRPS):
        raise InvalidIdentifier(
            f"Invalid Bitcoin address {_quote(value)}: testnet/regtest addresses are not "
            "accepted, use a mainnet address"
        )
    if lowered.startswith(_SEGWIT_HRP + "1"):
        return _normalize_segwit(value)
    return _normalize_base58check(value)


def _normalize_base58check(value: str) -> str:
    if _BASE58_RE.fullmatch(value) is None:
        raise InvalidIdentifier(
            f"Invalid Bitcoin address {_quote(value)}: expected a 1..., 3... or bc1... address"
        )
    try:
        payload = base58.b58decode_check(value)
    except ValueError as exc:
        raise InvalidIdentifier(
            f"Invalid Bitcoin address {_quote(value)}: Base58Check checksum mismatch"
        ) from exc
    if len(payload) != _BASE58CHECK_PAYLOAD_BYTES:
        raise InvalidIdentifier(f"Invalid Bitcoin address {_quote(value)}: wrong length")
    version = payload[0]
    if version in _TESTNET_VERSIONS:
        raise InvalidIdentifier(
            f"Invalid Bitcoin address {_quote(value)}: testnet addresses are not accepted, "
            "use a mainnet address"
        )
    if version not in (_P2PKH_VERSION, _P2SH_VERSION):
        raise InvalidIdentifier(
            f"Invalid Bitcoin address {_quote(value)}: version byte {version:#04x} is not "
            "mainnet P2PKH or P2SH"
        )
    return value


def _bech32_variant(hrp: str, data: list[int]) -> Literal["bech32", "bech32m"] | None:
    """Which checksum, if any, ``data`` (5-bit groups incl. checksum) carries.

    The ``bech32`` package (1.2) only knows BIP-173.  BIP-350 ("Bech32m", section
    "Specification") keeps the same polymod and changes only the constant the residue is
    compared with, so this reuses the package's polymod and adds that one comparison.
    """
    residue = int(bech32.bech32_polymod(bech32.bech32_hrp_expand(hrp) + data))
    if residue == 1:
        return "bech32"
    if residue == _BECH32M_CONST:
        return "bech32m"
    return None


def _normalize_segwit(value: str) -> str:
    """Validate a mainnet segwit address per the BIP-350 reference ``decode``."""

    def invalid(reason: str) -> InvalidIdentifier:
        return InvalidIdentifier(f"Invalid Bitcoin address {_quote(value)}: {reason}")

    if value not in (value.lower(), value.upper()):
        raise invalid("bech32 addresses must not mix upper and lower case (BIP-173)")
    address = value.lower()
    if len(address) > _BECH32_MAX_LENGTH:
        raise invalid(f"longer than {_BECH32_MAX_LENGTH} characters")
    hrp, _, data_part = address.rpartition("1")
    if hrp != _SEGWIT_HRP:
        raise invalid("not a bc1 segwit address")
    charset: str = bech32.CHARSET
    if len(data_part) < 6 or any(char not in charset for char in data_part):
        raise invalid("invalid bech32 characters or too short")
    data = [charset.index(char) for char in data_part]
    variant = _bech32_variant(hrp, data)
    if variant is None:
        raise invalid("bech32 checksum mismatch")
    values = data[:-6]
    if not values:
        raise invalid("empty data section")
    version = values[0]
    if version > 16:
        raise invalid(f"witness version {version} does not exist")
    converted = bech32.convertbits(values[1:], 5, 8, False)
    if converted is None:
        raise invalid("invalid padding in the data section")
    program: list[int] = list(converted)
    if not 2 <= len(program) <= 40:
        raise invalid(f"witness program of {len(program)} bytes (must be 2-40)")
    if version == 0 and len(program) not in (20, 32):
        raise invalid(f"witness v0 program of {len(program)} bytes (must be 20 or 32)")
    if version == 0 and variant != "bech32":
        raise invalid("witness v0 addresses must use the bech32 checksum (BIP-173)")
    if version != 0 and variant != "bech32m":
        raise invalid("witness v1+ addresses must use the bech32m checksum (BIP-350)")
    return address


_WALLETS: Final[dict[str, Callable[[str], str]]] = {
    "ethereum": _normalize_ethereum,
    "solana": _normalize_solana,
    "bitcoin": _normalize_bitcoin,
}


def _normalize_wallet(channel: str, value: str) -> str:
    normalizer = _WALLETS.get(channel)
    if normalizer is None:
        raise InvalidIdentifier(f"Unsupported wallet chain {_quote(channel)}")
    return normalizer(value)


# --------------------------------------------------------------------------- account

_ACCOUNT_ID_RE: Final = re.compile(r"[A-Za-z0-9._-]{1,100}")


def _normalize_account(channel: str, value: str) -> str:
    if "@" in value:
        return _normalize_email(value)
    if _ACCOUNT_ID_RE.fullmatch(value) is None:
        raise InvalidIdentifier(
            f"Invalid account id {_quote(value)}: expected an email address or 1-100 letters, "
            "digits, periods, underscores or hyphens"
        )
    return value


# --------------------------------------------------------------------------- telegram bot

_TELEGRAM_HOSTS: Final = frozenset({"t.me", "www.t.me", "telegram.me", "www.telegram.me"})
_TELEGRAM_BOT_RE: Final = re.compile(r"[A-Za-z0-9_]{2,29}[Bb][Oo][Tt]")


def _normalize_telegram_bot(channel: str, value: str) -> str:
    name = (
        _profile_segment(value, _TELEGRAM_HOSTS, "Telegram")
        if _is_url(value)
        else value.removeprefix("@")
    )
    if _TELEGRAM_BOT_RE.fullmatch(name) is None:
        raise InvalidIdentifier(
            f"Invalid Telegram bot username {_quote(value)}: 5-32 letters, digits or "
            "underscores, ending in 'bot'"
        )
    return name.lower()


# --------------------------------------------------------------------------- public API

_NORMALIZERS: Final[dict[str, Callable[[str, str], str]]] = {
    "phone": _normalize_phone,
    "email": _normalize_email_type,
    "domain": _normalize_domain,
    "social": _normalize_social,
    "wallet": _normalize_wallet,
    "account": _normalize_account,
    "telegram_bot": _normalize_telegram_bot,
}


def normalize_identifier(type: str, channel: str, raw: str) -> str:
    """Return the canonical form of ``raw`` for a verification of ``type`` over ``channel``.

    The caller has already checked that ``(type, channel)`` is a valid pair.  Raises
    :class:`InvalidIdentifier` when ``raw`` is not a valid identifier of that kind.
    """
    value = raw.strip()
    if not value:
        raise InvalidIdentifier("Identifier is empty")
    if len(value) > MAX_IDENTIFIER_LENGTH:
        raise InvalidIdentifier(
            f"Identifier is longer than {MAX_IDENTIFIER_LENGTH} characters ({len(value)})"
        )
    normalizer = _NORMALIZERS.get(type)
    if normalizer is None:
        raise InvalidIdentifier(f"Unknown verification type {_quote(type)}")
    return normalizer(channel, value)


def identifier_hash(normalized: str) -> str:
    """SHA-256 of the UTF-8 ``normalized`` identifier, as 64 lower-case hex digits."""
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()
