"""``vouch agents keygen`` and ``vouch agents prove``: the agent's side from a shell.

``keygen`` makes an Ed25519 key and stores it as a private JWK (RFC 8037 §2); ``prove`` answers a
challenge (the JSON body ``POST /v1/verify/challenge`` returned) with the v1 proof and prints the
body to send to ``POST /v1/verify/proof``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from vouch_server.agents.keys import AgentPublicKey, b64url_decode, b64url_encode
from vouch_server.agents.proof import ContextNotCanonical, ProofInput, context_sha256

app = typer.Typer(help="Agent keys and proofs (the agent's side).", no_args_is_help=True)


def _private_jwk(key: Ed25519PrivateKey) -> dict[str, str]:
    public = AgentPublicKey(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return {**public.jwk, "d": b64url_encode(seed), "kid": public.thumbprint}


def _load_key(path: Path) -> Ed25519PrivateKey:
    try:
        jwk = json.loads(path.read_text())
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise ValueError("not an Ed25519 JWK")
        key = Ed25519PrivateKey.from_private_bytes(b64url_decode(jwk["d"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise typer.BadParameter(f"{path}: not a private Ed25519 JWK ({exc})") from exc
    return key


def _emit(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, indent=2))


@app.command()
def keygen(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the private key (JWK) here, readable by you only"),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing --out file")] = False,
) -> None:
    """Make an Ed25519 key; print the public key to register with POST /v1/agents."""
    key = Ed25519PrivateKey.generate()
    private = _private_jwk(key)
    public = {k: v for k, v in private.items() if k != "d"}
    result: dict[str, Any] = {
        "kid": private["kid"],
        "public_key": private["x"],
        "jwk": public,
    }
    if out is None:
        result["private_jwk"] = private
    else:
        if out.exists() and not force:
            raise typer.BadParameter(f"{out} exists; pass --force to overwrite", param_hint="--out")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        fd = os.open(out, flags, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(private, handle, indent=2)
        os.chmod(out, 0o600)
        result["private_key_file"] = str(out)
    _emit(result)


@app.command()
def prove(
    key: Annotated[Path, typer.Option("--key", help="The private JWK written by keygen")],
    challenge: Annotated[
        str, typer.Option("--challenge", help="The challenge JSON: a file, or - for stdin")
    ] = "-",
    agent_id: Annotated[str | None, typer.Option(help="Required if the challenge omits it")] = None,
    action: Annotated[str | None, typer.Option(help="Required if the challenge omits it")] = None,
    context: Annotated[
        str | None, typer.Option(help="Context JSON, if the challenge does not carry it")
    ] = None,
) -> None:
    """Print {"challenge_id", "proof"} for POST /v1/verify/proof."""
    private = _load_key(key)
    text = sys.stdin.read() if challenge == "-" else Path(challenge).read_text()
    try:
        data = json.loads(text)
        context_value = json.loads(context) if context is not None else data.get("context")
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc}") from exc
    agent = agent_id or data.get("agent_id")
    act = action or data.get("action")
    for name, given, named in (
        ("agent-id", agent_id, data.get("agent_id")),
        ("action", action, data.get("action")),
    ):
        if given is not None and named is not None and given != named:
            raise typer.BadParameter(f"the challenge is for {named!r}", param_hint=f"--{name}")
    if not isinstance(agent, str) or not isinstance(act, str):
        raise typer.BadParameter("the challenge does not name agent_id and action; pass them")
    try:
        message = ProofInput(
            challenge_id=str(data["challenge_id"]),
            nonce=str(data["nonce"]),
            agent_id=agent,
            action=act,
            context_sha256=context_sha256(context_value),
        ).message()
    except KeyError as exc:
        raise typer.BadParameter(f"the challenge has no {exc}") from exc
    except ContextNotCanonical as exc:
        raise typer.BadParameter(f"context: {exc}") from exc
    _emit({"challenge_id": data["challenge_id"], "proof": private.sign(message).hex()})
