"""The vouch MCP server: the tools of :mod:`vouch_server.mcp.tools` on the official ``mcp`` SDK's
``MCPServer``, and the generated tool table of ``docs/mcp.md``."""

from __future__ import annotations

from typing import Any, Literal

from mcp.server.mcpserver import MCPServer

from vouch_server import __version__
from vouch_server.mcp.api import Connector
from vouch_server.mcp.tools import TOOLS, Pacing, ToolSpec

Transport = Literal["stdio", "http"]

INSTRUCTIONS = """\
vouch issues signed, offline-verifiable proofs: that a person controls an asset
(verifications), consented to be contacted (authorizations), approved an action
(confirmations), that an AI agent is who it claims (agents), that enough signers stand
behind a record (records), and how well evidence supports a location claim (location).

To get a human's approval before acting: create_hitl once (or list_hitl), then
create_confirmation, hand the human the approval link if any, wait_for_confirmation, and act
only when it returns approved: true. Proof tokens can be checked with validate_proof or,
without a key, verify_proof_offline. Test keys (pk_test_) never produce evidence: their proofs
carry test: true.
"""

PUBLIC_INSTRUCTIONS = """\
Public mode (no API key): only the tools that need no key are available: {names}. To use
every vouch tool, give the server a project's API key (VOUCH_API_KEY for vouch mcp, an
Authorization: Bearer header for /mcp).
"""


class VouchMCP(MCPServer[Any]):
    """An ``MCPServer`` that knows how its tools reach vouch (``connector``) and how its wait
    tools tell time (``pacing``)."""

    def __init__(
        self, connector: Connector, *, pacing: Pacing | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.connector = connector
        self.pacing = pacing or Pacing()


def offered(*, public: bool, transport: Transport) -> list[ToolSpec]:
    """The tools a server offers: keyless ones only in public mode; local-file ones on stdio."""
    return [
        spec
        for spec in TOOLS
        if (spec.public or not public) and (transport == "stdio" or not spec.local_only)
    ]


def build_server(
    connector: Connector, *, transport: Transport, pacing: Pacing | None = None
) -> VouchMCP:
    public = connector.public
    tools = offered(public=public, transport=transport)
    names = ", ".join(spec.name for spec in tools)
    server = VouchMCP(
        connector,
        pacing=pacing,
        name="vouch",
        title="vouch",
        version=__version__,
        instructions=PUBLIC_INSTRUCTIONS.format(names=names) if public else INSTRUCTIONS,
        website_url=connector.base_url,
        log_level="WARNING",
    )
    for spec in tools:
        server.add_tool(
            spec.fn,
            name=spec.name,
            description=spec.description,
            annotations=spec.annotations,
            structured_output=True,
        )
    return server


def tools_markdown() -> str:
    """The tool table of docs/mcp.md, generated from the registry (``vouch mcp --list-tools``)."""
    lines = [
        "| tool | family | public | description |",
        "|---|---|---|---|",
    ]
    for spec in TOOLS:
        flags = "yes" if spec.public else ""
        if spec.local_only:
            flags = "stdio only"
        summary = spec.summary.replace("|", "\\|")
        lines.append(f"| `{spec.name}` | {spec.family} | {flags} | {summary} |")
    return "\n".join(lines) + "\n"
