"""The plugin's behaviour in real pytest sessions (pytester): markers, outcomes, report files, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import criterion

from dbc_validate.criteria import IDS
from dbc_validate.report.input_check import report_problem

MANIFEST = """\
apiVersion: v1
kind: Namespace
metadata: {name: prod}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: prod}
data: {a: b}
"""


@pytest.fixture
def gate1_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = "--strict-markers -p no:cacheprovider"\n')
    (pytester.path / "manifests").mkdir()
    (pytester.path / "manifests" / "set.yaml").write_text(MANIFEST)
    return pytester


def report_of(pytester: pytest.Pytester) -> dict:
    return json.loads((pytester.path / "reports" / "gate1.json").read_text())


def add_check(
    project: pytest.Pytester,
    criterion_id: str = "security.rbac",
    body: str = "pass",
    fixtures: str = "manifest_set",
    module: str = "test_check",
    name: str = "test_check",
) -> None:
    """A one-test suite module: `name(fixtures)` marked gate1(criterion_id), running `body`."""
    project.makepyfile(
        **{
            module: f"""
        import pytest

        @pytest.mark.gate1("{criterion_id}")
        def {name}({fixtures}):
            {body}
    """
        }
    )


def test_report_lists_every_catalog_criterion_in_order_and_is_incomplete_without_cluster(gate1_project):
    gate1_project.makepyfile(
        test_static="""
        import pytest

        @pytest.mark.gate1("security.non_root")
        def test_objects_parse(manifest_set, gate1_evidence):
            gate1_evidence.measure("objects", len(manifest_set), "count")
            assert len(manifest_set) == 2
    """
    )
    result = gate1_project.runpytest("--target", "local")
    result.assert_outcomes(passed=1)
    report = report_of(gate1_project)
    assert [c["id"] for c in report["criteria"]] == list(IDS)
    assert set(report) == {
        "schema_version",
        "verdict",
        "target",
        "started",
        "finished",
        "harness_version",
        "partial",
        "manifests",
        "criteria",
        "measurements",
    }
    assert report["partial"] is None  # nothing deselected: a full run
    assert report_problem(report) is None  # the report meets its own schema (dbc-validate report checks it)
    non_root = criterion(report, "security.non_root")
    assert non_root["status"] == "PASSED_BELOW_GATE" and non_root["scope"] == "static" and not non_root["meets_gate"]
    assert non_root["measured"] == {"objects": 2}
    assert criterion(report, "databases.failover")["status"] == "NOT_COVERED"
    assert report["verdict"] == "INCOMPLETE"
    assert report["target"]["name"] == "local"
    assert (gate1_project.path / "reports" / "gate1.html").read_text().startswith("<!DOCTYPE html>")
    result.stdout.fnmatch_lines(["*Gate 1 verdict: INCOMPLETE*"])


def test_a_failing_check_makes_the_verdict_no_go(gate1_project):
    add_check(gate1_project, body='assert False, "wildcard verbs"')
    gate1_project.runpytest().assert_outcomes(failed=1)
    report = report_of(gate1_project)
    assert report["verdict"] == "NO-GO"
    assert criterion(report, "security.rbac")["status"] == "FAIL"
    assert "wildcard verbs" in criterion(report, "security.rbac")["reason"]


def test_a_missing_capability_skips_with_a_reason_and_gives_not_run(gate1_project):
    add_check(gate1_project, "infrastructure.nodes_ready", fixtures="cluster")
    gate1_project.runpytest("--target", "local").assert_outcomes(skipped=1)
    nodes = criterion(report_of(gate1_project), "infrastructure.nodes_ready")
    assert nodes["status"] == "NOT_RUN"
    assert "does not offer capability 'cluster'" in nodes["reason"]
    assert "--target kind" in nodes["reason"]


def test_a_provider_that_fails_while_providing_is_an_error_never_a_skip(gate1_project):
    gate1_project.makeconftest(
        """
        import pytest

        from dbc_validate.errors import InputError
        from dbc_validate.targets.local import LocalTarget

        def refuse(self, stack):
            raise InputError("container postgres:16 did not start", "check --postgres-image")

        # From configure to unconfigure (pytester runs in this process): the local target starts its labs in the
        # background once collection is done, before any fixture could patch the provider.
        patch = pytest.MonkeyPatch()

        def pytest_configure(config):
            patch.setattr(LocalTarget, "_postgres", refuse)

        def pytest_unconfigure(config):
            patch.undo()
        """
    )
    add_check(gate1_project, "databases.cnpg_healthy", fixtures="postgres")
    result = gate1_project.runpytest_inprocess("--target", "local")
    result.assert_outcomes(errors=1)
    cnpg = criterion(report_of(gate1_project), "databases.cnpg_healthy")
    assert cnpg["status"] == "ERROR"
    assert "postgres could not be provided: container postgres:16 did not start" in cnpg["reason"]


def test_a_lab_that_cannot_start_in_the_background_is_not_run_with_its_reason(gate1_project):
    gate1_project.makeconftest(
        """
        import pytest

        from dbc_validate.capabilities import CapabilityUnavailable
        from dbc_validate.targets.local import LocalTarget

        def missing(self, stack):
            raise CapabilityUnavailable("the apps lab cannot start: mariadbd not found; install with: apt-get ...")

        patch = pytest.MonkeyPatch()  # before collection ends, when the background start begins

        def pytest_configure(config):
            patch.setattr(LocalTarget, "_apps", missing)

        def pytest_unconfigure(config):
            patch.undo()
        """
    )
    add_check(gate1_project, "databases.mysql_healthy", fixtures="apps")
    result = gate1_project.runpytest_inprocess("--target", "local")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*starting in the background: apps*"])
    mysql = criterion(report_of(gate1_project), "databases.mysql_healthy")
    assert mysql["status"] == "NOT_RUN"
    assert "the apps lab cannot start: mariadbd not found" in mysql["reason"]


def test_an_unknown_criterion_id_is_a_collection_error_naming_valid_ids(gate1_project):
    add_check(gate1_project, "security.non_rot")
    result = gate1_project.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["*ERROR collecting*", "*unknown Gate 1 criterion 'security.non_rot'*security.non_root*"]
    )


def test_deselected_tests_leave_their_criterion_not_run(gate1_project):
    gate1_project.makepyfile(
        test_two="""
        import pytest

        @pytest.mark.gate1("security.rbac")
        def test_rbac(manifest_set):
            pass

        @pytest.mark.gate1("security.non_root")
        def test_non_root(manifest_set):
            pass
    """
    )
    gate1_project.runpytest("-k", "rbac").assert_outcomes(passed=1, deselected=1)
    report = report_of(gate1_project)
    assert criterion(report, "security.rbac")["status"] == "PASSED_BELOW_GATE"
    non_root = criterion(report, "security.non_root")
    assert non_root["status"] == "NOT_RUN" and "deselected" in non_root["reason"]
    assert report["partial"] == {"selected": 1, "of": len(IDS)}
    html = (gate1_project.path / "reports" / "gate1.html").read_text()
    assert f"partial run: {len(IDS) - 1} of {len(IDS)} criteria not selected" in html
    gate1_project.runpytest().assert_outcomes(passed=2)
    assert report_of(gate1_project)["partial"] is None


def test_the_report_is_written_when_the_run_is_interrupted(gate1_project):
    gate1_project.makepyfile(
        test_interrupt="""
        import pytest

        @pytest.mark.gate1("security.rbac")
        def test_first(manifest_set):
            raise KeyboardInterrupt

        @pytest.mark.gate1("security.non_root")
        def test_never_reached(manifest_set):
            pass
    """
    )
    # In a subprocess: in-process pytester re-raises KeyboardInterrupt into this session.
    result = gate1_project.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    report = report_of(gate1_project)
    assert criterion(report, "security.non_root")["status"] == "NOT_RUN"
    assert "interrupted" in criterion(report, "security.non_root")["reason"]
    assert report["verdict"] == "INCOMPLETE"


def test_require_go_turns_an_incomplete_verdict_into_a_failing_exit(gate1_project):
    add_check(gate1_project)
    assert gate1_project.runpytest().ret == pytest.ExitCode.OK
    assert gate1_project.runpytest("--gate1-require-go").ret == pytest.ExitCode.TESTS_FAILED


def test_sessions_without_gate1_tests_write_no_report(gate1_project):
    gate1_project.makepyfile(test_plain="def test_plain():\n    assert 1 + 1 == 2\n")
    gate1_project.runpytest().assert_outcomes(passed=1)
    assert not (gate1_project.path / "reports").exists()


def test_collect_only_writes_no_report(gate1_project):
    add_check(gate1_project)
    gate1_project.runpytest("--collect-only").assert_outcomes()
    assert not (gate1_project.path / "reports").exists()


def test_disabling_the_plugin_removes_its_marker_and_fixtures(gate1_project):
    add_check(gate1_project)
    # In a subprocess: in-process, pytest.mark would still see this session's registered markers.
    result = gate1_project.runpytest_subprocess("-p", "no:dbc_validate")
    result.stdout.fnmatch_lines(["*'gate1' not found in `markers` configuration option*"])
    assert "dbc-validate" not in result.stdout.str()
    assert not (gate1_project.path / "reports").exists()


def test_the_header_says_which_target_and_why(gate1_project):
    gate1_project.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = gate1_project.runpytest("--target", "local")
    result.stdout.fnmatch_lines(["dbc_validate: target local (requested explicitly)"])


def test_gate1_report_option_moves_both_files(gate1_project):
    add_check(gate1_project)
    gate1_project.runpytest("--gate1-report", "out/g1.html").assert_outcomes(passed=1)
    assert (gate1_project.path / "out" / "g1.html").is_file()
    assert json.loads((gate1_project.path / "out" / "g1.json").read_text())["verdict"] == "INCOMPLETE"


def test_threshold_overrides_come_from_ini(gate1_project):
    gate1_project.makepyprojecttoml('[tool.pytest.ini_options]\ngate1_failover_max_recovery_s = "12"\n')
    add_check(
        gate1_project,
        "databases.failover",
        body="assert gate1_criterion.threshold.value == 12.0",
        fixtures="gate1_criterion",
    )
    gate1_project.runpytest().assert_outcomes(passed=1)
    assert criterion(report_of(gate1_project), "databases.failover")["threshold"] == "recovery < 12 s"


def test_secrets_in_failure_messages_are_masked_in_both_files(gate1_project):
    add_check(
        gate1_project,
        body='assert False, "could not connect to postgresql://app:s3cr3tpass@db:5432/x password=hunter22"',
    )
    gate1_project.runpytest().assert_outcomes(failed=1)
    for name in ("gate1.json", "gate1.html"):
        text = (gate1_project.path / "reports" / name).read_text()
        assert "s3cr3tpass" not in text and "hunter22" not in text
        assert "***" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--target", "moon"],
            "dbc_validate: --target 'moon': unknown target; fix: choose one of auto, local, kind, k3d, kubeconfig",
        ),
        (["--manifests", "nowhere"], "dbc_validate: --manifests 'nowhere': does not exist*; fix: *"),
        (["--soak-duration", "forever"], "dbc_validate: --soak-duration 'forever': not a duration*; fix: *"),
    ],
)
def test_bad_options_stop_with_one_line_naming_the_fix(gate1_project, args, message):
    gate1_project.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = gate1_project.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    assert "Traceback" not in result.stderr.str()


def test_a_target_from_the_environment_is_validated_too(gate1_project, monkeypatch):
    monkeypatch.setenv("DBC_TARGET", "mars")
    add_check(gate1_project)
    result = gate1_project.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--target 'mars' (from DBC_TARGET): unknown target*"])


def test_malformed_yaml_stops_the_run_naming_file_and_line(gate1_project):
    (gate1_project.path / "manifests" / "set.yaml").write_text("kind: Namespace\nmetadata:\n  name: [unclosed\n")
    add_check(gate1_project, "security.non_root")
    result = gate1_project.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*malformed YAML at *set.yaml:*fix:*"])
    assert "Traceback" not in result.stdout.str()


def test_a_failing_kustomization_stops_the_run_with_kubectls_message(gate1_project):
    folder = gate1_project.path / "manifests"
    (folder / "set.yaml").unlink()
    (folder / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    add_check(gate1_project, "security.non_root")
    result = gate1_project.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*kustomize could not render*missing.yaml*"])


def test_a_cluster_target_without_engine_fails_fast_in_one_line(gate1_project, monkeypatch):
    monkeypatch.setenv("PATH", str(Path("/nonexistent")))
    add_check(gate1_project, "security.non_root")
    result = gate1_project.runpytest("--target", "kind")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*target kind needs a container engine*fix:*"])
