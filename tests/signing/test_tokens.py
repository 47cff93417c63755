"""Tests for vouch_server.signing.tokens: minting proof tokens and verifying them with reasons."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from vouch_server.kit.clock import utcnow
from vouch_server.runtime import Runtime
from vouch_server.signing.tokens import (
    ALLOWED_ALGORITHMS,
    PROOF_SCHEMA_VERSION,
    MintedToken,
    TokenInvalid,
    TokenService,
    epoch_to_datetime,
)

HOUR = timedelta(hours=1)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64json(value: Any) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _b64decode_json(segment: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


async def _mint(
    runtime: Runtime,
    *,
    lifetime: timedelta = HOUR,
    claims: dict[str, Any] | None = None,
    now: datetime | None = None,
    tokens: TokenService | None = None,
    environment: str = "live",
) -> MintedToken:
    service = tokens or runtime.tokens
    async with runtime.db.session() as session:
        return await service.mint(
            session,
            environment=environment,
            sub="65bf5a20aaaaaaaaaaaaaaaa",
            type="email",
            lifetime=lifetime,
            claims=claims if claims is not None else {"channel": "email"},
            now=now,
        )


async def _verify(runtime: Runtime, token: str, tokens: TokenService | None = None) -> Any:
    service = tokens or runtime.tokens
    async with runtime.db.session() as session:
        return (await service.verify(session, token)).claims


async def _reason(runtime: Runtime, token: str, tokens: TokenService | None = None) -> str:
    with pytest.raises(TokenInvalid) as excinfo:
        await _verify(runtime, token, tokens)
    assert excinfo.value.message
    return excinfo.value.reason


async def _public_pem(runtime: Runtime) -> bytes:
    async with runtime.db.session() as session:
        active = await runtime.keyring.active(session)
    return active.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _claims(runtime: Runtime, **overrides: Any) -> dict[str, Any]:
    now = int(utcnow().timestamp())
    values = {
        "iss": runtime.settings.effective_issuer,
        "sub": "65bf5a20aaaaaaaaaaaaaaaa",
        "iat": now,
        "exp": now + 3600,
        "jti": "0" * 32,
        "proof_schema_version": "1.0",
        "type": "email",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


async def _sign_with_active_key(runtime: Runtime, claims: dict[str, Any]) -> str:
    async with runtime.db.session() as session:
        active = await runtime.keyring.active(session)
    return jwt.encode(
        claims, active.private_key, algorithm=active.alg, headers={"kid": active.kid, "typ": "JWT"}
    )


class TestMint:
    async def test_header_is_alg_typ_kid(self, runtime: Runtime) -> None:
        minted = await _mint(runtime)
        async with runtime.db.session() as session:
            kid = (await runtime.keyring.active(session)).kid
        header = _b64decode_json(minted.token.split(".")[0])
        assert header == {"alg": "RS256", "typ": "JWT", "kid": kid}
        assert minted.kid == kid

    async def test_claims_carry_the_common_set_and_the_extras(self, runtime: Runtime) -> None:
        minted = await _mint(runtime, claims={"channel": "email", "identifier_hash": "ab" * 32})
        claims = _b64decode_json(minted.token.split(".")[1])
        assert claims == {
            "iss": "https://vouch.test",
            "sub": "65bf5a20aaaaaaaaaaaaaaaa",
            "iat": int(minted.issued_at.timestamp()),
            "exp": int(minted.expires_at.timestamp()),
            "jti": minted.jti,
            "proof_schema_version": "1.0",
            "type": "email",
            "channel": "email",
            "identifier_hash": "ab" * 32,
            "status": {
                "status_list": {
                    "idx": minted.status_idx,
                    "uri": "https://vouch.test/statuslists/live/0",
                }
            },
        }
        assert PROOF_SCHEMA_VERSION == "1.0"

    async def test_every_token_gets_its_own_status_slot(self, runtime: Runtime) -> None:
        slots = [(await _mint(runtime)).status_idx for _ in range(5)]
        slots.append((await _mint(runtime, environment="test")).status_idx)
        assert len(set(slots)) == len(slots)
        assert all(isinstance(slot, int) and slot >= 0 for slot in slots)

    async def test_a_test_token_says_so_and_points_at_the_test_list(self, runtime: Runtime) -> None:
        minted = await _mint(runtime, environment="test")
        claims = _b64decode_json(minted.token.split(".")[1])
        assert claims["test"] is True
        assert claims["status"]["status_list"]["uri"] == "https://vouch.test/statuslists/test/0"
        live = _b64decode_json((await _mint(runtime)).token.split(".")[1])
        assert "test" not in live

    async def test_jti_is_128_random_bits(self, runtime: Runtime) -> None:
        first = await _mint(runtime)
        second = await _mint(runtime)
        assert re.fullmatch(r"[0-9a-f]{32}", first.jti)
        assert first.jti != second.jti

    async def test_exp_is_iat_plus_lifetime(self, runtime: Runtime) -> None:
        minted = await _mint(runtime, lifetime=timedelta(days=30))
        claims = _b64decode_json(minted.token.split(".")[1])
        assert claims["exp"] - claims["iat"] == 30 * 86400
        assert minted.expires_at - minted.issued_at == timedelta(days=30)

    async def test_issued_at_is_now_in_whole_seconds(self, runtime: Runtime) -> None:
        before = utcnow().replace(microsecond=0)
        minted = await _mint(runtime)
        assert minted.issued_at.microsecond == 0
        assert before <= minted.issued_at <= utcnow()

    async def test_now_can_be_given(self, runtime: Runtime) -> None:
        now = datetime(2026, 2, 4, 10, 0, 0, 999999, tzinfo=UTC)
        minted = await _mint(runtime, now=now, lifetime=HOUR)
        claims = _b64decode_json(minted.token.split(".")[1])
        assert claims["iat"] == int(datetime(2026, 2, 4, 10, tzinfo=UTC).timestamp())
        assert minted.issued_at == datetime(2026, 2, 4, 10, tzinfo=UTC)
        assert minted.expires_at == datetime(2026, 2, 4, 11, tzinfo=UTC)

    async def test_issuer_setting_wins_over_public_url(
        self, runtime: Runtime, settings_factory: Any
    ) -> None:
        service = TokenService(settings_factory(issuer="https://issuer.example"), runtime.keyring)
        minted = await _mint(runtime, tokens=service)
        assert _b64decode_json(minted.token.split(".")[1])["iss"] == "https://issuer.example"

    async def test_minted_tokens_verify(self, runtime: Runtime) -> None:
        minted = await _mint(runtime)
        claims = await _verify(runtime, minted.token)
        assert claims["jti"] == minted.jti
        assert claims["channel"] == "email"


class TestSignDocument:
    async def test_signs_claims_with_iss_iat_exp_and_the_active_kid(self, runtime: Runtime) -> None:
        async with runtime.db.session() as session:
            token, kid = await runtime.tokens.sign_document(
                session, {"type": "revocation_list", "count": 0}, timedelta(minutes=5)
            )
            active = await runtime.keyring.active(session)
        assert kid == active.kid
        assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT", "kid": kid}
        claims = jwt.decode(
            token,
            active.private_key.public_key(),
            algorithms=["RS256"],
            issuer="https://vouch.test",
        )
        assert claims["type"] == "revocation_list"
        assert claims["count"] == 0
        assert claims["exp"] - claims["iat"] == 300
        assert abs(claims["iat"] - utcnow().timestamp()) < 5


class TestVerify:
    async def test_returns_the_claims(self, runtime: Runtime) -> None:
        minted = await _mint(runtime)
        claims = await _verify(runtime, minted.token)
        assert claims["sub"] == "65bf5a20aaaaaaaaaaaaaaaa"
        assert claims["iss"] == "https://vouch.test"

    async def test_expired(self, runtime: Runtime) -> None:
        minted = await _mint(runtime, now=utcnow() - 2 * HOUR, lifetime=HOUR)
        assert await _reason(runtime, minted.token) == "expired"

    async def test_expired_by_one_second(self, runtime: Runtime) -> None:
        minted = await _mint(runtime, now=utcnow() - HOUR - timedelta(seconds=2), lifetime=HOUR)
        assert await _reason(runtime, minted.token) == "expired"

    async def test_foreign_key_with_the_same_kid(self, runtime: Runtime) -> None:
        minted = await _mint(runtime)
        foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        claims = _b64decode_json(minted.token.split(".")[1])
        forged = jwt.encode(
            claims, foreign, algorithm="RS256", headers={"kid": minted.kid, "typ": "JWT"}
        )
        assert await _reason(runtime, forged) == "invalid_signature"

    async def test_tampered_payload(self, runtime: Runtime) -> None:
        minted = await _mint(runtime)
        header, payload, signature = minted.token.split(".")
        claims = _b64decode_json(payload)
        claims["sub"] = "65bf5a20bbbbbbbbbbbbbbbb"
        tampered = ".".join([header, _b64json(claims), signature])
        assert await _reason(runtime, tampered) == "invalid_signature"

    async def test_tampered_signature(self, runtime: Runtime) -> None:
        minted = await _mint(runtime)
        header, payload, signature = minted.token.split(".")
        flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
        assert await _reason(runtime, f"{header}.{payload}.{flipped}") == "invalid_signature"

    async def test_unknown_kid(self, runtime: Runtime) -> None:
        foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        token = jwt.encode(_claims(runtime), foreign, algorithm="RS256", headers={"kid": "nope"})
        assert await _reason(runtime, token) == "invalid_signature"

    async def test_missing_kid(self, runtime: Runtime) -> None:
        minted = await _mint(runtime)
        _, payload, signature = minted.token.split(".")
        header = _b64json({"alg": "RS256", "typ": "JWT"})
        assert await _reason(runtime, f"{header}.{payload}.{signature}") == "invalid_signature"

    @pytest.mark.parametrize(
        "token",
        [
            "garbage",
            "",
            "a.b.c",
            "a.b",
            "eyJhbGciOiJSUzI1NiJ9",
            _b64json([1, 2]) + "." + _b64json({}) + ".",  # header not an object
        ],
    )
    async def test_malformed(self, runtime: Runtime, token: str) -> None:
        assert await _reason(runtime, token) == "malformed"

    async def test_undecodable_payload_with_a_real_kid(self, runtime: Runtime) -> None:
        minted = await _mint(runtime)
        header, _, signature = minted.token.split(".")
        assert await _reason(runtime, f"{header}.!!!.{signature}") == "malformed"

    async def test_issuer_mismatch(self, runtime: Runtime, settings_factory: Any) -> None:
        other = TokenService(settings_factory(issuer="https://other.example"), runtime.keyring)
        minted = await _mint(runtime, tokens=other)
        assert await _reason(runtime, minted.token) == "issuer_mismatch"
        assert await _reason(runtime, (await _mint(runtime)).token, other) == "issuer_mismatch"

    @pytest.mark.parametrize("missing", ["exp", "iat", "iss", "sub"])
    async def test_a_required_claim_is_missing(self, runtime: Runtime, missing: str) -> None:
        token = await _sign_with_active_key(runtime, _claims(runtime, **{missing: None}))
        assert await _reason(runtime, token) == "malformed"

    async def test_hs256_with_the_public_key_as_secret_is_rejected(self, runtime: Runtime) -> None:
        minted = await _mint(runtime)
        pem = await _public_pem(runtime)
        signing_input = (
            _b64json({"alg": "HS256", "typ": "JWT", "kid": minted.kid})
            + "."
            + minted.token.split(".")[1]
        )
        mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
        forged = signing_input + "." + _b64(mac)
        assert await _reason(runtime, forged) == "invalid_signature"

    @pytest.mark.parametrize("alg", ["none", "None", "NONE"])
    async def test_alg_none_is_rejected(self, runtime: Runtime, alg: str) -> None:
        minted = await _mint(runtime)
        payload = minted.token.split(".")[1]
        header = _b64json({"alg": alg, "typ": "JWT", "kid": minted.kid})
        assert await _reason(runtime, f"{header}.{payload}.") == "invalid_signature"

    @pytest.mark.parametrize("alg", ["ES256", "EdDSA", "PS256", "RS512"])
    async def test_an_alg_other_than_the_keys_is_rejected(self, runtime: Runtime, alg: str) -> None:
        minted = await _mint(runtime)
        _, payload, signature = minted.token.split(".")
        header = _b64json({"alg": alg, "typ": "JWT", "kid": minted.kid})
        assert await _reason(runtime, f"{header}.{payload}.{signature}") == "invalid_signature"

    def test_only_asymmetric_algorithms_are_allowed(self) -> None:
        assert set(ALLOWED_ALGORITHMS) == {"RS256", "ES256", "EdDSA"}


class TestEpochToDatetime:
    def test_is_aware_utc(self) -> None:
        assert epoch_to_datetime(1_770_199_200) == datetime(2026, 2, 4, 10, tzinfo=UTC)
