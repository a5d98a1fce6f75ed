"""Shared setup of the harness's own tests: markers by what a test starts, the guard that keeps tests out of the
checkout, one rendering of the kind overlay, and a machine without a container engine on demand."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

# Imported once here, before any pytester run: pytester removes modules an inner session imported, and
# re-importing these on every inner run costs seconds (hypothesis) or breaks C-extension state (yaml).
import hypothesis
import jinja2  # noqa: F401
import pytest
import yaml  # noqa: F401
from helpers import KIND_OVERLAY, ROOT

import dbc_validate.report.html  # noqa: F401
from dbc_validate.manifests.model import ManifestSet, load_manifest_set
from dbc_validate.tools.container_engine import probe_container_engine

pytest_plugins = ["pytester"]

# Hypothesis profiles: a quick one for engineers at their desk (`pytest tests -m "not lab"` stays under 30 s),
# a thorough one for CI (tox sets HYPOTHESIS_PROFILE=ci). Neither keeps an example database in the checkout:
# tests write under tmp_path only, and a failure prints the @reproduce_failure line to replay it.
hypothesis.settings.register_profile("dev", max_examples=10, deadline=None, database=None, print_blob=True)
hypothesis.settings.register_profile("ci", max_examples=200, deadline=None, database=None, print_blob=True)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# Files whose tests start real local services (PostgreSQL, Patroni, Traefik, Locust, a Gate 1 suite in a
# subprocess that does): `pytest tests -m "not lab"` leaves them out.
LAB_FILES = frozenset(
    {
        "apps/test_app_stack_suite.py",
        "cjk/test_cjk_probes.py",
        "cjk/test_cjk_suite.py",
        "cjk/test_postgres_capability.py",
        "cluster/test_against_double.py",
        "cluster/test_access_against_double.py",
        "test_xdist.py",
        "cluster/test_cluster_postgres.py",
        "cluster/test_lifecycle_double.py",
        "failover/test_failover_lab.py",
        "failover/test_failover_suite.py",
        "observability/test_prometheus_server.py",
        "observability/test_observability_lab.py",
        "soak/test_soak_kill_resume.py",
        "soak/test_soak_supervisor.py",
        "soak/test_soak_run_ahead_lab.py",
        "soak/test_soak_retrospective_prometheus.py",
        "soak/test_soak_gap_metrics_prometheus.py",
        "robustness/test_double_interrupt_lab.py",
        "split/test_split_through_traefik.py",
        "split/test_split_distributed.py",
        "cluster/test_load_in_cluster_master.py",
    }
)
# Fixtures that start a service (a PostgreSQL, the Kubernetes API test double): a test using one is a lab test
# wherever it lives.
LAB_FIXTURES = frozenset({"stock_parser_database", "postgres_without_cjk", "double_lab"})
# Tests that run a real program beside pytest for seconds (a pytest subprocess, pip building a wheel): lab
# tests too, so `pytest tests -m "not lab"` stays the quick, in-process set.
PROGRAM_TESTS = frozenset(
    {
        "cluster/test_cluster_targets.py::test_gate1_on_a_machine_without_docker_fails_fast_in_one_line",
        "test_plugin.py::test_the_report_is_written_when_the_run_is_interrupted",
        "test_plugin.py::test_disabling_the_plugin_removes_its_marker_and_fixtures",
        "robustness/test_bounded_manifests.py::test_the_alias_bomb_through_the_command_exits_two_in_one_line_and_bounded_memory",
        "cli/test_wheel_install.py::test_the_wheel_analyzes_a_manifest_set_from_another_directory",
        "robustness/test_interrupts.py::test_a_second_ctrl_c_during_the_cleanup_neither_loses_the_report_nor_stops_the_cleanup",
        "test_background_starts.py::test_ctrl_c_during_a_background_start_stops_what_it_started",
    }
)
TESTS = Path(__file__).parent

# A shell starts background jobs (`cmd &`) with SIGINT ignored, and children inherit that: the tests that Ctrl-C a
# harness in a subprocess need it to take SIGINT. A Python handler here becomes the default in every child.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not item.path.is_relative_to(TESTS):
            continue
        relative = item.path.relative_to(TESTS).as_posix()
        name = item.originalname if isinstance(item, pytest.Function) else item.name
        if (
            relative in LAB_FILES
            or LAB_FIXTURES & set(getattr(item, "fixturenames", ()))
            or f"{relative}::{name}" in PROGRAM_TESTS
        ):
            item.add_marker(pytest.mark.lab)
            item.add_marker(pytest.mark.slow)


def _checkout_state() -> tuple[str, frozenset[tuple[str, int, int]]]:
    """What a test could change in the checkout: git's view of it, and every file under reports/ (ignored by git)."""
    git = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True, text=True
    )
    status = git.stdout if git.returncode == 0 else "not a git checkout"
    reports = frozenset(
        (str(p.relative_to(ROOT)), p.stat().st_mtime_ns, p.stat().st_size)
        for p in (ROOT / "reports").rglob("*")
        if p.is_file()
    )
    return status, reports


@pytest.fixture(scope="session", autouse=True)
def _tests_stay_out_of_the_checkout() -> Iterator[None]:
    """Fail the session when a test wrote into reports/ or changed the checkout: tests write under tmp_path only."""
    before = _checkout_state()
    yield
    after = _checkout_state()
    assert after[1] == before[1], f"a test wrote into reports/: {sorted(after[1] - before[1])}"
    assert after[0] == before[0], f"a test changed the checkout (git status before/after):\n{before[0]}\n{after[0]}"


@pytest.fixture(autouse=True)
def _fresh_engine_probe() -> Iterator[None]:
    """The container-engine probe is cached per process; a test must not see what an earlier test's PATH found."""
    probe_container_engine.cache_clear()
    yield
    probe_container_engine.cache_clear()


@pytest.fixture
def no_container_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH without docker or podman, whatever the machine has."""
    empty = tmp_path / "no-engine-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


@pytest.fixture(scope="session")
def kind_set() -> ManifestSet:
    """The kind overlay, rendered once for the whole session."""
    return load_manifest_set(KIND_OVERLAY)
