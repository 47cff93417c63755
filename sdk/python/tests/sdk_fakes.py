"""Test helpers: real keys, real PyJWT tokens, and a fake vouch server for httpx.MockTransport."""

from __future__ import annotations

import hashlib
import json
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from vouch_client._verifier import revocation_entries_digest

ISSUER = "https://vouch.example.com"
NOW = 1_770_000_000.0  # 2026-02-02T02:40:00Z
JWKS_URL = f"{ISSUER}/.well-known/jwks.json"
REVOKED_PATH = "/api/v1/proofs/revoked"
STATUS_PATH = "/statuslists/live/0"
STATUS_URI = f"{ISSUER}{STATUS_PATH}"
STATUS_SLOTS = 4096


@dataclass
class SigningKey:
    kid: str
    alg: str
    private: Any
    public_jwk: dict[str, Any]

    def sign(self, claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
        return jwt.encode(
            claims, self.private, algorithm=self.alg, headers={"kid": self.kid, **(headers or {})}
        )


def _jwk(public: Any, alg: str, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any]
    if alg == "RS256":
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif alg == "ES256":
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return jwk


def make_key(alg: str, kid: str) -> SigningKey:
    private: Any
    if alg == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    else:
        private = ed25519.Ed25519PrivateKey.generate()
    return SigningKey(kid, alg, private, _jwk(private.public_key(), alg, kid))


_KEY_CACHE: dict[str, SigningKey] = {}


def cached_key(alg: str, kid: str) -> SigningKey:
    if kid not in _KEY_CACHE:
        _KEY_CACHE[kid] = make_key(alg, kid)
    return _KEY_CACHE[kid]


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def proof_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "65a1b2c3d4e5f60718293a4b",
        "iat": int(NOW) - 10,
        "exp": int(NOW) + 3600,
        "jti": str(uuid.uuid4()),
        "proof_schema_version": "1.0",
        "type": "email",
        "channel": "email_otp",
        "identifier_hash": sha256_hex("alice@example.com"),
        "verified_at": iso(NOW - 10),
        "user_id": "user_123",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeVouch:
    """Serves the JWKS and the revocation list like the vouch server does."""

    clock: Clock
    keys: list[SigningKey]
    list_key: SigningKey
    revoked: list[dict[str, str]] = field(default_factory=list)
    page_size: int = 100
    sign_lists: bool = True
    list_signer: SigningKey | None = None  # sign with another key (forgery)
    list_claim_overrides: dict[str, Any] = field(default_factory=dict)
    json_revoked_override: list[dict[str, str]] | None = None
    fail_revocations: bool = False
    fail_jwks: bool = False
    requests: list[httpx.Request] = field(default_factory=list)
    # Token Status List: slot -> status (0 valid, 1 revoked, 2 suspended)
    statuses: dict[int, int] = field(default_factory=dict)
    status_key: SigningKey | None = None
    status_claim_overrides: dict[str, Any] = field(default_factory=dict)
    status_header_overrides: dict[str, Any] = field(default_factory=dict)
    sign_entries_inline: bool = False  # the pre-digest page format
    tombstones: list[dict[str, Any]] = field(default_factory=list)

    def revoke(self, proof_id: str, at: float, reason: str = "fraud") -> None:
        self.revoked.append({"proof_id": proof_id, "revoked_at": iso(at), "reason": reason})

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.url.path == path)

    @property
    def jwks_requests(self) -> int:
        return self.count("/.well-known/jwks.json")

    @property
    def revocation_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == REVOKED_PATH]

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/.well-known/jwks.json":
            if self.fail_jwks:
                return httpx.Response(503, json={"error": {"code": "unavailable", "message": "x"}})
            document: dict[str, Any] = {"keys": [k.public_jwk for k in self.keys]}
            if self.tombstones:
                document["proof_tombstones"] = self.tombstones
            return httpx.Response(200, json=document)
        if request.url.path == STATUS_PATH:
            return self._status_list()
        if request.url.path == REVOKED_PATH:
            if self.fail_revocations:
                raise httpx.ConnectError("connection refused", request=request)
            return self._revocations(request)
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "no"}})

    def _revocations(self, request: httpx.Request) -> httpx.Response:
        since = request.url.params.get("since")
        cursor = request.url.params.get("cursor")
        entries = self.revoked
        if since is not None:
            start = datetime.fromisoformat(since)
            entries = [e for e in entries if datetime.fromisoformat(e["revoked_at"]) >= start]
        offset = int(cursor) if cursor else 0
        page = entries[offset : offset + self.page_size]
        has_more = offset + self.page_size < len(entries)
        next_cursor = str(offset + self.page_size) if has_more else None
        iat = int(self.clock.now)
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "iat": iat,
            "exp": iat + 300,
            "type": "revocation_list",
            "count": len(page),
            "since": since,
            "cursor": cursor,
        }
        if self.sign_entries_inline:
            claims["revoked"] = page
        else:
            claims["revoked_sha256"] = revocation_entries_digest(page)
        claims.update(self.list_claim_overrides)
        signer = self.list_signer or self.list_key
        body: dict[str, Any] = {
            "revoked": self.json_revoked_override
            if self.json_revoked_override is not None
            else page,
            "issued_at": iso(iat),
            "count": len(page),
            "kid": signer.kid,
            "has_more": has_more,
            "next_cursor": next_cursor,
        }
        if self.sign_lists:
            body["signature"] = signer.sign(claims)
        return httpx.Response(
            200, content=json.dumps(body), headers={"content-type": "application/json"}
        )

    def _status_list(self) -> httpx.Response:
        packed = bytearray(STATUS_SLOTS // 4)
        for idx, value in self.statuses.items():
            packed[idx // 4] |= value << (2 * (idx % 4))
        iat = int(self.clock.now)
        claims: dict[str, Any] = {
            "sub": STATUS_URI,
            "iat": iat,
            "exp": iat + 3600,
            "ttl": 60,
            "status_list": {
                "bits": 2,
                "lst": base64url(zlib.compress(bytes(packed), 9)),
            },
        }
        claims.update(self.status_claim_overrides)
        signer = self.status_key or self.list_key
        token = signer.sign(claims, {"typ": "statuslist+jwt", **self.status_header_overrides})
        return httpx.Response(
            200, content=token, headers={"content-type": "application/statuslist+jwt"}
        )


def base64url(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def status_claim(idx: int, uri: str = STATUS_URI) -> dict[str, Any]:
    return {"status_list": {"idx": idx, "uri": uri}}


def with_policy(key: SigningKey, purpose: str, **window: int) -> SigningKey:
    """``key`` as a lifecycle-aware JWKS publishes it (purpose, window, lifetime)."""
    jwk = {
        **key.public_jwk,
        "proof_purpose": purpose,
        "not_before": window.get("not_before", int(NOW) - 86400),
        "not_after": window.get("not_after", int(NOW) + 86400),
        "max_token_lifetime": window.get("max_token_lifetime", 400 * 86400),
    }
    return SigningKey(key.kid, key.alg, key.private, jwk)
