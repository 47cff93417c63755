"""Agent proofs (ZeroProof surface): prove an AI agent holds its key, for one action, once."""
