"""`dbc-validate report` on bad gate1.json: one line on stderr and exit 2, never a traceback; chart labels are text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dbc_validate.cli import main
from dbc_validate.criteria import CATALOG
from dbc_validate.evidence import EvidenceRecorder, TestEvidence
from dbc_validate.report.build import RunInfo, build_report
from dbc_validate.report.html import write_report
from dbc_validate.report.verdict import Outcome, TestResult
from dbc_validate.scope import Scope

MACRO = "$\\undefinedmacro$"


def good_report(series_name: str = "latency") -> dict:
    nodeid = "suites/gate1/test_x.py::test_x"
    evidence = TestEvidence()
    EvidenceRecorder(["security.rbac"], evidence).series(series_name, [0, 1, 2], [1.0, 2.0, 3.0], y_label=MACRO)
    tests = [TestResult(nodeid, ("security.rbac",), Outcome.PASSED, Scope.STATIC, "")]
    run = RunInfo(target_name="local", target_scope="local", started="s", finished="f", harness_version="0")
    return build_report(CATALOG, tests, {nodeid: evidence}, run)


def _without_area() -> dict:
    report = good_report()
    del report["criteria"][0]["area"]
    return report


def _wrong(key: str, value: object) -> dict:
    report = good_report()
    report[key] = value
    return report


def _status_number() -> dict:
    report = good_report()
    report["criteria"][2]["status"] = 3
    return report


def _series_x_text() -> dict:
    report = good_report()
    report["measurements"]["criteria"]["security.rbac"]["series"][0]["x"][1] = "one"
    return report


CASES = [
    ("non-utf8", b"\xff\xfe{not utf-8", "is not UTF-8 text"),
    ("not-json", b"{", "is not JSON"),
    ("a-json-string", b'"gate1"', "is a string, not a JSON object"),
    ("a-json-list", b"[]", "is a list, not a JSON object"),
    ("minimal", b"{}", "lacks verdict, target"),
    ("criteria-not-a-list", json.dumps(_wrong("criteria", {"a": 1})).encode(), "criteria is an object, not a list"),
    ("criterion-not-object", json.dumps(_wrong("criteria", [7])).encode(), "criteria[0] is a number, not an object"),
    ("criterion-without-area", json.dumps(_without_area()).encode(), "criteria[0] has no area"),
    ("status-a-number", json.dumps(_status_number()).encode(), "criteria[2].status is a number, not a string"),
    ("target-a-string", json.dumps(_wrong("target", "local")).encode(), "target is a string, not an object"),
    ("verdict-null", json.dumps(_wrong("verdict", None)).encode(), "verdict is null, not a string"),
    (
        "measurements-criteria-a-list",
        json.dumps(_wrong("measurements", {"criteria": [1]})).encode(),
        "measurements.criteria is a list, not an object",
    ),
    (
        "newer-schema",
        json.dumps(_wrong("schema_version", 2)).encode(),
        "has schema_version 2; this harness reads version 1",
    ),
    ("unknown-verdict", json.dumps(_wrong("verdict", "MAYBE")).encode(), "verdict: 'MAYBE' is not one of"),
    ("series-x-text", json.dumps(_series_x_text()).encode(), ".series[0].x[1] is a string, not a number"),
    ("partial-a-list", json.dumps(_wrong("partial", [1])).encode(), "partial is a list, not an object or null"),
]


@pytest.mark.parametrize(("name", "content", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_report_json_is_one_line_and_exit_two(tmp_path, capsys, name, content, message):
    path = tmp_path / "gate1.json"
    path.write_bytes(content)
    assert main(["report", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert not (tmp_path / "gate1.html").exists()


def test_a_series_named_like_mathtext_renders_as_plain_text(tmp_path: Path, capsys):
    json_path, _ = write_report(good_report(MACRO), tmp_path / "gate1.html")
    (tmp_path / "gate1.html").unlink()
    assert main(["report", str(json_path)]) == 0, capsys.readouterr().err
    assert "<svg" in (tmp_path / "gate1.html").read_text(encoding="utf-8")


def test_a_written_report_carries_its_schema_version_and_meets_its_own_schema(tmp_path):
    from dbc_validate.report.input_check import report_problem

    report = good_report()
    assert report["schema_version"] == 1
    assert report_problem(report) is None
    assert report_problem({k: v for k, v in report.items() if k != "schema_version"}) is None  # older files
