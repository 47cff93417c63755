"""Projects and API keys: who is calling, and in which environment (test or live)."""
