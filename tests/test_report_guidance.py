"""The report's top guides: one sentence why, at most six next steps grouped by what unblocks most, a matrix of
every criterion by scope; figures read as figures with units; charts get a sensible y axis."""

from __future__ import annotations

import re

import pytest

from dbc_validate.criteria import CATALOG, IDS
from dbc_validate.evidence import EvidenceRecorder, TestEvidence
from dbc_validate.report.build import RunInfo, build_report
from dbc_validate.report.charts import whole_numbers, y_range
from dbc_validate.report.figures import figure, figures_of, hours_and_minutes, label_of, number, with_unit
from dbc_validate.report.html import render_html
from dbc_validate.report.matrix import cell, matrix_rows
from dbc_validate.report.next_steps import MAX_STEPS
from dbc_validate.report.verdict import Outcome, TestResult
from dbc_validate.scope import Scope

STATIC = ("security.rbac", "security.network_policies", "security.non_root")
LOCAL = ("databases.failover", "applications.traffic_split", "stability.no_crashloops", "stability.resource_headroom")


def local_run(soak_hours: float = 1 / 60, deselect: tuple[str, ...] = ()) -> dict:
    """What a local run looks like: static and local tests pass, live tests skip (capability not offered)."""
    tests, evidence = [], {}
    for criterion in IDS:
        live = TestResult(
            f"suites/gate1/test_live.py::test_{criterion}",
            (criterion,),
            Outcome.NOT_RUN if criterion in deselect else Outcome.SKIPPED,
            None,
            "target 'local' does not offer capability 'cluster'",
            deselected=criterion in deselect,
        )
        tests.append(live)
        scope = (
            Scope.STATIC if criterion in STATIC else Scope.LOCAL if criterion in (*LOCAL, "stability.soak") else None
        )
        if scope is not None:
            nodeid = f"suites/gate1/test_here.py::test_{criterion}"
            ev = TestEvidence()
            thresholds = ()
            if criterion == "stability.soak":
                EvidenceRecorder((criterion,), ev).measure("covered_h", soak_hours, "h")
                EvidenceRecorder((criterion,), ev).threshold(
                    soak_hours >= 48, f"covered time {soak_hours:.4f} h of 48 h"
                )
                thresholds = tuple(ev.thresholds)
            evidence[nodeid] = ev
            outcome = Outcome.NOT_RUN if criterion in deselect else Outcome.PASSED
            tests.append(
                TestResult(nodeid, (criterion,), outcome, scope, "", thresholds, deselected=criterion in deselect)
            )
    return build_report(CATALOG, tests, evidence, RunInfo("local", "local", "s", "f", "0.1.0"))


def steps_of(report: dict) -> list[dict]:
    return report["measurements"]["next_steps"]


def test_a_local_run_says_why_and_groups_the_next_steps_by_what_unblocks_most():
    report = local_run()
    steps = steps_of(report)
    assert report["verdict"] == "INCOMPLETE"
    assert report["measurements"]["why"].startswith("Nothing failed, but 23 of 23 criteria are not yet proven")
    assert 1 <= len(steps) <= MAX_STEPS
    cluster = steps[0]
    assert cluster["command"] == "pytest suites/gate1 --target kind"
    assert cluster["text"].startswith(f"{len(IDS)} criteria need a live cluster")
    soak = next(s for s in steps if "stability.soak" in s["text"])
    assert soak["text"].startswith("stability.soak needs 47 h 59 min more soak time")
    assert soak["command"] == "--soak-duration 48h"
    counts = [len(s["criteria"]) for s in steps]
    assert counts == sorted(counts, reverse=True)


def test_failures_come_first_whatever_they_unblock():
    report = local_run()
    tests = [TestResult("t.py::bad", ("security.rbac",), Outcome.FAILED, Scope.STATIC, "wildcard verb")]
    report = build_report(CATALOG, tests, {}, RunInfo("local", "local", "s", "f", "0"))
    assert report["verdict"] == "NO-GO"
    assert steps_of(report)[0]["text"].startswith("Fix 1 failing criterion: security.rbac")
    assert report["measurements"]["why"].startswith("1 criterion failed (security.rbac)")


def test_a_partial_run_says_to_run_the_whole_suite():
    report = local_run(deselect=("security.rbac", "databases.failover"))
    step = next(s for s in steps_of(report) if s["command"] == "pytest suites/gate1")
    assert step["criteria"] == ["security.rbac", "databases.failover"]
    assert step["text"].startswith("2 criteria were not selected")


def test_the_steps_are_capped_and_the_rest_is_gathered_in_the_last_one():
    tests = [
        TestResult("t.py::f", ("security.rbac",), Outcome.FAILED, Scope.STATIC, "x"),
        TestResult("t.py::e", ("security.non_root",), Outcome.ERROR, Scope.STATIC, "x"),
        TestResult("t.py::d", ("databases.failover",), Outcome.NOT_RUN, Scope.LOCAL, "deselected", deselected=True),
        TestResult("t.py::n", ("security.sealed_secrets",), Outcome.SKIPPED, Scope.STATIC, "nothing to check: none"),
        TestResult("t.py::l", ("stability.soak",), Outcome.PASSED, Scope.LOCAL),
    ]
    report = build_report(CATALOG, tests, {}, RunInfo("local", "local", "s", "f", "0"))
    steps = steps_of(report)
    assert len(steps) == MAX_STEPS
    every_short = {c["id"] for c in report["criteria"] if not c["meets_gate"]}
    assert {c for s in steps for c in s["criteria"]} == every_short  # nothing falls off the list


def test_a_go_run_has_no_next_steps():
    tests = [TestResult(f"t.py::{c.id}", (c.id,), Outcome.PASSED, Scope.CLUSTER) for c in CATALOG if not c.threshold]
    evidence = {}
    for c in CATALOG:
        if c.threshold:
            ev = TestEvidence()
            EvidenceRecorder((c.id,), ev).threshold(True, "met")
            tests.append(TestResult(f"t.py::{c.id}", (c.id,), Outcome.PASSED, Scope.CLUSTER, "", tuple(ev.thresholds)))
    report = build_report(CATALOG, tests, evidence, RunInfo("kind", "cluster", "s", "f", "0"))
    assert report["verdict"] == "GO" and steps_of(report) == []
    assert (
        report["measurements"]["why"]
        == f"All {len(IDS)} criteria passed at the scope Gate 1 requires, with their thresholds met."
    )


@pytest.mark.parametrize(
    ("hours", "text"),
    [(48.0, "48 h"), (47 + 59 / 60, "47 h 59 min"), (0.5, "30 min"), (20 / 3600, "20 s"), (0, "0 min"), (-1, "0 min")],
)
def test_hours_read_as_hours_and_minutes(hours, text):
    assert hours_and_minutes(hours) == text


def test_the_top_of_the_page_has_the_verdict_why_steps_and_matrix_in_that_order():
    html = render_html(local_run())
    positions = [html.index(s) for s in ("Gate 1: INCOMPLETE", "Nothing failed, but", 'id="next-steps"', 'id="matrix"')]
    assert positions == sorted(positions)
    steps = html[html.index('id="next-steps"') : html.index('id="matrix"')]
    assert steps.count("<li>") <= MAX_STEPS and "<code>pytest suites/gate1 --target kind</code>" in steps
    matrix = html[html.index('id="matrix"') : html.index("</section>", html.index('id="matrix"'))]
    assert all(f'href="#{criterion}"' in matrix for criterion in IDS)


def test_provenance_names_the_harness_version_once_and_shows_the_dirty_flag():
    run = RunInfo(
        "local", "local", "s", "f", "9.9.9", versions={"harness": "9.9.9", "python": "3.11"}, manifests_dirty=True
    )
    html = render_html(build_report(CATALOG, [], {}, run))
    provenance = html[html.index('id="provenance"') :]
    assert provenance.count("9.9.9") == 1
    assert re.search(r"Uncommitted changes</dt><dd><b>yes</b>", provenance)


def test_matrix_cells_show_the_worst_outcome_and_unoffered_tests_in_the_cluster_column():
    assert cell(["passed", "failed"]) == "failed" and cell(["skipped", "passed"]) == "passed" and cell([]) == ""
    criteria = [{"id": "security.rbac", "title": "RBAC", "status": "PASSED_BELOW_GATE", "tests": ["a", "b"]}]
    tests = {"a": {"scope": "static", "outcome": "passed"}, "b": {"scope": None, "outcome": "skipped"}}
    (row,) = matrix_rows(criteria, tests)
    assert row.cells == ("passed", "", "skipped") and row.name == "rbac"


def test_figures_read_as_numbers_with_units_and_tables():
    assert number(12345) == "12,345" and number(0.0166666) == "0.0167" and number(19.6) == "19.6"
    assert number(2.0) == "2" and number(1234.56) == "1,234.6"
    assert with_unit(0.5, "%") == "0.5%" and with_unit(19.6, "s") == "19.6 s" and with_unit(3, "count") == "3"
    assert label_of("write_gap_p95_s", "s") == "write gap p95" and label_of("cpu_peak_percent", "%") == "cpu peak"
    counts = figure("counts", {"prod": 70, "stage": 30})
    assert counts.rows == (("prod", "70"), ("stage", "30")) and counts.text == ""
    assert figure("gaps", []).text == "none" and figure("x", None).text == "not measured"
    latest = figures_of([{"key": "a", "value": 1}, {"key": "b", "value": 2}, {"key": "a", "value": 3}])
    assert [(f.label, f.text) for f in latest] == [("b", "2"), ("a", "3")]
    assert with_unit(1 / 60, "h") == "1 min" and with_unit(48.0, "h") == "48 h"


def test_an_all_zero_series_gets_a_whole_number_axis_from_zero_to_one():
    assert y_range([0, 0, 0]) == (-0.03, 1.0)
    low, high = y_range([0, 10])
    assert low < 0 < 10 < high
    assert y_range([-1, 2]) is None
    assert whole_numbers([0.0, 3.0]) and not whole_numbers([0.5]) and not whole_numbers([])


def test_a_criterion_whose_tests_all_ran_is_not_called_deselected():
    tests = [TestResult("t.py::a", ("databases.failover",), Outcome.PASSED, Scope.LOCAL)]
    report = build_report(CATALOG, tests, {}, RunInfo("local", "local", "s", "f", "0"))
    assert all(s["command"] != "pytest suites/gate1" for s in steps_of(report))
    cluster = next(s for s in steps_of(report) if s["command"] == "pytest suites/gate1 --target kind")
    assert cluster["criteria"] == ["databases.failover"]


def test_configuration_is_shown_apart_from_what_was_measured_and_labels_say_what_a_figure_is():
    evidence = TestEvidence()
    recorder = EvidenceRecorder(("stability.soak",), evidence)
    recorder.measure("error_rate_percent", 0.25, "%", label="error rate over the run")
    recorder.configured("error_rate_max_percent", 1.0, "%", label="error-rate limit (--soak-error-rate-max)")
    tests = [TestResult("t.py::soak", ("stability.soak",), Outcome.PASSED, Scope.LOCAL)]
    report = build_report(CATALOG, tests, {"t.py::soak": evidence}, RunInfo("local", "local", "s", "f", "0"))
    soak = next(c for c in report["criteria"] if c["id"] == "stability.soak")
    assert soak["measured"] == {"error_rate_percent": 0.25}
    assert soak["configured"] == {"error_rate_max_percent": 1.0}
    html = render_html(report)
    card = html[html.index('id="stability.soak"') :]
    measured, judged = card.index("<dt>Measured</dt>"), card.index("<dt>Judged against</dt>")
    assert measured < card.index("error rate over the run") < judged < card.index("error-rate limit")
    assert "error_rate_max_percent" not in card[:judged]
