"""The in-cluster Locust load (`--load-in-cluster`): master and workers as Deployments in a namespace of their own.

Objects only (pure): a Pod Security "restricted" namespace, the locustfile as a ConfigMap, the master and worker
Deployments (Locust's own distributed mode, the master's web API on 8089), the master's Service, and
NetworkPolicies: workers may reach only the ingress controller's web port (and DNS) and the master's worker port;
no pod may reach the master's API, so the harness reaches it only through the API server (port-forward or the
service proxy, both RBAC-gated). `deploy_objects` and `cleanup` do the I/O through Kubectl.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from dbc_validate.analysis.live.traefik_install import TraefikInstall
from dbc_validate.cluster.kubectl import Kubectl
from dbc_validate.errors import InputError
from dbc_validate.resources import ADDON_PINS, data_path

NAMESPACE = "dbc-load"
MASTER = "locust-master"
WORKER = "locust-worker"
WORKER_PORT = 5557
API_PORT = 8089
APP_LABEL = "app.kubernetes.io/name"
ROLE_LABEL = "app.kubernetes.io/component"
PART_OF = {"app.kubernetes.io/part-of": "dbc-validate-load"}
UID = 1000  # the official Locust image's `locust` user; set explicitly so runAsNonRoot can be checked

# Read by Locust in the pod: the route and pacing come from the environment, so one ConfigMap serves every job.
LOCUSTFILE = '''"""dbc-validate in-cluster load: one route through the ingress, paced by the environment."""
import os

from locust import FastHttpUser, constant, constant_throughput, task

RATE = float(os.environ.get("DBC_RATE_PER_USER", "0"))


class RouteUser(FastHttpUser):
    host = os.environ["DBC_TARGET_URL"]
    wait_time = constant_throughput(RATE) if RATE > 0 else constant(0)

    @task
    def get(self):
        path = os.environ.get("DBC_PATH", "/")
        self.client.get(path, headers={"Host": os.environ.get("DBC_HOST_HEADER", "")}, name=path)
'''


@dataclass(frozen=True)
class InClusterLoad:
    image: str  # repository:tag@sha256:digest (refused without a digest)
    target_url: str  # the ingress Service as seen from inside the cluster (see `ingress_url`)
    host_header: str
    path: str = "/"
    workers: int = 2
    users: int = 4
    rate_per_s: float = 0.0  # 0: as fast as responses come back (the split); > 0: the soak's steady rate
    namespace: str = NAMESPACE

    def __post_init__(self) -> None:
        if "@sha256:" not in self.image:
            raise ValueError(f"the in-cluster Locust image must be pinned by digest, got {self.image!r}")
        if self.workers < 1:
            raise ValueError("in-cluster load needs at least one worker")


def pinned_image(pins: Mapping[str, Any] | None = None) -> str:
    """The Locust image of the add-on pins as repository:tag@sha256:digest; InputError while the digest is unset."""
    if pins is None:
        pins = yaml.safe_load(data_path(ADDON_PINS).read_text(encoding="utf-8"))
    entry = ((pins or {}).get("load") or {}).get("locust") or {}
    image, digest = str(entry.get("image") or ""), str(entry.get("digest") or "")
    if not image:
        raise InputError(f"{ADDON_PINS} pins no Locust image (load.locust.image)", "add the image to load.locust")
    if not digest.startswith("sha256:"):
        raise InputError(
            f"{ADDON_PINS} pins {image} without a digest: the in-cluster load runs only a digest-pinned image",
            f"set load.locust.digest to the registry's digest (crane digest {image})",
        )
    return f"{image}@{digest}"


def ingress_url(ingress: TraefikInstall) -> str:
    """The ingress Service's in-cluster address: traffic enters through the real ingress path, not a tunnel."""
    return f"http://{ingress.service_name}.{ingress.namespace}.svc:{ingress.port('web').service_port}"


def _labels(role: str) -> dict[str, str]:
    return {APP_LABEL: "locust", ROLE_LABEL: role, **PART_OF}


def _restricted_pod(containers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": UID,
            "runAsGroup": UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": containers,
        "volumes": [
            {"name": "locustfile", "configMap": {"name": "locustfile"}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        ],
    }


def _container(
    load: InClusterLoad, args: list[str], ports: list[dict[str, Any]], ready_port: int | None = None
) -> dict[str, Any]:
    users = load.users * load.workers
    # The master's pod is Ready only once its web API listens (it opens a moment after the container starts).
    probe = {"readinessProbe": {"tcpSocket": {"port": ready_port}, "periodSeconds": 2}} if ready_port else {}
    return {
        "name": "locust",
        "image": load.image,
        "args": ["-f", "/locust/locustfile.py", *args],
        "env": [
            {"name": "DBC_TARGET_URL", "value": load.target_url},
            {"name": "DBC_HOST_HEADER", "value": load.host_header},
            {"name": "DBC_PATH", "value": load.path},
            {"name": "DBC_RATE_PER_USER", "value": f"{load.rate_per_s / users:g}" if load.rate_per_s else "0"},
            {"name": "HOME", "value": "/tmp"},
        ],
        "ports": ports,
        **probe,
        "securityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "resources": {"requests": {"cpu": "250m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
        "volumeMounts": [
            {"name": "locustfile", "mountPath": "/locust", "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }


def _deployment(load: InClusterLoad, name: str, role: str, replicas: int, container: dict[str, Any]) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": load.namespace, "labels": _labels(role)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {APP_LABEL: "locust", ROLE_LABEL: role}},
            "template": {"metadata": {"labels": _labels(role)}, "spec": _restricted_pod([container])},
        },
    }


def _policy(load: InClusterLoad, name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": load.namespace, "labels": dict(PART_OF)},
        "spec": dict(spec),
    }


def _role(role: str) -> dict[str, Any]:
    return {"matchLabels": {APP_LABEL: "locust", ROLE_LABEL: role}}


def load_objects(load: InClusterLoad, ingress: TraefikInstall) -> list[dict[str, Any]]:
    """Every object of the in-cluster load, in apply order."""
    users = load.users * load.workers
    master_args = [
        "--master",
        f"--master-bind-port={WORKER_PORT}",
        f"--web-port={API_PORT}",
        f"--expect-workers={load.workers}",
        "--autostart",
        f"--users={users}",
        f"--spawn-rate={users}",
    ]
    worker_args = ["--worker", f"--master-host={MASTER}.{load.namespace}.svc", f"--master-port={WORKER_PORT}"]
    web_port = ingress.port("web").container_port
    dns = {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": load.namespace,
                "labels": {
                    **PART_OF,
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/audit": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "locustfile", "namespace": load.namespace, "labels": dict(PART_OF)},
            "data": {"locustfile.py": LOCUSTFILE},
        },
        _policy(load, "default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        _policy(
            load,
            "workers-reach-ingress-and-master",
            {
                "podSelector": _role("worker"),
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": ingress.namespace}
                                },
                                "podSelector": {"matchLabels": dict(ingress.pod_labels)},
                            }
                        ],
                        "ports": [{"protocol": "TCP", "port": web_port}],
                    },
                    {"to": [{"podSelector": _role("master")}], "ports": [{"protocol": "TCP", "port": WORKER_PORT}]},
                    dns,
                ],
            },
        ),
        _policy(
            load,
            "master-admits-workers-only",
            {
                "podSelector": _role("master"),
                "policyTypes": ["Ingress"],
                "ingress": [
                    {"from": [{"podSelector": _role("worker")}], "ports": [{"protocol": "TCP", "port": WORKER_PORT}]}
                ],
            },
        ),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": MASTER, "namespace": load.namespace, "labels": dict(PART_OF)},
            "spec": {
                "selector": {APP_LABEL: "locust", ROLE_LABEL: "master"},
                "ports": [
                    {"name": "workers", "port": WORKER_PORT, "targetPort": WORKER_PORT, "protocol": "TCP"},
                    {"name": "api", "port": API_PORT, "targetPort": API_PORT, "protocol": "TCP"},
                ],
            },
        },
        _deployment(
            load,
            MASTER,
            "master",
            1,
            _container(
                load,
                master_args,
                [
                    {"name": "workers", "containerPort": WORKER_PORT, "protocol": "TCP"},
                    {"name": "api", "containerPort": API_PORT, "protocol": "TCP"},
                ],
                ready_port=API_PORT,
            ),
        ),
        _deployment(load, WORKER, "worker", load.workers, _container(load, worker_args, [])),
    ]


def deploy_objects(kubectl: Kubectl, objects: Sequence[Mapping[str, Any]]) -> None:
    kubectl.apply(objects)


def cleanup(kubectl: Kubectl, namespace: str = NAMESPACE, keep: bool = False) -> bool:
    """Delete the load's namespace (and so everything in it) unless `keep`; True when it was deleted."""
    if keep:
        return False
    kubectl.delete("namespace", namespace, wait=False)
    return True
