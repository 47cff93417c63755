"""``vouch`` — serve, migrate, manage keys, verify tokens, and a guided demo (Typer + Rich)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from vouch_server.agents.cli import app as agents_app
from vouch_server.config import Settings
from vouch_server.mcp.cli import command as mcp_command

app = typer.Typer(help="vouch — a self-hostable trust server.", no_args_is_help=True)
apikeys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
keys_app = typer.Typer(help="Token signing keys: list and rotate.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
projects_app = typer.Typer(help="Projects (tenants).", no_args_is_help=True)
app.add_typer(apikeys_app, name="apikeys")
app.add_typer(projects_app, name="projects")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(agents_app, name="agents")
app.command("mcp")(mcp_command)

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
    """Run the server (migrates the database first; a fresh data dir gets a default project).

    The port is bound before anything else: if it is taken, nothing is created or printed but
    the error."""
    import uvicorn

    if workers > 1 and load_settings(data_dir).is_sqlite:
        raise typer.BadParameter("several workers need PostgreSQL (VOUCH_DATABASE_URL)")
    sock = _bind(host, port)
    overrides: dict[str, Any] = {}
    if "VOUCH_PUBLIC_URL" not in os.environ:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        if ":" in shown:
            shown = f"[{shown}]"
        overrides["public_url"] = f"http://{shown}:{sock.getsockname()[1]}"
    settings = load_settings(data_dir, **overrides)
    from vouch_server.observability.logs import configure_logging, logging_config

    configure_logging(settings)
    from vouch_server import db

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
    from vouch_server.app import create_app
    from vouch_server.channels.smtp_listener import start_smtp_listener

    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        os.environ["VOUCH_PUBLIC_URL"] = settings.public_url
        from vouch_server.runtime import Runtime

        # One listener for the whole server, on its own runtime and loop.
        listener = (
            start_smtp_listener(Runtime.build(settings), host, smtp_port)
            if smtp_port is not None
            else None
        )
        config = uvicorn.Config(
            "vouch_server.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            # Each worker process logs in VOUCH_LOG_FORMAT; vouch.access replaces uvicorn's lines.
            log_config=logging_config(settings),
            access_log=False,
        )
        try:
            # The workers share the socket bound above (what uvicorn.run would bind itself).
            with contextlib.suppress(KeyboardInterrupt):
                Multiprocess(config, sockets=[sock]).run()
        finally:
            sock.close()
            if listener is not None:
                listener.stop()
        return
    app_ = create_app(settings)

    async def main() -> None:
        server = uvicorn.Server(
            uvicorn.Config(
                app_,
                host=host,
                port=port,
                log_level="info",
                log_config=logging_config(settings),
                access_log=False,
            )
        )
        listener = (
            start_smtp_listener(app_.state.vouch, host, smtp_port)
            if smtp_port is not None
            else None
        )
        if listener is not None:
            console.print(f"  SMTP: inbound mail on {host}:{smtp_port}")
        try:
            await server.serve(sockets=[sock])
        finally:
            sock.close()
            if listener is not None:
                listener.stop()

    asyncio.run(main())


def _bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket as uvicorn would (SO_REUSEADDR, IPv6 for a host with ':'),
    or stop with one line naming the address."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        why = exc.strerror or str(exc)
        err_console.print(
            f"[bold red]error[/]: cannot listen on {escape(host)}:{port}: {escape(why)}",
            soft_wrap=True,
        )
        raise typer.Exit(1) from None
    sock.set_inheritable(True)
    return sock


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.effective_database_url).render_as_string(hide_password=True)


async def _bootstrap(settings: Settings) -> str | None:
    from vouch_server.runtime import Runtime
    from vouch_server.tenancy import service as tenancy

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
    from vouch_server import db
    from vouch_server.app import _sweeper
    from vouch_server.approval.endpoints import run_sweeper as run_approval_sweeper
    from vouch_server.runtime import Runtime
    from vouch_server.webhooks.delivery import DeliveryWorker

    settings = load_settings(data_dir)
    from vouch_server.observability.logs import configure_logging

    configure_logging(settings)
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
    from vouch_server import db

    settings = load_settings(data_dir)
    db.upgrade(settings, revision)
    console.print(f"database at [bold]{revision}[/]: {_safe_url(settings)}")


# -- apikeys ----------------------------------------------------------------------------------------
@apikeys_app.command("create")
def apikeys_create(
    project: Annotated[str, typer.Option(help="Name of an existing project")],
    mode: Annotated[str, typer.Option(help="test or live")] = "test",
    name: Annotated[str | None, typer.Option(help="A label for the key")] = None,
    create_project: Annotated[
        bool, typer.Option("--create-project", help="Create the project if it does not exist")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    data_dir: DataDir = None,
) -> None:
    """Create an API key. The key is shown once; only its hash is stored.

    An unknown project is refused (a typo would otherwise start a new tenant) unless
    --create-project is given."""
    if mode not in ("test", "live"):
        raise typer.BadParameter("mode must be 'test' or 'live'", param_hint="--mode")
    if not project.strip() or len(project) > 100:
        raise typer.BadParameter("project name must be 1–100 characters", param_hint="--project")
    from vouch_server import db

    settings = load_settings(data_dir)
    db.upgrade(settings)

    async def main() -> tuple[str, str] | list[str]:
        from vouch_server.runtime import Runtime
        from vouch_server.tenancy import service as tenancy

        runtime = Runtime.build(settings)
        try:
            async with runtime.db.session() as session:
                if create_project:
                    row, _ = await tenancy.get_or_create_project(session, project.strip())
                else:
                    found = await tenancy.find_project(session, project.strip())
                    if found is None:
                        return [str(p["name"]) for p in await tenancy.list_projects(session)]
                    row = found
                issued = await tenancy.create_api_key(session, row, mode=mode, name=name)
                return issued.key, row.name
        finally:
            await runtime.close()

    result = _run(main())
    if isinstance(result, list):
        known = ", ".join(result) if result else "none yet"
        err_console.print(
            f"[bold red]error[/]: no project named {escape(project.strip())!r} "
            f"(projects: {escape(known)}); pass --create-project to create it",
            soft_wrap=True,
        )
        raise typer.Exit(1)
    key, project_name = result
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
    rows = _iso_rows(_run(_with_session(load_settings(data_dir), _list_keys(project))))
    if as_json:
        _echo_json(rows)
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


# -- projects ---------------------------------------------------------------------------------------
@projects_app.command("list")
def projects_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    data_dir: DataDir = None,
) -> None:
    """List projects (tenants) with their number of active API keys."""

    async def work(session: Any) -> Any:
        from vouch_server.tenancy import service as tenancy

        return await tenancy.list_projects(session)

    rows = _iso_rows(_run(_with_session(load_settings(data_dir), work)))
    if as_json:
        _echo_json(rows)
        return
    table = Table("id", "name", "created", "active keys")
    for row in rows:
        table.add_row(row["id"], row["name"], row["created_at"], str(row["active_keys"]))
    console.print(table)


@apikeys_app.command("revoke")
def apikeys_revoke(
    key: Annotated[str, typer.Argument(help="Key id or displayed prefix (pk_test_XXXX)")],
    data_dir: DataDir = None,
) -> None:
    """Revoke an API key; it stops working at once."""

    async def revoke(session: Any) -> bool:
        from vouch_server.tenancy import service as tenancy

        return await tenancy.revoke_api_key(session, key)

    if not _run(_with_session(load_settings(data_dir), revoke)):
        err_console.print(f"no active key matches {key!r}")
        raise typer.Exit(1)
    console.print(f"revoked {key}")


def _list_keys(project: str | None) -> Any:
    async def run(session: Any) -> Any:
        from vouch_server.tenancy import service as tenancy

        return await tenancy.list_api_keys(session, project)

    return run


async def _with_session(settings: Settings, work: Any) -> Any:
    """Migrate, then run ``work(session)`` in one committed unit of work."""
    from vouch_server import db
    from vouch_server.runtime import Runtime

    await db.upgrade_async(settings)
    runtime = Runtime.build(settings)
    try:
        async with runtime.db.session() as session:
            return await work(session)
    finally:
        await runtime.close()


def _iso_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Listing rows with every instant as ISO 8601 UTC (``2026-02-04T10:00:00.000Z``)."""
    from vouch_server.kit.clock import isoformat_ms

    return [
        {k: isoformat_ms(v) if isinstance(v, datetime) else v for k, v in row.items()}
        for row in rows
    ]


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data))


# -- keys -------------------------------------------------------------------------------------------
@keys_app.command("list")
def keys_list(
    data_dir: DataDir = None, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """List signing keys and their roles."""
    from vouch_server import db

    settings = load_settings(data_dir)
    db.upgrade(settings)

    async def main() -> list[dict[str, Any]]:
        from vouch_server.runtime import Runtime

        runtime = Runtime.build(settings)
        try:
            async with runtime.db.session() as session:
                await runtime.keyring.ensure_key(session)
                return await runtime.keyring.describe(session)
        finally:
            await runtime.close()

    rows = _iso_rows(_run(main()))
    if as_json:
        _echo_json(rows)
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
            str(row["not_after"] or "—"),
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
    from vouch_server.signing.keys import ENVIRONMENTS, PURPOSES

    if env not in ENVIRONMENTS:
        raise typer.BadParameter(f"--env must be one of {', '.join(ENVIRONMENTS)}")
    if purpose not in PURPOSES:
        raise typer.BadParameter(f"--purpose must be one of {', '.join(PURPOSES)}")
    from vouch_server import db

    settings = load_settings(data_dir)
    db.upgrade(settings)

    async def main() -> tuple[str, str, list[str]]:
        from vouch_server.runtime import Runtime

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
    url: Annotated[
        str | None,
        typer.Option("--url", help="Server base URL (default: the token's iss, its public URL)"),
    ] = None,
    jwks: Annotated[
        str | None,
        typer.Option(
            "--jwks",
            help="A saved JWKS file (<server>/.well-known/jwks.json, or jwks-test.json for test "
            "proofs) to verify offline, or a JWKS URL",
        ),
    ] = None,
    status_list: Annotated[
        str | None,
        typer.Option(
            "--status-list",
            help="A saved Token Status List (the body of the proof's status.status_list.uri) "
            "for the revocation check",
        ),
    ] = None,
    issuer: Annotated[
        str | None,
        typer.Option(help="Expected iss (default: --url if given, else the token's own iss)"),
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
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
) -> None:
    """Verify a proof token against its issuer's published keys and its status list.

    Without --url the keys are fetched from the token's own iss: the answer says who issued the
    proof, so check that issuer is one you trust (or pin it with --url / --issuer). With
    --jwks FILE (and --status-list FILE) nothing is fetched. A test-mode proof is refused unless
    --test is given: it proves nothing. Exit status: 0 valid, 1 invalid, 2 could not be checked
    (server unreachable, unreadable file)."""
    from vouch_server.cli import verify as verifying

    outcome = verifying.check(
        token,
        url=url,
        jwks=jwks,
        status_list=status_list,
        issuer=issuer,
        check_revocation=not no_revocation,
        test=test,
    )
    verifying.render(outcome, console, err_console, as_json=as_json)
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)


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
    from vouch_server.cli.demo import run_demo, run_telegram_demo

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
    from vouch_server.channels.telegram import TelegramBot
    from vouch_server.errors import VouchError

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
