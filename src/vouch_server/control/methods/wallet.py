"""Wallet verification (``type: wallet``): the person signs a sign-in message vouch issued.

The create response's ``challenge.message`` is a Sign-In with X message (EIP-4361; see
``wallets/siwx.py``): the domain of ``VOUCH_PUBLIC_URL`` (with its scheme when that is not https),
the address, a statement carrying the verification code, the URI of the verification's page,
version 1, the chain, a nonce of 16 letters and digits, issued-at, expiration = the challenge's
expiry, and the verification id as ``Request ID``. The message and nonce are kept in
``method_state``.

``submit {signature, message?}``: ``message`` is the text the wallet signed (default: the issued
one). It is parsed by the grammar and compared with the issued message field by field — domain and
scheme, address, statement, URI, chain, nonce, issued-at, expiration (and not-before, request id,
resources) — then the signature is checked for the chain:

ethereum  EIP-191 ``personal_sign`` recovery must give the address; otherwise, with
          ``VOUCH_ETH_RPC_URL`` set, the address may be a contract wallet that accepts the
          signature through EIP-1271 ``isValidSignature`` on ``wallet_eth_chain_id``.
solana    Ed25519 with the address's public key; signature in base58, base64 or hex.
bitcoin   BIP-137 (P2PKH, P2SH-P2WPKH, P2WPKH) or BIP-322 simple (P2WPKH, P2TR key path).

A field that differs or a signature by another key is a failed attempt with a reason; a message
that is not a sign-in message, or a signature that is not even well-formed, is a validation error
and no attempt.
"""

from __future__ import annotations

import hmac
import secrets
import string
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

from eth_utils.address import is_checksum_address, to_checksum_address
from sqlalchemy.ext.asyncio import AsyncSession

from vouch_server.control.methods.base import (
    Accepted,
    ChallengeContext,
    CheckOutcome,
    Outcome,
    Rejected,
    SubmitContext,
)
from vouch_server.control.methods.registry import register
from vouch_server.control.methods.wallets import bitcoin, ethereum, siwx, solana
from vouch_server.control.methods.wallets.siwx import MalformedMessage, SignInMessage
from vouch_server.errors import BadRequest, ValidationFailed
from vouch_server.kit.clock import isoformat_ms, utcnow

NONCE_LENGTH: Final = 16
_NONCE_ALPHABET: Final = string.ascii_letters + string.digits
MAX_SIGNATURE_CHARS: Final = 4096
MAX_MESSAGE_CHARS: Final = 4096
# CAIP-2 reference of Bitcoin mainnet (its genesis block hash, truncated), per CAIP-122.
BITCOIN_CHAIN_ID: Final = "000000000019d6689c085ae165831e93"
# Clock skew tolerated for "Not Before".
_SKEW: Final = timedelta(seconds=60)


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        details=[{"field": field, "message": message, "code": "invalid_string"}]
    )


def _text_field(payload: dict[str, Any], name: str, limit: int) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValidationFailed(
            details=[
                {"field": name, "message": "Expected a non-empty string", "code": "invalid_type"}
            ]
        )
    if len(value) > limit:
        raise ValidationFailed(
            details=[{"field": name, "message": f"At most {limit} characters", "code": "too_big"}]
        )
    return value


def _instant(text: str | None) -> datetime | None:
    return None if text is None else siwx.parse_date_time(text)


class _WalletMethod:
    type = "wallet"
    channel: str
    chain: str  # the name in the message's first line

    def chain_id(self, ctx: ChallengeContext) -> str:
        raise NotImplementedError

    def display_address(self, identifier: str) -> str:
        return identifier

    def same_address(self, signed: str, issued: str) -> bool:
        return signed == issued

    async def verify_signature(
        self, ctx: SubmitContext, message: SignInMessage, text: str, signature: str
    ) -> Outcome:
        raise NotImplementedError

    # -- the Protocol ---------------------------------------------------------------------------

    def challenge(self, ctx: ChallengeContext) -> dict[str, Any]:
        public = urlsplit(ctx.settings.public_url)
        nonce = "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(NONCE_LENGTH))
        message = SignInMessage(
            chain=self.chain,
            # EIP-4361: no scheme means https; any other origin scheme is written out.
            scheme=None if public.scheme == "https" else public.scheme,
            domain=public.netloc,
            address=self.display_address(ctx.verification.identifier),
            statement=(
                f"Prove to vouch that you control this wallet. Verification code: {ctx.code}"
            ),
            uri=f"{ctx.settings.public_url}/verify/{ctx.verification.id}",
            chain_id=self.chain_id(ctx),
            nonce=nonce,
            issued_at=isoformat_ms(ctx.verification.created_at),
            expiration_time=isoformat_ms(ctx.expires_at),
            request_id=ctx.verification.id,
        )
        text = message.to_text()
        state = dict(ctx.verification.method_state or {})
        state.update({"message": text, "nonce": nonce})
        ctx.verification.method_state = state
        return {
            "code": ctx.code,
            "expires_at": isoformat_ms(ctx.expires_at),
            "message": text,
            "nonce": nonce,
            "instruction": (
                f"Sign the message with your {self.chain} wallet and submit the signature"
            ),
        }

    async def after_create(
        self, session: AsyncSession, ctx: ChallengeContext, *, test_mode: bool
    ) -> None:
        return None

    async def check_submission(self, ctx: SubmitContext) -> Outcome:
        payload = ctx.payload
        signature = _text_field(payload, "signature", MAX_SIGNATURE_CHARS)
        if signature is None:
            if "code" in payload or "challenge_code" in payload:
                raise BadRequest(
                    "Wallet verifications are completed by a signature: submit {signature}",
                    code="method_not_supported",
                )
            raise ValidationFailed(
                details=[
                    {
                        "field": "signature",
                        "message": "Required: the wallet's signature of challenge.message",
                        "code": "invalid_type",
                    }
                ]
            )
        issued_text = str((ctx.verification.method_state or {}).get("message", ""))
        text = _text_field(payload, "message", MAX_MESSAGE_CHARS) or issued_text
        try:
            issued = siwx.parse(issued_text)
        except MalformedMessage as exc:  # pragma: no cover - vouch wrote it
            raise BadRequest("The issued message is missing", code="invalid_status") from exc
        try:
            signed = siwx.parse(text)
        except MalformedMessage as exc:
            raise _invalid("message", f"Not a sign-in message (EIP-4361): {exc}") from None
        problem = self.compare(signed, issued)
        if problem is not None:
            return problem
        return await self.verify_signature(ctx, signed, text, signature)

    async def check_now(self, ctx: SubmitContext) -> CheckOutcome:
        raise BadRequest(
            "Wallet verifications are completed by submitting a signature",
            code="method_not_supported",
        )

    # -- EIP-4361 §"Verifying a signed Message": every field against what was issued ------------

    def compare(self, signed: SignInMessage, issued: SignInMessage) -> Rejected | None:
        now = utcnow()
        if signed.chain != issued.chain:
            return Rejected(
                "message_chain_mismatch", f"The message is not a {issued.chain} sign-in"
            )
        if (signed.scheme or "https") != (issued.scheme or "https") or (
            signed.domain.lower() != issued.domain.lower()
        ):
            return Rejected(
                "message_domain_mismatch",
                f"The message asks to sign in to {signed.domain}, not {issued.domain}",
            )
        if not self.same_address(signed.address, issued.address):
            return Rejected(
                "message_address_mismatch", "The message names another address than the wallet"
            )
        if signed.statement != issued.statement:
            return Rejected("message_statement_mismatch", "The message's statement was changed")
        if signed.uri != issued.uri:
            return Rejected("message_uri_mismatch", "The message's URI was changed")
        if signed.version != issued.version:
            return Rejected("message_version_mismatch", "The message's version was changed")
        if signed.chain_id != issued.chain_id:
            return Rejected(
                "message_chain_mismatch",
                f"The message is for chain {signed.chain_id}, not {issued.chain_id}",
            )
        if not hmac.compare_digest(signed.nonce.encode(), issued.nonce.encode()):
            return Rejected("message_nonce_mismatch", "The message's nonce is not the one issued")
        if _instant(signed.issued_at) != _instant(issued.issued_at):
            return Rejected("message_issued_at_mismatch", "The message's issued-at was changed")
        expiry = _instant(signed.expiration_time)
        if expiry != _instant(issued.expiration_time):
            return Rejected("message_expiry_mismatch", "The message's expiration time was changed")
        if expiry is not None and expiry <= now:
            return Rejected("message_expired", "The message has expired")
        not_before = _instant(signed.not_before)
        if not_before != _instant(issued.not_before):
            return Rejected("message_not_before_mismatch", "The message's not-before was changed")
        if not_before is not None and not_before > now + _SKEW:
            return Rejected("message_not_yet_valid", "The message is not valid yet")
        if signed.request_id != issued.request_id:
            return Rejected("message_request_id_mismatch", "The message's request id was changed")
        if signed.resources != issued.resources:
            return Rejected("message_resources_mismatch", "The message's resources were changed")
        return None


class EthereumMethod(_WalletMethod):
    channel = "ethereum"
    chain = "Ethereum"

    def chain_id(self, ctx: ChallengeContext) -> str:
        return str(ctx.settings.wallet_eth_chain_id)

    def display_address(self, identifier: str) -> str:
        # EIP-4361: the address in EIP-55 mixed-case checksum form.
        address: str = to_checksum_address(identifier)
        return address

    def same_address(self, signed: str, issued: str) -> bool:
        # A mixed-case address must carry a valid EIP-55 checksum; all one case carries none.
        if signed not in (signed.lower(), "0x" + signed[2:].upper()) and not is_checksum_address(
            signed
        ):
            return False
        return signed.lower() == issued.lower()

    async def verify_signature(
        self, ctx: SubmitContext, message: SignInMessage, text: str, signature: str
    ) -> Outcome:
        try:
            raw = ethereum.decode_hex_signature(signature)
        except ValueError:
            raise _invalid("signature", "Expected a hex signature (0x…)") from None
        address = ctx.verification.identifier
        signer = ethereum.recover_signer(text, raw)
        if signer is not None and hmac.compare_digest(signer.encode(), address.encode()):
            return Accepted({"scheme": "eip191"})
        rpc = ctx.settings.eth_rpc_url
        if rpc and await ethereum.eip1271_accepts(
            rpc,
            chain_id=ctx.settings.wallet_eth_chain_id,
            contract=address,
            message=text,
            signature=raw,
            seconds=ctx.settings.oauth_timeout_seconds,
        ):
            return Accepted({"scheme": "eip1271"})
        if signer is None:
            return Rejected("invalid_signature", "The signature does not verify")
        return Rejected(
            "signature_mismatch",
            f"The message was signed by {to_checksum_address(signer)}, "
            f"not {to_checksum_address(address)}",
        )


class SolanaMethod(_WalletMethod):
    channel = "solana"
    chain = "Solana"

    def chain_id(self, ctx: ChallengeContext) -> str:
        return ctx.settings.wallet_solana_chain_id

    async def verify_signature(
        self, ctx: SubmitContext, message: SignInMessage, text: str, signature: str
    ) -> Outcome:
        try:
            raw = solana.decode_signature(signature)
        except ValueError:
            raise _invalid("signature", "Expected a 64-byte signature (base58 or base64)") from None
        if solana.verify(ctx.verification.identifier, text.encode("utf-8"), raw):
            return Accepted({"scheme": "ed25519"})
        return Rejected("invalid_signature", "The signature is not by this wallet's key")


class BitcoinMethod(_WalletMethod):
    channel = "bitcoin"
    chain = "Bitcoin"

    def chain_id(self, ctx: ChallengeContext) -> str:
        return BITCOIN_CHAIN_ID

    def same_address(self, signed: str, issued: str) -> bool:
        if issued.startswith("bc1"):
            # bech32 is case-insensitive, but never of mixed case (BIP-173).
            return signed in (issued, issued.upper())
        return signed == issued

    async def verify_signature(
        self, ctx: SubmitContext, message: SignInMessage, text: str, signature: str
    ) -> Outcome:
        try:
            valid = bitcoin.verify(ctx.verification.identifier, text, signature)
        except bitcoin.Unsupported as exc:
            # The BIP's "inconclusive": neither proof nor a failed attempt.
            raise BadRequest(str(exc), code="unsupported_signature") from None
        except bitcoin.MalformedSignature as exc:
            raise _invalid(
                "signature", f"Expected a BIP-137 or BIP-322 signature in base64 ({exc})"
            ) from None
        if valid:
            return Accepted({"scheme": "bitcoin"})
        return Rejected("invalid_signature", "The signature is not by this address's key")


register(EthereumMethod())
register(SolanaMethod())
register(BitcoinMethod())
