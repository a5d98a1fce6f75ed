"""Options with a plausible range refuse absurd values in one line unless --i-mean-it confirms them; a long run
says at the start how long it will take."""

from __future__ import annotations

import pytest

from dbc_validate.errors import InputError
from dbc_validate.options import BY_FLAG, RANGED, resolve


def cli(**values: object) -> dict[str, object]:
    return {f"dbc_{name}": value for name, value in values.items()}


ABSURD = [
    (cli(failover_trials="100000"), {}, "--failover-trials '100000': outside the plausible range 1 to 50 (about 40d"),
    ({}, {"DBC_FAILOVER_TRIALS": "51"}, "--failover-trials '51' (from DBC_FAILOVER_TRIALS): outside"),
    (cli(soak_duration="30d"), {}, "--soak-duration '30d': outside the plausible range 1.0s to 7d00h (about 30d00h"),
    (cli(soak_interval="0.01s"), {}, "--soak-interval '0.01s': outside the plausible range 0.5s to 1h00m"),
    (cli(soak_duration="30d", soak_interval="2h"), {}, "--soak-duration '30d'"),
    (cli(soak_rate="1e9"), {}, "--soak-rate '1e9': outside the plausible range 0.1 to 1000"),
    (cli(soak_cpu_budget="4096"), {}, "--soak-cpu-budget '4096': outside"),
    (cli(soak_memory_budget="1Mi"), {}, "--soak-memory-budget '1Mi': outside the plausible range 16Mi to"),
]


@pytest.mark.parametrize(("values", "environ", "start"), ABSURD)
def test_an_absurd_value_is_refused_in_one_line_naming_the_confirmation(tmp_path, values, environ, start):
    with pytest.raises(InputError) as caught:
        resolve(tmp_path, values, environ)
    assert caught.value.problem.startswith(start), caught.value.problem
    assert "--i-mean-it" in caught.value.fix and "\n" not in str(caught.value)


@pytest.mark.parametrize(("values", "environ", "start"), ABSURD)
def test_i_mean_it_lets_the_same_values_through(tmp_path, values, environ, start):
    settings = resolve(tmp_path, {**values, "dbc_i_mean_it": True}, environ)
    assert settings.i_mean_it


def test_every_ranged_option_accepts_its_default_and_its_bounds(tmp_path):
    assert set(RANGED) >= {"--failover-trials", "--soak-duration", "--soak-interval", "--soak-rate"}
    assert resolve(tmp_path, {}, {}).i_mean_it is False
    settings = resolve(tmp_path, cli(failover_trials="50", soak_duration="7d", soak_interval="1h"), {})
    assert (settings.failover_trials, settings.soak_duration_s) == (50, 7 * 86400)
    assert BY_FLAG["--i-mean-it"].flag_value


def test_pytest_refuses_an_absurd_trial_count_before_collecting(pytester):
    pytester.makepyfile(test_other="def test_x():\n    pass\n")
    result = pytester.runpytest("--failover-trials", "100000")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.stderr.lines if line.strip()] == [
        "ERROR: dbc_validate: --failover-trials '100000': outside the plausible range 1 to 50 (about 40d12h of "
        "running); fix: pass a value in that range, or add --i-mean-it to run it anyway"
    ]


LONG_SUITE = """
import pytest

@pytest.mark.gate1("databases.failover")
def test_failover(manifest_set):
    pass

@pytest.mark.gate1("stability.soak")
def test_soak(manifest_set):
    pass
"""


def test_a_long_run_prints_its_estimate_at_the_start_and_a_short_one_does_not(pytester):
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n')
    (pytester.path / "manifests").mkdir()
    (pytester.path / "manifests" / "set.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    pytester.makepyfile(test_long=LONG_SUITE)
    long = pytester.runpytest("--target", "local", "--failover-trials", "20", "--soak-duration", "2h")
    long.stdout.fnmatch_lines(
        ["*this run takes about 2h12m (failover: 20 trial(s) and a switchover at ~35 s each; soak: 2h00m)*"]
    )
    assert long.stdout.str().index("this run takes about") < long.stdout.str().index("passed")
    short = pytester.runpytest("--target", "local", "-k", "soak")
    assert "this run takes about" not in short.stdout.str()
