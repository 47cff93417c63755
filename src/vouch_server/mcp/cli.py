"""``vouch mcp``: the MCP tools over stdio (MCP "Transports" §stdio), talking to a vouch server's
HTTP API.

Configured like the MCP clients expect (``{"command": "vouch", "args": ["mcp"], "env": {…}}``):
``VOUCH_URL`` is the server, ``VOUCH_API_KEY`` the project's key. Without a key the server runs
in public mode and offers only the tools that need none. stdout carries the protocol; anything
else goes to stderr.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

DEFAULT_URL = "http://127.0.0.1:8080"


async def serve_stdio(url: str, api_key: str | None) -> None:
    from vouch_server.mcp.api import RemoteConnector
    from vouch_server.mcp.server import build_server

    connector = RemoteConnector(url, api_key)
    try:
        await build_server(connector, transport="stdio").run_stdio_async()
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
    asyncio.run(serve_stdio(url, api_key or None))
