"""Tests of the public face: the launcher, the admin client, state files, the pytest plugin."""
