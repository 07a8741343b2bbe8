"""Behaviour through the HTTP interface (Flask test client), and the state it leaves."""
