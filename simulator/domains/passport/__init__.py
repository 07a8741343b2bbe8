"""Passport: server login (server key + secret -> tenant or account token)."""
