"""How `make bench` prints its figure tables: a heading and a row per scenario, each figure
right-aligned in a column as wide as its title plus two."""

from __future__ import annotations

from collections.abc import Sequence


def print_columns(
    heading: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[tuple[str, Sequence[float]]],
    notes: dict[str, str] | None = None,
) -> None:
    """``columns``: (title, format spec) each; ``rows``: (scenario, its figures in column order);
    ``notes``: text after a scenario's row."""
    print(f"\n{heading:<12}" + "".join(f" {title:>{len(title) + 2}}" for title, _ in columns))
    for name, figures in rows:
        cells = "".join(
            f" {figure:>{len(title) + 2}{form}}" for (title, form), figure in zip(columns, figures, strict=True)
        )
        print(f"{name:<12}{cells}{(notes or {}).get(name, '')}")
