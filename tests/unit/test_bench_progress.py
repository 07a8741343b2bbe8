"""The bench's progress lines and sizing: lines reach a file at once (even if the bench is
killed right after), pools follow the measured rate, and the CPU ratio is baseline/simulator."""

from __future__ import annotations

import pathlib
import subprocess
import sys

from bench import progress

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_a_progress_line_is_in_the_file_before_the_bench_dies(tmp_path):
    out = tmp_path / "bench.log"
    with out.open("w") as handle:
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import os, signal; from bench import progress;"
                " progress.line_buffered(); progress.say('preparing pay');"
                " print('table pending');"
                " os.kill(os.getpid(), signal.SIGKILL)",
            ],
            cwd=ROOT,
            stdout=handle,
        )
    lines = out.read_text().splitlines()
    assert lines[0].endswith("preparing pay") and lines[1] == "table pending"


def test_the_first_pool_is_a_guess_and_later_ones_follow_the_measured_rate():
    first = progress.pool_size(20_000, 10, [])
    assert first == round(progress.FIRST_GUESS_RPS * 10 * progress.HEADROOM)
    assert progress.pool_size(20_000, 10, [300.0, 500.0]) == 7000  # the best rate (500 a second for 10 s), 1.4 times
    assert progress.pool_size(20_000, 10, [5000.0]) == 20_000  # never more than --pool
    assert progress.pool_size(20_000, 1, [10.0]) == progress.LEAST_POOL
    assert progress.pool_size(20_000, 10, [], progress.first_guess("register")) == 20_000  # cheap to prepare
    assert progress.first_guess("receipts") == progress.FIRST_GUESS_RPS
    assert progress.pool_size(30_000, 10, [], progress.first_guess("pay")) == 23_800  # pay's first round


def test_the_cpu_ratio_is_the_baseline_cost_over_the_simulator_cost():
    assert progress.cpu_ratio(500.0, 1000.0) == 0.5
    assert progress.cpu_ratio(None, 1000.0) is None and progress.cpu_ratio(500.0, 0.0) is None
