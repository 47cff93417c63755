"""Proof of Delegation: people consent to be contacted by an agent (authorizations)."""
