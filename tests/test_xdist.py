"""Under pytest-xdist (`-n N`) the workers' records and evidence reach the controller, which writes the one
report: gate1.json equals that of the same run without -n, and the verdict line is printed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import KIND_OVERLAY, SUITES

from dbc_validate.capabilities import Capability
from dbc_validate.evidence import EvidenceRecorder, TestEvidence, evidence_from_wire, evidence_to_wire
from dbc_validate.report.verdict import Outcome
from dbc_validate.session import Gate1Session, TestRecord
from dbc_validate.settings import Settings

pytest.importorskip("xdist", reason="pytest-xdist is a test extra: pip install -e '.[test]'")

# Several modules so that both workers get tests: evidence with units and a series, a threshold missed,
# a failure, a skip and a test -k deselects.
PROJECT = {
    "test_a": """
        import pytest

        @pytest.mark.gate1("stability.soak")
        def test_measures(manifest_set, gate1_evidence):
            gate1_evidence.measure("objects", len(manifest_set), "count")
            gate1_evidence.measure("ratio", 2 / 3)
            gate1_evidence.measure("per_variant", {"blue": 7, "green": 3})
            gate1_evidence.series("restarts", [0, 1, 2], [0, None, 1], y_label="restarts")
            gate1_evidence.threshold(False, "covered 1m00s of 48 h")

        @pytest.mark.gate1("security.rbac")
        def test_fails(manifest_set):
            assert len(manifest_set) == 99, "rbac finding: a wildcard verb"
    """,
    "test_b": """
        import pytest

        @pytest.mark.gate1("security.network_policies")
        def test_skips(manifest_set):
            pytest.skip("nothing to check: no NetworkPolicy")

        @pytest.mark.gate1("security.sealed_secrets")
        def test_notes(manifest_set, gate1_evidence):
            gate1_evidence.note("the set has 0 SealedSecrets")
            gate1_evidence.measure("sealed", 0, "count")
    """,
    "test_c": """
        import pytest

        @pytest.mark.gate1("databases.cjk_parser")
        def test_deselected(manifest_set):
            pass

        @pytest.mark.gate1("stability.soak")
        def test_second_of_criterion(manifest_set, gate1_evidence):
            gate1_evidence.measure("containers", 12, "count")
    """,
}
MANIFEST = "apiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n"


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """gate1.json without what differs between any two runs (times, durations)."""
    tests = {
        nodeid: {k: v for k, v in entry.items() if k != "duration_s"}
        for nodeid, entry in report["measurements"]["tests"].items()
    }
    return {
        "verdict": report["verdict"],
        "partial": report["partial"],
        "target": report["target"],
        "criteria": report["criteria"],
        "details": report["measurements"]["criteria"],
        "tests": list(tests.items()),  # order kept: it is collection order in both runs
        "missing_for_go": report["measurements"]["missing_for_go"],
        "notes": report["measurements"]["notes"],
    }


def run(pytester: pytest.Pytester, name: str, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    html = pytester.path / name / "gate1.html"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--target", "local", f"--gate1-report={html}", *args, timeout=300
    )
    return result, json.loads(html.with_suffix(".json").read_text(encoding="utf-8"))


def test_a_distributed_run_reports_what_the_same_run_reports_in_one_process(pytester: pytest.Pytester):
    pytester.makepyfile(**PROJECT)
    (pytester.path / "manifests").mkdir()
    (pytester.path / "manifests" / "set.yaml").write_text(MANIFEST)
    common = ("--manifests", "manifests/set.yaml", "-k", "not deselected")

    single, alone = run(pytester, "single", *common)
    spread, merged = run(pytester, "spread", "-n", "2", *common)

    single.assert_outcomes(passed=3, failed=1, skipped=1, deselected=1)
    spread.assert_outcomes(passed=3, failed=1, skipped=1)
    assert "created: 2/2 workers" in spread.stdout.str()  # really two processes
    assert comparable(merged) == comparable(alone)
    # The merge carried what only workers saw: evidence, outcomes and the partial mark.
    soak = next(c for c in merged["criteria"] if c["id"] == "stability.soak")
    assert soak["measured"] == {"objects": 1, "ratio": 2 / 3, "per_variant": {"blue": 7, "green": 3}, "containers": 12}
    assert soak["status"] == "PASSED_BELOW_GATE" and "covered 1m00s of 48 h" in soak["short_of"]
    statuses = {c["id"]: c["status"] for c in merged["criteria"]}
    assert statuses["security.rbac"] == "FAIL" and statuses["security.network_policies"] == "NOT_RUN"
    assert merged["measurements"]["criteria"]["stability.soak"]["series"][0]["y"] == [0, None, 1]
    assert merged["partial"] == {"selected": 4, "of": len(merged["criteria"])}
    spread.stdout.fnmatch_lines(["*Gate 1 verdict: NO-GO (*", f"report: {pytester.path / 'spread' / 'gate1.html'}*"])


def test_the_static_suites_give_equal_criteria_with_and_without_xdist(pytester: pytest.Pytester):
    common = (str(SUITES), f"--rootdir={pytester.path}", "--manifests", str(KIND_OVERLAY), "-m", "static")
    _, alone = run(pytester, "single", *common)
    spread, merged = run(pytester, "spread", "-n", "2", *common)
    assert [c["status"] for c in alone["criteria"]].count("PASSED_BELOW_GATE") >= 3  # the static suites ran
    assert merged["criteria"] == alone["criteria"]
    assert merged["measurements"]["criteria"] == alone["measurements"]["criteria"]
    spread.stdout.fnmatch_lines(["*Gate 1 verdict: INCOMPLETE (*"])


def test_evidence_survives_the_wire_unchanged():
    evidence = TestEvidence()
    recorder = EvidenceRecorder(("stability.soak",), evidence)
    recorder.measure("cpu_peak", 41.5, "%")
    recorder.measure("table", {"a": [1, 2]}, label="a table")
    recorder.configured("limit", 70, "%")
    recorder.series("cpu", [0, 30], [1.0, None], y_label="%", kind="step", labels=("x",), group="g")
    recorder.threshold(True, "below 70 %")
    recorder.note("one note")
    assert evidence_from_wire(json.loads(json.dumps(evidence_to_wire(evidence)))) == evidence


def test_records_survive_the_wire_unchanged():
    record = TestRecord("t.py::x", ("a", "b"), (Capability.MANIFEST_SET,), Outcome.SKIPPED, "why", 1.5, True)
    assert TestRecord.from_wire(json.loads(json.dumps(record.to_wire()))) == record


def test_the_worker_that_ran_a_test_supplies_its_record(tmp_path: Path):
    def output(outcome: Outcome) -> str:
        records = [TestRecord("t.py::x", ("security.rbac",), (), outcome, "", 0.0, False).to_wire()]
        payload = {"records": records, "evidence": {}, "notes": ["n"], "versions": {}, "aborted_by_input": None}
        return json.dumps(payload)

    session = Gate1Session(Settings(tmp_path, target="local"), lambda _line: None)
    session.merge_worker_outputs([output(Outcome.PASSED), output(Outcome.NOT_RUN)])
    assert session.records["t.py::x"].outcome is Outcome.PASSED
    session = Gate1Session(Settings(tmp_path, target="local"), lambda _line: None)
    session.merge_worker_outputs([output(Outcome.NOT_RUN), output(Outcome.FAILED)])
    assert session.records["t.py::x"].outcome is Outcome.FAILED
    assert session.notes == ["n"]


def test_a_cluster_creating_target_refuses_xdist_in_one_line(pytester: pytest.Pytester):
    pytester.makepyfile(**PROJECT)
    html = pytester.path / "reports" / "gate1.html"
    args = ("-p", "no:cacheprovider", "-n", "2", "--target", "k3d", f"--gate1-report={html}")
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*target k3d creates one cluster per session*run the cluster tier without -n*"])
    assert not html.with_suffix(".json").exists()
