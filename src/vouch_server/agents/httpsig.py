"""HTTP Message Signatures (RFC 9421) for agents: two profiles, and the key directory.

**Web Bot Auth** (draft-meunier-web-bot-auth-architecture, "Generating HTTP Message Signature"):
one signature with ``tag="web-bot-auth"``, ``keyid`` = the RFC 7638 JWK thumbprint of the agent's
Ed25519 key (RFC 8037 Appendix A.3), ``created`` and ``expires`` (RFC 9421 §2.3), covering
``@authority`` (RFC 9421 §2.2.3) or ``@target-uri`` (§2.2.2), and — when the request carries a
``Signature-Agent`` field — that field or one of its members (§2.1, §2.1.2). The draft recommends
an expiry of no more than 24 hours; vouch holds signatures to that. ``nonce`` is optional; when
present vouch refuses a second use of it (the draft's anti-replay, RFC 9421 §7.2.2).

**Challenge-bound** (vouch's stricter profile): the same, plus ``nonce`` = the nonce of a vouch
challenge, ``@method``, ``@authority`` and ``@path`` all covered, and at most 5 minutes between
``created`` and ``expires`` (a challenge lives 5 minutes). It answers its challenge once.

**Directory** (draft-meunier-http-message-signatures-directory, "Binding keys to the directory
authority"): each key of the directory signs the directory response, covering ``"@authority";req``
(RFC 9421 §2.4) with ``tag="http-message-signatures-directory"``. vouch never holds an agent's
private key, so the agent makes that signature itself and deposits it; vouch checks it here.

The cryptographic check and the signature base are the ``http-message-signatures`` library's; this
module reads the parameters it needs first (which nonce, which key) and applies the profiles.
"""

from __future__ import annotations

import base64
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

from vouch_server.agents.keys import AgentPublicKey

WEB_BOT_AUTH_TAG = "web-bot-auth"
DIRECTORY_TAG = "http-message-signatures-directory"
DIRECTORY_PATH = "/.well-known/http-message-signatures-directory"
DIRECTORY_MEDIA_TYPE = "application/http-message-signatures-directory+json"
# Challenge-bound profile: the request itself, and no longer than the challenge lives.
CHALLENGE_COMPONENTS = ("@method", "@authority", "@path")
CHALLENGE_MAX_VALIDITY = timedelta(minutes=5)
# Web Bot Auth: "It is RECOMMENDED the expiry to be no more than 24 hours."
WEB_BOT_AUTH_MAX_VALIDITY = timedelta(hours=24)
WEB_BOT_AUTH_TARGETS = ("@authority", "@target-uri")
SIGNATURE_AGENT = "signature-agent"
DIRECTORY_COMPONENT = '"@authority";req'
CLOCK_SKEW = timedelta(seconds=5)
# What a verified request reports of the components it covered, under these names.
_REPORTED = {
    '"@method"': "method",
    '"@authority"': "authority",
    '"@path"': "path",
    '"@target-uri"': "target_uri",
    '"@query"': "query",
}


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
    covered: dict[str, str]  # serialized component id → signed value (RFC 9421 §2.5)
    created: datetime
    expires: datetime
    nonce: str | None

    def value(self, component: str) -> str | None:
        return self.covered.get(f'"{component}"')

    def reported(self) -> dict[str, str]:
        """The covered request components, by name (only what the signature covers)."""
        out = {name: self.covered[cid] for cid, name in _REPORTED.items() if cid in self.covered}
        agent = [v for cid, v in self.covered.items() if _component_name(cid) == SIGNATURE_AGENT]
        if agent:
            out["signature_agent"] = agent[0]
        return out


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


@dataclass(frozen=True)
class _DirectoryResponse:
    """The directory response as the library reads it: a status, fields and its request."""

    headers: _Headers
    request: SignedRequest
    status_code: int = 200


def read_params(request: SignedRequest) -> SignatureParams:
    """RFC 9421 §4.1: the ``Signature-Input`` member tagged ``web-bot-auth`` (exactly one)."""
    field = request.field("signature-input")
    if field is None or request.field("signature") is None:
        raise SignatureRejected("The request has no Signature-Input and Signature header fields")
    tagged = [
        (label, params)
        for label, params in _members(field)
        if params.get("tag") == WEB_BOT_AUTH_TAG
    ]
    if not tagged:
        raise SignatureRejected('No signature in Signature-Input has tag="web-bot-auth"')
    if len(tagged) > 1:
        raise SignatureRejected('More than one signature has tag="web-bot-auth"')
    label, params = tagged[0]
    nonce = params.get("nonce")
    keyid = params.get("keyid")
    return SignatureParams(
        label=label,
        nonce=nonce if isinstance(nonce, str) else None,
        keyid=keyid if isinstance(keyid, str) else None,
    )


def verify_challenge_bound(
    request: SignedRequest,
    keys: dict[str, AgentPublicKey],
    *,
    not_before: datetime,
) -> VerifiedRequest:
    """vouch's profile for a request answering a challenge (its nonce names the challenge).

    ``not_before`` is when the challenge was issued: a signature cannot honestly predate the nonce
    it carries.
    """
    verified = _verify(
        request, keys, max_validity=CHALLENGE_MAX_VALIDITY, require=CHALLENGE_COMPONENTS
    )
    if verified.expires - verified.created > CHALLENGE_MAX_VALIDITY:
        raise SignatureRejected("The signature is valid for longer than 5 minutes")
    if verified.created < not_before - CLOCK_SKEW:
        raise SignatureRejected("The signature was created before its challenge was issued")
    return verified


def verify_web_bot_auth(request: SignedRequest, keys: dict[str, AgentPublicKey]) -> VerifiedRequest:
    """The Web Bot Auth profile, as draft-meunier-web-bot-auth-architecture defines it."""
    verified = _verify(request, keys, max_validity=WEB_BOT_AUTH_MAX_VALIDITY, require=())
    if not any(verified.value(c) is not None for c in WEB_BOT_AUTH_TARGETS):
        raise SignatureRejected(
            'Web Bot Auth signatures must cover "@authority" (or "@target-uri")'
        )
    if request.field(SIGNATURE_AGENT) is not None and not any(
        _component_name(cid) == SIGNATURE_AGENT for cid in verified.covered
    ):
        raise SignatureRejected(
            "The request has a Signature-Agent field the signature does not cover"
        )
    if verified.expires - verified.created > WEB_BOT_AUTH_MAX_VALIDITY:
        raise SignatureRejected("The signature is valid for longer than 24 hours")
    return verified


def _verify(
    request: SignedRequest,
    keys: dict[str, AgentPublicKey],
    *,
    max_validity: timedelta,
    require: tuple[str, ...],
) -> VerifiedRequest:
    params = read_params(request)
    if params.keyid is None:
        raise SignatureRejected("The signature has no keyid")
    if params.keyid not in keys:
        raise SignatureRejected("keyid is not the thumbprint of an active key of this agent")
    try:
        results = _verifier(keys).verify(
            request,
            max_age=max_validity,
            expect_tag=WEB_BOT_AUTH_TAG,
            require_components=require,
        )
    except HTTPMessageSignaturesException as exc:
        raise SignatureRejected(_describe(exc)) from exc
    result = results[0]
    if "expires" not in result.parameters:
        raise SignatureRejected("Web Bot Auth signatures must carry expires")
    covered = {k: v for k, v in result.covered_components.items() if k != '"@signature-params"'}
    return VerifiedRequest(
        kid=params.keyid,
        covered=covered,
        created=_instant(result.parameters.get("created")),
        expires=_instant(result.parameters.get("expires")),
        nonce=result.nonce,
    )


@dataclass(frozen=True)
class DirectorySignature:
    """One key's signature of the directory response, as it is served again."""

    params: str  # the Signature-Input member value: ("@authority";req);created=…;…
    signature: str  # base64 of the 64 signature bytes
    expires: datetime


def verify_directory_signature(
    *,
    signature_input: str,
    signature: str,
    key: AgentPublicKey,
    directory_url: str,
) -> DirectorySignature:
    """Check a key's signature of the directory response served at ``directory_url``.

    draft-meunier-http-message-signatures-directory, "Binding keys to the directory authority":
    ``"@authority";req`` covered, ``created``, ``expires``, ``keyid`` = the key's thumbprint,
    ``tag="http-message-signatures-directory"``. Only those components may be covered: the
    signature is served again with every directory response, whose other fields change.
    """
    lines = (("Signature-Input", signature_input), ("Signature", signature))
    members = [
        (label, params)
        for label, params in _members(signature_input)
        if params.get("tag") == DIRECTORY_TAG
    ]
    if len(members) != 1:
        raise SignatureRejected(f'Send exactly one signature with tag="{DIRECTORY_TAG}"')
    if members[0][1].get("keyid") != key.thumbprint:
        raise SignatureRejected("keyid must be the thumbprint of this key")
    response = _DirectoryResponse(
        headers=_Headers(lines), request=SignedRequest("GET", directory_url, ())
    )
    try:
        results = _verifier({key.thumbprint: key}).verify(
            response,
            max_age=None,
            expect_tag=DIRECTORY_TAG,
            require_components=(DIRECTORY_COMPONENT,),
        )
    except HTTPMessageSignaturesException as exc:
        raise SignatureRejected(_describe(exc)) from exc
    result = results[0]
    extra = set(result.covered_components) - {DIRECTORY_COMPONENT, '"@signature-params"'}
    if extra:
        raise SignatureRejected(f"Cover only {DIRECTORY_COMPONENT}; also covered: {sorted(extra)}")
    if "created" not in result.parameters or "expires" not in result.parameters:
        raise SignatureRejected("The directory signature must carry created and expires")
    raw = _member_bytes(signature, result.label)
    return DirectorySignature(
        params=result.covered_components['"@signature-params"'],
        signature=base64.b64encode(raw).decode("ascii"),
        expires=_instant(result.parameters.get("expires")),
    )


def directory_signature_fields(signatures: Iterable[DirectorySignature]) -> dict[str, str]:
    """``Signature-Input`` and ``Signature`` of the directory response: one member per key.

    Labels are not covered by a signature (RFC 9421 §4.1), so each is served under its own.
    """
    items = list(signatures)
    if not items:
        return {}
    labels = [f"sig{i}" for i in range(1, len(items) + 1)]
    return {
        "Signature-Input": ", ".join(
            f"{label}={s.params}" for label, s in zip(labels, items, strict=True)
        ),
        "Signature": ", ".join(
            f"{label}=:{s.signature}:" for label, s in zip(labels, items, strict=True)
        ),
    }


def _verifier(keys: dict[str, AgentPublicKey]) -> HTTPMessageVerifier:
    public_keys: dict[str, VerificationKey] = {kid: key.verifier() for kid, key in keys.items()}
    return HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys=public_keys, private_keys={}),
    )


def _members(field: str) -> list[tuple[str, dict[str, Any]]]:
    try:
        members = http_sf.parse(field.encode("latin-1"), tltype="dictionary")
    except (http_sf.StructuredFieldError, UnicodeEncodeError, ValueError) as exc:
        raise SignatureRejected("Signature-Input is not a valid structured field") from exc
    assert isinstance(members, dict)
    out = []
    for label, member in members.items():
        # Each member is (value, parameters): an inner list of components for a signature.
        params = member[1] if isinstance(member, tuple) and len(member) == 2 else None
        if isinstance(params, dict):
            out.append((str(label), params))
    return out


def _member_bytes(field: str, label: str) -> bytes:
    try:
        members = http_sf.parse(field.encode("latin-1"), tltype="dictionary")
    except (http_sf.StructuredFieldError, UnicodeEncodeError, ValueError) as exc:
        raise SignatureRejected("Signature is not a valid structured field") from exc
    assert isinstance(members, dict)
    member = members.get(label)
    value = member[0] if isinstance(member, tuple) else None
    if not isinstance(value, bytes):
        raise SignatureRejected(f'Signature member "{label}" must be a byte sequence')
    return value


def _component_name(component_id: str) -> str:
    return component_id.split(";", 1)[0].strip('"')


def _instant(value: int | str | None) -> datetime:
    if not isinstance(value, int):
        raise SignatureRejected("created and expires must be integers")
    return datetime.fromtimestamp(value, UTC)


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    if not text or text == "None":
        text = "The signature does not verify"
    return text[:200]
