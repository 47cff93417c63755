"""The v1 proof string and the agent key format: golden values that ``docs/agents.md`` publishes
(RFC 8032 test key 1, RFC 8037 appendix A.3 thumbprint), and the edges of their parsing."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.agents.factories import needs_node, node
from tests.agents.vectors import (
    PUBLIC_X,
    SECRET,
    VECTOR_CONTEXT,
    VECTOR_CONTEXT_SHA256,
    VECTOR_INPUT,
    VECTOR_PROOF,
)
from vouch_server.agents.keys import (
    AgentPublicKey,
    InvalidPublicKey,
    b64url_decode,
    parse_public_key,
)
from vouch_server.agents.proof import (
    ContextNotCanonical,
    MalformedProof,
    ProofInput,
    canonical_context,
    context_sha256,
    decode_proof,
    new_challenge_id,
    new_nonce,
)


class TestProofMessage:
    def test_is_six_lf_separated_lines_without_a_trailing_lf(self) -> None:
        assert VECTOR_INPUT.message() == (
            b"vouch-agent-proof/v1\n"
            b"ch_7x9k2a8f3e1d9c4b\n"
            b"q8JpXbV3n5f2Yk9sR1tW4zL7mC0dA6hE-uG_iO2pKxQ\n"
            b"shop-bot-001\n"
            b"purchase\n"
            b"a226638b8f459fffc5ee4ec7af0811cf1ae331f868a66931b1dd135987ff6af1"
        )

    def test_golden_proof_of_rfc8032_test_key_1(self) -> None:
        key = Ed25519PrivateKey.from_private_bytes(SECRET)
        assert key.sign(VECTOR_INPUT.message()).hex() == VECTOR_PROOF
        public = AgentPublicKey(b64url_decode(PUBLIC_X))
        assert public.verify(bytes.fromhex(VECTOR_PROOF), VECTOR_INPUT.message())

    def test_line_breaks_in_a_field_are_refused(self) -> None:
        with pytest.raises(ValueError, match="line breaks"):
            ProofInput("ch_x", "n", "a\nb", "buy", "00").message()


class TestContextHash:
    def test_golden_context_is_hashed_in_canonical_form(self) -> None:
        canonical = canonical_context(VECTOR_CONTEXT)
        assert canonical == b'{"amount":42.5,"currency":"EUR","items":["sku-1","sku-2"]}'
        assert hashlib.sha256(canonical).hexdigest() == VECTOR_CONTEXT_SHA256

    def test_absent_context_is_the_empty_object(self) -> None:
        assert context_sha256(None) == hashlib.sha256(b"{}").hexdigest()
        assert context_sha256(None) == context_sha256({})

    def test_member_order_and_number_spelling_do_not_matter(self) -> None:
        assert context_sha256({"b": 1.0, "a": [1e2]}) == context_sha256({"a": [100], "b": 1})

    def test_integers_beyond_2_53_are_refused(self) -> None:
        with pytest.raises(ContextNotCanonical):
            context_sha256({"n": 2**53})


class TestDecodeProof:
    def test_hex_base64url_and_base64_give_the_same_bytes(self) -> None:
        raw = bytes.fromhex(VECTOR_PROOF)
        for text in (
            VECTOR_PROOF,
            VECTOR_PROOF.upper(),
            base64.urlsafe_b64encode(raw).decode().rstrip("="),
            base64.b64encode(raw).decode(),
        ):
            assert decode_proof(text) == raw

    @pytest.mark.parametrize(
        "text",
        ["", "a1b2c3d4e5f6...", "00" * 63, "00" * 65, base64.b64encode(b"x" * 63).decode()],
        ids=["empty", "seed-example", "short-hex", "long-hex", "short-base64"],
    )
    def test_anything_else_is_malformed(self, text: str) -> None:
        with pytest.raises(MalformedProof):
            decode_proof(text)


class TestIds:
    def test_challenge_id_is_ch_and_16_lowercase_alphanumerics(self) -> None:
        ids = {new_challenge_id() for _ in range(200)}
        assert len(ids) == 200
        assert all(re.fullmatch(r"ch_[a-z0-9]{16}", i) for i in ids)

    def test_nonce_carries_256_bits(self) -> None:
        assert len(b64url_decode(new_nonce())) == 32


class TestPublicKey:
    def test_thumbprint_matches_rfc8037_appendix_a3(self) -> None:
        key = parse_public_key({"kty": "OKP", "crv": "Ed25519", "x": PUBLIC_X})
        assert key.thumbprint == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        assert parse_public_key(PUBLIC_X) == key

    def test_padded_base64url_is_accepted_but_non_canonical_is_not(self) -> None:
        assert parse_public_key(PUBLIC_X + "=").x == PUBLIC_X
        # The last character carries spare bits; a different value there is another spelling.
        with pytest.raises(InvalidPublicKey):
            parse_public_key(PUBLIC_X[:-1] + "p")

    def test_small_order_point_is_refused(self) -> None:
        # The identity point: every signature (R = identity, S = 0) would "verify" against it.
        identity = base64.urlsafe_b64encode(b"\x01" + bytes(31)).decode().rstrip("=")
        with pytest.raises(InvalidPublicKey, match="small order"):
            parse_public_key(identity)


@needs_node
class TestIndependentGoldenVector:
    """The golden vector recomputed by the Node.js agent written from docs/agents.md alone
    (``tests/agents/interop/agent.mjs``): the doc, vouch's code and the published vector cannot
    drift together."""

    def _private_jwk(self) -> dict[str, str]:
        d = base64.urlsafe_b64encode(SECRET).decode().rstrip("=")
        return {"kty": "OKP", "crv": "Ed25519", "d": d, "x": PUBLIC_X}

    def test_node_agent_produces_the_published_proof(self) -> None:
        challenge = {
            "challenge_id": VECTOR_INPUT.challenge_id,
            "nonce": VECTOR_INPUT.nonce,
            "agent_id": VECTOR_INPUT.agent_id,
            "action": VECTOR_INPUT.action,
            "context": VECTOR_CONTEXT,
        }
        result = node({"op": "prove", "private_jwk": self._private_jwk(), "challenge": challenge})
        assert result["proof"] == VECTOR_PROOF

    def test_node_and_vouch_agree_on_contexts_the_vector_does_not_cover(self) -> None:
        contexts: list[Any] = [
            None,
            {},
            {"é": 1, "e": 2, "\u20ac": [0.1, -0.0, 1e-7, 123456789012345]},
            {"b": {"y": [True, False, None], "x": 'line\nbreak "quoted"'}, "a": 1e21},
        ]
        for context in contexts:
            challenge = {
                "challenge_id": "ch_0123456789abcdef",
                "nonce": VECTOR_INPUT.nonce,
                "agent_id": "bot.v2@example",
                "action": "deploy:prod",
                "context": context,
            }
            ours = ProofInput(
                challenge_id=challenge["challenge_id"],
                nonce=challenge["nonce"],
                agent_id=challenge["agent_id"],
                action=challenge["action"],
                context_sha256=context_sha256(context),
            ).message()
            expected = Ed25519PrivateKey.from_private_bytes(SECRET).sign(ours).hex()
            job = {"op": "prove", "private_jwk": self._private_jwk(), "challenge": challenge}
            assert node(job)["proof"] == expected, context
