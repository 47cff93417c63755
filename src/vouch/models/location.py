"""Tables of the location-proof family (Astral surface)."""
