"""Tables of the signed-records family (Minka Ledger surface)."""
