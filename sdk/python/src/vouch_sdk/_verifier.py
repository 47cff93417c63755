"""Offline verification of vouch proof tokens.

The checks follow the integrator checklist, in order:

1. the signature verifies against the issuer's JWKS (the ``alg`` must be one of
   the accepted asymmetric algorithms and match the key's type),
2. ``exp`` has not passed,
3. ``iss`` is the expected issuer,
4. the proof is not in the issuer's signed revocation list,
5. optionally ``type`` / ``channel`` are the expected ones,
6. optionally ``iat`` is recent enough (``max_age``) and ``identifier_hash`` matches.

All parsing and checking lives in :class:`_Core`, which does no I/O; the sync
and async front-ends only decide when to fetch and perform the HTTP requests.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

import httpx
import jwt

from ._errors import (
    ClaimMismatch,
    IdentifierMismatch,
    InvalidSignature,
    IssuerMismatch,
    JWKSUnavailable,
    MalformedProof,
    ProofExpired,
    ProofInvalid,
    ProofRevoked,
    ProofTooOld,
    RevocationListUnavailable,
    UnknownKey,
)
from ._types import ProofClaims, RevokedEntry

if TYPE_CHECKING:
    from types import TracebackType

    from jwt.types import Options

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

# Signature only: every time-based and claim check is done here, against the
# injectable clock, so PyJWT's own wall-clock checks are switched off.
_HEADER_CACHE_SIZE = 256

_DECODE_OPTIONS: Options = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_iss": False,
    "verify_aud": False,
    "verify_sub": False,
    "verify_jti": False,
    "require": [],
}

REVOCATION_OVERLAP_SECONDS = 60
MAX_REVOCATION_PAGES = 10_000


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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
) -> tuple[str, str | None, str | None]:
    base = base_url.rstrip("/") if base_url else None
    if issuer is None:
        issuer = base
    if not issuer:
        raise ValueError("pass base_url or issuer: the expected `iss` cannot be guessed")
    if jwks is None and jwks_url is None:
        if base is None:
            raise ValueError("pass base_url, jwks_url or a static jwks")
        jwks_url = f"{base}/.well-known/jwks.json"
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

        self.static = jwks is not None
        self._headers: dict[str, tuple[str, str]] = {}
        self.keys: dict[str, jwt.PyJWK] = {}
        self.jwks_fetched_at: float | None = None
        self.jwks_refetched_at: float | None = None
        if jwks is not None:
            self.keys = self.parse_jwks(jwks)

        self.revoked: dict[str, RevokedEntry] = {}
        self.revocation_fetched_at: float | None = None
        self.revocation_iat: int | None = None

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
            keys = self.parse_jwks(document)
        except ValueError as exc:
            raise JWKSUnavailable(f"invalid JWKS: {exc}") from exc
        self.keys = keys
        self.jwks_fetched_at = now

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
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
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

    def verify_signature(self, token: str, alg: str, key: jwt.PyJWK) -> dict[str, Any]:
        if key.algorithm_name != alg:
            raise InvalidSignature(
                f"token alg {alg!r} does not match the key's {key.algorithm_name!r}"
            )
        try:
            # The prepared cryptography key, not the PyJWK wrapper: same check, less work per call.
            return jwt.decode(token, key=key.key, algorithms=[alg], options=_DECODE_OPTIONS)
        except (jwt.InvalidSignatureError, jwt.InvalidAlgorithmError, jwt.InvalidKeyError) as exc:
            raise InvalidSignature(f"signature verification failed: {exc}") from exc
        except jwt.PyJWTError as exc:
            raise MalformedProof(f"undecodable token: {exc}") from exc

    def check_claims(self, payload: dict[str, Any], now: float) -> ProofClaims:
        """Shape, ``exp`` and ``iss`` (checklist steps 2 and 3)."""
        for name in ("iss", "sub", "type"):
            value = payload.get(name)
            if not isinstance(value, str) or not value:
                raise MalformedProof(f"claim {name!r} is missing or not a string")
        for name in ("iat", "exp"):
            if not _is_number(payload.get(name)):
                raise MalformedProof(f"claim {name!r} is missing or not a number")
        optional: dict[str, str | None] = {}
        for name in (
            "jti",
            "proof_schema_version",
            "channel",
            "identifier_hash",
            "verified_at",
            "user_id",
        ):
            value = payload.get(name)
            if value is not None and not isinstance(value, str):
                raise MalformedProof(f"claim {name!r} is not a string")
            optional[name] = value

        if payload["exp"] <= now - self.leeway:
            raise ProofExpired("the proof has expired")
        if payload["iss"] != self.issuer:
            raise IssuerMismatch(f"issuer {payload['iss']!r} is not {self.issuer!r}")
        return ProofClaims(
            iss=payload["iss"],
            sub=payload["sub"],
            iat=int(payload["iat"]),
            exp=int(payload["exp"]),
            type=payload["type"],
            jti=optional["jti"],
            proof_schema_version=optional["proof_schema_version"],
            channel=optional["channel"],
            identifier_hash=optional["identifier_hash"],
            verified_at=optional["verified_at"],
            user_id=optional["user_id"],
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
        key: jwt.PyJWK,
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
        timeout: float = 10.0,
        http_client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        issuer, self._jwks_url, self._revocation_url = _resolve_urls(
            base_url, issuer, jwks_url, revocation_url, jwks, check_revocation
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
        payload = core.verify_signature(token, alg, self._key(kid))
        claims = core.check_claims(payload, self._clock())
        if core.check_revocation:
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
        """Fetch the JWKS and the revocation list now (e.g. at start-up)."""
        if not self._core.static:
            with self._jwks_lock:
                self._fetch_jwks()
        if self._core.check_revocation:
            with self._revocation_lock:
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

    def _key(self, kid: str) -> jwt.PyJWK:
        core = self._core
        if core.jwks_due(self._clock()):
            with self._jwks_lock:
                if core.jwks_due(self._clock()):
                    self._fetch_jwks()
        key = core.keys.get(kid)
        if key is None and core.may_refetch_jwks(self._clock()):
            with self._jwks_lock:
                key = core.keys.get(kid)
                if key is None and core.may_refetch_jwks(self._clock()):
                    core.jwks_refetched_at = self._clock()
                    self._fetch_jwks()
                    key = core.keys.get(kid)
        if key is None:
            raise UnknownKey(f"no key with kid {kid!r} in the issuer's JWKS")
        return key

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
                key = self._key(kid)
            except (UnknownKey, JWKSUnavailable) as exc:
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
        timeout: float = 10.0,
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        issuer, self._jwks_url, self._revocation_url = _resolve_urls(
            base_url, issuer, jwks_url, revocation_url, jwks, check_revocation
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
        payload = core.verify_signature(token, alg, await self._key(kid))
        claims = core.check_claims(payload, self._clock())
        if core.check_revocation:
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
        """Fetch the JWKS and the revocation list now (e.g. at start-up)."""
        if not self._core.static:
            async with self._jwks_lock:
                await self._fetch_jwks()
        if self._core.check_revocation:
            async with self._revocation_lock:
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

    async def _key(self, kid: str) -> jwt.PyJWK:
        core = self._core
        if core.jwks_due(self._clock()):
            async with self._jwks_lock:
                if core.jwks_due(self._clock()):
                    await self._fetch_jwks()
        key = core.keys.get(kid)
        if key is None and core.may_refetch_jwks(self._clock()):
            async with self._jwks_lock:
                key = core.keys.get(kid)
                if key is None and core.may_refetch_jwks(self._clock()):
                    core.jwks_refetched_at = self._clock()
                    await self._fetch_jwks()
                    key = core.keys.get(kid)
        if key is None:
            raise UnknownKey(f"no key with kid {kid!r} in the issuer's JWKS")
        return key

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
                key = await self._key(kid)
            except (UnknownKey, JWKSUnavailable) as exc:
                raise RevocationListUnavailable(f"revocation list key: {exc}") from exc
            core.read_revocation_page(fetch, body, signature, alg, key, self._clock())
        core.commit_revocation_fetch(fetch, self._clock())
