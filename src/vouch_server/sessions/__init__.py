"""Phone-first sessions: the person's number is learnt from the channel."""
