"""The event-delivery bench runs (smoke mode) and reports its figures."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


def test_the_delivery_bench_reports_throughput_and_both_request_path_modes(tmp_path, capsys):
    from bench import deliveries

    output = tmp_path / "bench.json"
    assert deliveries.main(["--smoke", "--output", str(output)]) == 0
    results = json.loads(output.read_text())
    assert results["delivery"]["events"] == 40 and results["delivery"]["events_delivered_per_second"] > 0
    assert set(results["request_path"]) == {"no subscription", "one subscription"}
    assert all(figures["rps"] > 0 for figures in results["request_path"].values())
    assert "delivered/s" in capsys.readouterr().out
