"""The sandbox a drill run starts for itself: `python -m pismo_sandbox serve` on a free port with
a temporary database and the default configuration, through pismo_sandbox.launcher."""

from __future__ import annotations

from pismo_sandbox.drills.errors import DrillError
from pismo_sandbox.launcher import Sandbox, SandboxStartError


class SandboxProcess(Sandbox):
    """`python -m pismo_sandbox serve` on a free port with a temporary database, for one drill
    run (started by pismo_sandbox.launcher, like every sandbox).

    PISMO_SANDBOX_* variables of the caller's environment are not passed on: every drill sees the
    default configuration, whoever runs it."""

    def __init__(self, workers: int = 2, threads: int = 8, startup_timeout: float = 60.0):
        super().__init__(
            workers=workers,
            threads=threads,
            startup_timeout=startup_timeout,
            inherit_env=False,
            settings={"log_level": "WARNING"},
        )

    def start(self) -> "SandboxProcess":
        try:
            super().start()
        except SandboxStartError as error:
            raise DrillError(f"the sandbox did not start: {error}") from None
        return self
