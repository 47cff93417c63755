"""The ``vouch`` command."""
