"""vouch's ``system`` signer: one Ed25519 key per server, sealed at rest, shared by processes."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from vouch_server.config import Settings
from vouch_server.kit.secretbox import SecretBox, derive_key
from vouch_server.models.records import RecordSignerKey
from vouch_server.records.canonical import record_hash
from vouch_server.records.signatures import verify_proof
from vouch_server.records.system import PURPOSE, system_signer
from vouch_server.runtime import Runtime


async def stored(runtime: Runtime) -> RecordSignerKey:
    async with runtime.db.session() as session:
        row = await session.scalar(select(RecordSignerKey))
    assert row is not None
    return row


class TestSystemSigner:
    async def test_is_created_once_and_signs_verifiable_proofs(self, runtime: Runtime) -> None:
        signer = await system_signer(runtime)
        assert await system_signer(runtime) is signer
        data = {"handle": "x"}
        proof = signer.sign(record_hash(data), {"status": "created"})
        verify_proof(proof, record_hash(data))
        assert proof.public == signer.public == (await stored(runtime)).public

    async def test_private_key_is_sealed_at_rest(self, runtime: Runtime) -> None:
        signer = await system_signer(runtime)
        seed = signer.private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        row = await stored(runtime)
        assert row.private_sealed.startswith("v1.")
        assert base64.b64encode(seed).decode() not in row.private_sealed
        assert base64.urlsafe_b64encode(seed).decode().rstrip("=") not in row.private_sealed
        assert seed.hex() not in row.private_sealed

    async def test_another_process_on_the_same_database_uses_the_same_key(
        self, runtime: Runtime, settings: Settings
    ) -> None:
        first = await system_signer(runtime)
        other = Runtime.build(settings)
        try:
            assert (await system_signer(other)).public == first.public
        finally:
            await other.close()

    async def test_another_master_secret_cannot_open_it(
        self, runtime: Runtime, settings_factory: Callable[..., Settings]
    ) -> None:
        await system_signer(runtime)
        other = Runtime.build(settings_factory(secret_key="a-different-master-secret"))
        try:
            with pytest.raises(InvalidTag):
                await system_signer(other)
        finally:
            await other.close()

    async def test_seal_is_bound_to_its_own_purpose_and_name(self, runtime: Runtime) -> None:
        await system_signer(runtime)
        row = await stored(runtime)
        master = runtime.settings.master_key
        assert SecretBox(derive_key(master, PURPOSE)).open(row.private_sealed, b"system")
        with pytest.raises(InvalidTag):
            SecretBox(derive_key(master, PURPOSE)).open(row.private_sealed, b"other")
        with pytest.raises(InvalidTag):  # the token-signing keys' purpose is another key
            SecretBox(derive_key(master, "signing-keys")).open(row.private_sealed, b"system")
