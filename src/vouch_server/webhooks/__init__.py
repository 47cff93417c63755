"""Outbound events: webhook endpoints, a transactional outbox, a delivery worker, the delivery log."""
