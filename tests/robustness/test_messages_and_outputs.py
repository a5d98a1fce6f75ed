"""Bad output paths and kubeconfig paths: one line naming the real problem, exit 4, before any test runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbc_validate.options import _blocked_output
from dbc_validate.targets.cluster import missing_prerequisites
from dbc_validate.tools.container_engine import EngineProbe

MANIFEST = "apiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: Path("/proc/dbc-nope/gate1.html"), "refuses new files"),
        (lambda tmp: (tmp / "file").write_text("x") and tmp / "file" / "gate1.html", "which is a file, not a folder"),
        (lambda tmp: (tmp / "file").write_text("x") and tmp / "file" / "deeper" / "g.html", "which is a file"),
        (lambda tmp: tmp, "is a folder"),
    ],
    ids=["under-proc", "under-a-file", "deep-under-a-file", "a-folder"],
)
def test_unwritable_report_paths_are_named(tmp_path, make, reason):
    problem = _blocked_output(make(tmp_path))
    assert problem is not None and reason in problem


def test_a_writable_path_passes_and_leaves_nothing_behind(tmp_path):
    assert _blocked_output(tmp_path / "new" / "gate1.html") is None
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_report_path_stops_the_run_before_any_test(pytester):
    (pytester.path / "blocker").write_text("a file")
    (pytester.path / "set.yaml").write_text(MANIFEST)
    pytester.makepyfile(
        test_check="""
        import pytest

        @pytest.mark.gate1("security.non_root")
        def test_check():
            raise AssertionError("must not run")
        """
    )
    result = pytester.runpytest("--gate1-report", "blocker/gate1.html", "--manifests", "set.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: dbc_validate: --gate1-report 'blocker/gate1.html': is under *blocker*fix: *"])
    assert "must not run" not in result.stdout.str() and "Traceback" not in result.stderr.str()


def test_a_kubeconfig_path_that_does_not_exist_is_named(tmp_path):
    engine = EngineProbe(None, False, "")
    given = missing_prerequisites("kubeconfig", engine, lambda n: None, False, kubeconfig=tmp_path / "nope" / "config")
    assert f"the kubeconfig {tmp_path / 'nope' / 'config'} does not exist" in given[-1].problem
    unset = missing_prerequisites("kubeconfig", engine, lambda n: None, False)
    assert "none was found" in unset[-1].problem
