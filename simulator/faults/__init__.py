"""Fault injection: rules (what to break, when), their store, and the decision engine."""
