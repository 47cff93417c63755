"""The agent's side of vouch agent proofs: an Ed25519 key, the v1 proof, and RFC 9421 request
signatures in the Web Bot Auth profile.

    key = AgentKey.generate()                      # register key.public_jwk with vouch once
    proof = key.prove(challenge)                   # challenge: the body of POST /v1/verify/challenge
    httpx.get(url, auth=key.http_auth(challenge["nonce"]))   # or sign the request itself

Everything here follows the published texts, not vouch's server code (this package never imports
it): the proof string of ``docs/agents.md``, RFC 8785 for the context, RFC 8032 for Ed25519,
RFC 7638 for the key's thumbprint, RFC 9421 for the signature base.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Generator, Iterable, Mapping
from decimal import Decimal
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

__all__ = [
    "PROOF_VERSION",
    "WEB_BOT_AUTH_TAG",
    "AgentKey",
    "WebBotAuth",
    "canonical_json",
    "context_sha256",
    "proof_message",
    "signature_base",
]

PROOF_VERSION = "vouch-agent-proof/v1"
WEB_BOT_AUTH_TAG = "web-bot-auth"
DEFAULT_COMPONENTS = ("@method", "@authority", "@path")
_MAX_SAFE_INTEGER = 2**53 - 1
_UNSET: Any = object()


# -- RFC 8785: JSON Canonicalization Scheme ------------------------------------------------------
def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON of ``value`` (dicts, lists, str, int, float, bool, None)."""
    return _jcs(value).encode("utf-8")


def _jcs(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INTEGER:
            raise ValueError(f"{value} is outside the I-JSON integer range (RFC 8785 §3.2.2.3)")
        return str(value)
    if isinstance(value, float):
        return _es_number(value)
    if isinstance(value, str):
        # json.dumps escapes exactly what RFC 8785 §3.2.2.2 asks: '"', '\\', and controls
        # (\b \t \n \f \r short, the rest \u00xx lowercase); everything else stays literal.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise TypeError("JSON object keys must be strings")
        # §3.2.3: members sorted by the UTF-16 code units of their names.
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(f"{_jcs(k)}:{_jcs(value[k])}" for k in keys) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_jcs(item) for item in value) + "]"
    raise TypeError(f"{type(value).__name__} is not JSON")


def _es_number(value: float) -> str:
    """ECMAScript Number::toString (ECMA-262 §6.1.6.1.20), which RFC 8785 §3.2.2.3 adopts."""
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("NaN and infinities are not JSON")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr() is the shortest round-tripping decimal, the digits ECMAScript asks for.
    _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    k = len(digits)
    # value = digits × 10^(n − k)
    n = exponent + len(digit_tuple)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
        text = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return sign + text


# -- the v1 proof ---------------------------------------------------------------------------------
def context_sha256(context: Mapping[str, Any] | None) -> str:
    """Lowercase hex SHA-256 of the canonical JSON of ``context`` (``{}`` when there is none)."""
    return hashlib.sha256(canonical_json({} if context is None else context)).hexdigest()


def proof_message(
    *,
    challenge_id: str,
    nonce: str,
    agent_id: str,
    action: str,
    context: Mapping[str, Any] | None = None,
) -> bytes:
    """The bytes an agent signs: six lines joined by LF, no trailing LF (docs/agents.md)."""
    fields = [PROOF_VERSION, challenge_id, nonce, agent_id, action, context_sha256(context)]
    if any("\n" in f or "\r" in f for f in fields):
        raise ValueError("proof fields cannot contain line breaks")
    return "\n".join(fields).encode("utf-8")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class AgentKey:
    """An agent's Ed25519 key pair (RFC 8032)."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key
        self._public_raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @classmethod
    def generate(cls) -> AgentKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> AgentKey:
        """From the 32-byte private key (RFC 8032 §5.1.5's secret)."""
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> AgentKey:
        """From a private OKP JWK (RFC 8037 §2: ``kty`` OKP, ``crv`` Ed25519, ``d``, ``x``)."""
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or "d" not in jwk:
            raise ValueError("expected a private Ed25519 JWK (kty OKP, crv Ed25519, with d)")
        key = cls.from_seed(_b64url_decode(str(jwk["d"])))
        if "x" in jwk and jwk["x"] != key.public_key:
            raise ValueError("the JWK's x does not match its d")
        return key

    @property
    def public_key(self) -> str:
        """The raw 32-byte public key, base64url — what ``POST /v1/agents`` accepts."""
        return _b64url(self._public_raw)

    @property
    def public_jwk(self) -> dict[str, str]:
        return {"kty": "OKP", "crv": "Ed25519", "x": self.public_key}

    def private_jwk(self) -> dict[str, str]:
        """The private key as a JWK, for storage. Keep it secret."""
        seed = self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return {**self.public_jwk, "d": _b64url(seed), "kid": self.thumbprint}

    @property
    def thumbprint(self) -> str:
        """RFC 7638 JWK SHA-256 thumbprint: vouch's key id and the Web Bot Auth ``keyid``."""
        members = '{"crv":"Ed25519","kty":"OKP","x":"' + self.public_key + '"}'
        return _b64url(hashlib.sha256(members.encode("ascii")).digest())

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)

    def prove(
        self,
        challenge: Mapping[str, Any],
        *,
        agent_id: str | None = None,
        action: str | None = None,
        context: Mapping[str, Any] | None = _UNSET,
    ) -> str:
        """The v1 proof for ``challenge`` (the challenge response body), as 128 hex digits.

        ``agent_id``, ``action`` and ``context`` default to the challenge's. Pass them to state
        what this agent means to prove: a challenge that names anything else is refused here,
        before anything is signed.
        """
        agent_id = _agreed("agent_id", agent_id, challenge)
        action = _agreed("action", action, challenge)
        if context is _UNSET:
            context = challenge.get("context")
        elif "context" in challenge and challenge["context"] != context:
            raise ValueError("the challenge is for another context")
        message = proof_message(
            challenge_id=str(challenge["challenge_id"]),
            nonce=str(challenge["nonce"]),
            agent_id=agent_id,
            action=action,
            context=context,
        )
        return self.sign(message).hex()

    def http_auth(
        self,
        nonce: str,
        *,
        lifetime: int = 60,
        components: Iterable[str] = DEFAULT_COMPONENTS,
        label: str = "sig1",
        signature_agent: str | None = None,
    ) -> WebBotAuth:
        return WebBotAuth(
            self,
            nonce,
            lifetime=lifetime,
            components=components,
            label=label,
            signature_agent=signature_agent,
        )


def _agreed(name: str, given: str | None, challenge: Mapping[str, Any]) -> str:
    named = challenge.get(name)
    if given is None:
        if not isinstance(named, str):
            raise ValueError(f"the challenge does not name its {name}; pass {name}=")
        return named
    if named is not None and named != given:
        raise ValueError(f"the challenge is for {name} {named!r}, not {given!r}")
    return given


# -- RFC 9421: HTTP Message Signatures -----------------------------------------------------------
def _sf_string(value: str) -> str:
    """RFC 8941 §4.1.6 sf-string."""
    if any(not (0x20 <= ord(c) <= 0x7E) for c in value):
        raise ValueError("structured-field strings are printable ASCII")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _component_value(name: str, method: str, url: httpx.URL, headers: httpx.Headers) -> str:
    """RFC 9421 §2.2 derived components and §2.1 HTTP fields."""
    raw_path, _, query = url.raw_path.decode("ascii").partition("?")
    if name == "@method":
        return method
    if name == "@authority":
        return url.netloc.decode("ascii").lower()
    if name == "@path":
        return raw_path or "/"
    if name == "@scheme":
        return url.scheme.lower()
    if name == "@query":
        return "?" + query
    if name == "@target-uri":
        return f"{url.scheme}://{url.netloc.decode('ascii')}{url.raw_path.decode('ascii')}"
    if name.startswith("@"):
        raise ValueError(f"unsupported derived component {name}")
    values = headers.get_list(name)
    if not values:
        raise ValueError(f"the request has no {name} header to sign")
    return ", ".join(v.strip() for v in values)


def signature_base(
    *,
    method: str,
    url: httpx.URL | str,
    headers: httpx.Headers | Mapping[str, str],
    components: Iterable[str],
    params: str,
) -> str:
    """RFC 9421 §2.5: one ``"name": value`` line per component, then ``"@signature-params"``.

    ``params`` is the serialized parameters after the component list (``;created=…;keyid=…``).
    """
    target = url if isinstance(url, httpx.URL) else httpx.URL(url)
    fields = headers if isinstance(headers, httpx.Headers) else httpx.Headers(headers)
    names = [c.lower() for c in components]
    lines = [f'"{n}": {_component_value(n, method, target, fields)}' for n in names]
    inner = "(" + " ".join(f'"{n}"' for n in names) + ")" + params
    lines.append(f'"@signature-params": {inner}')
    return "\n".join(lines)


class WebBotAuth(httpx.Auth):
    """Signs every request (RFC 9421, Web Bot Auth profile) with the agent's key.

    ``Signature-Input: sig1=("@method" "@authority" "@path");created=…;expires=…;keyid="<RFC 7638
    thumbprint>";alg="ed25519";nonce="<challenge nonce>";tag="web-bot-auth"``. A vouch nonce
    answers one challenge: use a new challenge (and a new auth) for each action.
    """

    def __init__(
        self,
        key: AgentKey,
        nonce: str,
        *,
        lifetime: int = 60,
        components: Iterable[str] = DEFAULT_COMPONENTS,
        label: str = "sig1",
        signature_agent: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self.nonce = nonce
        self.lifetime = lifetime
        self.components = [c.lower() for c in components]
        self.label = label
        self.signature_agent = signature_agent
        self.clock = clock
        if signature_agent is not None and "signature-agent" not in self.components:
            self.components.append("signature-agent")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request

    def sign(self, request: httpx.Request) -> None:
        if self.signature_agent is not None:
            request.headers["Signature-Agent"] = _sf_string(self.signature_agent)
        created = int(self.clock())
        params = (
            f";created={created};expires={created + self.lifetime}"
            f';keyid={_sf_string(self.key.thumbprint)};alg="ed25519"'
            f";nonce={_sf_string(self.nonce)};tag={_sf_string(WEB_BOT_AUTH_TAG)}"
        )
        base = signature_base(
            method=request.method,
            url=request.url,
            headers=request.headers,
            components=self.components,
            params=params,
        )
        signature = base64.b64encode(self.key.sign(base.encode("ascii"))).decode("ascii")
        inner = "(" + " ".join(f'"{c}"' for c in self.components) + ")" + params
        request.headers["Signature-Input"] = f"{self.label}={inner}"
        request.headers["Signature"] = f"{self.label}=:{signature}:"
