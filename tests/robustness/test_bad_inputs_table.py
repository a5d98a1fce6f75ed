"""The bad inputs of issue 17 (and more) as one table: each ends with its documented exit code and one line
naming the problem, never a traceback. `dbc-validate` cases run in-process; plugin cases in an in-process pytest."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dbc_validate.cli import main

NS = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
DEPLOY = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: a}\n"
POLICY = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\n"


def bomb(levels: int) -> str:
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: bomb}", "data:", '  l0: &l0 ["lol"]']
    lines += [f"  l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Case:
    """Files to write ({name: text or bytes; "->target" makes a symlink}), the arguments ({dir} is the folder),
    the exit code and a fragment of the one line."""

    id: str
    args: tuple[str, ...]
    code: int
    says: str
    files: dict[str, str | bytes] = field(default_factory=dict)


CLI_CASES = [
    Case("analyze-empty-file", ("analyze", "{dir}/set.yaml"), 2, "no Kubernetes objects in", {"set.yaml": ""}),
    Case("analyze-comments-only", ("analyze", "{dir}/set.yaml"), 2, "no Kubernetes objects", {"set.yaml": "# x\n"}),
    Case("analyze-empty-folder", ("analyze", "{dir}"), 2, "no YAML files"),
    Case("analyze-missing-path", ("analyze", "{dir}/nope"), 2, "does not exist"),
    Case(
        "analyze-duplicate-key",
        ("analyze", "{dir}/s.yaml"),
        2,
        "s.yaml:4: duplicate mapping key 'kind' (first at line 2)",
        {"s.yaml": NS + "kind: X\n"},
    ),
    Case("analyze-alias-bomb-9", ("analyze", "{dir}/b.yaml"), 2, "b.yaml:", {"b.yaml": bomb(9)}),
    Case("analyze-alias-bomb-10", ("analyze", "{dir}/b.yaml"), 2, "b.yaml:", {"b.yaml": bomb(10)}),
    Case(
        "analyze-symlink-loop",
        ("analyze", "{dir}"),
        2,
        "cannot read",
        {"g.yaml": NS, "a.yaml": "->b.yaml", "b.yaml": "->a.yaml"},
    ),
    Case("analyze-dangling-link", ("analyze", "{dir}"), 2, "cannot read", {"g.yaml": NS, "a.yaml": "->gone.yaml"}),
    Case("analyze-non-utf8", ("analyze", "{dir}/s.yaml"), 2, "cannot read", {"s.yaml": b"a: \xff\xfe\n"}),
    Case("analyze-nul-bytes", ("analyze", "{dir}/s.yaml"), 2, "malformed YAML", {"s.yaml": b"\x00\x01"}),
    Case("analyze-tab-indent", ("analyze", "{dir}/s.yaml"), 2, "malformed YAML at", {"s.yaml": "a:\n\tb: 1\n"}),
    Case("analyze-unclosed-flow", ("analyze", "{dir}/s.yaml"), 2, "malformed YAML at", {"s.yaml": "a: [1, 2\n"}),
    Case(
        "analyze-python-tag",
        ("analyze", "{dir}/s.yaml"),
        2,
        "malformed YAML",
        {"s.yaml": "!!python/object:os.system {}\n"},
    ),
    Case("analyze-list-document", ("analyze", "{dir}/s.yaml"), 2, "a document is a list", {"s.yaml": "- 1\n"}),
    Case("analyze-scalar-document", ("analyze", "{dir}/s.yaml"), 2, "a document is a str", {"s.yaml": "hi\n"}),
    Case(
        "analyze-no-kind",
        ("analyze", "{dir}/s.yaml"),
        2,
        "object without kind",
        {"s.yaml": "apiVersion: v1\nmetadata: {name: a}\n"},
    ),
    Case(
        "analyze-no-name",
        ("analyze", "{dir}/s.yaml"),
        2,
        "without metadata.name",
        {"s.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {}\n"},
    ),
    Case(
        "analyze-metadata-list",
        ("analyze", "{dir}/s.yaml"),
        2,
        "metadata is not a mapping",
        {"s.yaml": "apiVersion: v1\nkind: Pod\nmetadata: [1]\n"},
    ),
    Case(
        "analyze-list-items-int",
        ("analyze", "{dir}/s.yaml"),
        2,
        "items is not a list",
        {"s.yaml": "apiVersion: v1\nkind: List\nitems: 5\n"},
    ),
    Case(
        "analyze-spec-a-string",
        ("analyze", "{dir}/s.yaml"),
        2,
        "Deployment/a/d: spec: 'hi' is not of type",
        {"s.yaml": DEPLOY + "spec: hi\n"},
    ),
    Case(
        "analyze-peers-an-int",
        ("analyze", "{dir}/s.yaml"),
        2,
        "spec.ingress.0.from: 5 is not of type",
        {"s.yaml": POLICY + "spec: {podSelector: {}, ingress: [{from: 5}]}\n"},
    ),
    Case(
        "analyze-crd-routes-int",
        ("analyze", "{dir}/s.yaml"),
        2,
        "cannot read",
        {
            "s.yaml": "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\n"
            "metadata: {name: r, namespace: a}\nspec: {routes: 5}\n"
        },
    ),
    Case("analyze-bad-split", ("analyze", "{dir}/s.yaml", "--split", "abc"), 2, "split 'abc'", {"s.yaml": NS}),
    Case(
        "analyze-zero-split", ("analyze", "{dir}/s.yaml", "--split", "100/0"), 2, "two or more positive", {"s.yaml": NS}
    ),
    Case("analyze-good-set", ("analyze", "{dir}/s.yaml"), 0, "", {"s.yaml": NS}),
    Case("netpol-empty-file", ("netpol", "{dir}/s.yaml"), 2, "no Kubernetes objects", {"s.yaml": ""}),
    Case("netpol-spec-a-string", ("netpol", "{dir}/s.yaml"), 2, "is not of type", {"s.yaml": DEPLOY + "spec: hi\n"}),
    Case(
        "netpol-peers-an-int",
        ("netpol", "{dir}/s.yaml"),
        2,
        "spec.ingress.0.from",
        {"s.yaml": POLICY + "spec: {podSelector: {}, ingress: [{from: 5}]}\n"},
    ),
    Case(
        "netpol-bad-port",
        ("netpol", "{dir}/s.yaml", "--from", "a/x", "--to", "a/y", "--port", "abc"),
        2,
        "bad --port 'abc'",
        {"s.yaml": NS},
    ),
    Case(
        "netpol-bad-protocol",
        ("netpol", "{dir}/s.yaml", "--from", "a/x", "--to", "a/y", "--port", "80/XYZ"),
        2,
        "bad --port",
        {"s.yaml": NS},
    ),
    Case("netpol-half-a-flow", ("netpol", "{dir}/s.yaml", "--from", "a/x"), 2, "go together", {"s.yaml": NS}),
    Case(
        "netpol-unknown-workload",
        ("netpol", "{dir}/s.yaml", "--from", "a/x", "--to", "a/y", "--port", "80/TCP"),
        2,
        "unknown workload 'a/x'",
        {"s.yaml": NS},
    ),
    Case("report-missing", ("report", "{dir}/gate1.json"), 2, "cannot read"),
    Case("report-a-folder", ("report", "{dir}"), 2, "cannot read"),
    Case("report-empty", ("report", "{dir}/g.json"), 2, "is not JSON", {"g.json": ""}),
    Case("report-non-utf8", ("report", "{dir}/g.json"), 2, "is not UTF-8", {"g.json": b"\xff{"}),
    Case("report-a-string", ("report", "{dir}/g.json"), 2, "is a string, not a JSON object", {"g.json": '"x"'}),
    Case("report-a-number", ("report", "{dir}/g.json"), 2, "is a number, not a JSON object", {"g.json": "7"}),
    Case("report-minimal", ("report", "{dir}/g.json"), 2, "lacks verdict", {"g.json": "{}"}),
    Case(
        "report-newer-schema",
        ("report", "{dir}/g.json"),
        2,
        "schema_version 9",
        {"g.json": json.dumps({"schema_version": 9})},
    ),
]


def write_files(folder: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        if isinstance(content, str) and content.startswith("->"):
            path.symlink_to(folder / content[2:])
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_the_command_answers_bad_input_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: Case):
    write_files(tmp_path, case.files)
    code = main([arg.format(dir=tmp_path) for arg in case.args])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == case.code, err
    if case.code == 2:
        assert len(lines) == 1 and case.says in lines[0] and "; fix: " in lines[0], lines
        assert "--manifests" not in lines[0]  # the command has no such option
    else:
        assert not lines


GATE1_TEST = 'import pytest\n\n@pytest.mark.gate1("security.rbac")\ndef test_x(manifest_set):\n    pass\n'
PLUGIN_CASES = [
    Case("trials-absurd", ("--failover-trials", "100000"), 4, "outside the plausible range 1 to 50"),
    Case("trials-text", ("--failover-trials", "abc"), 4, "--failover-trials 'abc': not a whole number"),
    Case("trials-zero", ("--failover-trials", "0"), 4, "must be at least 1"),
    Case("soak-a-month", ("--soak-duration", "30d"), 4, "--soak-duration '30d': outside"),
    Case("soak-forever", ("--soak-duration", "forever"), 4, "not a duration"),
    Case("soak-interval-tiny", ("--soak-interval", "0.01s"), 4, "--soak-interval '0.01s': outside"),
    Case("soak-shorter-than-interval", ("--soak-duration", "5s", "--soak-interval", "10s"), 4, "shorter than"),
    Case("soak-rate-absurd", ("--soak-rate", "1e9"), 4, "--soak-rate '1e9': outside"),
    Case("soak-resume-path", ("--soak-resume", "../x"), 4, "not a soak run id"),
    Case("target-unknown", ("--target", "bogus"), 4, "unknown target"),
    Case("cluster-name-bad", ("--cluster-name", "Bad_Name"), 4, "not a valid kind/k3d cluster name"),
    Case("manifests-missing", ("--manifests", "{dir}/nope"), 4, "does not exist"),
    Case("manifests-empty", ("--manifests", "{dir}/e.yaml"), 4, "no Kubernetes objects", {"e.yaml": ""}),
    Case("manifests-bomb", ("--manifests", "{dir}/b.yaml"), 4, "b.yaml:", {"b.yaml": bomb(10)}),
    Case(
        "manifests-duplicate", ("--manifests", "{dir}/d.yaml"), 4, "duplicate mapping key", {"d.yaml": NS + "kind: X\n"}
    ),
    Case("report-under-proc", ("--gate1-report", "/proc/gate1.html"), 4, "--gate1-report '/proc/gate1.html'"),
    Case("report-under-a-file", ("--gate1-report", "{dir}/f/g.html"), 4, "which is a file", {"f": "x"}),
    Case("junitxml-under-a-file", ("--junitxml", "{dir}/f/j.xml"), 4, "--junitxml", {"f": "x"}),
    Case("app-paths-malformed", ("--app-paths", "{dir}/t.yaml"), 4, "malformed YAML", {"t.yaml": "paths: [\n"}),
    Case("app-paths-wrong-shape", ("--app-paths", "{dir}/t.yaml"), 4, "has no `paths:` list", {"t.yaml": "a: 1\n"}),
    Case("app-paths-missing", ("--app-paths", "{dir}/nope.yaml"), 4, "does not exist"),
    Case("kubeconfig-missing", ("--target", "kubeconfig", "--kubeconfig", "/nope/config"), 4, "/nope/config"),
]


@pytest.mark.parametrize("case", PLUGIN_CASES, ids=[c.id for c in PLUGIN_CASES])
def test_the_plugin_stops_bad_input_before_any_test_in_one_line(pytester: pytest.Pytester, case: Case):
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n')
    (pytester.path / "manifests").mkdir()
    (pytester.path / "manifests" / "set.yaml").write_text(NS)
    pytester.makepyfile(test_gate1=GATE1_TEST)
    write_files(pytester.path, case.files)
    args = [arg.format(dir=pytester.path) for arg in case.args]
    target = [] if "--target" in args else ["--target", "local"]
    result = pytester.runpytest("test_gate1.py", *target, *args)
    output = result.stdout.str() + result.stderr.str()
    lines = [line for line in result.stderr.lines if line.strip()]
    assert result.ret == case.code, output
    assert "Traceback" not in output and " passed" not in result.stdout.str()
    # At configure time the line is pytest's "ERROR: ..." on stderr; later (preflight, the manifest set) it is
    # pytest's "! Exit: ... !" line on stdout.
    exits = [line for line in result.stdout.lines if line.startswith("! _pytest.outcomes.Exit: dbc_validate: ")]
    assert len(lines) + len(exits) == 1, (lines, exits)
    one_line = (lines or exits)[0]
    assert case.says in one_line and "fix: " in one_line, one_line
