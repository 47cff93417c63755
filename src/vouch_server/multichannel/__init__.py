"""Multi-channel verifications: one phone over several channels, the first completion wins."""
