"""Tests against real served instances (gunicorn workers, real sockets)."""
