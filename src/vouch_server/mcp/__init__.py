"""MCP server for vouch: every vouch operation as a tool an AI agent can call.

``vouch mcp`` serves the tools over stdio (Model Context Protocol, "Transports" §stdio) against a
vouch server's HTTP API; ``vouch serve`` mounts the same tools at ``/mcp`` over Streamable HTTP
(§Streamable HTTP), authenticated by the API key as a bearer. See docs/mcp.md.
"""
