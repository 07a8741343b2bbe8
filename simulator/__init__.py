"""pismo-sandbox: a local, stateful, contract-validated stand-in for Pismo's banking sandbox.

The public face: ``Sandbox`` (start one from Python, pismo_sandbox.launcher), ``AdminClient``
(its admin API, pismo_sandbox.client), ``EventReceiver`` (a local receiver of pushed events,
pismo_sandbox.receiver) and the pytest plugin (pismo_sandbox.pytest_plugin).
They are imported on first use, so serving never loads them.
"""

__version__ = "0.1.0"

_PUBLIC = {
    "Sandbox": "pismo_sandbox.launcher",
    "SandboxStartError": "pismo_sandbox.launcher",
    "AdminClient": "pismo_sandbox.client",
    "AdminError": "pismo_sandbox.client",
    "AccountSession": "pismo_sandbox.client",
    "EventReceiver": "pismo_sandbox.receiver",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> object:
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'pismo_sandbox' has no attribute {name!r}")
