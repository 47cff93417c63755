"""Offline verification of vouch proof tokens.

The checks follow the integrator checklist, in order:

1. the signature verifies against the issuer's JWKS (the ``alg`` must be one of
   the accepted asymmetric algorithms and match the key's type); the key is not
   tombstoned, is published for proofs, and ``iat``/``exp`` fit its window and
   ``max_token_lifetime`` (the key lifecycle the JWKS publishes),
2. ``exp`` has not passed,
3. ``iss`` is the expected issuer, and the proof's environment is the verifier's:
   a live verifier refuses every ``test: true`` proof (and reads only the live JWKS),
4. the proof is not revoked or suspended: its slot in the issuer's signed Token Status
   List (draft-ietf-oauth-status-list) when the token names one — one cached document per
   list, O(1) per check — else the paged, signed revocation list (older tokens),
5. optionally ``type`` / ``channel`` are the expected ones,
6. optionally ``iat`` is recent enough (``max_age``) and ``identifier_hash`` matches.

All parsing and checking lives in :class:`_Core`, which does no I/O; the sync
and async front-ends only decide when to fetch and perform the HTTP requests.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

import httpx
import jwt

from vouch_client.jws import (
    BadSignature,
    MalformedJWS,
    SignatureCheck,
    read_header,
    signature_check,
    verify_compact_with,
)

from ._errors import (
    ClaimMismatch,
    EnvironmentMismatch,
    IdentifierMismatch,
    InvalidSignature,
    IssuerMismatch,
    JWKSUnavailable,
    KeyRevoked,
    MalformedProof,
    OutsideKeyWindow,
    ProofExpired,
    ProofInvalid,
    ProofRevoked,
    ProofSuspended,
    ProofTooOld,
    RevocationListUnavailable,
    TokenLifetimeExceeded,
    UnknownKey,
    WrongKeyPurpose,
)
from ._types import ProofClaims, RevokedEntry

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["AsyncVerifier", "Verifier"]

DEFAULT_ALGORITHMS: tuple[str, ...] = ("RS256", "ES256", "EdDSA")

# alg -> (JWK kty, allowed curves or None). Only asymmetric algorithms: "none" and
# HS* are never accepted, whatever the caller passes.
_ALGORITHM_KEY_TYPES: dict[str, tuple[str, frozenset[str] | None]] = {
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "PS256": ("RSA", None),
    "PS384": ("RSA", None),
    "PS512": ("RSA", None),
    "ES256": ("EC", frozenset({"P-256"})),
    "ES384": ("EC", frozenset({"P-384"})),
    "ES512": ("EC", frozenset({"P-521"})),
    "EdDSA": ("OKP", frozenset({"Ed25519", "Ed448"})),
}

_INFERRED_ALGORITHM: dict[tuple[str, str | None], str] = {
    ("RSA", None): "RS256",
    ("EC", "P-256"): "ES256",
    ("EC", "P-384"): "ES384",
    ("EC", "P-521"): "ES512",
    ("OKP", "Ed25519"): "EdDSA",
    ("OKP", "Ed448"): "EdDSA",
}

_HEADER_CACHE_SIZE = 256

REVOCATION_OVERLAP_SECONDS = 60
MAX_REVOCATION_PAGES = 10_000

# Key lifecycle: clock skew tolerated on each edge of a key's signing window (the figure
# proof.holdings' verifiers use, so both answer a token the same way).
KEY_WINDOW_SKEW_SECONDS = 300
PURPOSE_PROOF = "proof"
PURPOSE_STATUS_LIST = "status-list"

# Token Status List (draft-ietf-oauth-status-list): §5.1 header type, §7.1 slot values.
STATUS_LIST_TYPE = "statuslist+jwt"
STATUS_LIST_ACCEPT = {"Accept": "application/statuslist+jwt"}
MAX_STATUS_LIST_BYTES = 2 * 1024 * 1024  # the token as served
MAX_STATUS_LIST_SLOTS_BYTES = 32 * 1024 * 1024  # the list once inflated (a bomb stops here)
_STATUS_VALID, _STATUS_INVALID, _STATUS_SUSPENDED = 0, 1, 2


@dataclass(frozen=True, slots=True)
class _KeyPolicy:
    """What the JWKS says about one key beyond its material (all optional)."""

    purpose: str | None
    not_before: int | None
    not_after: int | None
    max_token_lifetime: int | None


@dataclass(frozen=True, slots=True)
class _Key:
    """One usable JWKS key, resolved once per key set: its material, the algorithm it signs
    with, the prepared signature check (``vouch_client.jws.signature_check``) and its policy.
    A new key set builds new entries, so nothing of an old key outlives its rotation."""

    jwk: jwt.PyJWK
    alg: str
    check: SignatureCheck
    policy: _KeyPolicy


@dataclass(frozen=True, slots=True)
class _StatusList:
    slots: bytes
    bits: int
    expires_at: float


def _whole(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@functools.lru_cache(maxsize=256)
def _origin(url: str) -> str:
    """``scheme://host[:port]``, lowercased, the scheme's default port dropped. Cached: every
    token of one issuer names the same few list URIs, and parsing a URL costs more than
    checking an RSA signature."""
    parsed = httpx.URL(url)
    scheme, host = parsed.scheme.lower(), (parsed.host or "").lower()
    if scheme not in ("http", "https") or not host:
        raise ValueError(f"{url!r} is not an absolute http(s) URL")
    default = {"http": 80, "https": 443}[scheme]
    if ":" in host:
        host = f"[{host}]"
    port = parsed.port
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def revocation_entries_digest(entries: object) -> str:
    """SHA-256 (base64url, unpadded) of a revocation page's entries, as the server signs it:
    the JSON array with sorted keys, no whitespace, UTF-8."""
    canonical = json.dumps(entries, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _is_number(value: object) -> bool:
    return isinstance(value, _NUMBERS) and not isinstance(value, bool)


_NUMBERS = (int, float)
# The exact types JSON decoding gives a number (bool, an int subclass, is not among them).
_JSON_NUMBERS = frozenset({int, float})
_OPTIONAL_STRING_CLAIMS = (
    "jti",
    "proof_schema_version",
    "channel",
    "identifier_hash",
    "verified_at",
    "user_id",
)


def _check_claim_types(payload: Mapping[str, Any]) -> None:
    """Raise :class:`MalformedProof` for the first claim of a proof with the wrong type."""
    for name in ("iss", "sub", "type"):
        value = payload.get(name)
        if not isinstance(value, str) or not value:
            raise MalformedProof(f"claim {name!r} is missing or not a string")
    for name in ("iat", "exp"):
        if not _is_number(payload.get(name)):
            raise MalformedProof(f"claim {name!r} is missing or not a number")
    for name in _OPTIONAL_STRING_CLAIMS:
        value = payload.get(name)
        if value is not None and not isinstance(value, str):
            raise MalformedProof(f"claim {name!r} is not a string")


def _iso_utc(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _resolve_urls(
    base_url: str | None,
    issuer: str | None,
    jwks_url: str | None,
    revocation_url: str | None,
    jwks: Mapping[str, Any] | None,
    check_revocation: bool,
    test: bool = False,
) -> tuple[str, str | None, str | None]:
    base = base_url.rstrip("/") if base_url else None
    if issuer is None:
        issuer = base
    if not issuer:
        raise ValueError("pass base_url or issuer: the expected `iss` cannot be guessed")
    if jwks is None and jwks_url is None:
        if base is None:
            raise ValueError("pass base_url, jwks_url or a static jwks")
        # Live and test proofs are signed by disjoint key sets: a live verifier never even
        # holds a key that could verify a test proof.
        name = "jwks-test.json" if test else "jwks.json"
        jwks_url = f"{base}/.well-known/{name}"
    if check_revocation and revocation_url is None:
        if base is None:
            raise ValueError("pass base_url or revocation_url, or check_revocation=False")
        revocation_url = f"{base}/api/v1/proofs/revoked"
    return issuer, jwks_url, revocation_url


class _RevocationFetch:
    """State of one (possibly multi-page) revocation-list download."""

    __slots__ = ("cursor", "done", "entries", "first_iat", "pages", "seen_cursors", "since")

    def __init__(self, since: str | None) -> None:
        self.since = since
        self.cursor: str | None = None
        self.done = False
        self.pages = 0
        self.entries: list[RevokedEntry] = []
        self.first_iat: int | None = None
        self.seen_cursors: set[str] = set()

    def params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.since is not None:
            params["since"] = self.since
        if self.cursor is not None:
            params["cursor"] = self.cursor
        return params


class _Core:
    """Caches and checks; no I/O."""

    def __init__(
        self,
        *,
        issuer: str,
        jwks: Mapping[str, Any] | None,
        check_revocation: bool,
        algorithms: Iterable[str],
        leeway: float,
        jwks_ttl: float,
        revocation_ttl: float,
        refetch_min_interval: float,
        test: bool = False,
        status_origin: str | None = None,
    ) -> None:
        accepted = tuple(algorithms)
        if not accepted:
            raise ValueError("algorithms must not be empty")
        unsupported = [alg for alg in accepted if alg not in _ALGORITHM_KEY_TYPES]
        if unsupported:
            raise ValueError(
                f"unsupported algorithms {unsupported!r}: only asymmetric JWS algorithms "
                f"({', '.join(_ALGORITHM_KEY_TYPES)}) are accepted"
            )
        if leeway < 0:
            raise ValueError("leeway must be >= 0")
        self.issuer = issuer
        self.algorithms = frozenset(accepted)
        self.check_revocation = check_revocation
        self.leeway = leeway
        self.jwks_ttl = jwks_ttl
        self.revocation_ttl = revocation_ttl
        self.refetch_min_interval = refetch_min_interval

        self.test = test
        self.status_origin = status_origin
        self.static = jwks is not None
        self._headers: dict[str, tuple[str, str]] = {}
        self.keys: dict[str, _Key] = {}
        self.tombstones: frozenset[str] = frozenset()
        self.registry_live = False
        self.jwks_fetched_at: float | None = None
        self.jwks_refetched_at: float | None = None
        if jwks is not None:
            self._store_key_set(jwks)

        self.revoked: dict[str, RevokedEntry] = {}
        self.revocation_fetched_at: float | None = None
        self.revocation_iat: int | None = None
        self.status_lists: dict[str, _StatusList] = {}

    # ------------------------------------------------------------------ keys

    def parse_jwks(self, document: Any) -> dict[str, jwt.PyJWK]:
        """Build ``kid -> PyJWK`` once per key set; unusable keys are skipped."""
        if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
            raise ValueError("a JWKS is an object with a 'keys' array")
        keys: dict[str, jwt.PyJWK] = {}
        for jwk in document["keys"]:
            if not isinstance(jwk, dict):
                continue
            kid = jwk.get("kid")
            if not isinstance(kid, str) or not kid or kid in keys:
                continue
            if jwk.get("use", "sig") != "sig" or "d" in jwk:
                continue
            kty, crv = jwk.get("kty"), jwk.get("crv")
            alg = jwk.get("alg")
            if alg is None and isinstance(kty, str):
                alg = _INFERRED_ALGORITHM.get((kty, crv if kty != "RSA" else None))
            if not isinstance(alg, str) or alg not in self.algorithms:
                continue
            expected_kty, curves = _ALGORITHM_KEY_TYPES[alg]
            if kty != expected_kty or (curves is not None and crv not in curves):
                continue
            try:
                keys[kid] = jwt.PyJWK(jwk, algorithm=alg)
            except jwt.PyJWTError:
                continue
        return keys

    def jwks_due(self, now: float) -> bool:
        if self.static:
            return False
        return self.jwks_fetched_at is None or now - self.jwks_fetched_at >= self.jwks_ttl

    def may_refetch_jwks(self, now: float) -> bool:
        """Unknown ``kid``: refetch, but at most once per ``refetch_min_interval``."""
        if self.static:
            return False
        last = self.jwks_refetched_at
        return last is None or now - last >= self.refetch_min_interval

    def store_jwks(self, document: Any, now: float) -> None:
        try:
            self._store_key_set(document)
        except ValueError as exc:
            raise JWKSUnavailable(f"invalid JWKS: {exc}") from exc
        self.jwks_fetched_at = now

    def _store_key_set(self, document: Any) -> None:
        parsed = self.parse_jwks(document)
        policies = {
            kid: _KeyPolicy(
                purpose=jwk.get("proof_purpose")
                if isinstance(jwk.get("proof_purpose"), str)
                else None,
                not_before=_whole(jwk.get("not_before")),
                not_after=_whole(jwk.get("not_after")),
                max_token_lifetime=_whole(jwk.get("max_token_lifetime")),
            )
            for jwk in document["keys"]
            if isinstance(jwk, dict) and isinstance(kid := jwk.get("kid"), str) and kid in parsed
        }
        keys = {
            kid: _Key(
                jwk=jwk,
                alg=jwk.algorithm_name,
                check=signature_check(jwk.algorithm_name, jwk.key),
                policy=policies[kid],
            )
            for kid, jwk in parsed.items()
        }
        raw_tombstones = document.get("proof_tombstones")
        tombstones = frozenset(
            entry["kid"]
            for entry in (raw_tombstones if isinstance(raw_tombstones, list) else [])
            if isinstance(entry, dict) and isinstance(entry.get("kid"), str)
        )
        # One swap of each: a reader sees the old set or the new one.
        self.keys, self.tombstones = keys, tombstones
        # A registry that labels any key holds every key to its label and window.
        self.registry_live = any(p.purpose is not None for p in policies.values())

    def lookup(self, kid: str, purpose: str) -> _Key | None:
        """The key ``kid`` if it may sign a ``purpose`` token; None when it is not published."""
        if kid in self.tombstones:
            raise KeyRevoked(f"the issuer withdrew signing key {kid!r}")
        key = self.keys.get(kid)
        if key is None:
            return None
        if self.registry_live and key.policy.purpose != purpose:
            raise WrongKeyPurpose(f"signing key {kid!r} is not a {purpose} key")
        return key

    def check_key_window(self, kid: str, key: _Key, payload: Mapping[str, Any]) -> None:
        """The signing key's window and lifetime (after its signature verified)."""
        if not self.registry_live:
            return
        policy = key.policy
        if policy.not_before is None or policy.not_after is None:
            return
        iat, exp = _number(payload.get("iat")), _number(payload.get("exp"))
        if iat is None:
            raise OutsideKeyWindow("the token has no iat to place in its key's window")
        skew = KEY_WINDOW_SKEW_SECONDS
        if not policy.not_before - skew <= iat <= policy.not_after + skew:
            raise OutsideKeyWindow(f"iat lies outside the signing window of key {kid!r}")
        if policy.max_token_lifetime is not None and (
            exp is None or exp > iat + policy.max_token_lifetime
        ):
            raise TokenLifetimeExceeded(
                f"exp lies beyond iat plus the max_token_lifetime of key {kid!r}"
            )

    # ------------------------------------------------------------------ tokens

    def parse_header(self, token: object) -> tuple[str, str]:
        """Return ``(alg, kid)`` from the unverified header."""
        if not isinstance(token, str) or token.count(".") != 2:
            raise MalformedProof("not a compact JWS (header.payload.signature)")
        # Every token signed by one key carries the same header segment, so its parse is cached
        # (bounded); only headers that parsed cleanly are kept.
        segment = token.partition(".")[0]
        cached = self._headers.get(segment)
        if cached is not None:
            return cached
        try:
            # Strict base64url and JSON; crit/b64 (extensions vouch never signs) refused.
            header = read_header(token)
        except MalformedJWS as exc:
            raise MalformedProof(f"unreadable token header: {exc}") from exc
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise InvalidSignature(f"algorithm {alg!r} is not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise MalformedProof("token header has no kid")
        if len(self._headers) >= _HEADER_CACHE_SIZE:
            self._headers.clear()
        self._headers[segment] = (alg, kid)
        return alg, kid

    def explain_unknown_key(self, token: str, exc: UnknownKey) -> ProofInvalid:
        """A live verifier holds no test key, so a test proof meets an unknown kid: say what it
        is. (Read unverified only to word the refusal; the token is refused either way.)"""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return exc
        if claims.get("test") is True and not self.test:
            return EnvironmentMismatch(
                "a test-mode proof: it proves nothing about a real person", reason="test_proof"
            )
        return exc

    def verify_signature(self, token: str, alg: str, key: _Key) -> dict[str, Any]:
        if key.alg != alg:
            raise InvalidSignature(f"token alg {alg!r} does not match the key's {key.alg!r}")
        try:
            # RFC 7515 compact verification with the key's prepared check (vouch_client.jws);
            # a header segment parse_header has already read strictly is not decoded again.
            return verify_compact_with(token, key.check, self._headers)
        except BadSignature as exc:
            raise InvalidSignature(f"signature verification failed: {exc}") from exc
        except MalformedJWS as exc:
            raise MalformedProof(f"undecodable token: {exc}") from exc

    def check_claims(self, payload: dict[str, Any], now: float) -> ProofClaims:
        """Shape, ``exp`` and ``iss`` (checklist steps 2 and 3)."""
        get: Callable[[str], Any] = payload.get
        iss, sub, kind, iat, exp = get("iss"), get("sub"), get("type"), get("iat"), get("exp")
        jti, version, channel = get("jti"), get("proof_schema_version"), get("channel")
        identifier_hash, verified_at, user_id = (
            get("identifier_hash"),
            get("verified_at"),
            get("user_id"),
        )
        # What JSON decoding gives a well-formed proof passes this one test; anything else is
        # looked at claim by claim, which names the first bad claim (or, for a value JSON never
        # produces, such as an int subclass, accepts it as before).
        if not (
            isinstance(iss, str)
            and iss
            and isinstance(sub, str)
            and sub
            and isinstance(kind, str)
            and kind
            and type(iat) in _JSON_NUMBERS
            and type(exp) in _JSON_NUMBERS
            and (jti is None or isinstance(jti, str))
            and (version is None or isinstance(version, str))
            and (channel is None or isinstance(channel, str))
            and (identifier_hash is None or isinstance(identifier_hash, str))
            and (verified_at is None or isinstance(verified_at, str))
            and (user_id is None or isinstance(user_id, str))
        ):
            _check_claim_types(payload)

        if exp <= now - self.leeway:
            raise ProofExpired("the proof has expired")
        if iss != self.issuer:
            raise IssuerMismatch(f"issuer {iss!r} is not {self.issuer!r}")
        is_test = get("test") is True
        if is_test and not self.test:
            raise EnvironmentMismatch(
                "a test-mode proof: it proves nothing about a real person", reason="test_proof"
            )
        if self.test and not is_test:
            raise EnvironmentMismatch(
                "a live proof given to a test-mode verifier", reason="live_proof"
            )
        return ProofClaims(
            iss=iss,
            sub=sub,
            iat=int(iat),
            exp=int(exp),
            type=kind,
            jti=jti,
            proof_schema_version=version,
            channel=channel,
            identifier_hash=identifier_hash,
            verified_at=verified_at,
            user_id=user_id,
            raw=payload,
        )

    def check_revoked(self, claims: ProofClaims) -> None:
        entry = self.revoked.get(claims.sub)
        if entry is not None:
            raise ProofRevoked(
                "the proof has been revoked",
                revoked_at=entry["revoked_at"],
                revoked_reason=entry["reason"],
            )

    def check_expectations(
        self,
        claims: ProofClaims,
        now: float,
        *,
        type: str | None,
        channel: str | None,
        max_age: float | None,
        identifier: str | None,
    ) -> None:
        if type is not None and claims.type != type:
            raise ClaimMismatch("type", type, claims.type)
        if channel is not None and claims.channel != channel:
            raise ClaimMismatch("channel", channel, claims.channel)
        if max_age is not None and now - claims.raw["iat"] > max_age + self.leeway:
            raise ProofTooOld(f"the proof was issued more than {max_age} seconds ago")
        if identifier is not None:
            digest = hashlib.sha256(identifier.encode()).hexdigest().encode()
            claimed = (claims.identifier_hash or "").lower().encode()
            if not hmac.compare_digest(digest, claimed):
                raise IdentifierMismatch("the proof was issued for a different identifier")

    # ------------------------------------------------------------------ status lists

    def status_reference(self, claims: ProofClaims) -> tuple[str, int] | None:
        """``(uri, idx)`` of the proof's status-list slot, or None for a token without one."""
        status = claims.raw.get("status")
        if status is None:
            return None
        reference = status.get("status_list") if isinstance(status, dict) else None
        if reference is None and isinstance(status, dict):
            return None  # another status mechanism, which this verifier does not read
        if not isinstance(reference, dict):
            raise MalformedProof("claim 'status' is not an object")
        uri, idx = reference.get("uri"), _whole(reference.get("idx"))
        if not isinstance(uri, str) or idx is None or idx < 0:
            raise MalformedProof("claim 'status.status_list' needs a uri and an idx")
        # The uri comes inside the token: only a list on the issuer's own origin is fetched,
        # so a token cannot point the verifier at a list (or a host) of its choosing.
        try:
            same = self.status_origin is not None and _origin(uri) == self.status_origin
        except ValueError as exc:
            raise RevocationListUnavailable(f"status list uri {uri!r}: {exc}") from exc
        if not same:
            raise RevocationListUnavailable(
                f"status list {uri!r} is not on the issuer's origin {self.status_origin!r}"
            )
        return uri, idx

    def cached_status_list(self, uri: str, now: float) -> _StatusList | None:
        cached = self.status_lists.get(uri)
        return cached if cached is not None and cached.expires_at > now else None

    def status_list_header(self, uri: str, token: str) -> tuple[str, str]:
        def fail(why: str) -> RevocationListUnavailable:
            return RevocationListUnavailable(f"status list {uri}: {why}")

        try:
            alg, kid = self.parse_header(token)
            header = read_header(token)
        except (MalformedJWS, ProofInvalid) as exc:
            raise fail(str(exc)) from exc
        if header.get("typ") != STATUS_LIST_TYPE:  # §5.1: the one thing that marks a list
            raise fail(f"typ is {header.get('typ')!r}, not {STATUS_LIST_TYPE!r}")
        return alg, kid

    def read_status_list(
        self, uri: str, token: str, alg: str, kid: str, key: _Key, now: float
    ) -> _StatusList:
        """Verify a Status List Token (§5.1) fetched from ``uri`` and cache its slots."""

        def fail(why: str) -> RevocationListUnavailable:
            return RevocationListUnavailable(f"status list {uri}: {why}")

        try:
            claims = self.verify_signature(token, alg, key)
            self.check_key_window(kid, key, claims)
        except ProofInvalid as exc:
            raise fail(str(exc)) from exc
        if claims.get("sub") != uri:  # else another list of the issuer could stand in for it
            raise fail("sub is not the uri it was fetched from")
        if "iss" in claims and claims["iss"] != self.issuer:
            raise fail(f"issuer {claims['iss']!r} is not {self.issuer!r}")
        exp = _number(claims.get("exp"))
        if exp is None or exp <= now - self.leeway:  # exp is required: no eternal list
            raise fail("expired or without exp")
        body = claims.get("status_list")
        if not isinstance(body, dict) or not isinstance(body.get("lst"), str):
            raise fail("no status_list.lst")
        bits = body.get("bits")
        if bits not in (1, 2, 4, 8):
            raise fail(f"bits {bits!r} is not 1, 2, 4 or 8")
        try:
            inflater = zlib.decompressobj()
            slots = inflater.decompress(_b64url_decode(body["lst"]), MAX_STATUS_LIST_SLOTS_BYTES)
        except (ValueError, zlib.error) as exc:
            raise fail(f"lst does not inflate: {exc}") from exc
        if inflater.unconsumed_tail:
            raise fail("lst inflates beyond the size limit")
        ttl = _number(claims.get("ttl"))
        lifetime = (
            min(self.revocation_ttl, ttl) if ttl is not None and ttl > 0 else self.revocation_ttl
        )
        entry = _StatusList(slots=slots, bits=bits, expires_at=min(now + lifetime, exp))
        self.status_lists[uri] = entry
        return entry

    def check_status(self, claims: ProofClaims, status_list: _StatusList, idx: int) -> None:
        """The proof's slot: valid passes, revoked and suspended raise, anything else fails
        closed (§7.1: 0 valid, 1 invalid, 2 suspended, 3 application-specific)."""
        bits = status_list.bits
        position = idx * bits
        if position // 8 >= len(status_list.slots):
            raise RevocationListUnavailable(f"the status list has no slot {idx}")
        value = (status_list.slots[position // 8] >> (position % 8)) & ((1 << bits) - 1)
        if value == _STATUS_VALID:
            return
        if value == _STATUS_INVALID:
            raise ProofRevoked("the proof has been revoked")
        if value == _STATUS_SUSPENDED:
            raise ProofSuspended("the proof is suspended")
        raise RevocationListUnavailable(f"status list slot {idx} holds unknown status {value}")

    # ------------------------------------------------------------------ revocation

    def revocation_due(self, now: float) -> bool:
        fetched = self.revocation_fetched_at
        return fetched is None or now - fetched >= self.revocation_ttl

    def start_revocation_fetch(self) -> _RevocationFetch:
        since = None
        if self.revocation_iat is not None:
            since = _iso_utc(self.revocation_iat - REVOCATION_OVERLAP_SECONDS)
        return _RevocationFetch(since)

    def revocation_page_header(self, body: Any) -> tuple[str, str, str]:
        """Return ``(signature_jwt, alg, kid)`` of a page, or fail closed."""
        signature = body.get("signature") if isinstance(body, dict) else None
        if not isinstance(signature, str) or not signature:
            raise RevocationListUnavailable("the revocation list is not signed")
        try:
            alg, kid = self.parse_header(signature)
        except ProofInvalid as exc:
            raise RevocationListUnavailable(f"bad revocation list signature: {exc}") from exc
        return signature, alg, kid

    def read_revocation_page(
        self,
        fetch: _RevocationFetch,
        body: dict[str, Any],
        signature: str,
        alg: str,
        key: _Key,
        now: float,
    ) -> None:
        """Verify one page and take its entries from the *signed* claims."""

        def fail(why: str) -> RevocationListUnavailable:
            return RevocationListUnavailable(f"revocation list rejected: {why}")

        try:
            claims = self.verify_signature(signature, alg, key)
        except ProofInvalid as exc:
            raise fail(str(exc)) from exc
        if claims.get("type") != "revocation_list":
            raise fail("signed claims are not a revocation list")
        if claims.get("iss") != self.issuer:
            raise fail(f"issuer {claims.get('iss')!r} is not {self.issuer!r}")
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int | float) or not isinstance(exp, int | float):
            raise fail("iat/exp missing")
        if exp <= now - self.leeway:
            raise fail("signature has expired")
        if claims.get("cursor") != fetch.cursor:
            raise fail("signed cursor does not match the requested page")
        claimed_since = claims.get("since")
        if claimed_since is not None:
            # A delta that starts later than asked for could hide revocations.
            try:
                starts_late = fetch.since is None or _parse_iso(claimed_since) > _parse_iso(
                    fetch.since
                )
            except (TypeError, ValueError) as exc:
                raise fail("unreadable since") from exc
            if starts_late:
                raise fail("signed since does not cover the requested range")

        revoked = claims.get("revoked")
        if revoked is None and isinstance(claims.get("revoked_sha256"), str):
            # The page signs a digest of its entries, not a copy: the entries must match it.
            revoked = body.get("revoked")
            if not hmac.compare_digest(
                revocation_entries_digest(revoked).encode(), claims["revoked_sha256"].encode()
            ):
                raise fail("entries do not match the signed digest")
        if not isinstance(revoked, list):
            raise fail("signed claims have no revoked array")
        for item in revoked:
            if not isinstance(item, dict) or not isinstance(item.get("proof_id"), str):
                raise fail("malformed entry")
            fetch.entries.append(
                RevokedEntry(
                    proof_id=item["proof_id"],
                    revoked_at=str(item.get("revoked_at", "")),
                    reason=str(item.get("reason", "")),
                )
            )
        if fetch.first_iat is None:
            fetch.first_iat = int(iat)

        # Prefer pagination fields from the signed claims when the server puts them there.
        source = claims if "next_cursor" in claims else body
        next_cursor = source.get("next_cursor")
        if next_cursor is None or next_cursor == "":
            if source.get("has_more") is True:
                raise fail("has_more without next_cursor")
            fetch.done = True
            return
        if not isinstance(next_cursor, str):
            raise fail("next_cursor is not a string")
        if next_cursor in fetch.seen_cursors:
            raise fail("pagination loops")
        fetch.pages += 1
        if fetch.pages >= MAX_REVOCATION_PAGES:
            raise fail("too many pages")
        fetch.seen_cursors.add(next_cursor)
        fetch.cursor = next_cursor

    def commit_revocation_fetch(self, fetch: _RevocationFetch, now: float) -> None:
        merged = {} if fetch.since is None else dict(self.revoked)
        for entry in fetch.entries:
            merged[entry["proof_id"]] = entry
        self.revoked = merged  # swapped whole: readers never see a half-merged dict
        self.revocation_iat = fetch.first_iat
        self.revocation_fetched_at = now


def _status_origin(base_url: str | None, issuer: str) -> str | None:
    """The one origin status lists are fetched from: the server's, else the issuer's if it is
    a URL (an issuer such as ``proof.holdings`` names no origin)."""
    for candidate in (base_url, issuer):
        if candidate:
            try:
                return _origin(candidate)
            except ValueError:
                continue
    return None


def _status_list_text(status_code: int, body: bytes, url: str) -> str:
    if status_code != 200:
        raise _unavailable(RevocationListUnavailable, url, f"HTTP {status_code}")
    return body.decode("utf-8", "replace").strip()


def _unavailable(exc_type: type[Exception], url: str, why: str) -> Exception:
    return exc_type(f"GET {url}: {why}")


def _json_body(response: httpx.Response, exc_type: type[Exception]) -> Any:
    url = str(response.request.url)
    if response.status_code != 200:
        raise _unavailable(exc_type, url, f"HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError as exc:
        raise _unavailable(exc_type, url, "response is not JSON") from exc


_ACCEPT_JSON = {"Accept": "application/json"}


def _with_params(url: str, params: Mapping[str, str]) -> httpx.URL:
    """Add ``params`` to ``url`` keeping any query it already has."""
    return httpx.URL(url).copy_merge_params(dict(params))


class Verifier:
    """Verify vouch proof tokens offline (JWKS + signed revocation list), synchronously.

    Thread-safe; create one per issuer and reuse it so the caches work.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        issuer: str | None = None,
        jwks_url: str | None = None,
        revocation_url: str | None = None,
        jwks: Mapping[str, Any] | None = None,
        check_revocation: bool = True,
        algorithms: Iterable[str] = DEFAULT_ALGORITHMS,
        leeway: float = 0,
        jwks_ttl: float = 86400,
        revocation_ttl: float = 300,
        refetch_min_interval: float = 30,
        test: bool = False,
        timeout: float = 10.0,
        http_client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        issuer, self._jwks_url, self._revocation_url = _resolve_urls(
            base_url, issuer, jwks_url, revocation_url, jwks, check_revocation, test
        )
        self._core = _Core(
            issuer=issuer,
            jwks=jwks,
            check_revocation=check_revocation,
            algorithms=algorithms,
            leeway=leeway,
            jwks_ttl=jwks_ttl,
            revocation_ttl=revocation_ttl,
            refetch_min_interval=refetch_min_interval,
            test=test,
            status_origin=_status_origin(base_url, issuer),
        )
        self._clock = clock
        self._timeout = timeout
        self._http = http_client
        self._owns_http = http_client is None
        self._jwks_lock = threading.Lock()
        self._revocation_lock = threading.Lock()

    @property
    def issuer(self) -> str:
        return self._core.issuer

    def verify(
        self,
        token: str,
        *,
        type: str | None = None,
        channel: str | None = None,
        max_age: float | None = None,
        identifier: str | None = None,
    ) -> ProofClaims:
        """Return the claims of a valid proof, or raise a :class:`ProofInvalid` subclass.

        Raises :class:`RevocationListUnavailable` / :class:`JWKSUnavailable` when
        the answer cannot be known (fail closed).
        """
        core = self._core
        alg, kid = core.parse_header(token)
        try:
            key = self._key(kid, PURPOSE_PROOF)
        except UnknownKey as exc:
            raise core.explain_unknown_key(token, exc) from None
        payload = core.verify_signature(token, alg, key)
        core.check_key_window(kid, key, payload)
        claims = core.check_claims(payload, self._clock())
        if core.check_revocation:
            reference = core.status_reference(claims)
            if reference is not None:
                core.check_status(claims, self._status_list(reference[0]), reference[1])
            else:
                self._ensure_revocations()
                core.check_revoked(claims)
        core.check_expectations(
            claims,
            self._clock(),
            type=type,
            channel=channel,
            max_age=max_age,
            identifier=identifier,
        )
        return claims

    def refresh(self) -> None:
        """Fetch the JWKS now (e.g. at start-up), and every status list already in use.

        The paged revocation list is read only once a token without a status-list slot (an
        older vouch token) is met, and refreshed here from then on."""
        if not self._core.static:
            with self._jwks_lock:
                self._fetch_jwks()
        if self._core.check_revocation:
            with self._revocation_lock:
                for uri in list(self._core.status_lists):
                    self._fetch_status_list(uri)
                if self._core.revocation_fetched_at is not None:
                    self._fetch_revocations()

    def close(self) -> None:
        if self._owns_http and self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ internals

    def _get(self, url: str, params: Mapping[str, str], exc_type: type[Exception]) -> Any:
        if self._http is None:
            self._http = httpx.Client(timeout=self._timeout)
        try:
            response = self._http.get(_with_params(url, params), headers=_ACCEPT_JSON)
        except httpx.HTTPError as exc:
            raise _unavailable(exc_type, url, str(exc) or type(exc).__name__) from exc
        return _json_body(response, exc_type)

    def _fetch_jwks(self) -> None:
        assert self._jwks_url is not None
        document = self._get(self._jwks_url, {}, JWKSUnavailable)
        self._core.store_jwks(document, self._clock())

    def _key(self, kid: str, purpose: str) -> _Key:
        core = self._core
        if core.jwks_due(self._clock()):
            with self._jwks_lock:
                if core.jwks_due(self._clock()):
                    self._fetch_jwks()
        key = core.lookup(kid, purpose)
        if key is None and core.may_refetch_jwks(self._clock()):
            with self._jwks_lock:
                key = core.lookup(kid, purpose)
                if key is None and core.may_refetch_jwks(self._clock()):
                    core.jwks_refetched_at = self._clock()
                    self._fetch_jwks()
                    key = core.lookup(kid, purpose)
        if key is None:
            raise UnknownKey(f"no key with kid {kid!r} in the issuer's JWKS")
        return key

    def _status_list(self, uri: str) -> _StatusList:
        cached = self._core.cached_status_list(uri, self._clock())
        if cached is not None:
            return cached
        with self._revocation_lock:
            cached = self._core.cached_status_list(uri, self._clock())
            return cached if cached is not None else self._fetch_status_list(uri)

    def _fetch_status_list(self, uri: str) -> _StatusList:
        core = self._core
        if self._http is None:
            self._http = httpx.Client(timeout=self._timeout)
        try:
            with self._http.stream("GET", uri, headers=STATUS_LIST_ACCEPT) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_STATUS_LIST_BYTES:  # read no further than the cap
                        raise _unavailable(RevocationListUnavailable, uri, "list too large")
                status_code = response.status_code
        except httpx.HTTPError as exc:
            why = str(exc) or type(exc).__name__
            raise _unavailable(RevocationListUnavailable, uri, why) from exc
        token = _status_list_text(status_code, bytes(body), uri)
        alg, kid = core.status_list_header(uri, token)
        try:
            key = self._key(kid, PURPOSE_STATUS_LIST)
        except (ProofInvalid, JWKSUnavailable) as exc:
            raise RevocationListUnavailable(f"status list key: {exc}") from exc
        return core.read_status_list(uri, token, alg, kid, key, self._clock())

    def _ensure_revocations(self) -> None:
        if not self._core.revocation_due(self._clock()):
            return
        with self._revocation_lock:
            if self._core.revocation_due(self._clock()):
                self._fetch_revocations()

    def _fetch_revocations(self) -> None:
        assert self._revocation_url is not None
        core = self._core
        fetch = core.start_revocation_fetch()
        while not fetch.done:
            body = self._get(self._revocation_url, fetch.params(), RevocationListUnavailable)
            signature, alg, kid = core.revocation_page_header(body)
            try:
                key = self._key(kid, PURPOSE_PROOF)
            except (ProofInvalid, JWKSUnavailable) as exc:
                raise RevocationListUnavailable(f"revocation list key: {exc}") from exc
            core.read_revocation_page(fetch, body, signature, alg, key, self._clock())
        core.commit_revocation_fetch(fetch, self._clock())


class AsyncVerifier:
    """Like :class:`Verifier`, with ``async`` methods and an ``httpx.AsyncClient``."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        issuer: str | None = None,
        jwks_url: str | None = None,
        revocation_url: str | None = None,
        jwks: Mapping[str, Any] | None = None,
        check_revocation: bool = True,
        algorithms: Iterable[str] = DEFAULT_ALGORITHMS,
        leeway: float = 0,
        jwks_ttl: float = 86400,
        revocation_ttl: float = 300,
        refetch_min_interval: float = 30,
        test: bool = False,
        timeout: float = 10.0,
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        issuer, self._jwks_url, self._revocation_url = _resolve_urls(
            base_url, issuer, jwks_url, revocation_url, jwks, check_revocation, test
        )
        self._core = _Core(
            issuer=issuer,
            jwks=jwks,
            check_revocation=check_revocation,
            algorithms=algorithms,
            leeway=leeway,
            jwks_ttl=jwks_ttl,
            revocation_ttl=revocation_ttl,
            refetch_min_interval=refetch_min_interval,
            test=test,
            status_origin=_status_origin(base_url, issuer),
        )
        self._clock = clock
        self._timeout = timeout
        self._http = http_client
        self._owns_http = http_client is None
        self._jwks_lock = asyncio.Lock()
        self._revocation_lock = asyncio.Lock()

    @property
    def issuer(self) -> str:
        return self._core.issuer

    async def verify(
        self,
        token: str,
        *,
        type: str | None = None,
        channel: str | None = None,
        max_age: float | None = None,
        identifier: str | None = None,
    ) -> ProofClaims:
        """See :meth:`Verifier.verify`."""
        core = self._core
        alg, kid = core.parse_header(token)
        try:
            key = await self._key(kid, PURPOSE_PROOF)
        except UnknownKey as exc:
            raise core.explain_unknown_key(token, exc) from None
        payload = core.verify_signature(token, alg, key)
        core.check_key_window(kid, key, payload)
        claims = core.check_claims(payload, self._clock())
        if core.check_revocation:
            reference = core.status_reference(claims)
            if reference is not None:
                status_list = await self._status_list(reference[0])
                core.check_status(claims, status_list, reference[1])
            else:
                await self._ensure_revocations()
                core.check_revoked(claims)
        core.check_expectations(
            claims,
            self._clock(),
            type=type,
            channel=channel,
            max_age=max_age,
            identifier=identifier,
        )
        return claims

    async def refresh(self) -> None:
        """See :meth:`Verifier.refresh`."""
        if not self._core.static:
            async with self._jwks_lock:
                await self._fetch_jwks()
        if self._core.check_revocation:
            async with self._revocation_lock:
                for uri in list(self._core.status_lists):
                    await self._fetch_status_list(uri)
                if self._core.revocation_fetched_at is not None:
                    await self._fetch_revocations()

    async def aclose(self) -> None:
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ internals

    async def _get(self, url: str, params: Mapping[str, str], exc_type: type[Exception]) -> Any:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self._timeout)
        try:
            response = await self._http.get(_with_params(url, params), headers=_ACCEPT_JSON)
        except httpx.HTTPError as exc:
            raise _unavailable(exc_type, url, str(exc) or type(exc).__name__) from exc
        return _json_body(response, exc_type)

    async def _fetch_jwks(self) -> None:
        assert self._jwks_url is not None
        document = await self._get(self._jwks_url, {}, JWKSUnavailable)
        self._core.store_jwks(document, self._clock())

    async def _key(self, kid: str, purpose: str) -> _Key:
        core = self._core
        if core.jwks_due(self._clock()):
            async with self._jwks_lock:
                if core.jwks_due(self._clock()):
                    await self._fetch_jwks()
        key = core.lookup(kid, purpose)
        if key is None and core.may_refetch_jwks(self._clock()):
            async with self._jwks_lock:
                key = core.lookup(kid, purpose)
                if key is None and core.may_refetch_jwks(self._clock()):
                    core.jwks_refetched_at = self._clock()
                    await self._fetch_jwks()
                    key = core.lookup(kid, purpose)
        if key is None:
            raise UnknownKey(f"no key with kid {kid!r} in the issuer's JWKS")
        return key

    async def _status_list(self, uri: str) -> _StatusList:
        cached = self._core.cached_status_list(uri, self._clock())
        if cached is not None:
            return cached
        async with self._revocation_lock:
            cached = self._core.cached_status_list(uri, self._clock())
            return cached if cached is not None else await self._fetch_status_list(uri)

    async def _fetch_status_list(self, uri: str) -> _StatusList:
        core = self._core
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self._timeout)
        try:
            async with self._http.stream("GET", uri, headers=STATUS_LIST_ACCEPT) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_STATUS_LIST_BYTES:  # read no further than the cap
                        raise _unavailable(RevocationListUnavailable, uri, "list too large")
                status_code = response.status_code
        except httpx.HTTPError as exc:
            why = str(exc) or type(exc).__name__
            raise _unavailable(RevocationListUnavailable, uri, why) from exc
        token = _status_list_text(status_code, bytes(body), uri)
        alg, kid = core.status_list_header(uri, token)
        try:
            key = await self._key(kid, PURPOSE_STATUS_LIST)
        except (ProofInvalid, JWKSUnavailable) as exc:
            raise RevocationListUnavailable(f"status list key: {exc}") from exc
        return core.read_status_list(uri, token, alg, kid, key, self._clock())

    async def _ensure_revocations(self) -> None:
        if not self._core.revocation_due(self._clock()):
            return
        async with self._revocation_lock:
            if self._core.revocation_due(self._clock()):
                await self._fetch_revocations()

    async def _fetch_revocations(self) -> None:
        assert self._revocation_url is not None
        core = self._core
        fetch = core.start_revocation_fetch()
        while not fetch.done:
            body = await self._get(self._revocation_url, fetch.params(), RevocationListUnavailable)
            signature, alg, kid = core.revocation_page_header(body)
            try:
                key = await self._key(kid, PURPOSE_PROOF)
            except (ProofInvalid, JWKSUnavailable) as exc:
                raise RevocationListUnavailable(f"revocation list key: {exc}") from exc
            core.read_revocation_page(fetch, body, signature, alg, key, self._clock())
        core.commit_revocation_fetch(fetch, self._clock())
