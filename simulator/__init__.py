"""pismo-sandbox: a local, stateful, contract-validated stand-in for Pismo's banking sandbox."""

__version__ = "0.1.0"
