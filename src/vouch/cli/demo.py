"""``vouch demo``: the whole Proof of Control loop, in-process, with the real app and the SDK.

create → test-verify → verify offline (SDK Verifier, JWKS only) → revoke → verify again (revoked).
Nothing leaves the process: the SDK talks to the app through an ASGI transport.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
from rich.console import Console
from rich.panel import Panel

from vouch import db
from vouch.app import create_app
from vouch.config import Settings
from vouch.tenancy import service as tenancy

DEMO_URL = "https://vouch.demo"


async def run_demo(console: Console, data_dir: Path | None = None) -> int:
    from vouch_sdk import AsyncClient, AsyncVerifier, ProofInvalid

    with tempfile.TemporaryDirectory(prefix="vouch-demo-") as tmp:
        directory = data_dir or Path(tmp)
        settings = Settings(
            data_dir=directory, database_url=None, public_url=DEMO_URL, expiry_sweep_seconds=0
        )
        await db.upgrade_async(settings)
        app = create_app(settings)
        runtime = app.state.vouch
        async with app.router.lifespan_context(app):
            async with runtime.db.session() as session:
                project, _ = await tenancy.get_or_create_project(session, "demo")
                key = (await tenancy.create_api_key(session, project, mode="test")).key

            def http() -> httpx.AsyncClient:
                return httpx.AsyncClient(transport=httpx.ASGITransport(app=app))

            console.rule("[bold]vouch demo[/] — Proof of Control, end to end")
            async with AsyncClient(DEMO_URL, api_key=key, http_client=http()) as client:
                created = await client.create_verification("phone", "telegram", "+370 691 99199")
                challenge = created["challenge"]
                console.print(
                    f"1. [bold]create[/]  verification {created['id']} for {created['identifier']}"
                )
                console.print(
                    f"   the person would send {challenge['code']} → {challenge['send_to']}"
                )
                console.print(f"   deep link: {challenge['deep_link']}")

                done = await client.test_verify(created["id"])
                token = done["proof_token"]
                console.print(f"2. [bold]test-verify[/]  status={done['status']}")
                console.print(Panel(token, title="proof token (JWT)", expand=False))

                async with AsyncVerifier(DEMO_URL, http_client=http()) as verifier:
                    claims = await verifier.verify(token, type="phone", channel="telegram")
                console.print(
                    f"3. [bold]verify offline[/]  [green]valid[/] sub={claims.sub} "
                    f"identifier_hash={claims.identifier_hash[:16] if claims.identifier_hash else ''}…"
                )

                revoked = await client.revoke_proof(created["id"], "user_request")
                console.print(f"4. [bold]revoke[/]  at {revoked['revoked_at']}")

                async with AsyncVerifier(DEMO_URL, http_client=http()) as verifier:
                    try:
                        await verifier.verify(token)
                    except ProofInvalid as exc:
                        console.print(f"5. [bold]verify again[/]  [red]{exc.reason}[/]: {exc}")
                    else:
                        console.print("5. [bold red]the revoked proof still verified[/]")
                        return 1
            console.rule("done")
    return 0
