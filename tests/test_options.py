"""One option table, one resolver: typed Settings from command line, environment, ini and defaults; a bad value is
one line naming the option, where its value came from, and the fix."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dbc_validate.cli import build_parser, main
from dbc_validate.cli.plan_command import PLAN_OPTIONS
from dbc_validate.errors import InputError
from dbc_validate.options import BY_FLAG, SPECS, resolve
from dbc_validate.settings import Settings, default_app_paths


def cli(**values: object) -> dict[str, object]:
    return {f"dbc_{name}": value for name, value in values.items()}


def test_defaults_resolve_to_typed_values(tmp_path):
    settings = resolve(tmp_path, {}, environ={})
    assert settings.target == "auto" and settings.target_source == "default"
    assert settings.report_html == tmp_path / "reports" / "gate1.html"
    assert settings.app_paths.is_file() and settings.app_paths.name == "app_paths.yaml"  # packaged default
    assert (settings.cluster_name, settings.failover_trials, settings.postgres_dsns) == ("dbc-gate1", None, ())
    # No interval given: the soak picks one for its planned duration (probes.soak.plan.sample_interval).
    assert (settings.soak_interval_s, settings.soak_error_rate_max, settings.soak_memory_budget_mb) == (None, 0.01, 512)


def test_every_option_fills_a_typed_field_and_nothing_reads_flag_strings():
    fields = {f.name for f in dataclasses.fields(Settings)}
    assert {spec.field for spec in SPECS} <= fields
    assert not hasattr(Settings, "option") and "options" not in fields


def test_precedence_is_command_line_then_environment_then_ini_then_default(tmp_path):
    ini = {"dbc_failover_trials": "5", "dbc_cluster_name": "from-ini"}.get
    environ = {"DBC_FAILOVER_TRIALS": "4"}
    settings = resolve(tmp_path, cli(cluster_name="from-flag"), environ, lambda key: ini(key, ""))
    assert (settings.cluster_name, settings.failover_trials) == ("from-flag", 4)
    assert resolve(tmp_path, {}, {}, lambda key: ini(key, "")).failover_trials == 5
    with_dsns = resolve(tmp_path, cli(postgres_dsn=["a", "b"], with_observability=True), {})
    assert with_dsns.postgres_dsns == ("a", "b") and with_dsns.with_observability is True


@pytest.mark.parametrize(
    ("values", "environ", "start"),
    [
        ({}, {"DBC_TARGET": "bogus"}, "--target 'bogus' (from DBC_TARGET): unknown target"),
        (cli(manifests="missing"), {}, "--manifests 'missing': does not exist"),
        ({}, {"DBC_MANIFESTS": "/nonexistent"}, "--manifests '/nonexistent' (from DBC_MANIFESTS): does not exist"),
        (cli(soak_duration="forever"), {}, "--soak-duration 'forever': not a duration"),
        (cli(soak_duration="0s"), {}, "--soak-duration '0s': must be more than 0"),
        (cli(failover_trials="abc"), {}, "--failover-trials 'abc': not a whole number"),
        (cli(failover_trials="0"), {}, "--failover-trials '0': must be at least 1"),
        ({}, {"DBC_FAILOVER_TRIALS": "-2"}, "--failover-trials '-2' (from DBC_FAILOVER_TRIALS): must be at least 1"),
        (cli(soak_interval="soon"), {}, "--soak-interval 'soon': not a duration"),
        (cli(soak_rate="fast"), {}, "--soak-rate 'fast': not a number"),
        (cli(soak_rate="0"), {}, "--soak-rate '0': must be more than 0"),
        (cli(soak_cpu_budget="2 cores"), {}, "--soak-cpu-budget '2 cores': not a CPU quantity"),
        (cli(soak_memory_budget="-1Gi"), {}, "--soak-memory-budget '-1Gi': not a memory quantity"),
        (cli(soak_error_rate_max="150"), {}, "--soak-error-rate-max '150': a percentage must lie between 0 and 100"),
        (cli(soak_resume="../x"), {}, "--soak-resume '../x': not a soak run id"),
        (cli(cluster_name="Bad_Name"), {}, "--cluster-name 'Bad_Name': not a valid kind/k3d cluster name"),
        (cli(cluster_name="x" * 33), {}, "--cluster-name"),
        (cli(app_paths="missing.yaml"), {}, "--app-paths 'missing.yaml': does not exist"),
        (cli(postgres_bin="missing"), {}, "--postgres-bin 'missing': does not exist"),
    ],
)
def test_a_bad_value_is_one_line_naming_option_source_and_fix(tmp_path, values, environ, start):
    with pytest.raises(InputError) as caught:
        resolve(tmp_path, values, environ)
    assert caught.value.problem.startswith(start), caught.value.problem
    flag = start.split()[0]
    assert caught.value.fix and caught.value.fix == BY_FLAG[flag].fix
    assert "\n" not in str(caught.value)


def test_a_soak_shorter_than_one_interval_is_refused(tmp_path):
    with pytest.raises(InputError, match="shorter than --soak-interval"):
        resolve(tmp_path, cli(soak_duration="5s", soak_interval="10s"), {})


def test_relative_paths_resolve_against_the_rootdir(tmp_path: Path):
    (tmp_path / "set").mkdir()
    (tmp_path / "paths.yaml").write_text(default_app_paths().read_text())  # checked like any table
    settings = resolve(tmp_path, cli(manifests="set", app_paths="paths.yaml", kubeconfig="kc"), {})
    assert (settings.manifests, settings.app_paths) == (tmp_path / "set", tmp_path / "paths.yaml")
    assert settings.kubeconfig == tmp_path / "kc"


def test_plan_declares_its_flags_from_the_same_table():
    plan = build_parser()._subparsers._group_actions[0].choices["plan"]  # type: ignore[union-attr]
    actions = {a.option_strings[0]: a for a in plan._actions if a.option_strings}
    for flag in PLAN_OPTIONS:
        assert actions[flag].dest == BY_FLAG[flag].dest
        assert actions[flag].help is not None and actions[flag].help.startswith(BY_FLAG[flag].help)


def test_plan_refuses_a_bad_value_with_the_plugins_line(capsys, monkeypatch):
    monkeypatch.delenv("DBC_TARGET", raising=False)
    assert main(["plan", "--target", "kind", "--cluster-name", "Bad_Name"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dbc-validate: --cluster-name 'Bad_Name': not a valid kind/k3d cluster name; fix: ")
    assert err.count("\n") == 1
    monkeypatch.setenv("DBC_TARGET", "local")
    assert main(["plan"]) == 2
    assert "plan needs a cluster target, got 'local' (from DBC_TARGET)" in capsys.readouterr().err
