"""Agents, keys and challenges for the agent-surface tests, and an agent that knows only the
published proof string (``docs/agents.md``): it imports nothing from vouch."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

NODE = shutil.which("node")
INTEROP = Path(__file__).parent / "interop"
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class IndependentAgent:
    """An agent built from the documentation: cryptography's Ed25519, hashlib, rfc8785."""

    private_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    @property
    def public_key(self) -> str:
        return b64url(self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    @property
    def jwk(self) -> dict[str, str]:
        return {"kty": "OKP", "crv": "Ed25519", "x": self.public_key}

    @property
    def private_jwk(self) -> dict[str, str]:
        seed = self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return {**self.jwk, "d": b64url(seed)}

    @property
    def kid(self) -> str:
        members = f'{{"crv":"Ed25519","kty":"OKP","x":"{self.public_key}"}}'
        return b64url(hashlib.sha256(members.encode()).digest())

    def message(
        self,
        challenge: dict[str, Any],
        *,
        agent_id: str | None = None,
        action: str | None = None,
        context: Any = ...,
        nonce: str | None = None,
    ) -> bytes:
        ctx = challenge.get("context") if context is ... else context
        digest = hashlib.sha256(rfc8785.dumps({} if ctx is None else ctx)).hexdigest()
        lines = [
            "vouch-agent-proof/v1",
            challenge["challenge_id"],
            nonce or challenge["nonce"],
            agent_id or challenge["agent_id"],
            action or challenge["action"],
            digest,
        ]
        return "\n".join(lines).encode()

    def prove(self, challenge: dict[str, Any], **overrides: Any) -> str:
        return self.private_key.sign(self.message(challenge, **overrides)).hex()


def node(job: dict[str, Any]) -> dict[str, Any]:
    result = subprocess.run(
        [NODE or "node", str(INTEROP / "agent.mjs")],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def api(key: str) -> dict[str, str]:
    """ZeroProof's header."""
    return {"X-Api-Key": key}


async def register(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    agent: IndependentAgent | None = None,
    *,
    agent_id: str = "shop-bot-001",
    public_key: Any = None,
) -> dict[str, Any]:
    agent = agent or IndependentAgent()
    body = {"agent_id": agent_id, "public_key": public_key or agent.public_key}
    response = await client.post("/v1/agents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def challenge(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    agent_id: str = "shop-bot-001",
    action: str = "purchase",
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"agent_id": agent_id, "action": action}
    if context is not None:
        body["context"] = context
    response = await client.post("/v1/verify/challenge", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def submit(
    client: httpx.AsyncClient, headers: dict[str, str], challenge_id: str, proof: str, **extra: Any
) -> httpx.Response:
    body = {"challenge_id": challenge_id, "proof": proof, **extra}
    return await client.post("/v1/verify/proof", json=body, headers=headers)
