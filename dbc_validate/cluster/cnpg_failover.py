"""CloudNativePG failover on a live cluster: delete the primary pod, watch the Cluster status, write from a pod.

A thin shell over the cluster tier's kubectl around pure logic: analysis/cnpg_topology.py (status, writer pod),
analysis/live/cnpg_instances.py (instance pods, credentials) and analysis/live/harness_policies.py (the
NetworkPolicies that let the writer through a default-deny for exactly as long as it runs). The writer runs
inside the cluster as a short-lived pod that reaches `<cluster>-rw` like an application (a port-forward would
die with the pod it points at). No machine of this project runs a cluster: this path has not been run by its CI.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dbc_validate.analysis import cnpg_topology as cnpg
from dbc_validate.analysis.failover_log import CREATE_TABLE, TABLE, parse_writer_log
from dbc_validate.analysis.live.cnpg_instances import (
    CLUSTER_LABEL,
    CNPG_GROUP,
    POSTGRES_PORT,
    CnpgCluster,
    cnpg_clusters,
)
from dbc_validate.analysis.live.cnpg_instances import cnpg_instances as instances_of
from dbc_validate.analysis.live.harness_policies import HarnessPath, harness_policies, isolated_for_ingress
from dbc_validate.analysis.live.pods import is_finished
from dbc_validate.capabilities import TopologyEvent
from dbc_validate.cluster.kubectl import ClusterError, Kubectl, one_line
from dbc_validate.cluster.postgres_instances import read_credentials
from dbc_validate.errors import InputError
from dbc_validate.manifests.model import ManifestSet

# CloudNativePG's own e2e suite deletes the primary with a 1 s grace period ("quickDeletionPeriod").
DEFAULT_GRACE_PERIOD_S = 1
STOP_FILE = "/work/stop"
CLUSTERS = f"clusters.{CNPG_GROUP}"
NETWORK_POLICIES = "networkpolicies.networking.k8s.io"


@dataclass(frozen=True)
class WriterLogin:
    """Which Secret the writer logs in with and which database it writes to (never the password itself)."""

    secret: str  # the Secret's name, in the Cluster's namespace
    user: str
    database: str


class PodWriter:
    """The writer pod and the NetworkPolicies that let it through: applied together (policies first, so its
    first connection is allowed), told to stop through a file, its log collected, then all deleted."""

    def __init__(self, kubectl: Kubectl, pod: Mapping[str, Any], policies: Sequence[Mapping[str, Any]]) -> None:
        self.kubectl = kubectl
        self.pod = pod
        self.policies = list(policies)
        self.name = str(pod["metadata"]["name"])
        self.namespace = str(pod["metadata"]["namespace"])
        # What is still to be deleted, pod first (it stops writing before its policies go).
        self._objects = [("pod", self.name), *(("networkpolicy", str(p["metadata"]["name"])) for p in self.policies)]
        self._polled = 0.0
        self._acks = 0
        self._last_ack = 0.0
        self._text: str | None = None

    def start(self) -> PodWriter:
        self.kubectl.apply([*self.policies, self.pod])
        return self

    def _logs(self) -> str:
        return self.kubectl.run(["logs", "-n", self.namespace, self.name, "-c", "writer"], timeout_s=60.0).stdout

    def _poll(self) -> None:
        if time.monotonic() - self._polled < 0.5:
            return
        self._polled = time.monotonic()
        try:
            text = self._logs()
        except ClusterError:
            return  # not started yet
        complete = text[: text.rfind("\n") + 1]  # the last line may still be being written
        acked = [a.done for a in parse_writer_log(complete).attempts if a.acked]
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
            self.kubectl.exec(self.namespace, self.name, "writer", ["touch", STOP_FILE], timeout_s=30.0)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                pod = self.kubectl.get("pod", self.name, self.namespace)
                if pod is None or is_finished(pod):
                    break
                time.sleep(0.5)
            self._text = self._logs()
        finally:
            self.delete()
        return self._text

    def delete(self) -> None:
        """Delete the pod and its policies; what fails stays listed for the next call (the cleanup's)."""
        remaining = []
        for resource, name in self._objects:
            try:
                self.kubectl.delete(resource, name, self.namespace)
            except ClusterError:
                remaining.append((resource, name))  # the pod's activeDeadlineSeconds still ends the writer
        self._objects = remaining


class CnpgBackend:
    """FailoverBackend over a live CloudNativePG Cluster."""

    def __init__(
        self,
        kubectl: Kubectl,
        cluster: CnpgCluster,
        grace_period_s: int = DEFAULT_GRACE_PERIOD_S,
        progress: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.kubectl = kubectl
        self.cluster = cluster
        self.namespace, self.name = cluster.namespace, cluster.name
        self.grace_period_s = grace_period_s
        self.progress = progress
        self.description = f"CloudNativePG cluster {cluster.ref}"
        self._writers: list[PodWriter] = []
        self._login: WriterLogin | None = None
        self._isolated: bool | None = None

    def _status(self) -> cnpg.ClusterStatus:
        return cnpg.cluster_status(self.kubectl.json(["get", CLUSTERS, "-n", self.namespace, self.name]))

    def _pods(self) -> list[dict[str, Any]]:
        return self.kubectl.items("pods", self.namespace, selector=f"{CLUSTER_LABEL}={self.name}")

    def wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        reason: str | None = "not checked"
        while time.monotonic() < deadline:
            reason = cnpg.unready_reason(self._status(), instances_of(self.cluster, self._pods()))
            if reason is None:
                return
            time.sleep(max(0.0, min(1.0, deadline - time.monotonic())))  # poll each second, never past the deadline
        raise ClusterError(f"{self.description} not healthy after {timeout_s:g} s: {reason}")

    def observe(self) -> TopologyEvent | None:
        try:
            return cnpg.observation(self._status(), time.time())
        except (ClusterError, ValueError):
            return None

    def login(self) -> WriterLogin:
        """The Secret the `postgres` capability would log in with (the owner's, else the superuser's)."""
        if self._login is None:
            credentials = read_credentials(self.kubectl, self.cluster)
            self._login = WriterLogin(credentials.secret.split("/", 1)[1], credentials.user, credentials.database)
        return self._login

    def instances_isolated(self) -> bool:
        """Whether the Cluster's pods are isolated for ingress already (then the writer needs an ingress rule)."""
        if self._isolated is None:
            policies = self.kubectl.items(NETWORK_POLICIES, self.namespace)
            self._isolated = isolated_for_ingress(policies, self._pods())
        return self._isolated

    def start_writer(self, run_id: str) -> PodWriter:
        login = self.login()
        name = f"{cnpg.WRITER_NAME}-{run_id}"
        pod = cnpg.writer_pod(
            name=name,
            namespace=self.namespace,
            cluster=self.name,
            image=self.cluster.image,
            secret=login.secret,
            database=login.database,
            run_id=run_id,
            script=cnpg.writer_script(TABLE, CREATE_TABLE),
        )
        path = HarnessPath(self.namespace, name, cnpg.writer_labels(run_id), {CLUSTER_LABEL: self.name}, POSTGRES_PORT)
        policies = harness_policies(path, self.instances_isolated())
        writer = PodWriter(self.kubectl, pod, policies)
        self._writers.append(writer)  # listed before anything is applied: a half-made writer is still removed
        self.progress(
            f"failover: writer pod {self.namespace}/{name} (user {login.user} from Secret {login.secret}) with "
            f"NetworkPolicies {', '.join(p['metadata']['name'] for p in policies)} for its lifetime"
        )
        return writer.start()

    def inject(self, primary: str, graceful: bool) -> tuple[float, str]:
        if graceful:
            target = cnpg.switchover_candidate(self._status())
            if target is None:
                raise ClusterError(f"{self.description}: no healthy replica to switch over to")
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            patch = json.dumps(cnpg.switchover_status_patch(target, stamp))
            at = time.time()
            self.kubectl.run(
                [
                    "patch",
                    CLUSTERS,
                    self.name,
                    "-n",
                    self.namespace,
                    "--subresource=status",
                    "--type=merge",
                    "-p",
                    patch,
                ]
            )
            return at, "switchover"
        at = time.time()
        self.kubectl.run(
            ["delete", "pod", primary, "-n", self.namespace, f"--grace-period={self.grace_period_s}", "--wait=false"]
        )
        return at, "delete pod"

    def recover(self, old_primary: str) -> None:
        return None  # the operator recreates the deleted pod; wait_healthy waits for it

    def present(self, run_id: str) -> dict[int, int]:
        primary = self._status().current_primary
        if primary is None:
            raise ClusterError(f"{self.description}: no current primary to read the rows back from")
        sql = cnpg.present_query(TABLE, run_id)
        command = cnpg.exec_psql(self.login().database, sql)
        result = self.kubectl.exec(self.namespace, primary, cnpg.POSTGRES_CONTAINER, command, timeout_s=60.0)
        if result.returncode != 0:
            raise ClusterError(
                f"{self.description}: reading the rows back in {primary} failed: {one_line(result.stderr)}"
            )
        return dict(parse_writer_log(result.stdout).present or {})

    def notes(self) -> list[str]:
        """How this backend breaks the cluster and writes to it, for the report."""
        return [
            f"fault: delete the primary pod with --grace-period={self.grace_period_s} (as CloudNativePG's e2e does); "
            f"writer: a pod in {self.namespace} writing through {self.name}-rw with psql, one connection per "
            "attempt, let through the namespace's NetworkPolicies by policies of its own that are deleted with it"
        ]

    def cleanup(self) -> None:
        for writer in self._writers:
            writer.delete()  # never raises: what cannot be deleted stays listed


def cnpg_failover_backend(
    kubectl: Kubectl, manifest_set: ManifestSet, stack: ExitStack, progress: Callable[[str], None]
) -> CnpgBackend:
    """A backend over the manifest set's first CloudNativePG Cluster; its writers are removed through `stack`."""
    clusters = cnpg_clusters(manifest_set.objects)
    if not clusters:
        raise InputError(
            "the manifest set declares no CloudNativePG Cluster to fail over",
            "pass --manifests with the set that holds the postgresql.cnpg.io Cluster",
        )
    backend = CnpgBackend(kubectl, clusters[0], progress=progress)
    stack.callback(backend.cleanup)
    return backend
