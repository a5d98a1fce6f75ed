"""The failover suite end to end through the plugin: real Patroni failovers fill `databases.failover` in
gate1.json (scope local) with the figures and a chart per trial; a too-strict threshold fails it; nothing is
left behind either way; an existing cluster is refused without --allow-destructive."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import helpers
import psutil
import pytest
from helpers import ROOT

SUITE = ROOT / "suites" / "gate1" / "test_failover.py"
FIXTURES = ROOT / "fixtures" / "failover"
MEASURED = {"write_gap_p50_s", "write_gap_p95_s", "write_gap_max_s", "acked_writes_lost", "trials"}


def run_suite(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    return helpers.run_suite(pytester, SUITE, *args, subprocess=True)


def failover(report: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in report["criteria"] if c["id"] == "databases.failover")


def assert_labs_gone(output: str) -> None:
    roots = re.findall(r"patroni lab: starting \d+ members under (\S+)", output)
    assert roots, "the run started no lab"
    for root in roots:
        assert not Path(root).exists(), f"{root} was left behind"
        left = [p.pid for p in psutil.process_iter(["cmdline"]) if root in " ".join(p.info["cmdline"] or [])]
        assert left == [], f"processes of {root} were left running: {left}"


def test_suite_runs_real_failovers_and_fills_the_criterion_with_figures_and_timelines(
    pytester: pytest.Pytester,
) -> None:
    result, report = run_suite(
        pytester, "--target", "local", "--manifests", str(FIXTURES / "async"), "--failover-trials", "1"
    )
    result.assert_outcomes(passed=2)
    criterion = failover(report)
    assert (criterion["status"], criterion["scope"]) == ("PASSED_BELOW_GATE", "local")
    assert not criterion["meets_gate"]  # local evidence never meets Gate 1
    assert set(criterion["measured"]) >= MEASURED
    assert criterion["measured"]["trials"] == 1
    assert 0 < criterion["measured"]["write_gap_max_s"] < 30
    detail = report["measurements"]["criteria"]["databases.failover"]
    groups = {s["group"] for s in detail["series"]}
    assert any(g.startswith("trial 1: kill") for g in groups) and any("switchover" in g for g in groups)
    events = [s for s in detail["series"] if s["kind"] == "events"]
    assert all(any("fault" in label or "switchover" in label for label in s["labels"]) for s in events)
    notes = " | ".join(n["text"] for n in detail["notes"])
    assert "declares asynchronous replication" in notes and "threshold met" in notes
    html = (pytester.path / "reports" / "gate1.html").read_text()
    assert html.count("<svg") >= 2  # one timeline chart per trial
    assert_labs_gone(result.stdout.str())


def test_suite_fails_the_criterion_when_a_write_gap_exceeds_the_threshold(pytester: pytest.Pytester) -> None:
    result, report = run_suite(
        pytester,
        "--target",
        "local",
        "--manifests",
        str(FIXTURES / "sync-required"),
        "--failover-trials",
        "1",
        "-o",
        "gate1_failover_max_recovery_s=5",
        "-k",
        "primary_loss",
    )
    result.assert_outcomes(failed=1, deselected=1)
    criterion = failover(report)
    assert criterion["status"] == "FAIL"
    assert "write gap" in criterion["reason"] and ">= 5 s" in criterion["reason"]
    notes = [n["text"] for n in report["measurements"]["criteria"]["databases.failover"]["notes"]]
    assert any(n.startswith("threshold NOT met") for n in notes)
    assert any("strict" in n and "declares synchronous replication" in n for n in notes)  # the lab mirrored it
    assert_labs_gone(result.stdout.str())


def test_existing_cluster_is_refused_without_allow_destructive(pytester: pytest.Pytester, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(  # a context that is not named like prod: only the destructive rule refuses it
        "apiVersion: v1\nkind: Config\ncurrent-context: kind-dbc\n"
        "contexts: [{name: kind-dbc, context: {cluster: kind-dbc}}]\n"
        "clusters: [{name: kind-dbc, cluster: {server: 'https://127.0.0.1:6443'}}]\n"
    )
    result, report = run_suite(
        pytester, "--target", "kubeconfig", "--kubeconfig", str(kubeconfig), "--manifests", str(FIXTURES / "async")
    )
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*destructive test*refused on an existing cluster*--allow-destructive*"])
    assert failover(report)["status"] == "NOT_RUN"


def test_bad_trial_count_stops_the_run_at_configure_time_with_the_fix(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n')
    shutil.copy(SUITE, pytester.path / "test_failover.py")
    args = ("--target", "local", "--manifests", str(FIXTURES / "async"), "--failover-trials", "zero")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.stderr.lines if line.strip()] == [
        "ERROR: dbc_validate: --failover-trials 'zero': not a whole number; "
        "fix: pass a whole number of at least 1, e.g. --failover-trials 3"
    ]
    assert "patroni lab: starting" not in result.stdout.str()
