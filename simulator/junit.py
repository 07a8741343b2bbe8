"""JUnit XML reports: the one writer the contract harness and the drills share.

A report is always well-formed XML 1.0, whatever it carries. Fuzzed requests, responses and a
client's output may hold characters XML 1.0 cannot represent at all (C0 control characters but
tab and newline, lone surrogates, U+FFFE/U+FFFF): each is written as a visible escape
(``\\x03``, ``\\ud800``) instead, in text and in attribute values alike. Carriage returns become
newlines (an XML parser would do so anyway). The layout is the one CI systems read (Jenkins,
GitLab, GitHub test reporters): ``<testsuites>`` of ``<testsuite>`` of ``<testcase>``, each case
with any number of ``<failure>``/``<error>`` elements; counts are derived, never given.

ElementTree escapes markup (``<``, ``&``, quotes); what it does not do is refuse characters XML
cannot carry, which is why they are replaced here before anything reaches it.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, UTC

# What XML 1.0 allows (https://www.w3.org/TR/xml/#charsets), negated.
_NOT_XML = re.compile("[^\u0009\u000a\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def xml_text(text: str | None) -> str:
    """``text`` with every character XML 1.0 cannot carry replaced by a visible escape."""
    if not text:
        return ""
    return _NOT_XML.sub(_escape, str(text).replace("\r\n", "\n").replace("\r", "\n"))


@dataclass
class Outcome:
    """A ``<failure>`` or ``<error>`` of a test case."""

    message: str
    type: str
    text: str = ""


@dataclass
class Case:
    name: str
    classname: str
    time: float = 0.0
    failures: list[Outcome] = field(default_factory=list)
    errors: list[Outcome] = field(default_factory=list)
    system_out: str | None = None


@dataclass
class Suite:
    name: str
    cases: list[Case] = field(default_factory=list)
    properties: list[tuple[str, str]] = field(default_factory=list)
    time: float = 0.0
    file: str | None = None
    system_out: str | None = None

    @property
    def failures(self) -> int:
        return sum(1 for case in self.cases if case.failures)

    @property
    def errors(self) -> int:
        return sum(1 for case in self.cases if case.errors and not case.failures)


MESSAGE_LIMIT = 1000  # characters of a failure's message attribute (the full text is the body)


def _element(parent: ET.Element, tag: str, **attributes: str | None) -> ET.Element:
    return ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attributes.items() if v is not None})


def to_xml(suites: list[Suite], name: str) -> str:
    """The report as text (UTF-8 declaration included)."""
    host = socket.gethostname()
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "")
    root = ET.Element("testsuites", name=xml_text(name))
    for suite in suites:
        node = _element(
            root,
            "testsuite",
            name=suite.name,
            tests=str(len(suite.cases)),
            failures=str(suite.failures),
            errors=str(suite.errors),
            skipped="0",
            time=f"{suite.time:.3f}",
            timestamp=stamp,
            hostname=host,
            file=suite.file,
        )
        if suite.properties:
            properties = ET.SubElement(node, "properties")
            for key, value in suite.properties:
                _element(properties, "property", name=key, value=value)
        for case in suite.cases:
            element = _element(node, "testcase", classname=case.classname, name=case.name, time=f"{case.time:.3f}")
            for tag, outcomes in (("failure", case.failures), ("error", case.errors)):
                for outcome in outcomes:
                    _element(element, tag, message=outcome.message[:MESSAGE_LIMIT], type=outcome.type).text = xml_text(
                        outcome.text
                    )
            if case.system_out:
                ET.SubElement(element, "system-out").text = xml_text(case.system_out)
        if suite.system_out:
            ET.SubElement(node, "system-out").text = xml_text(suite.system_out)
    root.set("tests", str(sum(len(s.cases) for s in suites)))
    root.set("failures", str(sum(s.failures for s in suites)))
    root.set("errors", str(sum(s.errors for s in suites)))
    root.set("time", f"{sum(s.time for s in suites):.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write(path: str, suites: list[Suite], name: str) -> None:
    """Write the report to ``path`` (UTF-8)."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(to_xml(suites, name))
