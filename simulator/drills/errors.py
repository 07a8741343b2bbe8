"""The one error of a drill run (the drill could not be carried out), and the admin client's
errors turned into it, naming the part of the drill that made the call."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from pismo_sandbox.client import AdminError


class DrillError(Exception):
    """The drill could not be carried out (setup refused, sandbox unreachable, ...)."""


@contextmanager
def admin_step(what: str) -> Iterator[None]:
    """Calls to the admin client inside fail with a DrillError that names ``what`` (e.g.
    ``setup.tenants[0]``), the call, and the sandbox's answer."""
    try:
        yield
    except AdminError as error:
        if error.status is None:
            raise DrillError(f"{what}: {error.method} {error.path} failed: {error}") from None
        body = error.body if isinstance(error.body, str) else json.dumps(error.body, separators=(",", ":"))
        raise DrillError(f"{what}: {error.method} {error.path} answered {error.status}: {body[:500]}") from None
