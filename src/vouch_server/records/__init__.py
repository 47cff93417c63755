"""Signed records with quorum (Minka Ledger surface)."""
