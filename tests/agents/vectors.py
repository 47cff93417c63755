"""Golden values of the v1 agent proof, as published in ``docs/agents.md``."""

from __future__ import annotations

from vouch_server.agents.proof import ProofInput

# RFC 8032 §7.1 TEST 1.
SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
PUBLIC_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
VECTOR_CONTEXT = {"currency": "EUR", "amount": 42.5, "items": ["sku-1", "sku-2"]}
VECTOR_CONTEXT_SHA256 = "a226638b8f459fffc5ee4ec7af0811cf1ae331f868a66931b1dd135987ff6af1"
VECTOR_INPUT = ProofInput(
    challenge_id="ch_7x9k2a8f3e1d9c4b",
    nonce="q8JpXbV3n5f2Yk9sR1tW4zL7mC0dA6hE-uG_iO2pKxQ",
    agent_id="shop-bot-001",
    action="purchase",
    context_sha256=VECTOR_CONTEXT_SHA256,
)
VECTOR_PROOF = (
    "27255ebb3907db24148582546a93dc0975eeb59e2ceedcdfa12fcaa8c58aa011"
    "5eb651aafd62364b68638463b8646b7053e4b778c0450f7a4a4d898834ab780c"
)
