"""Verification methods: one per (type, channel), behind one Protocol and one registry.

A method says what the person is asked to do (the challenge fields shown on create), what happens
after creation (e.g. sending a message, in later channel modules), and whether a submission proves
control. The verification service owns everything around it: attempts, backoff, expiry, the
one-time completion and the proof token. Channel and method modules register themselves here.
"""

from __future__ import annotations

from vouch_server.control.methods.base import (
    Accepted,
    ChallengeContext,
    CheckOutcome,
    NotYet,
    Outcome,
    Rejected,
    SubmitContext,
    VerificationMethod,
)
from vouch_server.control.methods.registry import all_methods, get_method, register

__all__ = [
    "Accepted",
    "ChallengeContext",
    "CheckOutcome",
    "NotYet",
    "Outcome",
    "Rejected",
    "SubmitContext",
    "VerificationMethod",
    "all_methods",
    "get_method",
    "register",
]
