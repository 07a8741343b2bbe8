"""Helpers for the dashboard's HTTP tests: the rows a page shows, read from its HTML."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

UI = "/_sandbox/ui"
PAGES = ("tenants", "payments", "journal", "events", "faults")


@dataclass
class Row:
    attrs: dict
    parts: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())


class _Rows(HTMLParser):
    """Every element carrying data-row, with its text and the titles inside it."""

    def __init__(self):
        super().__init__()
        self.rows: list[Row] = []
        self._open: list[tuple[str, Row | None]] = []

    VOID = {"br", "input", "img", "meta", "link", "hr"}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        row = Row(attrs) if "data-row" in attrs else None
        if row is not None:
            self.rows.append(row)
        for _, open_row in self._open:
            if open_row is not None and attrs.get("title"):
                open_row.titles.append(attrs["title"])
        if row is not None and attrs.get("title"):
            row.titles.append(attrs["title"])
        if tag not in self.VOID:
            self._open.append((tag, row))

    def handle_endtag(self, tag):
        while self._open:
            opened, _ = self._open.pop()
            if opened == tag:
                break

    def handle_data(self, data):
        for _, row in self._open:
            if row is not None:
                row.parts.append(data)


def rows(html: str, selector_class: str | None = None) -> list[Row]:
    """The data-row elements of a page (table rows, cards), in page order."""
    parser = _Rows()
    parser.feed(html)
    return [r for r in parser.rows if selector_class is None or selector_class in r.classes]


def payment_rows(html: str) -> list[Row]:
    return [r for r in rows(html) if "data-payment" in r.attrs]


def live_html(client, section: str, **query) -> str:
    response = client.get(f"{UI}/live/{section}", query_string=query)
    assert response.status_code == 200, response.data
    return response.json["html"]


def page(client, path: str, **query) -> str:
    response = client.get(f"{UI}/{path}", query_string=query)
    assert response.status_code == 200, response.data[:500]
    return response.get_data(as_text=True)


def asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]*)"', html)
