"""The observability suite on the local lab: PASS on the project's set, and each check FAILs on a copy of the set
with its defect (a monitor on a wrong path, a rule that always fires, a dashboard query on a missing metric).
Also: the lab leaves nothing running, and missing Debian packages make the capability unavailable with the apt
command."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import KIND_OVERLAY, SUITES, criterion, run_suite

from dbc_validate.capabilities import CapabilityUnavailable
from dbc_validate.labs.observability_lab import APT_COMMAND, provide_observability_lab
from dbc_validate.manifests.model import ManifestSet

SUITE = SUITES / "test_observability_stack.py"


def _copy_with(kind_set: ManifestSet, tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    docs = [copy.deepcopy(dict(o.body)) for o in kind_set.objects]
    for doc in docs:
        change(doc)
    path = tmp_path / "set.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    return path


def _is(doc: dict[str, Any], kind: str, name: str) -> bool:
    return doc.get("kind") == kind and doc["metadata"]["name"] == name


def wrong_metrics_path(doc: dict[str, Any]) -> None:
    # Statically fine (paths are not known from manifests); Traefik answers 404 there, so the target is down.
    if _is(doc, "PodMonitor", "traefik"):
        doc["spec"]["podMetricsEndpoints"][0]["path"] = "/stats"


def always_firing(doc: dict[str, Any]) -> None:
    if _is(doc, "PrometheusRule", "dirtbikechina"):
        rule = {"alert": "AlwaysFiring", "expr": "vector(1)", "labels": {"severity": "critical"}}
        doc["spec"]["groups"][0]["rules"].append(rule)


def missing_metric(doc: dict[str, Any]) -> None:
    if _is(doc, "ConfigMap", "dirtbikechina-dashboard"):
        key = next(iter(doc["data"]))
        board = json.loads(doc["data"][key])
        board["panels"][0]["targets"][0]["expr"] = "sum(rate(wordpress_requests_total[$__rate_interval]))"
        doc["data"][key] = json.dumps(board)


def test_the_projects_set_passes_every_check_at_local_scope(pytester: pytest.Pytester):
    result, report = run_suite(pytester, SUITE, "--target=local", f"--manifests={KIND_OVERLAY}")
    result.assert_outcomes(passed=4)
    for criterion_id in (
        "observability.prometheus_targets",
        "observability.no_critical_alerts",
        "observability.grafana_dashboards",
        "applications.logs_metrics_visible",
    ):
        entry = criterion(report, criterion_id)
        assert (entry["status"], entry["scope"]) == ("PASSED_BELOW_GATE", "local")


@pytest.mark.parametrize(
    ("change", "test", "criterion_id", "expected"),
    [
        (wrong_metrics_path, "expected_target", "observability.prometheus_targets", "*traefik*/stats*down*404*"),
        (always_firing, "critical_alert", "observability.no_critical_alerts", "*alert AlwaysFiring*firing*"),
        (missing_metric, "dashboard_query", "observability.grafana_dashboards", "*wordpress_requests_total*no series*"),
    ],
    ids=["broken-monitor", "always-firing-rule", "query-on-missing-metric"],
)
def test_each_check_fails_on_a_copy_of_the_set_with_its_defect(
    pytester: pytest.Pytester, kind_set: ManifestSet, tmp_path: Path, change, test, criterion_id, expected
):
    broken = _copy_with(kind_set, tmp_path, change)
    result, report = run_suite(pytester, SUITE, "--target=local", f"--manifests={broken}", "-k", test)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([expected])
    assert criterion(report, criterion_id)["status"] == "FAIL"


def _lab_processes(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline:
                found.append(cmdline)
    return found


def test_the_lab_leaves_nothing_running_after_stop_or_an_interrupted_start(kind_set: ManifestSet):
    with ExitStack() as stack:
        lab = provide_observability_lab(kind_set, stack, lambda _line: None)
        marker = str(lab.directory)
        assert _lab_processes(marker), "the lab's processes run from its folder"
    assert not _lab_processes(marker)
    assert not Path(marker).exists()

    seen: list[str] = []

    def interrupt(line: str) -> None:
        seen.append(line)
        if line.startswith("postgres lab: starting"):  # Prometheus, Alertmanager, exporters already running
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), ExitStack() as stack:
        provide_observability_lab(kind_set, stack, interrupt)
    folder = seen[0].rsplit(" in ", 1)[1]
    assert not _lab_processes(folder)
    assert not Path(folder).exists()


def test_missing_packages_make_the_capability_unavailable_with_the_apt_command(
    kind_set: ManifestSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CapabilityUnavailable, match="prometheus-postgres-exporter") as caught, ExitStack() as stack:
        provide_observability_lab(kind_set, stack, lambda _line: None)
    assert APT_COMMAND in str(caught.value)
