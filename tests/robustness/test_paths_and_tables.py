"""Paths resolve where the command was typed; pytest's own output files and the app-path table are checked before
any test runs (exit 4, one line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbc_validate.errors import InputError
from dbc_validate.options import resolve

GATE1_TEST = """
import pytest

@pytest.mark.gate1("security.rbac")
def test_x(manifest_set):
    assert len(manifest_set) == 1
"""
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n')
    (pytester.path / "manifests").mkdir()
    (pytester.path / "manifests" / "set.yaml").write_text(NAMESPACE + "---\n" + NAMESPACE.replace(": a}", ": b}"))
    (pytester.path / "sub").mkdir()
    (pytester.path / "sub" / "test_x.py").write_text(GATE1_TEST)
    return pytester


def error_lines(result: pytest.RunResult) -> list[str]:
    return [line for line in result.stderr.lines if line.strip()]


def test_a_relative_manifests_path_resolves_against_the_invocation_folder(project, monkeypatch):
    elsewhere = project.path / "elsewhere" / "set"
    elsewhere.mkdir(parents=True)
    (elsewhere / "ns.yaml").write_text(NAMESPACE)
    monkeypatch.chdir(project.path / "sub")
    result = project.runpytest("test_x.py", "--target", "local", "--manifests", "../elsewhere/set")
    result.assert_outcomes(passed=1)  # one object: the set under elsewhere/, not the rootdir's manifests/


def test_relative_paths_from_ini_stay_relative_to_the_rootdir(tmp_path: Path):
    (tmp_path / "set").mkdir()
    ini = {"dbc_manifests": "set"}.get
    settings = resolve(tmp_path, {}, {}, lambda key: ini(key, ""), invocation=tmp_path / "somewhere")
    assert settings.manifests == tmp_path / "set"
    typed = resolve(tmp_path, {"dbc_manifests": "../set"}, {}, invocation=tmp_path / "sub")
    assert typed.manifests == tmp_path / "set"


@pytest.mark.parametrize(
    ("flag", "value", "problem"),
    [
        ("--junitxml", "/proc/junit.xml", "cannot be written: /proc refuses new files"),
        ("--junitxml", "{file}/junit.xml", "is under {file}, which is a file, not a folder"),
        ("--html", "{file}/pytest.html", "is under {file}, which is a file, not a folder"),
        ("--html", "{folder}", "is a folder"),
    ],
)
def test_pytest_output_files_are_checked_before_any_test_runs(project, flag, value, problem):
    if flag == "--html":
        pytest.importorskip("pytest_html")
    file = project.path / "a-file"
    file.write_text("x")
    folder = project.path / "a-folder"
    folder.mkdir()
    value, problem = (t.format(file=file, folder=folder) for t in (value, problem))
    result = project.runpytest("sub/test_x.py", "--target", "local", flag, value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    lines = error_lines(result)
    assert len(lines) == 1 and lines[0].startswith(f"ERROR: dbc_validate: {flag} {value!r}: {problem}"), lines
    assert "passed" not in result.stdout.str()


APP_PATH_TABLES = [
    ("paths: [\n", "malformed YAML at {table}:2"),
    ("paths: []\n", "{table} has no `paths:` list"),
    ("a: 1\na: 2\n", "{table}:2: duplicate mapping key 'a' (first at line 1)"),
    ("paths:\n  - {from: a/b, to: c/d, port: 80}\n", "{table} paths[0] must have exactly the keys"),
    ("paths: [1]\n---\npaths: [2]\n", "holds 2 YAML documents, not one table"),
    (b"\xff\xfe", "is not UTF-8 text"),
]


@pytest.mark.parametrize(("content", "problem"), APP_PATH_TABLES)
def test_a_malformed_app_paths_table_stops_the_run_in_one_line(project, content, problem):
    table = project.path / "table.yaml"
    if isinstance(content, bytes):
        table.write_bytes(content)
    else:
        table.write_text(content)
    result = project.runpytest("sub/test_x.py", "--target", "local", "--app-paths", str(table))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    lines = error_lines(result)
    assert len(lines) == 1 and problem.format(table=table) in lines[0], lines
    assert "fix: pass --app-paths with a YAML file in the format of" in lines[0]


def test_the_packaged_app_paths_table_passes_the_same_check(tmp_path: Path):
    from dbc_validate.settings import default_app_paths

    settings = resolve(tmp_path, {"dbc_app_paths": str(default_app_paths())}, {})
    assert settings.app_paths == default_app_paths()
    with pytest.raises(InputError, match="does not exist"):
        resolve(tmp_path, {"dbc_app_paths": "nope.yaml"}, {})
