"""CloudNativePG failover on a live cluster: delete the primary pod, watch the Cluster status, write from a pod.

A thin shell over kubectl around the pure logic in analysis/cnpg_topology.py. The writer runs inside the
cluster as a short-lived pod that reaches `<cluster>-rw` like an application (a port-forward would die with
the pod it points at). No machine of this project runs a cluster: this path has not been run by its CI.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dbc_validate.analysis import cnpg_topology as cnpg
from dbc_validate.analysis.failover_log import TopologyEvent, parse_writer_log
from dbc_validate.errors import InputError
from dbc_validate.probes.failover_trials import FailoverLab, trial_count
from dbc_validate.probes.failover_writer import CREATE_TABLE, TABLE
from dbc_validate.tools import find_program

if TYPE_CHECKING:
    from dbc_validate.targets.base import Target

DEFAULT_CLUSTER_TRIALS = 3
# CloudNativePG's own e2e suite deletes the primary with a 1 s grace period ("quickDeletionPeriod").
DEFAULT_GRACE_PERIOD_S = 1


class KubectlError(RuntimeError):
    pass


class Kubectl:
    """`kubectl` with a fixed prefix (binary, --kubeconfig, --context); output never includes secrets we read."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.argv = list(argv)

    def run(self, *args: str, stdin: str | None = None, timeout_s: float = 60.0) -> str:
        done = subprocess.run(
            [*self.argv, *args], input=stdin, capture_output=True, text=True, timeout=timeout_s, check=False
        )
        if done.returncode != 0:
            raise KubectlError(f"kubectl {' '.join(args[:3])} failed: {' '.join(done.stderr.split())[:400]}")
        return done.stdout

    def json(self, *args: str) -> dict[str, Any]:
        return json.loads(self.run(*args, "-o", "json"))


class PodWriter:
    """The writer pod: created at start, told to stop through a file, its log collected, then deleted."""

    def __init__(self, kubectl: Kubectl, manifest: dict[str, Any]) -> None:
        self.kubectl = kubectl
        self.manifest = manifest
        self.name = manifest["metadata"]["name"]
        self.namespace = manifest["metadata"]["namespace"]
        self._polled = 0.0
        self._acks = 0
        self._last_ack = 0.0
        self._text: str | None = None

    def start(self) -> PodWriter:
        self.kubectl.run("apply", "-f", "-", stdin=json.dumps(self.manifest))
        return self

    def _logs(self) -> str:
        return self.kubectl.run("logs", "-n", self.namespace, self.name, "-c", "writer")

    def _poll(self) -> None:
        if time.monotonic() - self._polled < 0.5:
            return
        self._polled = time.monotonic()
        try:
            text = self._logs()
        except KubectlError:
            return  # not started yet
        complete = text[: text.rfind("\n") + 1]  # the last line may still be being written
        attempts = parse_writer_log(complete).attempts
        acked = [a.done for a in attempts if a.acked]
        self._acks, self._last_ack = len(acked), max(acked, default=0.0)

    @property
    def acks(self) -> int:
        self._poll()
        return self._acks

    @property
    def last_ack(self) -> float:
        self._poll()
        return self._last_ack

    def stop(self) -> str:
        if self._text is not None:
            return self._text
        try:
            self.kubectl.run("exec", "-n", self.namespace, self.name, "-c", "writer", "--", "touch", "/work/stop")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                phase = self.kubectl.json("get", "pod", "-n", self.namespace, self.name).get("status", {}).get("phase")
                if phase in ("Succeeded", "Failed"):
                    break
                time.sleep(0.5)
            self._text = self._logs()
        finally:
            self.delete()
        return self._text

    def delete(self) -> None:
        with contextlib.suppress(KubectlError):  # activeDeadlineSeconds removes it eventually
            self.kubectl.run("delete", "pod", "-n", self.namespace, self.name, "--ignore-not-found", "--wait=false")


class CnpgBackend:
    """FailoverBackend over a live CloudNativePG Cluster."""

    def __init__(self, kubectl: Kubectl, cluster: Any, grace_period_s: int = DEFAULT_GRACE_PERIOD_S) -> None:
        self.kubectl = kubectl
        self.namespace, self.name = cluster.namespace, cluster.name
        self.image = cnpg.cluster_image(cluster)
        self.secret = cnpg.app_secret(cluster)
        self.database = cnpg.app_database(cluster)
        self.grace_period_s = grace_period_s
        self.description = f"CloudNativePG cluster {self.namespace}/{self.name}"
        self._writers: list[PodWriter] = []

    def _status(self) -> cnpg.ClusterStatus:
        return cnpg.cluster_status(self.kubectl.json("get", f"clusters.{cnpg.GROUP}", "-n", self.namespace, self.name))

    def _labelled_primaries(self) -> list[str]:
        pods = self.kubectl.json("get", "pods", "-n", self.namespace, "-l", f"{cnpg.LABEL_CLUSTER}={self.name}")
        return cnpg.primary_pods(pods.get("items") or [], self.name)

    def wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        status = None
        while time.monotonic() < deadline:
            status = self._status()
            if status.healthy() and self._labelled_primaries() == [status.current_primary]:
                return
            time.sleep(1)
        raise KubectlError(
            f"{self.description} not healthy after {timeout_s:.0f} s: {status.summary() if status else ''}"
        )

    def observe(self) -> TopologyEvent | None:
        try:
            return cnpg.observation(self._status(), time.time())
        except (KubectlError, subprocess.TimeoutExpired, ValueError):
            return None

    def start_writer(self, run_id: str) -> PodWriter:
        manifest = cnpg.writer_pod(
            name=f"dbc-failover-writer-{run_id}",
            namespace=self.namespace,
            cluster=self.name,
            image=self.image,
            secret=self.secret,
            run_id=run_id,
            script=cnpg.writer_script(TABLE, CREATE_TABLE),
        )
        writer = PodWriter(self.kubectl, manifest).start()
        self._writers.append(writer)
        return writer

    def inject(self, primary: str, graceful: bool) -> tuple[float, str]:
        if graceful:
            target = cnpg.switchover_candidate(self._status())
            if target is None:
                raise KubectlError(f"{self.description}: no healthy replica to switch over to")
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            patch = json.dumps(cnpg.switchover_status_patch(target, stamp))
            at = time.time()
            self.kubectl.run(
                "patch", f"clusters.{cnpg.GROUP}", self.name, "-n", self.namespace,
                "--subresource=status", "--type=merge", "-p", patch,
            )  # fmt: skip
            return at, "switchover"
        at = time.time()
        self.kubectl.run(
            "delete", "pod", primary, "-n", self.namespace, f"--grace-period={self.grace_period_s}", "--wait=false"
        )
        return at, "delete pod"

    def recover(self, old_primary: str) -> None:
        return None  # the operator recreates the deleted pod; wait_healthy waits for it

    def present(self, run_id: str) -> dict[int, int]:
        primary = self._status().current_primary
        if primary is None:
            raise KubectlError(f"{self.description}: no current primary to read the rows back from")
        sql = cnpg.present_query(TABLE, run_id)
        out = self.kubectl.run(
            "exec", "-n", self.namespace, primary, "-c", cnpg.POSTGRES_CONTAINER, "--",
            *cnpg.exec_psql(self.database, sql),
        )  # fmt: skip
        return dict(parse_writer_log(out).present or {})

    def cleanup(self) -> None:
        for writer in self._writers:
            writer.delete()


def provide_cnpg_failover_lab(
    stack: ExitStack, target: Target, kubectl_argv: Sequence[str] | None = None
) -> FailoverLab:
    """The failover capability of a cluster target (wire it in the target's providers() at Scope.CLUSTER).

    Refuses an existing cluster without --allow-destructive; `kubectl_argv` overrides how kubectl reaches
    the cluster (kind/k3d targets pass their own kubeconfig or context).
    """
    refusal = target.destructive_refusal()
    if refusal:
        raise InputError(refusal, "pass --allow-destructive if this cluster may lose pods")
    trials = trial_count(target.settings.option("--failover-trials"), DEFAULT_CLUSTER_TRIALS)
    clusters = cnpg.cnpg_clusters(target.manifest_set())
    if not clusters:
        raise InputError(
            "the manifest set declares no CloudNativePG Cluster to fail over",
            "pass --manifests with the set that holds the postgresql.cnpg.io Cluster",
        )
    if kubectl_argv is None:
        kubeconfig = target.settings.kubeconfig
        kubectl_argv = [find_program("kubectl"), *(["--kubeconfig", str(kubeconfig)] if kubeconfig else [])]
    backend = CnpgBackend(Kubectl(kubectl_argv), clusters[0])
    stack.callback(backend.cleanup)
    notes = [
        f"fault: delete the primary pod with --grace-period={backend.grace_period_s} (as CloudNativePG's e2e does); "
        f"writer: a pod in {backend.namespace} writing through {backend.name}-rw with psql, one connection per attempt"
    ]
    return FailoverLab(backend, trials, target.progress, notes=notes)
