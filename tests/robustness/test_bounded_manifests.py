"""Hostile or careless manifest input: alias bombs, duplicate keys, empty sets and unreadable files each end in
one line naming file and line, exit 2 from `analyze` and 4 from the plugin, never a hang or a traceback."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from dbc_validate.cli import main
from dbc_validate.errors import ManifestError
from dbc_validate.manifests.bounded_yaml import node_budget
from dbc_validate.manifests.model import load_manifest_set

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: prod}\ndata: {a: b}\n"


def alias_bomb(levels: int) -> str:
    """A "billion laughs" document: each level is nine aliases of the level before, 9**levels leaves in all;
    level 5 (line 10) is the first to pass the 100 000-node floor of the budget."""
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: bomb}", "data:", '  l0: &l0 ["lol"]']
    for level in range(1, levels + 1):
        lines.append(f"  l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, text: str, name: str = "set.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("levels", [9, 10])
def test_an_alias_bomb_is_refused_fast_and_small_with_file_and_line(tmp_path, levels):
    bomb = write(tmp_path, alias_bomb(levels))
    assert len(bomb.read_text()) < 700
    tracemalloc.start()
    with pytest.raises(ManifestError) as caught:
        load_manifest_set(bomb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # The time it takes is benchmarks/alias_bomb.py's figure; memory is a bound, not a machine-dependent timing.
    assert peak < 200 * 2**20, peak
    assert f"{bomb}:10: aliases (*name) expand this node past {node_budget(len(bomb.read_text()))} nodes" in str(
        caught.value
    )


def test_the_alias_bomb_through_the_command_exits_two_in_one_line_and_bounded_memory(tmp_path):
    bomb = write(tmp_path, alias_bomb(10))
    # The child reports its own peak (VmHWM of the memory it runs in after exec): the kernel's ru_maxrss also counts
    # the forked copy of this (large) pytest process, so it measures the parent, not the command.
    code = (
        "import atexit, sys\n"
        "hwm = lambda: next(line for line in open('/proc/self/status') if line.startswith('VmHWM'))\n"
        "atexit.register(lambda: sys.stdout.write(hwm()))\n"
        "from dbc_validate.cli import main\n"
        "sys.exit(main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "analyze", str(bomb)], capture_output=True, text=True, timeout=60, check=False
    )
    peak_mib = int(done.stdout.split()[-2]) / 1024  # "VmHWM:   38000 kB"
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"{bomb}:10: aliases" in done.stderr
    assert peak_mib < 200, peak_mib


def test_legitimate_anchors_and_merge_keys_still_load(tmp_path):
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a, labels: &labels {app: web}}, data: &data {x: '1'}}\n"
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b, labels: *labels}\n  data:\n    <<: *data\n"
        "    z: '3'\n"
    )
    ms = load_manifest_set(write(tmp_path, text))
    assert [o.labels["app"] for o in ms] == ["web", "web"]
    assert dict(ms.get("ConfigMap", "b", "default").body["data"]) == {"x": "1", "z": "3"}


def test_a_recursive_alias_does_not_hang_the_budget(tmp_path):
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: loop}\ndata: &self {me: *self}\n"
    ms = load_manifest_set(write(tmp_path, text))
    assert ms.objects[0].name == "loop"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n",
            "set.yaml:5: duplicate mapping key 'name' (first at line 4)",
        ),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: '1', k: '2'}\n",
            "set.yaml:4: duplicate mapping key 'k' (first at line 4)",
        ),
        (CONFIGMAP + "---\napiVersion: v1\nkind: Secret\nkind: Secret\nmetadata: {name: s}\n", "set.yaml:8: duplicate"),
        ("", "no Kubernetes objects in "),
        ("# only a comment\n---\n---\n", "no Kubernetes objects in "),
    ],
    ids=["block-mapping", "flow-mapping", "second-document", "empty-file", "comments-only"],
)
def test_bad_manifest_text_is_one_line_with_file_and_line(tmp_path, capsys, text, message):
    path = write(tmp_path, text)
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_an_empty_folder_set_names_the_path(tmp_path, capsys):
    write(tmp_path, "# nothing yet\n", "empty.yaml")
    assert main(["analyze", str(tmp_path)]) == 2
    assert f"no Kubernetes objects in {tmp_path};" in capsys.readouterr().err


@pytest.mark.parametrize("link", ["loop", "dangling"])
def test_yaml_links_that_cannot_be_read_are_named_not_skipped(tmp_path, capsys, link):
    write(tmp_path, CONFIGMAP, "good.yaml")
    if link == "loop":
        (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
        (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    else:
        (tmp_path / "a.yaml").symlink_to(tmp_path / "gone.yaml")
    assert main(["analyze", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"cannot read {tmp_path / 'a.yaml'}" in err and "good.yaml" not in err


def test_a_missing_path_names_no_flag_analyze_lacks(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "--manifests" not in err


def test_the_plugin_stops_an_alias_bomb_with_exit_four(pytester):
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n')
    (pytester.path / "manifests").mkdir()
    (pytester.path / "manifests" / "set.yaml").write_text(alias_bomb(10))
    pytester.makepyfile(
        test_check="""
        import pytest

        @pytest.mark.gate1("security.non_root")
        def test_check(manifest_set):
            pass
        """
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*set.yaml:10: aliases (*name) expand this node past*"])
    assert "Traceback" not in result.stdout.str()
