"""Messaging transports: inbound parse + authenticate, outbound send. No verification logic here:
a parsed message goes to ``vouch_server.control.inbound``, which decides what it proves."""
