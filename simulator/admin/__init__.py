"""The control plane under /_sandbox: tenants, accounts, tokens, clock, events, journal, reset."""
