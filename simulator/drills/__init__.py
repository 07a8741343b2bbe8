"""Fault-injection drills: scenario files (scenario.py), the runner that plays them against a
fresh sandbox (runner.py; its parts: sandbox_process.py, setup.py, exchanges.py, observation.py,
judging.py, client_program.py, consumer.py), the invariants and assertions that judge the client from the
sandbox's own state (invariants.py, assertions.py), and the reports (report.py).

The format is documented in scenarios/README.md; `pismo-sandbox drill FILE...` runs them.
"""
