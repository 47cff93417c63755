"""What an operator watches: Prometheus metrics (``metrics``), one access-log line per request
and the JSON log format (``logs``), and the ASGI layer that feeds both (``middleware``)."""
