"""What a scenario's CPU target allows a served request, and how much of it the request's own work
leaves for serving: the "budget" table `make bench` prints after the cost table.

A target is a CPU ratio to the bare app served alike (bench/README, the targets table): the
simulator may spend at most ``baseline served / target`` us of CPU a served request. Served, a
request costs its own work (the in-process replay; taken 2 ms apart when measured, as a served
request runs with cold caches) plus serving it. The bare app's serving (its served CPU less its
own in-process figure) is what gunicorn, the kernel and the wire cost any app; the simulator's
serving beyond that is its own (background threads, the writer lock, the interpreter lock handed
between threads, colder caches); the bare app's own figure is the median over the run's
scenarios, as it does the same work in each. ``best_cpu_ratio`` is the ratio if that beyond were
nothing: when it is under the target, cheaper serving alone cannot meet it, only a cheaper request.
"""

from __future__ import annotations

import statistics

from bench.table import print_columns

_BARE = "baseline_inprocess_cpu_us_per_request"
_BARE_SPACED = "baseline_inprocess_spaced_cpu_us_per_request"

# The second performance issue's targets, as CPU ratios to the bare app (and req/s ratios alike).
TARGETS = {"pay": 0.35, "register": 0.40, "credentials": 0.50}


def add_budgets(results: dict) -> None:
    """Each scenario's budget (``budget`` in its results entry) for those that have one.

    The bare app does the same work whatever the scenario (it answers a fixed body), so its own
    in-process figure is taken as the median over the run's scenarios: one noisy replay (a
    spaced figure of 280 us among 100 to 112) would otherwise move that scenario's budget alone.
    """
    spaced = all(r.get("inprocess_spaced_cpu_us_per_request") is not None for r in results.values())
    key = _BARE_SPACED if spaced else _BARE
    figures = [r[key] for r in results.values() if r.get(key)]
    if not figures:
        return
    bare_own = statistics.median(figures)
    for name, result in results.items():
        found = budget(name, result, bare_own, spaced)
        if found is not None:
            result["budget"] = found


def budget(name: str, result: dict, bare_own: float | None = None, spaced: bool | None = None) -> dict | None:
    """The scenario's budget from its figures (a results entry of bench.run), None if it has no
    target or lacks a figure. ``spaced``: whether own work is the spaced in-process figure (by
    default, when it was measured); ``bare_own``: the bare app's own in-process figure of the
    same kind (by default, the scenario's)."""
    target = TARGETS.get(name)
    if spaced is None:
        spaced = result.get("inprocess_spaced_cpu_us_per_request") is not None
    own = result.get("inprocess_spaced_cpu_us_per_request" if spaced else "inprocess_cpu_us_per_request")
    if bare_own is None:
        bare_own = result.get(_BARE_SPACED if spaced else _BARE)
    served, bare_served = result.get("cpu_us_per_request"), result.get("baseline_cpu_us_per_request")
    if target is None or not own or bare_own is None or served is None or not bare_served:
        return None
    bare_serving = max(bare_served - bare_own, 0.0)
    least = own + bare_serving
    allowed = bare_served / target
    return {
        "target_cpu_ratio": target,
        "allowed_cpu_us_per_request": round(allowed, 1),
        "own_work_cpu_us_per_request": round(own, 1),
        "own_work_spaced": spaced,
        "bare_own_cpu_us_per_request": round(bare_own, 1),
        "bare_serving_cpu_us_per_request": round(bare_serving, 1),
        "best_cpu_ratio": round(bare_served / least, 3),
        "serving_beyond_bare_cpu_us_per_request": round(served - least, 1),
        "own_work_allowed_cpu_us_per_request": round(allowed - bare_serving, 1),
    }


def print_budget(results: dict) -> None:
    """The budget table: a row per scenario with a budget, nothing when none has one."""
    rows = [(name, r["budget"]) for name, r in results.items() if r.get("budget")]
    if not rows:
        return
    spaced = all(b["own_work_spaced"] for _, b in rows)
    columns = [
        ("target", "target_cpu_ratio", ".2f"),
        ("allowed", "allowed_cpu_us_per_request", ".0f"),
        ("own work" + (" (spaced)" if spaced else ""), "own_work_cpu_us_per_request", ".0f"),
        ("own work allowed", "own_work_allowed_cpu_us_per_request", ".0f"),
        ("bare app's serving", "bare_serving_cpu_us_per_request", ".0f"),
        ("serving beyond it", "serving_beyond_bare_cpu_us_per_request", ".0f"),
        ("at best", "best_cpu_ratio", ".2f"),
    ]
    print_columns(
        "budget",
        [(title, form) for title, _, form in columns],
        [(name, [b[key] for _, key, _ in columns]) for name, b in rows],
    )
    print(
        "(us of CPU a served request; at best: the CPU ratio if serving cost the simulator what it costs"
        " the bare app; under the target, only a cheaper request's own work can meet it)"
    )
