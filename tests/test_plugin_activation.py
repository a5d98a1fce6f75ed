"""The plugin stays out of projects that collect no Gate 1 test, and stops a Gate 1 run on a bad value in one line."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

PASSING = "def test_passes():\n    pass\n"
GATE1_CHECK = """
import pytest

@pytest.mark.gate1("security.rbac")
def test_check():
    pass
"""
BAD_ENVIRONMENTS = [("DBC_TARGET", "bogus"), ("DBC_MANIFESTS", "/nonexistent")]


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n')
    return pytester


@pytest.fixture
def default_sigterm() -> Iterator[None]:
    """SIGTERM at its default for the test (the outer session may have its own), restored afterwards."""
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    signal.signal(signal.SIGTERM, previous)


def error_lines(result: pytest.RunResult) -> list[str]:
    return [line for line in result.stderr.lines if line.strip()]


@pytest.mark.parametrize(("variable", "value"), BAD_ENVIRONMENTS)
def test_an_unrelated_project_is_untouched_by_bad_dbc_variables(project, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    project.makepyfile(test_other=PASSING)
    result = project.runpytest()
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)
    # The plugin speaks as "dbc_validate: ..."; pytester's in-process rewrite warning names the module, not that.
    assert "dbc_validate:" not in result.stdout.str() + result.stderr.str()
    assert not (project.path / "reports").exists()


@pytest.mark.parametrize(("variable", "value"), BAD_ENVIRONMENTS)
def test_the_same_variables_stop_a_gate1_run_in_one_line(project, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    project.makepyfile(test_other=PASSING, test_gate1=GATE1_CHECK)
    result = project.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    option = {"DBC_TARGET": "--target", "DBC_MANIFESTS": "--manifests"}[variable]
    assert len(error_lines(result)) == 1
    result.stderr.fnmatch_lines([f"ERROR: dbc_validate: {option} '{value}' (from {variable}): *; fix: *"])
    assert "passed" not in result.stdout.str() and not (project.path / "reports").exists()


def test_a_path_under_suites_gate1_resolves_the_settings_before_collection(project, monkeypatch):
    monkeypatch.setenv("DBC_TARGET", "bogus")
    suites = project.mkpydir("suites") / "gate1"
    suites.mkdir()
    (suites / "test_plain.py").write_text(PASSING)  # no gate1 marker: the path alone says it is a Gate 1 run
    result = project.runpytest("suites/gate1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR and len(error_lines(result)) == 1
    result.stderr.fnmatch_lines(["ERROR: dbc_validate: --target 'bogus' (from DBC_TARGET): unknown target*"])


def test_an_explicit_option_makes_the_run_a_gate1_run(project):
    project.makepyfile(test_other=PASSING)
    result = project.runpytest("--failover-trials", "abc")
    assert result.ret == pytest.ExitCode.USAGE_ERROR and len(error_lines(result)) == 1
    result.stderr.fnmatch_lines(["ERROR: dbc_validate: --failover-trials 'abc': not a whole number; fix: *"])


@pytest.mark.usefixtures("default_sigterm")
def test_the_sigterm_handler_lives_only_in_an_active_session(project):
    project.makepyfile(
        test_gate1="""
        import signal

        import pytest

        from dbc_validate.tools.interrupts import InterruptGuard

        @pytest.mark.gate1("security.rbac")
        def test_handler_installed():
            handler = signal.getsignal(signal.SIGTERM)
            assert isinstance(getattr(handler, "__self__", None), InterruptGuard)
        """
    )
    (project.path / "manifests").mkdir()
    (project.path / "manifests" / "set.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n")
    project.runpytest("--target", "local", "test_gate1.py").assert_outcomes(passed=1)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


@pytest.mark.usefixtures("default_sigterm")
def test_an_inactive_session_installs_no_handler(project):
    project.makepyfile(
        test_other="""
        import signal

        def test_no_handler():
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        """
    )
    project.runpytest().assert_outcomes(passed=1)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_gate1_fixtures_outside_a_gate1_session_say_why(project):
    project.makepyfile(test_other="def test_uses(gate1_settings):\n    pass\n")
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*dbc_validate is inactive in this session*"])
