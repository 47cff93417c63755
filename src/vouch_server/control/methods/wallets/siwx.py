"""Sign-In with X messages: EIP-4361 (Sign-In with Ethereum), and the same text for Solana and
Bitcoin as CAIP-122 ("Sign in With X") generalises it.

The message is the ABNF of EIP-4361 §"ABNF Message Format", with the chain name in the first line
(``… sign in with your Solana account:`` is also Phantom's Sign In With Solana). ``to_text`` writes
it; ``parse`` reads it back field by field and refuses anything the grammar does not allow, so a
relying party compares parsed values with the ones it issued (EIP-4361 §"Verifying a signed
Message") instead of comparing strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

CHAINS: Final = ("Ethereum", "Solana", "Bitcoin")

_HEADER_RE: Final = re.compile(
    r"(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?(?P<domain>[^\s/?#]+)"
    r" wants you to sign in with your (?P<chain>[A-Za-z]+) account:"
)
_ADDRESS_RE: Final = {
    "Ethereum": re.compile(r"0x[0-9a-fA-F]{40}"),
    "Solana": re.compile(r"[1-9A-HJ-NP-Za-km-z]{32,44}"),
    "Bitcoin": re.compile(r"[A-Za-z0-9]{14,90}"),
}
# RFC 3986 "reserved" / "unreserved" / " ": everything but line breaks and controls.
_STATEMENT_RE: Final = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;= ]*")
_URI_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+")
_CHAIN_ID_RE: Final = {
    "Ethereum": re.compile(r"[0-9]{1,20}"),  # EIP-155
    "Solana": re.compile(r"[A-Za-z0-9:_-]{1,64}"),  # "mainnet", "solana:mainnet", CAIP-2
    "Bitcoin": re.compile(r"[A-Za-z0-9:_-]{1,64}"),  # CAIP-2 reference
}
_NONCE_RE: Final = re.compile(r"[A-Za-z0-9]{8,}")
# RFC 3339 §5.6 date-time.
_DATE_TIME_RE: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
# RFC 3986 "pchar".
_REQUEST_ID_RE: Final = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})*")

_FIELDS: Final = ("URI", "Version", "Chain ID", "Nonce", "Issued At")
_OPTIONAL: Final = ("Expiration Time", "Not Before", "Request ID")


class MalformedMessage(ValueError):
    """Text that is not a Sign-In with X message."""


@dataclass(frozen=True)
class SignInMessage:
    chain: str
    domain: str
    address: str
    uri: str
    chain_id: str
    nonce: str
    issued_at: str
    version: str = "1"
    scheme: str | None = None
    statement: str | None = None
    expiration_time: str | None = None
    not_before: str | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = ()

    def to_text(self) -> str:
        origin = f"{self.scheme}://{self.domain}" if self.scheme else self.domain
        lines = [f"{origin} wants you to sign in with your {self.chain} account:", self.address, ""]
        if self.statement is not None:
            lines += [self.statement, ""]
        else:
            lines += [""]
        lines += [
            f"URI: {self.uri}",
            f"Version: {self.version}",
            f"Chain ID: {self.chain_id}",
            f"Nonce: {self.nonce}",
            f"Issued At: {self.issued_at}",
        ]
        if self.expiration_time is not None:
            lines.append(f"Expiration Time: {self.expiration_time}")
        if self.not_before is not None:
            lines.append(f"Not Before: {self.not_before}")
        if self.request_id is not None:
            lines.append(f"Request ID: {self.request_id}")
        if self.resources:
            lines.append("Resources:")
            lines += [f"- {resource}" for resource in self.resources]
        return "\n".join(lines)


def parse_date_time(text: str) -> datetime:
    """An RFC 3339 ``date-time``; anything looser is refused."""
    if _DATE_TIME_RE.fullmatch(text) is None:
        raise MalformedMessage(f"not an RFC 3339 date-time: {text[:40]!r}")
    normalized = text.upper().replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(normalized)
    except ValueError as exc:
        raise MalformedMessage(f"not a valid date-time: {text[:40]!r}") from exc


def parse(text: str) -> SignInMessage:
    """Parse a message per the EIP-4361 ABNF (``LF`` line ends, fields in order)."""
    if "\r" in text:
        raise MalformedMessage("lines must end with LF only")
    lines = text.split("\n")
    if len(lines) < 9:
        raise MalformedMessage("too few lines for a sign-in message")
    header = _HEADER_RE.fullmatch(lines[0])
    if header is None or header["chain"] not in CHAINS:
        raise MalformedMessage(
            "first line is not '<domain> wants you to sign in with your … account:'"
        )
    chain = header["chain"]
    address = lines[1]
    if _ADDRESS_RE[chain].fullmatch(address) is None:
        raise MalformedMessage(f"line 2 is not a {chain} address")
    if lines[2] != "":
        raise MalformedMessage("line 3 must be empty")
    statement: str | None
    if lines[3] == "":
        statement, index = None, 4
    else:
        statement = lines[3]
        if _STATEMENT_RE.fullmatch(statement) is None:
            raise MalformedMessage("the statement has characters EIP-4361 does not allow")
        if lines[4] != "":
            raise MalformedMessage("the statement must be followed by an empty line")
        index = 5

    def take(name: str, required: bool) -> str | None:
        nonlocal index
        prefix = f"{name}: "
        if index < len(lines) and lines[index].startswith(prefix):
            value = lines[index][len(prefix) :]
            index += 1
            return value
        if required:
            raise MalformedMessage(f"expected '{name}: …' on line {index + 1}")
        return None

    values = {name: take(name, True) or "" for name in _FIELDS}
    optional = {name: take(name, False) for name in _OPTIONAL}
    resources: list[str] = []
    if index < len(lines) and lines[index] == "Resources:":
        index += 1
        while index < len(lines) and lines[index].startswith("- "):
            resources.append(lines[index][2:])
            index += 1
    if index != len(lines):
        raise MalformedMessage(f"unexpected text on line {index + 1}")

    if _URI_RE.fullmatch(values["URI"]) is None:
        raise MalformedMessage("URI is not an RFC 3986 URI")
    if values["Version"] != "1":
        raise MalformedMessage("Version must be 1")
    if _CHAIN_ID_RE[chain].fullmatch(values["Chain ID"]) is None:
        raise MalformedMessage("Chain ID is malformed")
    if _NONCE_RE.fullmatch(values["Nonce"]) is None:
        raise MalformedMessage("Nonce must be at least 8 letters or digits")
    parse_date_time(values["Issued At"])
    for name in ("Expiration Time", "Not Before"):
        value = optional[name]
        if value is not None:
            parse_date_time(value)
    request_id = optional["Request ID"]
    if request_id is not None and _REQUEST_ID_RE.fullmatch(request_id) is None:
        raise MalformedMessage("Request ID has characters RFC 3986 pchar does not allow")
    for resource in resources:
        if _URI_RE.fullmatch(resource) is None:
            raise MalformedMessage("a resource is not an RFC 3986 URI")
    return SignInMessage(
        chain=chain,
        domain=header["domain"],
        address=address,
        uri=values["URI"],
        version=values["Version"],
        chain_id=values["Chain ID"],
        nonce=values["Nonce"],
        issued_at=values["Issued At"],
        scheme=header["scheme"],
        statement=statement,
        expiration_time=optional["Expiration Time"],
        not_before=optional["Not Before"],
        request_id=request_id,
        resources=tuple(resources),
    )
