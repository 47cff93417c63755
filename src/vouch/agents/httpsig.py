"""HTTP Message Signatures (RFC 9421) in the Web Bot Auth profile, verified for integrators.

An agent may answer a challenge by signing an HTTP request instead of the proof string: one
signature with ``tag="web-bot-auth"``, ``keyid`` = the RFC 7638 JWK thumbprint of its Ed25519 key,
``created`` and ``expires``, ``nonce`` = the challenge's nonce, covering at least ``@method``,
``@authority`` and ``@path`` (RFC 9421 §2.2.1, §2.2.3, §2.2.6). The nonce is what ties the request
to one challenge: a signed request is accepted once, for the challenge whose nonce it carries, and
a replay (or a signature over a nonce vouch never issued) is refused.

The cryptographic check and the signature base are the ``http-message-signatures`` library's; this
module only reads the parameters it needs first (which nonce, which key) and applies the profile.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import http_sf
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageVerifier,
    MappingKeyResolver,
    VerificationKey,
    algorithms,
)

from vouch.agents.keys import AgentPublicKey

WEB_BOT_AUTH_TAG = "web-bot-auth"
REQUIRED_COMPONENTS = ("@method", "@authority", "@path")
# A signed request is good for at most as long as a challenge lives.
MAX_VALIDITY = timedelta(minutes=5)
CLOCK_SKEW = timedelta(seconds=5)


class SignatureRejected(ValueError):
    """Why a signed request does not verify (shown to the integrator as the ``reason``)."""


@dataclass(frozen=True)
class SignatureParams:
    """The parameters of the request's one ``web-bot-auth`` signature, read before verifying."""

    label: str
    nonce: str | None
    keyid: str | None


@dataclass(frozen=True)
class VerifiedRequest:
    kid: str
    method: str
    authority: str
    path: str
    created: datetime
    expires: datetime


class _Headers:
    """The header view the library reads: field lines in order, repeated names kept apart."""

    def __init__(self, lines: Iterable[tuple[str, str]]) -> None:
        self._lines = list(lines)

    def items(self) -> list[tuple[str, str]]:
        return list(self._lines)

    def __iter__(self) -> Any:
        return iter(dict.fromkeys(name for name, _ in self._lines))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(n.lower() == name.lower() for n, _ in self._lines)


@dataclass(frozen=True)
class SignedRequest:
    method: str
    url: str
    header_lines: tuple[tuple[str, str], ...]

    @property
    def headers(self) -> _Headers:
        return _Headers(self.header_lines)

    def field(self, name: str) -> str | None:
        values = [v.strip() for n, v in self.header_lines if n.lower() == name]
        return ", ".join(values) if values else None


def read_params(request: SignedRequest) -> SignatureParams:
    """RFC 9421 §4.1: the ``Signature-Input`` member tagged ``web-bot-auth`` (exactly one)."""
    field = request.field("signature-input")
    if field is None or request.field("signature") is None:
        raise SignatureRejected("The request has no Signature-Input and Signature header fields")
    try:
        members = http_sf.parse(field.encode("latin-1"), tltype="dictionary")
    except (http_sf.StructuredFieldError, UnicodeEncodeError, ValueError) as exc:
        raise SignatureRejected("Signature-Input is not a valid structured field") from exc
    assert isinstance(members, dict)
    tagged = []
    for label, member in members.items():
        # Each member is (value, parameters): an inner list of components for a signature.
        params = member[1] if isinstance(member, tuple) and len(member) == 2 else None
        if isinstance(params, dict) and params.get("tag") == WEB_BOT_AUTH_TAG:
            tagged.append((label, params))
    if not tagged:
        raise SignatureRejected('No signature in Signature-Input has tag="web-bot-auth"')
    if len(tagged) > 1:
        raise SignatureRejected('More than one signature has tag="web-bot-auth"')
    label, params = tagged[0]
    nonce = params.get("nonce")
    keyid = params.get("keyid")
    return SignatureParams(
        label=str(label),
        nonce=nonce if isinstance(nonce, str) else None,
        keyid=keyid if isinstance(keyid, str) else None,
    )


def verify(
    request: SignedRequest,
    keys: dict[str, AgentPublicKey],
    *,
    not_before: datetime,
) -> VerifiedRequest:
    """Verify the ``web-bot-auth`` signature against the agent's active keys (by thumbprint).

    ``not_before`` is when the challenge was issued: a signature cannot honestly predate the nonce
    it carries.
    """
    params = read_params(request)
    if params.keyid is None:
        raise SignatureRejected("The signature has no keyid")
    if params.keyid not in keys:
        raise SignatureRejected("keyid is not the thumbprint of an active key of this agent")
    public_keys: dict[str, VerificationKey] = {kid: key.verifier() for kid, key in keys.items()}
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys=public_keys, private_keys={}),
    )
    try:
        results = verifier.verify(
            request,
            max_age=MAX_VALIDITY,
            expect_tag=WEB_BOT_AUTH_TAG,
            require_components=REQUIRED_COMPONENTS,
        )
    except HTTPMessageSignaturesException as exc:
        raise SignatureRejected(_describe(exc)) from exc
    result = results[0]
    created = _instant(result.parameters.get("created"))
    if "expires" not in result.parameters:
        raise SignatureRejected("Web Bot Auth signatures must carry expires")
    expires = _instant(result.parameters.get("expires"))
    if expires - created > MAX_VALIDITY:
        raise SignatureRejected("The signature is valid for longer than 5 minutes")
    if created < not_before - CLOCK_SKEW:
        raise SignatureRejected("The signature was created before its challenge was issued")
    covered = result.covered_components
    return VerifiedRequest(
        kid=params.keyid,
        method=covered['"@method"'],
        authority=covered['"@authority"'],
        path=covered['"@path"'],
        created=created,
        expires=expires,
    )


def _instant(value: int | str | None) -> datetime:
    if not isinstance(value, int):
        raise SignatureRejected("created and expires must be integers")
    return datetime.fromtimestamp(value, UTC)


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    if not text or text == "None":
        text = "The signature does not verify"
    return text[:200]
