"""Fuzzing the inputs a user hands the harness: YAML-ish bytes and Kubernetes-shaped documents to the loader,
`analyze` and `netpol`, JSON trees to `report`. Each ends with findings (exit 0/1) or one clear line (exit 2),
never a traceback. In-process and small, so it runs with the quick tests."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbc_validate.cli import main
from dbc_validate.errors import InputError
from dbc_validate.manifests.model import load_manifest_set

FUZZ = settings(suppress_health_check=[HealthCheck.too_slow])  # examples: the profile's (tests/conftest.py)

YAML_PIECES = [
    "apiVersion: v1\n",
    "kind: Namespace\n",
    "kind: Pod\n",
    "kind: List\n",
    "metadata:\n",
    "  name: a\n",
    "  namespace: b\n",
    "spec:\n",
    "  containers:\n",
    "  - name: c\n",
    "    image: i\n",
    "items: 5\n",
    "---\n",
    "&a [*a]\n",
    "x: &x [1, 2]\n",
    "y: [*x, *x]\n",
    "<<: *x\n",
    "a: 1\na: 2\n",
    "\t",
    "'",
    '"',
    "{",
    "[",
    ": ",
    "- ",
    "!!python/object:os.system\n",
    "!!binary |\n  AAAA\n",
    "? complex\n",
    "%YAML 1.1\n",
    "\x00",
    "\ufeff",
    "# comment\n",
    "null\n",
    "~\n",
    "\n",
    "   ",
    "kind: NetworkPolicy\n",
    "apiVersion: networking.k8s.io/v1\n",
    "  podSelector: {}\n",
    "  ingress: [{from: 5}]\n",
    "  routes: 7\n",
]


def run_cli(argv: list[str]) -> tuple[int, str]:
    """The command in-process: its exit code and stderr; any exception escaping it fails the test."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(argv)
    return code, err.getvalue()


def assert_clear(code: int, err: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("dbc-validate: ") and "; fix: " in lines[0], err
    else:
        assert code in (0, 1) and not lines, (code, err)
    assert "Traceback" not in err


def judge_file(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "set.yaml"
        path.write_bytes(content)
        try:
            assert len(load_manifest_set(path)) > 0
        except InputError as exc:
            assert "\n" not in str(exc)
        for argv in (["analyze", str(path)], ["netpol", str(path)], ["netpol", str(path), "--format", "json"]):
            assert_clear(*run_cli(argv))


@FUZZ
@given(st.lists(st.sampled_from(YAML_PIECES) | st.text(max_size=8), max_size=25))
def test_yaml_ish_text_gives_findings_or_one_line(pieces: list[str]) -> None:
    judge_file("".join(pieces).encode("utf-8", "surrogatepass"))


@FUZZ
@given(st.binary(max_size=200))
def test_arbitrary_bytes_give_one_line(content: bytes) -> None:
    judge_file(content)


scalars = st.none() | st.booleans() | st.integers(-5, 70000) | st.text(max_size=6) | st.sampled_from(["TCP", "UDP"])
KEYS = [
    "containers",
    "name",
    "image",
    "ports",
    "port",
    "containerPort",
    "protocol",
    "securityContext",
    "runAsNonRoot",
    "podSelector",
    "matchLabels",
    "namespaceSelector",
    "ingress",
    "egress",
    "from",
    "to",
    "policyTypes",
    "template",
    "spec",
    "metadata",
    "labels",
    "selector",
    "replicas",
    "routes",
    "services",
    "match",
    "rules",
    "subjects",
    "roleRef",
    "verbs",
    "resources",
    "apiGroups",
    "data",
    "stringData",
    "instances",
    "ipBlock",
    "cidr",
    "endPort",
]
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    max_leaves=20,
)
KINDS = [
    ("v1", "Namespace"),
    ("v1", "Pod"),
    ("v1", "Service"),
    ("v1", "Secret"),
    ("v1", "ConfigMap"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("traefik.io/v1alpha1", "IngressRoute"),
    ("postgresql.cnpg.io/v1", "Cluster"),
    ("v1", "List"),
]


@st.composite
def k8s_documents(draw: Any) -> dict[str, Any]:
    api_version, kind = draw(st.sampled_from(KINDS))
    metadata = {"name": draw(st.sampled_from(["a", "b", "web"])), "namespace": draw(st.sampled_from(["x", "y"]))}
    if draw(st.booleans()):
        metadata["labels"] = draw(st.dictionaries(st.sampled_from(["app", "role"]), values, max_size=2))
    document: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": metadata}
    document["items" if kind == "List" else "spec"] = draw(values)
    return document


@FUZZ
@given(st.lists(k8s_documents(), min_size=1, max_size=4))
def test_kubernetes_shaped_documents_give_findings_or_one_line(documents: list[dict[str, Any]]) -> None:
    judge_file(yaml.safe_dump_all(documents).encode())


def _good_report() -> dict[str, Any]:
    from dbc_validate.criteria import CATALOG
    from dbc_validate.evidence import EvidenceRecorder, TestEvidence
    from dbc_validate.report.build import RunInfo, build_report
    from dbc_validate.report.verdict import Outcome, TestResult
    from dbc_validate.scope import Scope

    evidence = TestEvidence()
    recorder = EvidenceRecorder(["security.rbac"], evidence)
    recorder.series("latency", [0, 1], [1.0, None], labels=["a", "b"])
    recorder.measure("objects", 3)
    recorder.note("a note")
    tests = [TestResult("t::x", ("security.rbac",), Outcome.PASSED, Scope.STATIC, "")]
    return build_report(CATALOG, tests, {"t::x": evidence}, RunInfo("local", "local", "s", "f", "0"))


GOOD_REPORT = _good_report()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree[:3]):
            found += _paths(value, (*prefix, index))
    return found


PATHS = _paths(GOOD_REPORT)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(PATHS), json_values), min_size=1, max_size=3))
def test_a_mutated_report_renders_or_is_refused_in_one_line(mutations: list[tuple[tuple[Any, ...], Any]]) -> None:
    report: Any = copy.deepcopy(GOOD_REPORT)
    for path, value in mutations:
        if not path:
            report = value
            continue
        parent = report
        try:
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the way there
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "gate1.json"
        path.write_text(json.dumps(report))
        code, err = run_cli(["report", str(path)])
        assert_clear(code, err)
        assert (Path(folder) / "gate1.html").exists() == (code == 0)


@FUZZ
@given(st.binary(max_size=100) | json_values.map(lambda v: json.dumps(v).encode()))
def test_arbitrary_report_files_are_refused_in_one_line(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "gate1.json"
        path.write_bytes(content)
        assert_clear(*run_cli(["report", str(path)]))
