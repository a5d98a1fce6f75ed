"""The static Gate 1 suites fail on a known-bad manifest set and pass on a known-good one (run with pytester)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# schema.py imports these lazily and caches registries: a copy re-imported after pytester dropped the first
# would not recognise the cached Resources ("'Resource' object is not iterable"). Keep one copy for all runs.
import jsonschema  # noqa: F401
import pytest
import referencing.jsonschema  # noqa: F401
from analysis_builders import BAD, GOOD, ROOT

# Imported here so that pytester's in-process runs (which drop the modules they import) reuse the
# analysis modules and their compiled schemas instead of loading them again for every run.
import dbc_validate.analysis  # noqa: F401

SUITES = ROOT / "suites" / "gate1"
STACK = GOOD / "stack"


def run_suite(pytester: pytest.Pytester, suite: str, manifests, *extra: str) -> pytest.RunResult:
    return run_suites(pytester, [suite], manifests, *extra)


def run_suites(pytester: pytest.Pytester, suites: Iterable[str], manifests, *extra: str) -> pytest.RunResult:
    for suite in suites:
        pytester.makepyfile(**{suite: (SUITES / f"{suite}.py").read_text(encoding="utf-8")})
    # One-token options, and an explicit rootdir: a bare path argument would move the rootdir (and the report).
    return pytester.runpytest_inprocess(
        "--target=local",
        f"--manifests={manifests}",
        f"--rootdir={pytester.path}",
        "-p",
        "no:cacheprovider",
        "-p",
        "dbc_validate.plugin",  # the harness plugin alone: see _harness_plugin_only
        *extra,
    )


@pytest.fixture(autouse=True)
def _harness_plugin_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner runs load the harness plugin and no other installed one (pytest-html, pytest-xdist, Hypothesis's):
    these tests judge the suites' verdicts, and setting those plugins up is about 30 ms of each run.
    tests/test_plugin.py and tests/test_xdist.py run the plugin beside them."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def criterion(pytester: pytest.Pytester, criterion_id: str) -> dict:
    report = json.loads((pytester.path / "reports" / "gate1.json").read_text())
    return next(c for c in report["criteria"] if c["id"] == criterion_id)


@dataclass(frozen=True)
class SharedRun:
    """One run of several suites on one set: each suite's outcomes and the report's criteria by id."""

    outcomes: dict[str, Counter[str]]
    criteria: dict[str, dict]


_SHARED: dict[str, SharedRun] = {}
# "PASSED test_rbac.py::test_x", "FAILED test_rbac.py::test_x - ...", "SKIPPED [1] test_rbac.py:12: ..." (-rA)
SUMMARY_LINE = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (?:\[\d+\] )?(test_\w+)\.py")


def shared_run(pytester: pytest.Pytester, name: str, suites: Iterable[str], manifests: Path, *extra: str) -> SharedRun:
    """The run `name` of `suites` on `manifests`, made by the first test that asks and judged by each test for its own
    suite: pytest's set-up is most of a short in-process run, whatever the number of suites in it."""
    if name not in _SHARED:
        result = run_suites(pytester, suites, manifests, "-rA", *extra)
        outcomes: dict[str, Counter[str]] = {suite: Counter() for suite in suites}
        for match in filter(None, map(SUMMARY_LINE.match, result.stdout.lines)):
            outcomes[match.group(2)][match.group(1).lower()] += 1
        report = json.loads((pytester.path / "reports" / "gate1.json").read_text())
        _SHARED[name] = SharedRun(outcomes, {c["id"]: c for c in report["criteria"]})
    return _SHARED[name]


GOOD_STACK = [
    ("test_non_root", "security.non_root", 2),
    ("test_network_policies", "security.network_policies", 2),
    ("test_rbac", "security.rbac", 1),
    ("test_sealed_secrets", "security.sealed_secrets", 1),
    ("test_ingress_routes", "applications.traffic_split", 1),
]


@pytest.mark.parametrize(("suite", "criterion_id", "tests"), GOOD_STACK)
def test_suite_passes_on_the_known_good_stack_at_static_scope(pytester, suite, criterion_id, tests):
    run = shared_run(pytester, "good stack", [s for s, _, _ in GOOD_STACK], STACK)
    assert run.outcomes[suite] == {"passed": tests}
    summary = run.criteria[criterion_id]
    assert (summary["status"], summary["scope"]) == ("PASSED_BELOW_GATE", "static")


@pytest.mark.parametrize(
    ("suite", "fixture", "expected_lines"),
    [
        (
            "test_non_root",
            "pod-security.run-as-non-root",
            [
                "*ERROR pod-security.run-as-non-root Deployment/demo/web [[]web[]]: runAsNonRoot is set false*",
                "*fix: *",
            ],
        ),
        ("test_non_root", "namespace.pss-enforce-missing", ["*ERROR namespace.pss-enforce-missing Namespace/demo*"]),
        (
            "test_network_policies",
            "network-policy.dns-blocked",
            ["*ERROR network-policy.dns-blocked Deployment/demo/web*"],
        ),
        ("test_network_policies", "network-policy.no-default-deny", ["*WARNING network-policy.no-default-deny*"]),
        (
            "test_network_policies",
            "network-policy.cnpg-operator-blocked",
            ["*network-policy.cnpg-operator-blocked Cluster/demo/pg*cnpg-system/cnpg-controller-manager*"],
        ),
        ("test_rbac", "rbac.secrets-read", ["*ERROR rbac.secrets-read Deployment/demo/web*may get, list secrets*"]),
        ("test_rbac", "rbac.cluster-admin-sa", ["*ERROR rbac.cluster-admin-sa ClusterRoleBinding/web-admin*"]),
        ("test_sealed_secrets", "secrets.plain-secret", ["*ERROR secrets.plain-secret Secret/demo/db*password*"]),
        (
            "test_sealed_secrets",
            "secrets.sealed-secret-empty",
            ["*ERROR secrets.sealed-secret-empty SealedSecret/demo/db*"],
        ),
        ("test_ingress_routes", "ingress.split-mismatch", ["*ERROR ingress.split-mismatch IngressRoute/demo/www*50%*"]),
        ("test_ingress_routes", "ingress.legacy-traefik-group", ["*no traefik.io IngressRoute*traefik.containo.us*"]),
        (
            "test_observability_static",
            "observability.monitor-not-selected",
            ["*ERROR observability.monitor-not-selected ServiceMonitor/demo/exporter: no Prometheus selects it*"],
        ),
        (
            "test_observability_static",
            "observability.scrape-blocked",
            ["*ERROR observability.scrape-blocked ServiceMonitor/demo/exporter*denied*"],
        ),
        (
            "test_observability_static",
            "observability.rule-invalid",
            ["*ERROR observability.rule-invalid PrometheusRule/demo/exporter*unclosed left parenthesis*"],
        ),
        (
            "test_observability_static",
            "observability.dashboard-invalid",
            ["*ERROR observability.dashboard-invalid ConfigMap/demo/exporter-dashboard*not JSON*"],
        ),
    ],
)
def test_suite_fails_on_a_known_bad_set_listing_the_findings(pytester, suite, fixture, expected_lines):
    result = run_suite(pytester, suite, BAD / f"{fixture}.yaml")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(expected_lines)


def test_plaintext_secret_values_never_reach_the_output_or_the_report(pytester):
    result = run_suite(pytester, "test_sealed_secrets", BAD / "secrets.plain-secret.yaml")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "hunter2" not in result.stdout.str()
    assert "hunter2" not in (pytester.path / "reports" / "gate1.json").read_text()


def test_expected_split_comes_from_the_criterion_threshold_ini(pytester):
    pytester.makeini("[pytest]\ngate1_traffic_split = 50/50\n")
    run_suite(pytester, "test_ingress_routes", BAD / "ingress.split-mismatch.yaml").assert_outcomes(passed=1)
    failing = run_suite(pytester, "test_ingress_routes", STACK)
    failing.assert_outcomes(failed=1)
    failing.stdout.fnmatch_lines(["*weighted routes do not declare 50/50*"])


def test_a_set_without_weighted_routes_fails_the_split_check(pytester):
    result = run_suite(pytester, "test_ingress_routes", BAD / "images.no-digest.yaml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no traefik.io IngressRoute*splits traffic*"])


NOTHING = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: demo}\ndata: {mode: quiet}\n"


NOTHING_TO_CHECK = [
    ("test_sealed_secrets", "security.sealed_secrets", "nothing to check: the set has no SealedSecret or Secret"),
    ("test_rbac", "security.rbac", "nothing to check: the set has no workload and no Role"),
    ("test_network_policies", "security.network_policies", "nothing to check: the set has no workload"),
    ("test_observability_static", "observability.prometheus_targets", "nothing to check: the set has no Service"),
    ("test_observability_static", "observability.grafana_dashboards", "nothing to check: the set has no ConfigMap"),
]


@pytest.mark.parametrize(("suite", "criterion_id", "expected"), NOTHING_TO_CHECK)
def test_a_set_with_nothing_to_check_is_not_run_never_pass(pytester, suite, criterion_id, expected):
    empty = pytester.path / "nothing.yaml"
    empty.write_text(NOTHING, encoding="utf-8")
    suites = list(dict.fromkeys(s for s, _, _ in NOTHING_TO_CHECK))
    # The observability suite's log-path test judges the shipped Loki/Promtail settings, so it has something.
    run = shared_run(pytester, "nothing to check", suites, empty, "-k", "not promtail")
    assert run.outcomes[suite]["passed"] == 0
    summary = run.criteria[criterion_id]
    assert summary["status"] == "NOT_RUN" and expected in summary["reason"]


def test_the_observability_suite_passes_on_the_projects_set_at_static_scope(pytester):
    result = run_suite(pytester, "test_observability_static", ROOT / "manifests" / "overlays" / "kind")
    result.assert_outcomes(passed=4)
    for criterion_id in (
        "observability.prometheus_targets",
        "observability.no_critical_alerts",
        "observability.grafana_dashboards",
        "observability.loki_logs",
    ):
        summary = criterion(pytester, criterion_id)
        assert (summary["status"], summary["scope"]) == ("PASSED_BELOW_GATE", "static")
