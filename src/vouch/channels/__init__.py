"""Messaging transports: inbound parse + authenticate, outbound send. No verification logic here:
a parsed message goes to ``vouch.control.inbound``, which decides what it proves."""
