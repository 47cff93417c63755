"""Tables of the agent-proof family (ZeroProof surface)."""
