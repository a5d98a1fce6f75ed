"""Create, reuse and delete kind/k3d clusters through their CLIs (thin: the decisions are in
analysis.live.safety). The kubeconfig is written to a private file and never printed."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

from dbc_validate.analysis.live.cluster_commands import create_command, delete_command, load_image_command
from dbc_validate.analysis.live.safety import lifecycle
from dbc_validate.cluster.kubectl import ClusterError, one_line
from dbc_validate.tools.processes import register_cleanup, unregister_cleanup

CREATE_TIMEOUT_S = 600.0


def run_tool(argv: Sequence[str], timeout_s: float = 300.0, input_text: str | None = None) -> str:
    """Run a CLI (kind, k3d, docker, helm); its stdout, or ClusterError with its last words."""
    try:
        done = subprocess.run(
            list(argv), input=input_text, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except FileNotFoundError:
        raise ClusterError(f"{argv[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise ClusterError(f"{' '.join(argv[:3])} did not finish in {timeout_s:.0f} s") from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise ClusterError(f"{' '.join(argv[:3])} failed: {one_line(tail)}")
    return done.stdout


def write_private(path: Path, text: str) -> None:
    """Write credentials readable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


class ClusterCli:
    """What the lifecycle needs from kind or k3d."""

    tool = ""

    def __init__(self, name: str, binary: str) -> None:
        self.name = name
        self.binary = binary

    def exists(self) -> bool:
        raise NotImplementedError

    def kubeconfig_text(self) -> str:
        raise NotImplementedError

    # Create, delete and load run the command lines `dbc-validate plan` prints (analysis.live.cluster_commands).
    def create(self, config: Path, image: str) -> None:
        run_tool(create_command(self.tool, self.binary, self.name, str(config), image), timeout_s=CREATE_TIMEOUT_S)

    def delete(self) -> None:
        run_tool(delete_command(self.tool, self.binary, self.name), timeout_s=300.0)

    def load_image(self, image: str) -> None:
        run_tool(load_image_command(self.tool, self.binary, self.name, image), timeout_s=600.0)

    def version(self) -> str:
        return one_line(run_tool([self.binary, "version"], timeout_s=20.0), 80)


class KindCli(ClusterCli):
    tool = "kind"

    def exists(self) -> bool:
        return self.name in run_tool([self.binary, "get", "clusters"], timeout_s=30.0).split()

    def kubeconfig_text(self) -> str:
        return run_tool([self.binary, "get", "kubeconfig", "--name", self.name], timeout_s=30.0)


class K3dCli(ClusterCli):
    tool = "k3d"

    def exists(self) -> bool:
        listing = json.loads(run_tool([self.binary, "cluster", "list", "-o", "json"], timeout_s=30.0) or "[]")
        return any(c.get("name") == self.name for c in listing)

    def kubeconfig_text(self) -> str:
        return run_tool([self.binary, "kubeconfig", "get", self.name], timeout_s=30.0)


def bring_up(
    cli: ClusterCli,
    config: Path,
    image: str,
    keep_cluster: bool,
    kubeconfig_path: Path,
    stack: ExitStack,
    progress: Callable[[str], None],
) -> None:
    """Reuse or create the cluster and write its kubeconfig. Deletion is registered BEFORE creation so a
    Ctrl-C or a failure halfway through still removes what was made (unless --keep-cluster)."""
    plan = lifecycle(cli.name, cli.exists(), keep_cluster)
    progress(f"{cli.tool}: {plan.say}")
    if plan.delete_at_end:
        deleted = False

        def delete() -> None:
            nonlocal deleted
            if deleted:
                return
            deleted = True
            progress(f"{cli.tool}: deleting cluster {cli.name!r}")
            try:
                cli.delete()
            except ClusterError as exc:
                progress(f"{cli.tool}: could not delete cluster {cli.name!r}: {exc}")

        register_cleanup(delete)  # also at interpreter exit, if the session never reaches its teardown
        stack.callback(unregister_cleanup, delete)
        stack.callback(delete)
    if plan.create:
        progress(f"{cli.tool}: creating cluster {cli.name!r} from {config} (image {image}); this takes minutes")
        cli.create(config, image)
    write_private(kubeconfig_path, cli.kubeconfig_text())
