"""Proof of Action: human-in-the-loop configs and confirmations."""
