"""How `make bench` reads wrk's report, combines rounds and replays a scenario in-process (the
load itself needs wrk and is run by `make bench`, not by the suite)."""

from __future__ import annotations

import time

import pytest

from bench.servers import cpu_ticks
from bench.wrk import Measure, median_measure, parse_wrk

REPORT = """Running 5s test @ http://127.0.0.1:41000
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.20ms    4.11ms  88.10ms   80.00%
    Req/Sec   600.00     50.00   700.00     70.00%
  Latency Distribution
     50%  950.00us
     75%   14.00ms
     90%   18.00ms
     99%    1.20s
  6000 requests in 5.00s, 1.20MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:   1200.50
Transfer/sec:    245.00KB
"""


def test_a_wrk_report_becomes_figures_in_milliseconds_with_every_error_counted():
    measure = parse_wrk(REPORT, cpu_seconds_used=3.0)
    assert measure.rps == 1200.5
    assert measure.p50_ms == pytest.approx(0.95)
    assert measure.p99_ms == pytest.approx(1200.0)
    assert measure.requests == 6000
    assert measure.errors == 7 + 2 + 3
    assert measure.cpu_us_per_request == pytest.approx(500.0)


def test_a_wrk_report_without_a_figure_is_refused_naming_the_missing_figure():
    # wrk that could not connect prints no throughput and no latency distribution
    failed = REPORT.replace("Requests/sec:   1200.50\n", "")
    with pytest.raises(ValueError, match="Requests/sec"):
        parse_wrk(failed, cpu_seconds_used=0.0)
    with pytest.raises(ValueError, match="not a wrk duration"):
        parse_wrk(REPORT.replace("99%    1.20s", "99%    -"), cpu_seconds_used=0.0)


def test_steal_is_read_from_the_machine_wide_cpu_line_and_counted_in_the_total():
    # user nice system idle iowait irq softirq steal guest guest_nice (guest time is already
    # inside user, so it is not added again)
    stat = "cpu  100 5 40 800 10 1 4 40 7 0\ncpu0 50 2 20 400 5 0 2 20 3 0\n"
    assert cpu_ticks(stat) == (40, 100 + 5 + 40 + 800 + 10 + 1 + 4 + 40)
    assert cpu_ticks("cpu  100 5 40 800\n") == (0, 945)  # a kernel that reports no steal
    steal, total = cpu_ticks()  # this machine
    assert 0 <= steal <= total


def test_rounds_combine_into_each_figures_median_and_the_totals():
    rounds = [
        Measure(rps=r, p50_ms=p, p99_ms=q, requests=n, errors=e, cpu_us_per_request=c)
        for r, p, q, n, e, c in [
            (900, 10, 40, 4500, 0, 1500),
            (1200, 8, 90, 6000, 1, 1100),
            (1000, 12, 30, 5000, 2, 1300),
        ]
    ]
    for measure, steal in zip(rounds, (30.0, 2.0, 5.0)):
        measure.steal_pct = steal
    combined = median_measure(rounds)
    assert (combined.rps, combined.p50_ms, combined.p99_ms, combined.cpu_us_per_request) == (1000, 10, 40, 1300)
    assert combined.steal_pct == 5.0
    assert (combined.requests, combined.errors) == (15500, 3)


# -- the in-process replay -------------------------------------------------------------------------


def _echo_app():
    from flask import Flask, request

    app = Flask("echo")
    seen: list[dict] = []

    @app.route("/<path:anything>", methods=["GET", "POST"])
    def anything(anything: str):
        seen.append(
            {
                "path": request.path,
                "query": request.args.to_dict(),
                "key": request.headers.get("x-key"),
                "body": request.get_json(silent=True),
            }
        )
        return ({"ok": True}, 200) if request.args.get("fail") is None else ({"ok": False}, 409)

    app.config["seen"] = seen
    return app


def test_a_prepared_line_replays_in_process_with_its_query_headers_body_and_a_fresh_key_each_time():
    from bench.inprocess import call, environ_for
    from bench.wrk import line

    app = _echo_app()
    prepared = line(
        "POST",
        "/pay?perPage=20",
        {"x-key": "bench-{{n}}", "Content-Type": "application/json"},
        {"id": "{{n}}", "amount": 10},
    )
    assert call(app, environ_for(prepared)) == 200
    assert call(app, environ_for(prepared)) == 200
    first, second = app.config["seen"]
    assert first["path"] == "/pay" and first["query"] == {"perPage": "20"}
    assert first["key"] != second["key"] and first["key"].startswith("bench-")
    assert first["body"] == {"id": first["key"][len("bench-") :], "amount": 10}


def test_the_in_process_cost_is_positive_and_counts_answers_that_are_not_2xx():
    from bench.inprocess import WARM_UP, cpu_us_per_request
    from bench.wrk import line

    app = _echo_app()
    lines = [line("GET", "/ok", {}), line("GET", "/no?fail=1", {})]
    cost, failures = cpu_us_per_request(app, lines, count=60, rounds=3)
    assert cost > 0
    assert failures == 30  # every other measured request (the warm-up is not counted)
    assert len(app.config["seen"]) == 60 + WARM_UP


def test_spaced_in_process_cost_leaves_the_pauses_out_and_still_runs_every_request():
    from bench.inprocess import WARM_UP, cpu_us_per_request
    from bench.wrk import line

    app = _echo_app()
    lines = [line("GET", "/ok", {}), line("GET", "/no?fail=1", {})]
    gap_s = 0.02
    began = time.perf_counter()
    cost, failures = cpu_us_per_request(app, lines, count=30, rounds=3, gap_s=gap_s)
    assert time.perf_counter() - began >= 30 * gap_s  # every measured request waited first
    assert 0 < cost < gap_s * 1e6  # ...but the wait is not charged to it
    assert failures == 15
    assert len(app.config["seen"]) == 30 + WARM_UP


def _scenario_figures(**extra) -> dict:
    return {
        "rps": 600.0,
        "p50_ms": 20.0,
        "p99_ms": 60.0,
        "cpu_us_per_request": 2800.0,
        "errors": 0,
        "steal_pct": 1.0,
        "baseline_rps": 3900.0,
        "ratio_to_baseline": 0.154,
        "baseline_cpu_us_per_request": 440.0,
        "inprocess_cpu_us_per_request": 1400.0,
        "baseline_inprocess_cpu_us_per_request": 61.0,
        "inprocess_failures": 0,
        **extra,
    }


def test_the_cost_table_shows_the_spaced_columns_only_when_they_were_measured(capsys):
    from bench.run import print_table

    meta = {"startup_s": 1.1, "worker_rss_mb": [100.0, 110.0], "spaced_gap_ms": 2.0}
    print_table(
        {
            "pay": _scenario_figures(
                inprocess_spaced_cpu_us_per_request=2026.0, baseline_inprocess_spaced_cpu_us_per_request=209.0
            )
        },
        meta,
    )
    header, row = capsys.readouterr().out.split("CPU us/req", 2)[2].splitlines()[:2]
    assert header.split() == [
        "served",
        "in-process",
        "2",
        "ms",
        "apart",
        "serving",
        "baseline",
        "served",
        "baseline",
        "in-process",
        "baseline",
        "2",
        "ms",
        "apart",
    ]
    assert row.split() == ["pay", "2800", "1400", "2026", "1400", "440", "61", "209"]

    print_table({"pay": _scenario_figures()}, dict(meta, spaced_gap_ms=None))
    header, row = capsys.readouterr().out.split("CPU us/req", 2)[2].splitlines()[:2]
    assert "apart" not in header
    assert row.split() == ["pay", "2800", "1400", "1400", "440", "61"]


def test_start_up_is_printed_as_the_median_of_its_starts_with_their_range(capsys):
    from bench.run import print_table

    meta = {
        "startup_s": 1.31,
        "startup_s_runs": [1.45, 1.2, 1.31, 1.62, 1.28],
        "worker_rss_mb": [100.0, 110.0],
        "spaced_gap_ms": None,
    }
    print_table({"pay": _scenario_figures()}, meta)
    [line] = [text for text in capsys.readouterr().out.splitlines() if text.startswith("start-up")]
    assert "1.31 s (median of 5 starts, 1.20 to 1.62 s)" in line
    print_table({"pay": _scenario_figures()}, dict(meta, startup_s_runs=[1.31]))
    [line] = [text for text in capsys.readouterr().out.splitlines() if text.startswith("start-up")]
    assert "1.31 s;" in line and "median" not in line


# -- served CPU by kind of thread --------------------------------------------------------------------

_MASTER_AND_WORKER = """
import os, threading, time
from pismo_sandbox import background

def spin():
    began = time.thread_time()
    while time.thread_time() - began < 0.3:
        pass
    time.sleep(60)  # stay: the CPU of a thread that ended is no longer listed

if os.fork() == 0:  # the worker: one of the sandbox's named threads, one request thread
    background.start(spin, "journal-writer")
    threading.Thread(target=spin).start()
    time.sleep(60)
    os._exit(0)
time.sleep(60)
"""


def test_a_servers_cpu_is_told_apart_by_kind_of_thread():
    import subprocess
    import sys

    from bench.servers import cpu_by_thread

    master = subprocess.Popen([sys.executable, "-c", _MASTER_AND_WORKER])
    try:
        deadline = time.monotonic() + 30
        kinds = cpu_by_thread(master.pid)
        while (kinds.get("journal-writer", 0) < 0.25 or kinds.get("request threads", 0) < 0.25) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.05)
            kinds = cpu_by_thread(master.pid)
    finally:
        master.kill()
        master.wait()
    assert kinds["journal-writer"] >= 0.25 and kinds["request threads"] >= 0.25, kinds
    # the worker's main thread and the master only slept: far less than the spinning threads
    assert kinds.get("gunicorn loop", 0) < 0.2 and kinds.get("master", 0) < 0.2, kinds


def test_cpu_by_thread_per_request_is_the_difference_over_the_requests_and_rounds_take_medians():
    from bench.wrk import per_request

    before = {"request threads": 1.0, "gunicorn loop": 0.5}
    after = {"request threads": 3.0, "gunicorn loop": 0.6, "journal-writer": 0.1}
    assert per_request(before, after, 1000) == {
        "request threads": 2000.0,
        "gunicorn loop": 100.0,
        "journal-writer": 100.0,
    }
    rounds = [
        Measure(rps=1, p50_ms=1, p99_ms=1, requests=1, errors=0, cpu_us_per_request=1, cpu_us_by_thread=threads)
        for threads in (
            {"request threads": 900.0, "writer-lock": 30.0},
            {"request threads": 700.0},
            {"request threads": 800.0, "writer-lock": 10.0},
        )
    ]
    assert median_measure(rounds).cpu_us_by_thread == {"request threads": 800.0, "writer-lock": 10.0}


def test_the_thread_table_shows_the_kinds_measured_beside_the_bare_apps(capsys):
    from bench.run import print_table

    figures = _scenario_figures(
        cpu_us_by_thread={"request threads": 1144.0, "gunicorn loop": 81.0, "journal-writer": 32.0},
        baseline_cpu_us_by_thread={"request threads": 265.0, "gunicorn loop": 31.0},
    )
    print_table({"pay": figures}, {"startup_s": 1.1, "worker_rss_mb": [100.0], "spaced_gap_ms": None})
    lines = capsys.readouterr().out.splitlines()
    [header] = [line for line in lines if line.startswith("by thread")]
    row = lines[lines.index(header) + 1]
    assert header.split("  ")[0] == "by thread"
    assert [title.strip() for title in header[12:].split("  ") if title.strip()] == [
        "request threads",
        "gunicorn loop",
        "journal-writer",
        "bare app request threads",
        "bare app gunicorn loop",
    ]
    assert row.split() == ["pay", "1144", "81", "32", "265", "31"]


def test_a_tables_figures_end_under_their_titles_and_a_scenarios_note_follows_its_row(capsys):
    from bench.table import print_columns

    print_columns(
        "CPU us/req",
        [("served", ".0f"), ("at best", ".2f")],
        [("pay", [1310.4, 0.3649]), ("credentials", [712.0, 0.53])],
        {"pay": "  (3 in-process answers not 2xx)"},
    )
    _, header, pay, credentials = capsys.readouterr().out.splitlines()
    assert header.split() == ["CPU", "us/req", "served", "at", "best"]
    assert pay.split()[:3] == ["pay", "1310", "0.36"] and pay.endswith("  (3 in-process answers not 2xx)")
    assert credentials.split() == ["credentials", "712", "0.53"]
    for row in (pay, credentials):  # right-aligned: each figure ends where its title ends
        for title, figure in (("served", row.split()[1]), ("at best", row.split()[2])):
            end = header.index(title) + len(title)
            assert row[:end].endswith(" " + figure)


def test_the_cost_table_notes_a_scenario_whose_in_process_answers_were_not_all_2xx(capsys):
    from bench.run import print_table

    print_table({"pay": _scenario_figures(inprocess_failures=3)}, {"startup_s": 1.1, "worker_rss_mb": [100.0]})
    row = capsys.readouterr().out.split("CPU us/req", 2)[2].splitlines()[1]
    assert row.endswith("(3 in-process answers not 2xx)")


def test_the_scale_lines_name_the_errors_only_when_there_were_some(capsys):
    from bench.run import print_table

    scale = {
        "empty_p50_ms": 10.0,
        "loaded_p50_ms": 11.0,
        "empty_cpu_us_per_request": 1300,
        "loaded_cpu_us_per_request": 1350,
        "ratio": 1.1,
        "cpu_ratio": 1.04,
    }
    meta = {"startup_s": 1.1, "worker_rss_mb": [100.0], "spaced_gap_ms": None}
    print_table({"pay": _scenario_figures()}, dict(meta, scale={"pay": dict(scale, empty_errors=0, loaded_errors=0)}))
    [line] = [text for text in capsys.readouterr().out.splitlines() if text.startswith("pay: p50")]
    assert "errors" not in line
    print_table(
        {"pay": _scenario_figures()}, dict(meta, scale={"pay": dict(scale, empty_errors=1300, loaded_errors=7)})
    )
    [line] = [text for text in capsys.readouterr().out.splitlines() if text.startswith("pay: p50")]
    assert line.endswith("errors 1300 empty, 7 loaded")
