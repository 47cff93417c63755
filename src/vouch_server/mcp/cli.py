"""``vouch mcp``: the MCP tools over stdio (MCP "Transports" §stdio), talking to a vouch server's
HTTP API.

Configured like the MCP clients expect (``{"command": "vouch", "args": ["mcp"], "env": {…}}``):
``VOUCH_URL`` is the server, ``VOUCH_API_KEY`` the project's key (or ``--url`` / ``--api-key``).
Without a key the server runs in public mode and offers only the tools that need none; a key
the server refuses stops it at start with a message on stderr (exit status 1), as ``/mcp``
answers 401. stdout carries the protocol; anything else goes to stderr.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # the SDK loads only when ``vouch mcp`` runs, not for every vouch command
    from vouch_server.mcp.api import RemoteConnector

DEFAULT_URL = "http://127.0.0.1:8080"


async def key_is_refused(connector: RemoteConnector) -> bool:
    """True when vouch answers 401 to the configured key: the stdio counterpart of ``/mcp``'s
    401 for a bad bearer. An unreachable server is not a refusal (it may be starting); the
    tools report it when called."""
    import httpx

    async with connector.client(None) as http:
        try:
            response = await http.get("/api/v1/hitl", params={"limit": 1}, timeout=10.0)
        except httpx.HTTPError:
            return False
    return response.status_code == 401


async def serve_stdio(url: str, api_key: str | None) -> int:
    from vouch_server.mcp.api import RemoteConnector
    from vouch_server.mcp.server import build_server

    connector = RemoteConnector(url, api_key)
    try:
        if connector.api_key and await key_is_refused(connector):
            typer.echo(
                f"vouch mcp: {url} refuses this API key (invalid or revoked); set a valid "
                "VOUCH_API_KEY, or none for the public tools only",
                err=True,
            )
            return 1
        await build_server(connector, transport="stdio").run_stdio_async()
        return 0
    finally:
        await connector.aclose()


def command(
    url: Annotated[
        str,
        typer.Option("--url", envvar="VOUCH_URL", help="The vouch server (its public URL)"),
    ] = DEFAULT_URL,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            envvar="VOUCH_API_KEY",
            help="The project's API key; without one only the keyless tools are offered",
            show_default=False,
        ),
    ] = None,
    list_tools: Annotated[
        bool, typer.Option("--list-tools", help="Print the tool table (markdown) and exit")
    ] = False,
) -> None:
    """Serve vouch's tools to an AI agent over MCP (stdio)."""
    if list_tools:
        from vouch_server.mcp.server import tools_markdown

        typer.echo(tools_markdown(), nl=False)
        return
    if not url.startswith(("http://", "https://")):
        raise typer.BadParameter("must be an http(s) URL", param_hint="--url / VOUCH_URL")
    code = asyncio.run(serve_stdio(url, api_key or None))
    if code:
        raise typer.Exit(code)
