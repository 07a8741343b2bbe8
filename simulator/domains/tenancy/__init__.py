"""Tenants (server credentials) and Pismo accounts: the state every other domain hangs off."""
