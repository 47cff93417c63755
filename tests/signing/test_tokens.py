"""Tests for vouch_server.signing.tokens: minting proof tokens and verifying them with reasons."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

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


@contextlib.contextmanager
def _frozen_pyjwt_clock(now: float) -> Iterator[None]:
    """PyJWT reads ``datetime.now`` in jwt.api_jwt; the reference it is compared with gets the
    same instant as the server's injected clock."""

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return datetime.fromtimestamp(now, tz)

    original = jwt.api_jwt.datetime  # type: ignore[attr-defined]
    jwt.api_jwt.datetime = Frozen  # type: ignore[attr-defined]
    try:
        yield
    finally:
        jwt.api_jwt.datetime = original  # type: ignore[attr-defined]


async def _sign_raw(runtime: Runtime, header: dict[str, Any], payload: bytes) -> str:
    """A token signed by the active (RS256) key over exactly these header and payload bytes, for
    shapes PyJWT's encoder would not write."""
    async with runtime.db.session() as session:
        active = await runtime.keyring.active(session)
    assert active.alg == "RS256"
    signing_input = f"{_b64json({'kid': active.kid, **header})}.{_b64(payload)}"
    signature = active.private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


async def _verify_at(runtime: Runtime, token: str, now: float) -> str | None:
    """The reason the token fails at ``now``, or None when it verifies."""
    try:
        async with runtime.db.session() as session:
            await runtime.tokens.verify(session, token, now=datetime.fromtimestamp(now, UTC))
    except TokenInvalid as exc:
        return exc.reason
    return None


class TestVerifyHeader:
    """The header checks PyJWT's decode made and the fast path has to make itself."""

    @pytest.mark.parametrize(
        "extra",
        [{"crit": ["exp"]}, {"crit": ["b64"], "b64": False}, {"b64": True}, {"crit": []}],
        ids=["crit", "b64-false", "b64-true", "empty-crit"],
    )
    async def test_extensions_are_refused_though_the_signature_is_good(
        self, runtime: Runtime, extra: dict[str, Any]
    ) -> None:
        token = await _sign_raw(
            runtime, {"alg": "RS256", "typ": "JWT", **extra}, json.dumps(_claims(runtime)).encode()
        )
        assert await _reason(runtime, token) == "malformed"
        plain = await _sign_raw(
            runtime, {"alg": "RS256", "typ": "JWT"}, json.dumps(_claims(runtime)).encode()
        )
        assert await _verify(runtime, plain)  # the same token without the extension verifies

    async def test_a_kid_that_is_not_a_string_is_malformed(self, runtime: Runtime) -> None:
        async with runtime.db.session() as session:
            active = await runtime.keyring.active(session)
        claims = json.dumps(_claims(runtime)).encode()
        signing_input = f"{_b64json({'alg': 'RS256', 'kid': 7})}.{_b64(claims)}"
        signature = active.private_key.sign(
            signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        assert await _reason(runtime, f"{signing_input}.{_b64(signature)}") == "malformed"

    @pytest.mark.parametrize(
        "mangle",
        [
            lambda t: t + "=",  # padding on the signature
            lambda t: t.replace(".", "=.", 1),  # padding on the header
            lambda t: t.replace(".", ".+", 1),  # the standard alphabet
            lambda t: " " + t,
            lambda t: t + "\n",
            lambda t: t + ".",  # four segments
        ],
        ids=["pad-sig", "pad-header", "plus", "space", "newline", "four"],
    )
    async def test_not_strict_base64url_is_malformed(self, runtime: Runtime, mangle: Any) -> None:
        token = mangle((await _mint(runtime)).token)
        public = serialization.load_pem_public_key(await _public_pem(runtime))
        with pytest.raises(jwt.PyJWTError):  # PyJWT refuses each of them too
            jwt.decode(token, public, algorithms=["RS256"], options={"verify_aud": False})
        assert await _reason(runtime, token) == "malformed"

    async def test_a_respelt_signature_is_refused(self, runtime: Runtime) -> None:
        """RS256 signatures are 256 bytes: 342 characters with 2 unused low bits in the last;
        setting one spells the same bytes differently, which strict base64url refuses."""
        header, payload, signature = (await _mint(runtime)).token.split(".")
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        respelt = signature[:-1] + alphabet[alphabet.index(signature[-1]) | 1]
        assert respelt != signature
        assert await _reason(runtime, f"{header}.{payload}.{respelt}") == "malformed"


class TestVerifyClaims:
    """exp, nbf and iat against an injected clock, at their boundaries (leeway 0, as PyJWT's
    default was), and the types PyJWT insisted on."""

    NOW = 1_780_000_000

    def _payload(self, runtime: Runtime, **overrides: Any) -> bytes:
        claims = _claims(runtime, iat=self.NOW - 60, exp=self.NOW + 60)
        claims.update(overrides)
        return json.dumps(claims).encode()

    async def _token(self, runtime: Runtime, **overrides: Any) -> str:
        return await _sign_raw(
            runtime, {"alg": "RS256", "typ": "JWT"}, self._payload(runtime, **overrides)
        )

    async def test_exp_passes_at_its_second(self, runtime: Runtime) -> None:
        token = await self._token(runtime, exp=self.NOW)
        assert await _verify_at(runtime, token, self.NOW - 1) is None
        assert await _verify_at(runtime, token, self.NOW - 0.001) is None
        assert await _verify_at(runtime, token, self.NOW) == "expired"

    async def test_iat_in_the_future_is_refused(self, runtime: Runtime) -> None:
        token = await self._token(runtime, iat=self.NOW)
        assert await _verify_at(runtime, token, self.NOW) is None
        assert await _verify_at(runtime, token, self.NOW - 1) == "malformed"

    async def test_nbf_in_the_future_is_refused(self, runtime: Runtime) -> None:
        token = await self._token(runtime, nbf=self.NOW)
        assert await _verify_at(runtime, token, self.NOW) is None
        assert await _verify_at(runtime, token, self.NOW - 1) == "malformed"

    async def test_the_service_clock_is_used_without_now(self, runtime: Runtime) -> None:
        real_now = int(utcnow().timestamp())
        token = await self._token(runtime, iat=real_now - 5, exp=real_now - 1)
        assert await _reason(runtime, token) == "expired"

    @pytest.mark.parametrize("name", ["exp", "iat", "nbf"])
    @pytest.mark.parametrize("value", ["1780000060", True, [1], {"n": 1}], ids=repr)
    async def test_a_date_that_is_not_a_number_is_malformed(
        self, runtime: Runtime, name: str, value: Any
    ) -> None:
        token = await self._token(runtime, **{name: value})
        assert await _verify_at(runtime, token, self.NOW) == "malformed"

    @pytest.mark.parametrize("name", ["exp", "nbf", "iat"])
    @pytest.mark.parametrize("spelling", ["Infinity", "-Infinity", "NaN"])
    async def test_a_date_that_is_not_finite_is_malformed(
        self, runtime: Runtime, name: str, spelling: str
    ) -> None:
        payload = self._payload(runtime, **{name: "@"}).replace(b'"@"', spelling.encode())
        token = await _sign_raw(runtime, {"alg": "RS256", "typ": "JWT"}, payload)
        assert await _verify_at(runtime, token, self.NOW) == "malformed"

    @pytest.mark.parametrize(("name", "value"), [("sub", 5), ("jti", 5), ("jti", None)])
    async def test_sub_and_jti_must_be_strings(
        self, runtime: Runtime, name: str, value: Any
    ) -> None:
        payload = self._payload(runtime, **{name: "@"}).replace(b'"@"', json.dumps(value).encode())
        token = await _sign_raw(runtime, {"alg": "RS256", "typ": "JWT"}, payload)
        assert await _verify_at(runtime, token, self.NOW) == "malformed"

    @pytest.mark.parametrize("value", [5, ["https://vouch.test"], None])
    async def test_iss_must_be_ours_as_a_string(self, runtime: Runtime, value: Any) -> None:
        payload = self._payload(runtime, iss="@").replace(b'"@"', json.dumps(value).encode())
        token = await _sign_raw(runtime, {"alg": "RS256", "typ": "JWT"}, payload)
        expected = "malformed" if value is None else "issuer_mismatch"
        assert await _verify_at(runtime, token, self.NOW) == expected

    async def test_aud_is_not_checked(self, runtime: Runtime) -> None:
        token = await self._token(runtime, aud="https://someone.example")
        assert await _verify_at(runtime, token, self.NOW) is None

    @pytest.mark.parametrize(
        "overrides",
        [
            {},
            {"exp": NOW},
            {"exp": NOW + 1},
            {"iat": NOW + 1},
            {"nbf": NOW + 1},
            {"nbf": NOW},
            {"exp": 1.5e9},
            {"exp": True},
            {"sub": 5},
            {"jti": 5},
            {"iss": "https://other.example"},
            {"iss": 5},
            {"aud": "x"},
        ],
        ids=repr,
    )
    async def test_accepts_exactly_what_pyjwt_accepts(
        self, runtime: Runtime, overrides: dict[str, Any]
    ) -> None:
        """The same signed token and clock to PyJWT's decode, as the server called it before."""
        token = await self._token(runtime, **overrides)
        async with runtime.db.session() as session:
            public = (await runtime.keyring.active(session)).private_key.public_key()
        with _frozen_pyjwt_clock(self.NOW):
            try:
                jwt.decode(
                    token,
                    public,
                    algorithms=["RS256"],
                    issuer=runtime.settings.effective_issuer,
                    options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": False},
                )
                pyjwt_accepts = True
            except jwt.PyJWTError:
                pyjwt_accepts = False
        assert (await _verify_at(runtime, token, self.NOW) is None) is pyjwt_accepts


class TestEpochToDatetime:
    def test_is_aware_utc(self) -> None:
        assert epoch_to_datetime(1_770_199_200) == datetime(2026, 2, 4, 10, tzinfo=UTC)
