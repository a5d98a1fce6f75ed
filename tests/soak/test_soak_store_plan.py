"""The soak's samples file (durable appends, torn tails, resume by id) and its options."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbc_validate.durations import parse_cpu_cores, parse_memory_mb, parse_percent
from dbc_validate.errors import InputError
from dbc_validate.options import resolve
from dbc_validate.probes.soak.plan import SoakPlan, soak_plan
from dbc_validate.probes.soak.store import SAMPLES, SoakStore
from dbc_validate.settings import Settings

T0 = 1_790_000_000.0


def test_records_are_appended_durably_and_read_back_in_order(tmp_path):
    store = SoakStore.create(tmp_path, T0)
    assert store.run_id.startswith("20260921-141320-")
    for i in range(3):
        store.append({"type": "sample", "i": i})
    store.close()
    assert [r["i"] for r in SoakStore.open(tmp_path, store.run_id).records()] == [0, 1, 2]


def test_a_torn_last_line_is_skipped_and_cut_before_resuming(tmp_path):
    store = SoakStore.create(tmp_path, T0)
    store.append({"type": "sample", "i": 0})
    store.close()
    with open(store.path, "a") as handle:
        handle.write('{"type": "sample", "i": 1, "requ')  # SIGKILL in the middle of a write
    assert [r["i"] for r in store.records()] == [0]
    assert store.repair_tail() is True
    assert store.repair_tail() is False
    store.append({"type": "sample", "i": 2})
    store.close()
    assert [r["i"] for r in store.records()] == [0, 2]
    assert store.path.read_text().count("\n") == 2


def test_a_file_holding_only_a_torn_line_is_emptied(tmp_path):
    store = SoakStore.create(tmp_path, T0)
    store.path.write_text('{"type": "seg')
    assert store.repair_tail() is True
    assert store.path.read_text() == ""


def test_resuming_an_unknown_run_names_the_runs_there_are(tmp_path):
    known = SoakStore.create(tmp_path, T0)
    with pytest.raises(InputError, match="no soak run 'nope'") as error:
        SoakStore.open(tmp_path, "nope")
    assert known.run_id in error.value.fix
    with pytest.raises(InputError, match="is not a soak run id"):
        SoakStore.open(tmp_path, "../etc")
    with pytest.raises(InputError, match="start a soak without --soak-resume"):
        SoakStore.open(tmp_path / "empty", "20260101-000000-abcd")
    assert (tmp_path / known.run_id / SAMPLES).is_file()


def settings(tmp_path: Path, **options: object) -> Settings:
    """Settings resolved as the plugin does, from --soak-<option> values given on the command line."""
    cli = {f"dbc_soak_{name}": str(value) for name, value in options.items()}
    return resolve(tmp_path, {"dbc_gate1_report": str(tmp_path / "out" / "gate1.html"), **cli}, environ={})


def test_the_plan_comes_from_the_options(tmp_path):
    assert soak_plan(settings(tmp_path)) == SoakPlan(tmp_path / "out" / "soak", None)  # the defaults
    plan = soak_plan(
        settings(tmp_path, interval="2s", resume=" abc ", error_rate_max="0.5", cpu_budget="500m", duration=60)
    )
    assert plan.root == tmp_path / "out" / "soak"
    assert (plan.interval_s, plan.resume, plan.duration_s) == (2.0, "abc", 60)
    assert plan.error_rate_max == 0.005 and plan.cpu_budget_cores == 0.5 and plan.memory_budget_mb == 512.0


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("interval", "soon", "--soak-interval"),
        ("interval", "0s", "must be more than 0"),
        ("error_rate_max", "lots", "not a percentage"),
        ("error_rate_max", "150", "between 0 and 100"),
        ("cpu_budget", "2 cores", "not a CPU quantity"),
        ("memory_budget", "1 lightyear", "not a memory quantity"),
        ("rate", "-1", "must be more than 0"),
    ],
)
def test_bad_soak_options_name_the_option_and_the_fix(tmp_path, option, value, message):
    with pytest.raises(InputError, match=message) as error:
        settings(tmp_path, **{option: value})
    assert error.value.problem.startswith(f"--soak-{option.replace('_', '-')} {value!r}: ") and error.value.fix


def test_a_duration_shorter_than_one_interval_is_refused(tmp_path):
    with pytest.raises(InputError, match="shorter than --soak-interval"):
        settings(tmp_path, interval="10s", duration=5)


def test_quantities_parse_like_kubernetes():
    assert parse_memory_mb("1Gi") == 1024 and parse_memory_mb("512Mi") == 512
    assert parse_memory_mb("1048576") == 1 and round(parse_memory_mb("500M"), 1) == 476.8
    assert parse_cpu_cores("250m") == 0.25 and parse_cpu_cores("2") == 2
    assert parse_percent("1%") == 0.01 and parse_percent(" 0.5 ") == 0.005
