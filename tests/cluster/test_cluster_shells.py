"""The thin shells where they can run here: the real kubectl against an unreachable API server, the kubeconfig
file's permissions, and the lifecycle order (through a recording stand-in for kind, which cannot run here)."""

from __future__ import annotations

import stat
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml

from dbc_validate.cluster.kubectl import ClusterError, Kubectl
from dbc_validate.cluster.lifecycle import ClusterCli, bring_up, write_private
from dbc_validate.tools.binaries import find_program

TOKEN = "s3cr3t-token-value"


def _unreachable_kubeconfig(tmp_path: Path) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "dead",
        "clusters": [{"name": "dead", "cluster": {"server": "https://127.0.0.1:9", "insecure-skip-tls-verify": True}}],
        "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": TOKEN}}],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_kubectl_against_an_unreachable_server_fails_in_one_redacted_line(tmp_path):
    kubectl = Kubectl(find_program("kubectl"), _unreachable_kubeconfig(tmp_path))
    with pytest.raises(ClusterError) as caught:
        kubectl.items("pods", "prod")
    message = str(caught.value)
    assert message.startswith("kubectl get pods failed:") and "\n" not in message
    assert "127.0.0.1:9" in message and TOKEN not in message


def test_kubectl_argv_carries_kubeconfig_and_context():
    argv = Kubectl("/bin/kubectl", Path("/tmp/k"), "ctx").argv(["get", "nodes"])
    assert argv == ["/bin/kubectl", "--kubeconfig", "/tmp/k", "--context", "ctx", "get", "nodes"]


def test_kubeconfig_is_written_for_the_owner_only(tmp_path):
    path = tmp_path / "kubeconfig"
    write_private(path, "apiVersion: v1\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


class RecordingCli(ClusterCli):
    """Stands in for kind (no container engine here): records calls, can fail like an interrupted create."""

    tool = "kind"

    def __init__(self, exists: bool, fail_create: BaseException | None = None) -> None:
        super().__init__("dbc-gate1", "kind")
        self.calls: list[str] = []
        self._exists = exists
        self._fail = fail_create

    def exists(self) -> bool:
        return self._exists

    def create(self, config: Path, image: str) -> None:
        self.calls.append("create")
        if self._fail is not None:
            raise self._fail

    def kubeconfig_text(self) -> str:
        self.calls.append("kubeconfig")
        return "apiVersion: v1\n"

    def delete(self) -> None:
        self.calls.append("delete")


def test_an_interrupted_create_still_deletes_the_cluster(tmp_path):
    cli = RecordingCli(exists=False, fail_create=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt), ExitStack() as stack:
        bring_up(cli, tmp_path / "cfg", "img", False, tmp_path / "kc", stack, lambda m: None)
    assert cli.calls == ["create", "delete"]


def test_a_reused_cluster_is_not_created_and_kept_with_keep_cluster(tmp_path):
    cli = RecordingCli(exists=True)
    lines: list[str] = []
    with ExitStack() as stack:
        bring_up(cli, tmp_path / "cfg", "img", True, tmp_path / "kc", stack, lines.append)
    assert cli.calls == ["kubeconfig"]
    assert "reusing existing cluster 'dbc-gate1'; kept at the end" in lines[0]


def test_deletion_runs_once_even_when_the_session_teardown_and_exit_both_fire(tmp_path):
    cli = RecordingCli(exists=False)
    stack = ExitStack()
    bring_up(cli, tmp_path / "cfg", "img", False, tmp_path / "kc", stack, lambda m: None)
    stack.close()
    stack.close()
    assert cli.calls == ["create", "kubeconfig", "delete"]
