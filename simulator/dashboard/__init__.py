"""The dashboard at /_sandbox/ui: server-rendered pages over the sandbox's state (see docs/dashboard.md)."""
