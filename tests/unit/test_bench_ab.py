"""The served A/B's bookkeeping: each side goes first in turn, and the summary counts the rounds
where the change cost less."""

from __future__ import annotations

from bench.ab import served_summary, turn_order


def test_each_side_goes_first_in_turn():
    orders = [turn_order(["before", "after"], n) for n in range(4)]
    assert orders == [["before", "after"], ["after", "before"], ["before", "after"], ["after", "before"]]
    assert [turn_order(["a", "b", "c"], n)[0] for n in range(3)] == ["a", "b", "c"]


def test_the_summary_gives_medians_and_the_rounds_where_after_was_cheaper():
    runs = {
        "pay": {
            "before": [(1100, 1500, 0), (1000, 1600, 0), (1200, 1400, 0)],
            "after": [(900, 1700, 0), (1050, 1550, 0), (950, 1650, 0)],
        }
    }
    header, row = served_summary(runs)
    assert "after cheaper" in header
    fields = row.replace("(", " ").replace(")", " ").replace(",", "").split()
    assert fields == ["pay", "1100", "1500", "950", "1650", "2", "of", "3"]
