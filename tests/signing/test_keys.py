"""Tests for vouch_server.signing.keys: sealed keys, the JWKS, rotation, withdrawal and retirement."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import func, select, update

from vouch_server.kit.clock import utcnow
from vouch_server.models import Proof, SigningKey
from vouch_server.proofs import service as proofs
from vouch_server.runtime import Runtime
from vouch_server.signing.keys import Keyring
from vouch_server.signing.tokens import MintedToken, TokenInvalid
from vouch_server.tenancy import service as tenancy

MakeRuntime = Callable[..., Awaitable[Runtime]]
KID_RE = re.compile(r"^vouch-(\d{4})-(\d{2})-([A-Za-z0-9_-]{10,})$")
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _thumbprint(jwk: dict[str, Any]) -> bytes:
    """RFC 7638, computed here rather than by the library under test."""
    required = {
        "RSA": ("e", "kty", "n"),
        "EC": ("crv", "kty", "x", "y"),
        "OKP": ("crv", "kty", "x"),
    }
    members = {k: jwk[k] for k in required[jwk["kty"]]}
    return hashlib.sha256(
        json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    ).digest()


def _kid_carries_thumbprint(kid: str, jwk: dict[str, Any]) -> bool:
    """The kid ends in a prefix of the key's thumbprint (hex or base64url rendering)."""
    match = KID_RE.match(kid)
    if match is None:
        return False
    suffix = match.group(3)
    digest = _thumbprint(jwk)
    renderings = (digest.hex(), base64.urlsafe_b64encode(digest).rstrip(b"=").decode())
    return any(r.startswith(suffix) for r in renderings)


@pytest.fixture
async def make_runtime(settings_factory: Any) -> AsyncIterator[MakeRuntime]:
    """A runtime with its own settings on the test's database, started as the app starts it."""
    built: list[Runtime] = []

    async def make(**overrides: Any) -> Runtime:
        rt = Runtime.build(settings_factory(**overrides))
        built.append(rt)
        async with rt.db.session() as session:
            await rt.keyring.ensure_key(session)
        return rt

    yield make
    for rt in built:
        await rt.close()


async def _document(
    rt: Runtime, *, force: bool = False, environment: str = "live"
) -> dict[str, Any]:
    async with rt.db.session() as session:
        if force:
            await rt.keyring.refresh(session, force=True)
        document: dict[str, Any] = json.loads(await rt.keyring.jwks_body(session, environment))
    return document


async def _jwks(
    rt: Runtime, *, force: bool = False, environment: str = "live", purpose: str = "proof"
) -> list[dict[str, Any]]:
    """The published keys of one environment and purpose, in document order."""
    document = await _document(rt, force=force, environment=environment)
    return [k for k in document["keys"] if k["proof_purpose"] == purpose]


async def _kids(rt: Runtime, *, force: bool = False) -> list[str]:
    return [k["kid"] for k in await _jwks(rt, force=force)]


async def _active_kid(rt: Runtime, *, force: bool = False) -> str:
    async with rt.db.session() as session:
        if force:
            await rt.keyring.refresh(session, force=True)
        return (await rt.keyring.active(session)).kid


async def _rotate(rt: Runtime, *, immediate: bool = False) -> str:
    async with rt.db.session() as session:
        return (await rt.keyring.rotate(session, immediate=immediate)).kid


async def _rows(rt: Runtime, environment: str = "live", purpose: str = "proof") -> list[SigningKey]:
    async with rt.db.session() as session:
        query = select(SigningKey).where(
            SigningKey.environment == environment, SigningKey.purpose == purpose
        )
        return list((await session.scalars(query)).all())


async def _mint_and_record(rt: Runtime, lifetime: timedelta = timedelta(hours=1)) -> MintedToken:
    """Mint a proof token and record it, as a family does when a verification completes."""
    async with rt.db.session() as session:
        project, _ = await tenancy.get_or_create_project(session, "acme")
        proof_id = "p" + str(await session.scalar(select(func.count()).select_from(Proof)))
        minted = await rt.tokens.mint(
            session, environment="live", sub=proof_id, type="email", lifetime=lifetime, claims={}
        )
        await proofs.record(
            session,
            proof_id=proof_id,
            project_id=project.id,
            environment="live",
            family="control",
            type="email",
            channel="email",
            minted=minted,
            verified_at=minted.issued_at,
        )
    return minted


async def _expire_tokens_of(rt: Runtime, kid: str) -> None:
    async with rt.db.session() as session:
        await session.execute(
            update(Proof).where(Proof.kid == kid).values(expires_at=utcnow() - timedelta(seconds=1))
        )


async def _start_signing_now(rt: Runtime, kid: str) -> None:
    """Let the publish lead pass: the key's ``not_before`` arrives."""
    async with rt.db.session() as session:
        await session.execute(
            update(SigningKey).where(SigningKey.kid == kid).values(not_before=utcnow())
        )


async def _verify(rt: Runtime, token: str) -> dict[str, Any]:
    async with rt.db.session() as session:
        return (await rt.tokens.verify(session, token)).claims


class TestEnsureKey:
    async def test_a_fresh_database_gets_one_key_on_startup(self, runtime: Runtime) -> None:
        rows = await _rows(runtime)
        assert len(rows) == 1
        assert rows[0].alg == "RS256"
        assert rows[0].withdrawn_at is None
        assert rows[0].not_before <= utcnow()

    async def test_a_second_startup_adds_no_key(self, runtime: Runtime) -> None:
        async with runtime.db.session() as session:
            await runtime.keyring.ensure_key(session)
        assert len(await _rows(runtime)) == 1

    async def test_creates_a_key_when_every_key_is_withdrawn(self, runtime: Runtime) -> None:
        (old,) = await _rows(runtime)
        async with runtime.db.session() as session:
            assert await runtime.keyring.withdraw(session, old.kid)
        async with runtime.db.session() as session:
            await runtime.keyring.ensure_key(session)
        rows = await _rows(runtime)
        assert len(rows) == 2
        assert await _active_kid(runtime, force=True) != old.kid

    async def test_kid_is_dated_and_carries_the_thumbprint(self, runtime: Runtime) -> None:
        (row,) = await _rows(runtime)
        assert row.kid.startswith(f"vouch-{row.created_at:%Y-%m}-")
        assert _kid_carries_thumbprint(row.kid, row.public_jwk)

    async def test_a_kid_of_another_key_does_not_carry_its_thumbprint(
        self, runtime: Runtime
    ) -> None:
        first = await _active_kid(runtime)
        async with runtime.db.session() as session:
            second = await runtime.keyring.rotate(session, immediate=True)
        assert not _kid_carries_thumbprint(first, second.public_jwk)


class TestJwks:
    async def test_lists_the_key_with_rs256_members(self, runtime: Runtime) -> None:
        (row,) = await _rows(runtime)
        (jwk,) = await _jwks(runtime)
        assert jwk["kid"] == row.kid
        assert jwk["kty"] == "RSA"
        assert jwk["alg"] == "RS256"
        assert jwk["use"] == "sig"
        assert jwk["e"] == "AQAB"
        modulus = int.from_bytes(_b64decode(jwk["n"]), "big")
        assert modulus.bit_length() == 2048

    async def test_publishes_no_private_members(self, runtime: Runtime) -> None:
        (jwk,) = await _jwks(runtime)
        assert not PRIVATE_JWK_MEMBERS & set(jwk)
        assert set(jwk) == {
            *("kty", "n", "e", "use", "alg", "kid"),
            *("proof_purpose", "not_before", "not_after", "max_token_lifetime"),
        }

    async def test_body_is_compact_json(self, runtime: Runtime) -> None:
        async with runtime.db.session() as session:
            body = await runtime.keyring.jwks_body(session)
        assert body.startswith(b'{"keys":[{')
        assert b" " not in body

    async def test_the_published_key_verifies_what_the_active_key_signs(
        self, runtime: Runtime
    ) -> None:
        (jwk,) = await _jwks(runtime)
        async with runtime.db.session() as session:
            active = await runtime.keyring.active(session)
        token = jwt.encode({"x": 1}, active.private_key, algorithm="RS256")
        public = jwt.PyJWK(jwk).key
        assert jwt.decode(token, public, algorithms=["RS256"]) == {"x": 1}


class TestSealedPrivateKey:
    async def test_private_key_is_not_stored_in_clear(self, runtime: Runtime) -> None:
        (row,) = await _rows(runtime)
        assert row.private_jwk_sealed.startswith("v1.")
        assert "PRIVATE KEY" not in row.private_jwk_sealed
        assert b"PRIVATE KEY" not in _b64decode(row.private_jwk_sealed[3:])

    async def test_another_master_secret_cannot_load_the_key(
        self, runtime: Runtime, settings_factory: Any
    ) -> None:
        stranger = Keyring(settings_factory(secret_key="another-master-secret"))
        async with runtime.db.session() as session:
            with pytest.raises(InvalidTag):
                await stranger.refresh(session, force=True)

    async def test_the_same_master_secret_loads_the_key_in_another_process(
        self, runtime: Runtime, settings_factory: Any
    ) -> None:
        peer = Keyring(settings_factory())
        async with runtime.db.session() as session:
            assert (await peer.active(session)).kid == (await runtime.keyring.active(session)).kid

    async def test_a_sealed_key_moved_to_another_row_does_not_open(self, runtime: Runtime) -> None:
        first = await _active_kid(runtime)
        second = await _rotate(runtime, immediate=True)
        async with runtime.db.session() as session:
            sealed = await session.scalar(
                select(SigningKey.private_jwk_sealed).where(SigningKey.kid == first)
            )
            await session.execute(
                update(SigningKey).where(SigningKey.kid == second).values(private_jwk_sealed=sealed)
            )
        fresh = Keyring(runtime.settings)
        async with runtime.db.session() as session:
            with pytest.raises(InvalidTag):
                await fresh.refresh(session, force=True)


class TestRotate:
    async def test_new_key_is_published_at_once_but_signs_after_the_lead(
        self, make_runtime: MakeRuntime
    ) -> None:
        rt = await make_runtime(key_publish_lead_seconds=3600)
        old = await _active_kid(rt)
        before = utcnow()
        async with rt.db.session() as session:
            row = await rt.keyring.rotate(session)
            new = row.kid
        assert timedelta(seconds=3599) <= row.not_before - before <= timedelta(seconds=3601)
        assert set(await _kids(rt)) == {old, new}
        assert await _active_kid(rt) == old
        assert (await _mint_and_record(rt)).kid == old

    async def test_the_signing_key_is_listed_first(self, make_runtime: MakeRuntime) -> None:
        rt = await make_runtime(key_publish_lead_seconds=3600)
        old = await _active_kid(rt)
        await _rotate(rt)
        assert (await _kids(rt))[0] == old

    async def test_new_key_signs_once_its_not_before_arrives(
        self, make_runtime: MakeRuntime
    ) -> None:
        rt = await make_runtime(key_publish_lead_seconds=3600)
        old = await _active_kid(rt)
        new = await _rotate(rt)
        await _mint_and_record(rt)  # the old key has a live token
        await _start_signing_now(rt, new)
        assert await _active_kid(rt, force=True) == new
        assert (await _kids(rt))[0] == new
        assert set(await _kids(rt)) == {old, new}

    async def test_immediate_rotation_signs_with_the_new_key_at_once(
        self, runtime: Runtime
    ) -> None:
        old = await _active_kid(runtime)
        new = await _rotate(runtime, immediate=True)
        assert new != old
        assert await _active_kid(runtime) == new
        minted = await _mint_and_record(runtime)
        assert minted.kid == new
        assert jwt.get_unverified_header(minted.token)["kid"] == new

    async def test_the_cache_hides_other_processes_changes_until_refreshed(
        self, runtime: Runtime, settings_factory: Any
    ) -> None:
        old = await _active_kid(runtime)
        peer = Keyring(settings_factory())
        async with runtime.db.session() as session:
            new = (await peer.rotate(session, immediate=True)).kid
        assert await _active_kid(runtime) == old  # within the 30 s cache
        assert await _active_kid(runtime, force=True) == new


class TestRetirement:
    async def test_old_key_stays_published_while_a_token_it_signed_is_unexpired(
        self, runtime: Runtime
    ) -> None:
        old = await _active_kid(runtime)
        minted = await _mint_and_record(runtime)
        new = await _rotate(runtime, immediate=True)
        assert set(await _kids(runtime, force=True)) == {old, new}
        claims = await _verify(runtime, minted.token)
        assert claims["sub"] == "p0"

    async def test_old_key_leaves_once_its_last_token_has_expired(self, runtime: Runtime) -> None:
        old = await _active_kid(runtime)
        minted = await _mint_and_record(runtime)
        await _mint_and_record(runtime, lifetime=timedelta(days=30))
        new = await _rotate(runtime, immediate=True)
        await _expire_tokens_of(runtime, old)
        assert await _kids(runtime, force=True) == [new]
        with pytest.raises(TokenInvalid) as excinfo:
            await _verify(runtime, minted.token)
        assert excinfo.value.reason == "invalid_signature"

    async def test_the_latest_expiry_counts(self, runtime: Runtime) -> None:
        old = await _active_kid(runtime)
        await _mint_and_record(runtime)
        await _mint_and_record(runtime, lifetime=timedelta(days=30))
        new = await _rotate(runtime, immediate=True)
        async with runtime.db.session() as session:
            first = await session.get(Proof, "p0")
            assert first is not None
            first.expires_at = utcnow() - timedelta(seconds=1)
        assert set(await _kids(runtime, force=True)) == {old, new}

    async def test_old_key_without_tokens_leaves_when_the_successor_signs(
        self, runtime: Runtime
    ) -> None:
        await _active_kid(runtime)
        new = await _rotate(runtime, immediate=True)
        assert await _kids(runtime) == [new]

    async def test_describe_names_every_role(self, make_runtime: MakeRuntime) -> None:
        rt = await make_runtime(key_publish_lead_seconds=3600)
        retired = await _active_kid(rt)
        published = await _rotate(rt, immediate=True)
        await _mint_and_record(rt)
        withdrawn = await _rotate(rt, immediate=True)
        await _mint_and_record(rt)
        signing = await _rotate(rt, immediate=True)
        async with rt.db.session() as session:
            await rt.keyring.withdraw(session, withdrawn)
        upcoming = await _rotate(rt)
        async with rt.db.session() as session:
            described = await rt.keyring.describe(session)
        described = [d for d in described if (d["environment"], d["purpose"]) == ("live", "proof")]
        roles = {d["kid"]: d["role"] for d in described}
        assert roles == {
            retired: "retired",
            published: "retired (published)",
            signing: "signing",
            withdrawn: "withdrawn",
            upcoming: "next",
        }
        last = {d["kid"]: d["last_token_expires_at"] for d in described}
        assert isinstance(last[published], datetime)
        assert last[retired] is None


class TestWithdraw:
    async def test_removes_a_key_from_the_jwks_at_once(self, runtime: Runtime) -> None:
        old = await _active_kid(runtime)
        minted = await _mint_and_record(runtime)  # would otherwise keep it published
        new = await _rotate(runtime, immediate=True)
        assert set(await _kids(runtime)) == {old, new}
        async with runtime.db.session() as session:
            assert await runtime.keyring.withdraw(session, old)
        assert await _kids(runtime) == [new]
        with pytest.raises(TokenInvalid) as excinfo:
            await _verify(runtime, minted.token)
        assert excinfo.value.reason == "invalid_signature"

    async def test_withdrawn_signing_key_stops_signing(self, runtime: Runtime) -> None:
        old = await _active_kid(runtime)
        new = await _rotate(runtime, immediate=True)
        async with runtime.db.session() as session:
            assert await runtime.keyring.withdraw(session, new)
        # The predecessor's window ended where the withdrawn key's began and is never widened
        # again, so a fresh key takes over rather than the old one coming back.
        fresh = await _active_kid(runtime)
        assert fresh not in {old, new}
        assert await _kids(runtime) == [fresh]
        (tombstone,) = (await _document(runtime))["proof_tombstones"]
        assert tombstone["kid"] == new

    async def test_withdrawing_an_upcoming_key_unpublishes_it(
        self, make_runtime: MakeRuntime
    ) -> None:
        rt = await make_runtime(key_publish_lead_seconds=3600)
        old = await _active_kid(rt)
        new = await _rotate(rt)
        async with rt.db.session() as session:
            assert await rt.keyring.withdraw(session, new)
        await _start_signing_now(rt, new)
        kids = await _kids(rt, force=True)
        assert new not in kids
        assert kids[0] == old
        assert await _active_kid(rt) == old
        # The old key's window now ends within the publish lead, so its successor is already
        # published, due to sign where the old window ends.
        (old_jwk, successor) = await _jwks(rt)
        assert successor["not_before"] == old_jwk["not_after"]

    async def test_reports_unknown_and_already_withdrawn_keys(self, runtime: Runtime) -> None:
        old = await _active_kid(runtime)
        await _rotate(runtime, immediate=True)
        async with runtime.db.session() as session:
            assert not await runtime.keyring.withdraw(session, "vouch-0000-00-nosuchkey0")
            assert await runtime.keyring.withdraw(session, old)
        async with runtime.db.session() as session:
            assert not await runtime.keyring.withdraw(session, old)


class TestOtherAlgorithms:
    @pytest.mark.parametrize(
        ("alg", "members"),
        [
            ("ES256", {"kty": "EC", "crv": "P-256"}),
            ("EdDSA", {"kty": "OKP", "crv": "Ed25519"}),
        ],
    )
    async def test_jwk_and_tokens(
        self, make_runtime: MakeRuntime, alg: str, members: dict[str, str]
    ) -> None:
        rt = await make_runtime(signing_alg=alg)
        (jwk,) = await _jwks(rt)
        assert members.items() <= jwk.items()
        assert jwk["alg"] == alg
        assert jwk["use"] == "sig"
        assert not PRIVATE_JWK_MEMBERS & set(jwk)
        assert len(_b64decode(jwk["x"])) == 32
        if alg == "ES256":
            assert len(_b64decode(jwk["y"])) == 32
        assert _kid_carries_thumbprint(jwk["kid"], jwk)

        minted = await _mint_and_record(rt)
        assert jwt.get_unverified_header(minted.token) == {
            "alg": alg,
            "typ": "JWT",
            "kid": jwk["kid"],
        }
        assert (await _verify(rt, minted.token))["sub"] == "p0"
        offline = jwt.decode(
            minted.token,
            jwt.PyJWK(jwk).key,
            algorithms=[alg],
            issuer=rt.settings.effective_issuer,
        )
        assert offline["jti"] == minted.jti

    async def test_keys_of_different_algorithms_coexist(
        self, runtime: Runtime, make_runtime: MakeRuntime
    ) -> None:
        rsa_token = (await _mint_and_record(runtime)).token
        rt = await make_runtime(signing_alg="ES256")
        async with rt.db.session() as session:
            await rt.keyring.rotate(session, immediate=True)
        ec_token = (await _mint_and_record(rt)).token
        assert jwt.get_unverified_header(ec_token)["alg"] == "ES256"
        assert {k["alg"] for k in await _jwks(rt)} == {"RS256", "ES256"}
        assert (await _verify(rt, rsa_token))["sub"] == "p0"
        assert (await _verify(rt, ec_token))["sub"] == "p1"


class TestEnvironmentsAndPurposes:
    async def test_each_environment_and_purpose_gets_its_own_key(self, runtime: Runtime) -> None:
        groups = {
            (env, purpose): await _rows(runtime, env, purpose)
            for env in ("live", "test")
            for purpose in ("proof", "status-list")
        }
        assert all(len(rows) == 1 for rows in groups.values())
        kids = {rows[0].kid for rows in groups.values()}
        assert len(kids) == 4
        assert groups[("test", "proof")][0].kid.startswith("vouch-test-")

    async def test_the_live_document_holds_no_test_key_and_the_reverse(
        self, runtime: Runtime
    ) -> None:
        live = await _document(runtime)
        test = await _document(runtime, environment="test")
        live_kids = {k["kid"] for k in live["keys"]}
        test_kids = {k["kid"] for k in test["keys"]}
        assert live_kids and test_kids
        assert not live_kids & test_kids
        assert all(kid.startswith("vouch-test-") for kid in test_kids)
        assert not any(kid.startswith("vouch-test-") for kid in live_kids)
        assert {k["proof_purpose"] for k in live["keys"]} == {"proof", "status-list"}

    async def test_a_test_token_is_signed_by_the_test_key(self, runtime: Runtime) -> None:
        async with runtime.db.session() as session:
            minted = await runtime.tokens.mint(
                session,
                environment="test",
                sub="p-test",
                type="email",
                lifetime=timedelta(hours=1),
                claims={},
            )
            verified = await runtime.tokens.verify(session, minted.token)
        (test_proof_key,) = await _rows(runtime, "test", "proof")
        assert minted.kid == test_proof_key.kid
        assert verified.environment == "test"
        assert verified.claims["test"] is True
        live_keys = {k["kid"]: k for k in (await _document(runtime))["keys"]}
        assert minted.kid not in live_keys

    async def test_windows_and_lifetimes_are_published(self, runtime: Runtime) -> None:
        (proof_row,) = await _rows(runtime)
        (proof_jwk,) = await _jwks(runtime)
        (list_jwk,) = await _jwks(runtime, purpose="status-list")
        assert proof_jwk["not_before"] == int(proof_row.not_before.timestamp())
        window = runtime.settings.key_signing_window_days * 86400
        assert proof_jwk["not_after"] - proof_jwk["not_before"] == window
        assert proof_jwk["max_token_lifetime"] == runtime.settings.max_token_lifetime_days * 86400
        assert list_jwk["max_token_lifetime"] == 600

    async def test_a_proof_may_not_outlive_the_published_maximum(self, runtime: Runtime) -> None:
        too_long = timedelta(days=runtime.settings.max_token_lifetime_days, seconds=1)
        async with runtime.db.session() as session:
            with pytest.raises(ValueError, match="at most"):
                await runtime.tokens.mint(
                    session, environment="live", sub="p", type="email", lifetime=too_long, claims={}
                )


class TestWindows:
    async def test_rotation_narrows_the_old_window_to_where_the_new_one_begins(
        self, make_runtime: MakeRuntime
    ) -> None:
        rt = await make_runtime(key_publish_lead_seconds=3600)
        (before,) = await _jwks(rt)
        await _mint_and_record(rt)  # keeps the old key published after its window
        await _rotate(rt)
        old, new = await _jwks(rt, force=True)
        assert old["kid"] == before["kid"]
        assert old["not_before"] == before["not_before"]
        assert old["not_after"] == new["not_before"] < before["not_after"]

    async def test_no_window_is_ever_widened_across_rotations(
        self, make_runtime: MakeRuntime
    ) -> None:
        rt = await make_runtime(key_publish_lead_seconds=3600)
        seen: dict[str, tuple[int, int]] = {}
        for step in range(4):
            await _mint_and_record(rt)
            await _rotate(rt, immediate=step % 2 == 0)
            for jwk in await _jwks(rt, force=True):
                window = (jwk["not_before"], jwk["not_after"])
                if jwk["kid"] in seen:
                    first = seen[jwk["kid"]]
                    assert first[0] <= window[0] and window[1] <= first[1], jwk["kid"]
                seen[jwk["kid"]] = window

    async def test_a_successor_is_scheduled_before_the_window_ends(
        self, make_runtime: MakeRuntime
    ) -> None:
        rt = await make_runtime(key_publish_lead_seconds=3600)
        (row,) = await _rows(rt)
        async with rt.db.session() as session:
            await session.execute(
                update(SigningKey)
                .where(SigningKey.kid == row.kid)
                .values(not_after=utcnow() + timedelta(minutes=30))
            )
        current, successor = await _jwks(rt, force=True)
        assert current["kid"] == row.kid
        assert successor["not_before"] == current["not_after"]
        assert await _active_kid(rt) == row.kid  # the successor has not started yet
