"""Tables of Proof of Delegation and Proof of Action (authorizations, HITL configs, confirmations)."""
