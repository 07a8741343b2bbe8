"""Event delivery: subscriptions, the outbox derived from the event log, delivery formats
(pismo, sns, pubsub), retries, delivery faults and the background worker that pushes events."""
