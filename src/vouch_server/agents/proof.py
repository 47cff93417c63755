"""The agent proof, version 1: what an agent signs to answer a challenge, and how it is checked.

ZeroProof never published how its ``proof`` is computed; vouch defines it here, openly
(``docs/agents.md`` is the normative text):

    message = UTF-8 of the six lines, joined by one LF (0x0A), with no trailing LF:
        vouch-agent-proof/v1
        <challenge_id>
        <nonce>
        <agent_id>
        <action>
        <context_sha256>

    context_sha256 = lowercase hex SHA-256 of the RFC 8785 (JCS) canonical JSON of ``context``
                     (``{}`` when the challenge has no context)
    proof          = Ed25519 (RFC 8032 §5.1.6, PureEdDSA) signature of ``message`` by the agent's key,
                     64 bytes, sent as 128 lowercase hex digits

An Ed25519 signature is a Schnorr signature: a non-interactive proof of knowledge of the secret
key (Fiat–Shamir over the nonce-bearing message). The verifier learns that the signer holds the key
registered for ``agent_id`` and that the signature was made for this challenge's nonce, action and
context — and nothing about the key itself. The version tag separates this message from anything
else the same key signs (an RFC 9421 signature base always starts with ``"``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

import rfc8785

from vouch_server.agents.keys import ED25519_SIGNATURE_BYTES, b64url_decode, b64url_encode

PROOF_VERSION = "vouch-agent-proof/v1"
CHALLENGE_ID_PREFIX = "ch_"
CHALLENGE_ID_RE = re.compile(r"^ch_[a-z0-9]{16}$")
NONCE_BYTES = 32  # 256 bits: the issue asks for at least 128
# Agent ids and actions are single tokens, so no value can smuggle a line break into the message.
TOKEN_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,127}$"  # noqa: S105 -- a regex, not a secret
TOKEN_RE = re.compile(TOKEN_PATTERN)
_HEX_RE = re.compile(r"^[0-9a-fA-F]{128}$")
_ALPHABET = string.ascii_lowercase + string.digits


class ContextNotCanonical(ValueError):
    """``context`` cannot be put in RFC 8785 form (e.g. an integer beyond ±(2**53 − 1))."""


class MalformedProof(ValueError):
    """The proof is not 64 bytes in hex (or base64url / base64)."""


def new_challenge_id() -> str:
    """``ch_`` + 16 lowercase alphanumerics from the CSPRNG (≈ 82 bits), ZeroProof's shape."""
    return CHALLENGE_ID_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(16))


def new_nonce() -> str:
    return b64url_encode(secrets.token_bytes(NONCE_BYTES))


def canonical_context(context: dict[str, Any] | None) -> bytes:
    """RFC 8785 canonical JSON of ``context``; an absent context is the empty object."""
    try:
        return rfc8785.dumps({} if context is None else context)
    except rfc8785.CanonicalizationError as exc:
        raise ContextNotCanonical(str(exc)) from exc


def context_sha256(context: dict[str, Any] | None) -> str:
    return hashlib.sha256(canonical_context(context)).hexdigest()


@dataclass(frozen=True)
class ProofInput:
    challenge_id: str
    nonce: str
    agent_id: str
    action: str
    context_sha256: str

    def message(self) -> bytes:
        fields = (
            PROOF_VERSION,
            self.challenge_id,
            self.nonce,
            self.agent_id,
            self.action,
            self.context_sha256,
        )
        for value in fields:
            # Defence in depth: the API validates these, but the message must stay unambiguous.
            if "\n" in value or "\r" in value:
                raise ValueError("proof fields cannot contain line breaks")
        return "\n".join(fields).encode("utf-8")


def decode_proof(proof: str) -> bytes:
    """The 64 signature bytes: 128 hex digits (canonical), or base64url / base64 (accepted)."""
    text = proof.strip()
    if _HEX_RE.fullmatch(text):
        return bytes.fromhex(text)
    try:
        raw = b64url_decode(text.replace("+", "-").replace("/", "_"))
    except ValueError as exc:
        raise MalformedProof("Invalid proof format") from exc
    if len(raw) != ED25519_SIGNATURE_BYTES:
        raise MalformedProof("Invalid proof format")
    return raw
