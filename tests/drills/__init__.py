"""Tests of the drill format, runner, invariants and reports."""
