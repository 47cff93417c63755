"""``vouch`` — serve, migrate, manage keys, verify tokens, and a guided demo (Typer + Rich)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from vouch.agents.cli import app as agents_app
from vouch.config import Settings

app = typer.Typer(help="vouch — a self-hostable trust server.", no_args_is_help=True)
apikeys_app = typer.Typer(help="Create API keys.", no_args_is_help=True)
keys_app = typer.Typer(help="Token signing keys: list and rotate.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(apikeys_app, name="apikeys")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(agents_app, name="agents")

console = Console()
err_console = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (default: $VOUCH_DATA_DIR or ./.vouch)"),
]


def load_settings(data_dir: Path | None = None, **overrides: Any) -> Settings:
    if data_dir is not None:
        os.environ["VOUCH_DATA_DIR"] = str(data_dir)
        overrides["data_dir"] = data_dir
    return Settings(**overrides)


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


# -- serve ---------------------------------------------------------------------------------------
@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind")] = 8080,
    data_dir: DataDir = None,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only)")] = 1,
    smtp_port: Annotated[
        int | None,
        typer.Option(help="Also accept inbound verification mail over SMTP on this port"),
    ] = None,
) -> None:
    """Run the server (migrates the database first; a fresh data dir gets a default project)."""
    import uvicorn

    overrides: dict[str, Any] = {}
    if "VOUCH_PUBLIC_URL" not in os.environ:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        overrides["public_url"] = f"http://{shown}:{port}"
    settings = load_settings(data_dir, **overrides)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from vouch import db

    db.upgrade(settings)
    first_key = _run(_bootstrap(settings))
    console.print(f"[bold green]vouch[/] serving on [bold]{settings.public_url}[/]")
    console.print(f"  data: {settings.data_dir.resolve()}  database: {_safe_url(settings)}")
    if first_key:
        console.print("\n[bold]A default project was created. Its test API key (shown once):[/]")
        console.print(f"  [bold yellow]{first_key}[/]\n")
        console.print("Try it:")
        console.print(
            f"  curl -s -X POST {settings.public_url}/api/v1/verifications \\\n"
            f"    -H 'Authorization: Bearer {first_key}' -H 'Content-Type: application/json' \\\n"
            '    -d \'{"type":"phone","channel":"telegram","identifier":"+37069199199"}\'\n',
            soft_wrap=True,
        )
    from vouch.app import create_app
    from vouch.channels.smtp_listener import start_smtp_listener

    if workers > 1:
        if settings.is_sqlite:
            raise typer.BadParameter("several workers need PostgreSQL (VOUCH_DATABASE_URL)")
        os.environ["VOUCH_PUBLIC_URL"] = settings.public_url
        from vouch.runtime import Runtime

        # One listener for the whole server, on its own runtime and loop.
        listener = (
            start_smtp_listener(Runtime.build(settings), host, smtp_port)
            if smtp_port is not None
            else None
        )
        try:
            uvicorn.run(
                "vouch.app:create_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level="info",
            )
        finally:
            if listener is not None:
                listener.stop()
        return
    app_ = create_app(settings)

    async def main() -> None:
        server = uvicorn.Server(uvicorn.Config(app_, host=host, port=port, log_level="info"))
        listener = (
            start_smtp_listener(app_.state.vouch, host, smtp_port)
            if smtp_port is not None
            else None
        )
        if listener is not None:
            console.print(f"  SMTP: inbound mail on {host}:{smtp_port}")
        try:
            await server.serve()
        finally:
            if listener is not None:
                listener.stop()

    asyncio.run(main())


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.effective_database_url).render_as_string(hide_password=True)


async def _bootstrap(settings: Settings) -> str | None:
    from vouch.runtime import Runtime
    from vouch.tenancy import service as tenancy

    runtime = Runtime.build(settings)
    try:
        async with runtime.db.session() as session:
            await runtime.keyring.ensure_key(session)
            if await tenancy.count_projects(session):
                return None
            project, _ = await tenancy.get_or_create_project(session, tenancy.DEFAULT_PROJECT)
            issued = await tenancy.create_api_key(session, project, mode="test", name="default")
            return issued.key
    finally:
        await runtime.close()


@app.command()
def worker(data_dir: DataDir = None) -> None:
    """Run background work without serving HTTP: expiry sweeps and webhook deliveries."""
    from vouch import db
    from vouch.app import _sweeper
    from vouch.approval.endpoints import run_sweeper as run_approval_sweeper
    from vouch.runtime import Runtime
    from vouch.webhooks.delivery import DeliveryWorker

    settings = load_settings(data_dir)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    db.upgrade(settings)

    async def main() -> None:
        runtime = Runtime.build(settings)
        try:
            await asyncio.gather(
                _sweeper(runtime),
                DeliveryWorker(runtime).run_forever(),
                run_approval_sweeper(runtime, settings.expiry_sweep_seconds or 30.0),
            )
        finally:
            await runtime.close()

    console.print("[bold]vouch worker[/] running; Ctrl-C to stop")
    with contextlib.suppress(KeyboardInterrupt):
        _run(main())


# -- db ---------------------------------------------------------------------------------------------
@db_app.command("upgrade")
def db_upgrade(
    data_dir: DataDir = None,
    revision: Annotated[str, typer.Argument(help="Target revision")] = "heads",
) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from vouch import db

    settings = load_settings(data_dir)
    db.upgrade(settings, revision)
    console.print(f"database at [bold]{revision}[/]: {_safe_url(settings)}")


# -- apikeys ----------------------------------------------------------------------------------------
@apikeys_app.command("create")
def apikeys_create(
    project: Annotated[str, typer.Option(help="Project name (created if new)")],
    mode: Annotated[str, typer.Option(help="test or live")] = "test",
    name: Annotated[str | None, typer.Option(help="A label for the key")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    data_dir: DataDir = None,
) -> None:
    """Create an API key. The key is shown once; only its hash is stored."""
    if mode not in ("test", "live"):
        raise typer.BadParameter("mode must be 'test' or 'live'", param_hint="--mode")
    if not project.strip() or len(project) > 100:
        raise typer.BadParameter("project name must be 1–100 characters", param_hint="--project")
    from vouch import db

    settings = load_settings(data_dir)
    db.upgrade(settings)

    async def main() -> tuple[str, str]:
        from vouch.runtime import Runtime
        from vouch.tenancy import service as tenancy

        runtime = Runtime.build(settings)
        try:
            async with runtime.db.session() as session:
                row, _ = await tenancy.get_or_create_project(session, project.strip())
                issued = await tenancy.create_api_key(session, row, mode=mode, name=name)
                return issued.key, row.name
        finally:
            await runtime.close()

    key, project_name = _run(main())
    if as_json:
        typer.echo(json.dumps({"key": key, "project": project_name, "mode": mode}))
    else:
        console.print(f"[bold]{mode}[/] key for project [bold]{project_name}[/] (shown once):")
        console.print(f"  [bold yellow]{key}[/]")


@apikeys_app.command("list")
def apikeys_list(
    project: Annotated[str | None, typer.Option(help="Only this project")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    data_dir: DataDir = None,
) -> None:
    """List API keys (prefixes only; keys themselves are never stored)."""
    rows = _run(_with_session(load_settings(data_dir), _list_keys(project)))
    if as_json:
        typer.echo(json.dumps(rows, default=str))
        return
    table = Table("id", "project", "mode", "prefix", "name", "created", "revoked")
    for row in rows:
        table.add_row(
            *(
                str(row[k] or "")
                for k in ("id", "project", "mode", "prefix", "name", "created_at", "revoked_at")
            )
        )
    console.print(table)


@apikeys_app.command("revoke")
def apikeys_revoke(
    key: Annotated[str, typer.Argument(help="Key id or displayed prefix (pk_test_XXXX)")],
    data_dir: DataDir = None,
) -> None:
    """Revoke an API key; it stops working at once."""

    async def revoke(session: Any) -> bool:
        from vouch.tenancy import service as tenancy

        return await tenancy.revoke_api_key(session, key)

    if not _run(_with_session(load_settings(data_dir), revoke)):
        err_console.print(f"no active key matches {key!r}")
        raise typer.Exit(1)
    console.print(f"revoked {key}")


def _list_keys(project: str | None) -> Any:
    async def run(session: Any) -> Any:
        from vouch.tenancy import service as tenancy

        return await tenancy.list_api_keys(session, project)

    return run


async def _with_session(settings: Settings, work: Any) -> Any:
    """Migrate, then run ``work(session)`` in one committed unit of work."""
    from vouch import db
    from vouch.runtime import Runtime

    await db.upgrade_async(settings)
    runtime = Runtime.build(settings)
    try:
        async with runtime.db.session() as session:
            return await work(session)
    finally:
        await runtime.close()


# -- keys -------------------------------------------------------------------------------------------
@keys_app.command("list")
def keys_list(
    data_dir: DataDir = None, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """List signing keys and their roles."""
    from vouch import db

    settings = load_settings(data_dir)
    db.upgrade(settings)

    async def main() -> list[dict[str, Any]]:
        from vouch.runtime import Runtime

        runtime = Runtime.build(settings)
        try:
            async with runtime.db.session() as session:
                await runtime.keyring.ensure_key(session)
                return await runtime.keyring.describe(session)
        finally:
            await runtime.close()

    rows = _run(main())
    if as_json:
        typer.echo(json.dumps(rows, default=str))
        return
    table = Table(
        "kid", "env", "purpose", "alg", "role", "signs from", "until", "last token expires"
    )
    for row in rows:
        table.add_row(
            row["kid"],
            row["environment"],
            row["purpose"],
            row["alg"],
            row["role"],
            str(row["not_before"]),
            str(row["not_after"]),
            str(row["last_token_expires_at"] or "—"),
        )
    console.print(table)


@keys_app.command("rotate")
def keys_rotate(
    data_dir: DataDir = None,
    immediate: Annotated[
        bool,
        typer.Option(
            help="Sign with the new key now (after a compromise) instead of after the publish lead"
        ),
    ] = False,
    withdraw_old: Annotated[
        bool,
        typer.Option(
            help="Withdraw the group's previous keys at once (key compromise): they leave the "
            "JWKS and are listed as tombstones, so every token they signed answers key_revoked"
        ),
    ] = False,
    env: Annotated[
        str, typer.Option("--env", help="Key set: live (jwks.json) or test (jwks-test.json)")
    ] = "live",
    purpose: Annotated[
        str, typer.Option(help="What the key signs: proof or status-list")
    ] = "proof",
) -> None:
    """Create the next signing key of one group (environment and purpose). It is published now and
    signs after the publish lead (VOUCH_KEY_PUBLISH_LEAD_SECONDS, default 24 h); the current key's
    window ends where the new one's begins, and it stays published until its tokens expire."""
    from vouch.signing.keys import ENVIRONMENTS, PURPOSES

    if env not in ENVIRONMENTS:
        raise typer.BadParameter(f"--env must be one of {', '.join(ENVIRONMENTS)}")
    if purpose not in PURPOSES:
        raise typer.BadParameter(f"--purpose must be one of {', '.join(PURPOSES)}")
    from vouch import db

    settings = load_settings(data_dir)
    db.upgrade(settings)

    async def main() -> tuple[str, str, list[str]]:
        from vouch.runtime import Runtime

        runtime = Runtime.build(settings)
        try:
            async with runtime.db.session() as session:
                await runtime.keyring.ensure_key(session)
                old = [
                    row["kid"]
                    for row in await runtime.keyring.describe(session)
                    if row["environment"] == env and row["purpose"] == purpose
                ]
                row = await runtime.keyring.rotate(
                    session,
                    immediate=immediate or withdraw_old,
                    environment=env,
                    purpose=purpose,
                )
                withdrawn = []
                if withdraw_old:
                    for kid in old:
                        if await runtime.keyring.withdraw(session, kid):
                            withdrawn.append(kid)
                return row.kid, str(row.not_before), withdrawn
        finally:
            await runtime.close()

    kid, not_before, withdrawn = _run(main())
    console.print(f"new {env} {purpose} key [bold]{kid}[/] published; signs from {not_before}")
    for old_kid in withdrawn:
        console.print(f"withdrawn: {old_kid}")


# -- verify -----------------------------------------------------------------------------------------
@app.command()
def verify(
    token: Annotated[str, typer.Argument(help="A proof token (JWT)")],
    jwks: Annotated[str | None, typer.Option("--jwks", help="JWKS URL")] = None,
    url: Annotated[str | None, typer.Option("--url", help="Server base URL")] = None,
    issuer: Annotated[
        str | None, typer.Option(help="Expected iss (default: the server URL)")
    ] = None,
    no_revocation: Annotated[
        bool, typer.Option("--no-revocation", help="Skip the revocation check")
    ] = False,
    test: Annotated[
        bool,
        typer.Option(
            "--test", help="Check a test-mode proof against the test key set (jwks-test.json)"
        ),
    ] = False,
) -> None:
    """Verify a proof token offline against the server's published keys and its status list.

    A test-mode proof is reported as such and refused unless --test is given: it proves nothing."""
    from vouch_sdk import EnvironmentMismatch, ProofInvalid, RevocationListUnavailable, Verifier

    base = (url or os.environ.get("VOUCH_PUBLIC_URL") or "http://127.0.0.1:8080").rstrip("/")
    if jwks and not url:
        base = jwks.split("/.well-known/")[0]
    verifier = Verifier(
        base,
        issuer=issuer or base,
        jwks_url=jwks,
        check_revocation=not no_revocation,
        test=test,
    )
    try:
        claims = verifier.verify(token)
    except EnvironmentMismatch as exc:
        if exc.reason == "test_proof":
            err_console.print(
                "[bold red]invalid (test_proof)[/]: a test-mode proof, made with a pk_test_ key; "
                "it proves nothing about a real person. Pass --test to check it against the "
                "test key set."
            )
        else:
            err_console.print(f"[bold red]invalid[/] ({exc.reason}): {exc}")
        raise typer.Exit(1) from None
    except ProofInvalid as exc:
        err_console.print(f"[bold red]invalid[/] ({exc.reason}): {exc}")
        raise typer.Exit(1) from None
    except RevocationListUnavailable as exc:
        err_console.print(f"[bold red]unknown[/] (status_unavailable): {exc}")
        raise typer.Exit(2) from None
    if test:
        console.print("[bold yellow]valid TEST proof[/] (test mode: not evidence of anything)")
    else:
        console.print("[bold green]valid[/]")
    console.print_json(json.dumps(claims.raw))


# -- demo --------------------------------------------------------------------------------------------
@app.command()
def demo(
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Where the demo keeps its data (default: a temp dir)"),
    ] = None,
    channel: Annotated[
        str | None,
        typer.Option(help="Play a person completing a verification over this channel (telegram)"),
    ] = None,
) -> None:
    """Walk the whole loop in-process: create → test-verify → verify offline → revoke → verify again.
    With --channel telegram: a person completes a Telegram verification against a Bot API stand-in."""
    from vouch.cli.demo import run_demo, run_telegram_demo

    if channel is None:
        raise typer.Exit(_run(run_demo(console, data_dir)))
    if channel != "telegram":
        raise typer.BadParameter("only 'telegram' is played so far", param_hint="--channel")
    raise typer.Exit(_run(run_telegram_demo(console, data_dir)))


telegram_app = typer.Typer(help="Telegram bot set-up.", no_args_is_help=True)
app.add_typer(telegram_app, name="telegram")


@telegram_app.command("set-webhook")
def telegram_set_webhook(
    url: Annotated[
        str | None, typer.Option(help="Webhook URL (default: $VOUCH_PUBLIC_URL/inbound/telegram)")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Register vouch's webhook (with its secret token) with the Telegram Bot API."""
    from vouch.channels.telegram import TelegramBot
    from vouch.errors import VouchError

    settings = load_settings(data_dir)
    token, secret = settings.telegram_bot_token, settings.telegram_webhook_secret
    if not token or not secret:
        err_console.print("set VOUCH_TELEGRAM_BOT_TOKEN and VOUCH_TELEGRAM_WEBHOOK_SECRET first")
        raise typer.Exit(2)
    target = url or f"{settings.public_url}/inbound/telegram"
    try:
        _run(TelegramBot(settings, token).set_webhook(target, secret))
    except VouchError as exc:
        err_console.print(f"[red]setWebhook failed:[/] {exc.message}")
        raise typer.Exit(1) from None
    console.print(f"webhook set: {target}")


if __name__ == "__main__":  # pragma: no cover
    app()
