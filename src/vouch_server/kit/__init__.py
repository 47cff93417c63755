"""Domain-free helpers shared by every family: ids, time, canonical formats, secrets at rest."""
