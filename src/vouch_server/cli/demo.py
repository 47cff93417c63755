"""``vouch demo``: the whole Proof of Control loop, in-process, with the real app and the SDK.

create → test-verify → verify offline (SDK Verifier, JWKS only) → revoke → verify again (revoked).
Nothing leaves the process: the SDK talks to the app through an ASGI transport.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
from rich.console import Console
from rich.markup import escape

from vouch_server import db
from vouch_server.app import create_app
from vouch_server.config import Settings
from vouch_server.tenancy import service as tenancy

DEMO_URL = "https://vouch.demo"


async def run_demo(console: Console, data_dir: Path | None = None) -> int:
    from vouch_client import AsyncClient, AsyncVerifier, ProofInvalid

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
                    f"   the person would send {challenge['code']} → "
                    f"{challenge.get('send_to', 'your Telegram bot')}"
                )
                if "deep_link" in challenge:
                    console.print(f"   deep link: {challenge['deep_link']}")
                else:  # the demo's server, like any unconfigured one, has no bot of its own
                    console.print("   deep link: none until VOUCH_TELEGRAM_BOT_USERNAME is set")

                done = await client.test_verify(created["id"])
                token = done["proof_token"]
                console.print(f"2. [bold]test-verify[/]  status={done['status']}")
                # Plain and unwrapped, so it can be copied whole (it was signed by this run's
                # throw-away server, so only the demo itself can still check it).
                console.print("   proof token (JWT):")
                console.print(token, soft_wrap=True, markup=False, highlight=False)

                # A pk_test_ key made this proof: a live verifier refuses it, a test one reads it.
                async with AsyncVerifier(DEMO_URL, http_client=http()) as verifier:
                    try:
                        await verifier.verify(token)
                    except ProofInvalid as exc:
                        console.print(f"3. [bold]verify offline (live)[/]  [red]{exc.reason}[/]")
                    else:
                        console.print("3. [bold red]a test proof passed a live verifier[/]")
                        return 1
                async with AsyncVerifier(DEMO_URL, http_client=http(), test=True) as verifier:
                    claims = await verifier.verify(token, type="phone", channel="telegram")
                console.print(
                    f"   [bold]verify offline (test mode)[/]  [green]valid[/] sub={claims.sub} "
                    f"identifier_hash={claims.identifier_hash[:16] if claims.identifier_hash else ''}…"
                )

                revoked = await client.revoke_proof(created["id"], "user_request")
                console.print(f"4. [bold]revoke[/]  at {revoked['revoked_at']}")

                async with AsyncVerifier(DEMO_URL, http_client=http(), test=True) as verifier:
                    try:
                        await verifier.verify(token)
                    except ProofInvalid as exc:
                        console.print(f"5. [bold]verify again[/]  [red]{exc.reason}[/]: {exc}")
                    else:
                        console.print("5. [bold red]the revoked proof still verified[/]")
                        return 1
            console.rule("done")
    return 0


# -- Telegram, end to end ---------------------------------------------------------------------------
class _BotApiStandIn:
    """A loopback stand-in for api.telegram.org that prints what the bot says."""

    def __init__(self, console: Console) -> None:
        import json as _json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path.endswith("/sendMessage"):
                    message = _json.loads(body)
                    keyboard = (message.get("reply_markup") or {}).get("keyboard")
                    button = f"  [button: {keyboard[0][0]['text']}]" if keyboard else ""
                    outer.console.print(f"   [cyan]bot →[/] {escape(message['text'] + button)}")
                answer = b'{"ok":true,"result":{"message_id":1}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.console = console
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> _BotApiStandIn:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


async def run_telegram_demo(console: Console, data_dir: Path | None = None) -> int:
    """A person completes a Telegram phone verification, played against a Bot API stand-in."""
    from vouch_client import AsyncClient, AsyncVerifier

    secret = "demo-webhook-secret"  # noqa: S105 (a demo against a local stand-in)
    user = {"id": 5550001, "is_bot": False, "first_name": "Ona"}
    with tempfile.TemporaryDirectory(prefix="vouch-demo-") as tmp, _BotApiStandIn(console) as bot:
        settings = Settings(
            data_dir=data_dir or Path(tmp),
            database_url=None,
            public_url=DEMO_URL,
            expiry_sweep_seconds=0,
            allow_private_targets=True,
            telegram_bot_token="123456:demo-token",  # noqa: S106 (the stand-in takes any token)
            telegram_bot_username="vouch_demo_bot",
            telegram_webhook_secret=secret,
            telegram_api_base=bot.base,
        )
        await db.upgrade_async(settings)
        app = create_app(settings)
        runtime = app.state.vouch
        async with app.router.lifespan_context(app):
            async with runtime.db.session() as session:
                project, _ = await tenancy.get_or_create_project(session, "demo shop")
                key = (await tenancy.create_api_key(session, project, mode="live")).key

            def http() -> httpx.AsyncClient:
                return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=DEMO_URL)

            async def telegram_sends(message: dict[str, object]) -> None:
                update = {
                    "update_id": 1,
                    "message": {
                        "message_id": 1,
                        "from": user,
                        "chat": {"id": user["id"], "type": "private"},
                        "date": 0,
                        **message,
                    },
                }
                async with http() as client:
                    response = await client.post(
                        "/inbound/telegram",
                        json=update,
                        headers={"X-Telegram-Bot-Api-Secret-Token": secret},
                    )
                    response.raise_for_status()

            console.rule("[bold]vouch demo --channel telegram[/] — reverse OTP over Telegram")
            async with AsyncClient(DEMO_URL, api_key=key, http_client=http()) as client:
                created = await client.create_verification("phone", "telegram", "+370 691 99199")
                code = created["challenge"]["code"]
                console.print(f"1. the app creates a verification for {created['identifier']}")
                console.print(
                    f"   and shows the person a button: {created['challenge']['deep_link']}"
                )
                console.print(
                    f"2. the person taps it; Telegram sends the bot [bold]/start {code}[/]"
                )
                await telegram_sends({"text": f"/start {code}"})
                console.print("3. the person taps the button and shares their own contact")
                await telegram_sends(
                    {
                        "contact": {
                            "phone_number": "37069199199",
                            "first_name": "Ona",
                            "user_id": user["id"],
                        }
                    }
                )
                done = await client.get_verification(created["id"])
                console.print(f"4. the verification is [bold]{done['status']}[/]")
                if done["status"] != "verified":
                    return 1
                async with AsyncVerifier(DEMO_URL, http_client=http()) as verifier:
                    claims = await verifier.verify(
                        done["proof_token"], type="phone", channel="telegram"
                    )
                console.print(
                    f"5. its proof verifies offline: sub={claims.sub} channel={claims.channel}"
                )
            console.rule("done")
    return 0
