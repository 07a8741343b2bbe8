"""Tests of the bundled contract, the compiled validators and the contract harness."""
