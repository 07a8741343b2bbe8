"""What a contract run prints and writes: one progress line per operation and no access log, a
summary table, failures with their request, response and a hint, and JUnit XML that a strict
parser reads whatever characters fuzzing put into it (the writer is shared with the drills)."""

from __future__ import annotations

import json
import xml.dom.minidom
import xml.etree.ElementTree as ET

from hypothesis import given, settings, strategies as st
from werkzeug.wrappers import Request, Response

from pismo_sandbox import junit
from pismo_sandbox.app import create_app
from pismo_sandbox.config import Config
from pismo_sandbox.contracts import harness, report
from pismo_sandbox.drills.model import Check, DrillResult
from pismo_sandbox.drills.report import junit_xml
from tests.contract.cli import run_contract

# Any text at all, control characters, lone surrogates and U+FFFE included.
ANY_TEXT = st.text(
    st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=80
)
CONTROL_TEXT = st.text(
    st.sampled_from([chr(c) for c in range(32)] + ["\ud800", "\ufffe", "\uffff", *"a<&>\"'"]), min_size=1, max_size=40
)
FUZZED = st.one_of(ANY_TEXT, CONTROL_TEXT)


def _strictly_parsed(text: str) -> ET.Element:
    xml.dom.minidom.parseString(text.encode("utf-8"))  # expat, strict: one bad character fails it
    return ET.fromstring(text.encode("utf-8"))


@settings(max_examples=60, deadline=None)
@given(title=FUZZED, message=FUZZED, body=FUZZED, label=FUZZED, error=FUZZED)
def test_a_contract_report_full_of_fuzzed_characters_is_well_formed_xml(
    tmp_path_factory, title, message, body, label, error
):
    result = harness.HarnessResult(target="t" + label, seed=1, examples=1, errors=[error or "e"])
    op = result.operations[label] = harness.OperationResult(label=label, spec="spec" + label, cases=3)
    op.findings.append(
        harness.Finding(
            operation=label,
            check="not_a_server_error",
            title=title,
            message=message,
            status_code=500,
            phase="fuzzing",
            reproduce="curl " + body,
            request="POST /x\n  body: " + body,
            response="500\n  body: " + body,
        )
    )
    path = tmp_path_factory.mktemp("junit") / "contract.xml"
    result.write_junit(str(path))
    root = _strictly_parsed(path.read_text(encoding="utf-8"))
    [case] = root.find("testsuite").findall("testcase")
    assert case.get("name") == junit.xml_text(label)
    failure = case.find("failure")
    assert failure.get("message") == junit.xml_text(title)[: junit.MESSAGE_LIMIT]
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "1", "1")


@settings(max_examples=40, deadline=None)
@given(summary=FUZZED, stdout=FUZZED, description=FUZZED)
def test_a_drill_report_full_of_fuzzed_characters_is_well_formed_xml(summary, stdout, description):
    result = DrillResult(
        "drill",
        "scenarios/x.yaml",
        description or "d",
        duration=0.5,
        checks=[Check("client", "client exit code", False, summary, [stdout])],
    )
    root = _strictly_parsed(junit_xml([result]))
    failure = root.find("testsuite").find("testcase").find("failure")
    assert failure.get("message") == junit.xml_text(summary)[: junit.MESSAGE_LIMIT]


@given(FUZZED)
def test_text_xml_can_carry_is_kept_and_the_rest_is_escaped_visibly(text):
    cleaned = junit.xml_text(text)
    element = ET.Element("x", attribute=cleaned)
    element.text = cleaned
    parsed = _strictly_parsed(ET.tostring(element, encoding="unicode"))
    assert (parsed.text or "") == cleaned and parsed.get("attribute") == cleaned
    legal = all(
        c in "\t\n" or 0x20 <= ord(c) <= 0xD7FF or 0xE000 <= ord(c) <= 0xFFFD or ord(c) >= 0x10000 for c in text
    )
    assert (cleaned == text) == legal or "\r" in text


def test_control_characters_become_escapes_a_reader_can_see():
    assert junit.xml_text("a\x03b\x1c\ud800") == "a\\x03b\\x1c\\ud800"


def test_a_long_body_is_cut_and_secrets_are_filtered():
    body = json.dumps({"server_secret": "s3cr3t", "items": ["x" * 50] * 40}).encode()
    text = report.body_excerpt(body, limit=200)
    assert "s3cr3t" not in text and "[Filtered]" in text
    assert len(text) < 260 and "more characters)" in text
    assert report.body_excerpt(b"") == "(empty)"
    assert report.body_excerpt(b"\x00binary\x1b") == "\\x00binary\\x1b"


def test_the_hint_points_at_the_simulator_or_at_the_target_by_what_was_tested():
    assert "fix the simulator" in report.hint("status_code_conformance", simulator=True)
    remote = report.hint("status_code_conformance", simulator=False)
    assert "fix the simulator" not in remote and "target differs from the bundled contract" in remote


def _broken(app):
    """The simulator, with every 400 of Register credentials given an undocumented code."""

    def wsgi(environ, start_response):
        request = Request(environ)
        response = Response.from_app(app, environ, buffered=True)
        if request.path == "/banking-auth/v1/credentials" and response.status_code == 400:
            response.set_data(json.dumps({"code": "NOT-DOCUMENTED\x03", "message": "m" * 2000}))
        return response(environ, start_response)

    return wsgi


def test_a_failure_shows_the_request_the_offending_response_and_a_hint(tmp_path):
    app = _broken(create_app(Config(db_path=str(tmp_path / "sandbox.db"))))
    lines: list[str] = []
    result = harness.run(
        app=app, specs=["banking-auth"], examples=3, phases=("examples", "coverage"), progress=lines.append
    )
    [finding, *_] = [f for f in result.findings if f.check == "documented_error_envelope"]
    assert finding.request.startswith("POST http://localhost/banking-auth/v1/credentials")
    assert finding.response.startswith("400") and "NOT-DOCUMENTED\\u0003" in finding.response
    assert "more characters)" in finding.response  # the 2000-character message is cut
    text = result.summary()
    assert "request:  POST /banking-auth/v1/credentials" in text and "response: 400" in text
    assert "hint: the error body" in text and "http://127.0.0.1:8080/banking-auth/v1/credentials" in text
    assert "FAIL POST /banking-auth/v1/credentials: documented_error_envelope x" in text
    assert text.splitlines()[3].split()[:3] == ["FAIL", "/", "1"]  # the table's row for the document
    assert [line for line in lines if "POST /banking-auth/v1/credentials" in line] == [
        report.operation_line(result.operations["POST /banking-auth/v1/credentials"])
    ]


def test_the_cli_prints_one_line_per_operation_and_no_access_log():
    completed = run_contract("--spec", "banking-auth,passport", "--examples", "2")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "pismo_sandbox.access" not in completed.stdout + completed.stderr
    progress = completed.stderr.splitlines()
    assert [line.split()[1:3] for line in progress if line.startswith("  ok")] == [
        ["POST", "/banking-auth/v1/credentials"],
        ["POST", "/passport/v2/s2s/access-token"],
    ]
    assert len(progress) + len(completed.stdout.splitlines()) < 20
    assert "OK: 0 failures" in completed.stdout


def test_server_log_brings_the_access_log_back():
    completed = run_contract("--spec", "passport", "--examples", "1", "--server-log", "-q")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "pismo_sandbox.access" in completed.stderr
    assert "  ok " not in completed.stderr  # -q: no progress lines


def test_an_unreachable_base_url_is_one_error_naming_the_fix():
    from pismo_sandbox.launcher import free_port

    completed = run_contract(
        "--base-url", f"http://127.0.0.1:{free_port()}", "--provision", "--spec", "banking-auth", timeout=120
    )
    assert completed.returncode == 2
    [error] = [line for line in completed.stdout.splitlines() if line.startswith("- ")]
    assert error.endswith("connection refused; check --base-url and that the target is running")
    assert "Traceback" not in completed.stdout + completed.stderr


def test_an_app_handed_over_keeps_its_fault_rules_unless_told_and_the_summary_says_so(tmp_path):
    app = create_app(Config(db_path=str(tmp_path / "sandbox.db")))
    client = app.test_client()
    rule = client.post(
        "/_sandbox/faults", json={"match": {"tenant_id": "TN-elsewhere"}, "action": {"type": "status", "status": 503}}
    ).json
    kept = harness.run(app=app, specs=["passport"], examples=1, phases=("examples",))
    assert [r["id"] for r in client.get("/_sandbox/faults").json["items"]] == [rule["id"]]
    assert f"the target has 1 fault rule(s) ({rule['id']})" in kept.summary()
    cleared = harness.run(app=app, specs=["passport"], examples=1, phases=("examples",), clear_faults=True)
    assert client.get("/_sandbox/faults").json["items"] == [] and not cleared.notes
