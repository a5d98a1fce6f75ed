"""The cluster a manifest set describes: namespaces (with their implicit labels) and workloads expanded to pods.

A workload is identified by "namespace/name" of the object that owns its pods (a Deployment, a
StatefulSet, a CloudNativePG Cluster, ...). Besides the set's own workloads the model always holds
kube-system/kube-dns and the add-ons a target installs (dbc_validate/data/addons.yaml), so NetworkPolicies can be
judged against the pods they will really meet.

Contract (used by the NetworkPolicy engine, the cluster tier and the manifest-set checks):
`build_model(manifests, addons=None) -> ClusterModel`; `ClusterModel.workload("ns/name") -> Workload`;
`Workload.pods[i].labels` are the labels a live pod of that workload carries (select live pods by them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from dbc_validate.analysis.addons import AddonPod
from dbc_validate.analysis.addons_file import default_addons
from dbc_validate.analysis.container_ports import ContainerPort, as_int, container_ports
from dbc_validate.manifests.fields import dig, listing, mapping
from dbc_validate.manifests.model import K8sObject, ManifestSet

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"  # set by the API server on every namespace
CNPG_GROUP = "postgresql.cnpg.io"
CNPG_DEFAULT_UID = 26  # CloudNativePG's default postgresUID/postgresGID

# Workload kinds of the core API and where their pod template lives.
_TEMPLATE_PATHS: Mapping[str, tuple[str, ...]] = {
    "Pod": (),
    "Deployment": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
CORE_WORKLOAD_GROUPS = frozenset({"", "apps", "batch"})


@dataclass(frozen=True)
class Container:
    name: str
    kind: str  # "container" | "initContainer" | "ephemeralContainer"
    image: str
    ports: tuple[ContainerPort, ...]
    body: Mapping[str, Any] = field(repr=False, compare=False, hash=False)

    @property
    def security_context(self) -> Mapping[str, Any]:
        return mapping(self.body.get("securityContext"))

    @property
    def label(self) -> str:
        """The name findings show: "app", or "setup (initContainer)" for init and ephemeral containers."""
        return self.name if self.kind == "container" else f"{self.name} ({self.kind})"

    @property
    def serves_ports(self) -> bool:
        """Regular containers and restartable init containers (sidecars) serve their declared ports."""
        return self.kind == "container" or (self.kind == "initContainer" and self.body.get("restartPolicy") == "Always")


@dataclass(frozen=True)
class Pod:
    """One pod (or one representative of identical replicas) of a workload."""

    name: str
    labels: Mapping[str, str] = field(hash=False)


@dataclass(frozen=True, eq=False)
class Workload:
    namespace: str
    name: str
    kind: str
    source: str  # "manifest" | "addon" | "cluster" (always present, e.g. kube-dns)
    pods: tuple[Pod, ...]
    containers: tuple[Container, ...]
    pod_spec: Mapping[str, Any] = field(repr=False)
    service_account: str = "default"
    replicas: int = 1
    obj: K8sObject | None = field(default=None, repr=False)
    pod_annotations: Mapping[str, str] = field(default_factory=dict, repr=False)
    role: str = ""  # what an add-on is for ("cnpg-operator", "ingress-controller", ...); "" otherwise

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def ref(self) -> str:
        return self.obj.ref if self.obj is not None else f"{self.kind}/{self.namespace}/{self.name}"

    @property
    def operator_managed(self) -> bool:
        """Pods made by an operator from a custom resource (their spec here is the operator's, not ours)."""
        return self.obj is not None and self.obj.group == CNPG_GROUP

    @property
    def ports(self) -> tuple[ContainerPort, ...]:
        seen: dict[tuple[int, str], ContainerPort] = {}
        for container in self.containers:
            if container.serves_ports:
                for port in container.ports:
                    seen.setdefault((port.port, port.protocol), port)
        return tuple(seen.values())

    def named_port(self, name: str, protocol: str) -> int | None:
        for container in self.containers:
            if container.serves_ports:
                for port in container.ports:
                    if port.name == name and port.protocol == protocol:
                        return port.port
        return None


@dataclass(frozen=True)
class Namespace:
    name: str
    labels: Mapping[str, str] = field(hash=False)
    obj: K8sObject | None = field(default=None, repr=False)

    @property
    def declared(self) -> bool:
        return self.obj is not None


@dataclass(frozen=True, eq=False)
class ClusterModel:
    """Namespaces, workloads and NetworkPolicy objects; compared by identity (engines cache per model)."""

    namespaces: Mapping[str, Namespace]
    workloads: tuple[Workload, ...]
    network_policies: tuple[K8sObject, ...]
    manifests: ManifestSet | None = field(default=None, repr=False)
    _by_id: dict[str, Workload] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for workload in self.workloads:
            self._by_id.setdefault(workload.id, workload)

    def workload(self, workload_id: str) -> Workload:
        """The workload "namespace/name"; KeyError naming the known ids when there is none."""
        try:
            return self._by_id[workload_id]
        except KeyError:
            raise KeyError(f"unknown workload {workload_id!r}; known: {', '.join(self.ids)}") from None

    def has(self, workload_id: str) -> bool:
        return workload_id in self._by_id

    @property
    def ids(self) -> list[str]:
        return sorted(self._by_id)

    def namespace_labels(self, namespace: str) -> Mapping[str, str]:
        ns = self.namespaces.get(namespace)
        return ns.labels if ns is not None else {NAMESPACE_NAME_LABEL: namespace}

    @property
    def manifest_workloads(self) -> list[Workload]:
        return [w for w in self.workloads if w.source == "manifest"]


def containers_of(pod_spec: Mapping[str, Any]) -> tuple[Container, ...]:
    """Regular, init and ephemeral containers of a pod spec, in that order."""
    result = []
    for key, kind in (
        ("containers", "container"),
        ("initContainers", "initContainer"),
        ("ephemeralContainers", "ephemeralContainer"),
    ):
        for raw in listing(pod_spec.get(key)):
            raw = mapping(raw)
            result.append(
                Container(
                    str(raw.get("name") or "?"),
                    kind,
                    str(raw.get("image") or ""),
                    container_ports(raw.get("ports")),
                    raw,
                )
            )
    return tuple(result)


def service_account_of(pod_spec: Mapping[str, Any]) -> str:
    return str(pod_spec.get("serviceAccountName") or pod_spec.get("serviceAccount") or "default")


def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in mapping(value).items()}


def _core_workload(obj: K8sObject) -> Workload | None:
    path = _TEMPLATE_PATHS[obj.kind]
    template = obj.body if not path else mapping(dig(obj.body, *path))
    metadata = mapping(template.get("metadata"))
    pod_spec = mapping(template.get("spec"))
    labels = _labels(metadata.get("labels"))
    if obj.kind == "Job":
        # The Job controller labels its pods with the Job's name (both forms since Kubernetes 1.27).
        labels.setdefault("batch.kubernetes.io/job-name", obj.name)
        labels.setdefault("job-name", obj.name)
    if obj.kind in ("Deployment", "ReplicaSet", "StatefulSet"):
        replicas = as_int(obj.spec.get("replicas"), 1)
    elif obj.kind == "Job":
        replicas = as_int(obj.spec.get("parallelism"), 1)
    elif obj.kind == "CronJob":
        replicas = as_int(dig(obj.body, "spec", "jobTemplate", "spec", "parallelism"), 1)
    else:
        replicas = 1
    return Workload(
        namespace=obj.namespace or "default",
        name=obj.name,
        kind=obj.kind,
        source="manifest",
        pods=(Pod(obj.name, labels),),
        containers=containers_of(pod_spec),
        pod_spec=pod_spec,
        service_account=service_account_of(pod_spec),
        replicas=max(replicas, 0),
        obj=obj,
        pod_annotations=_labels(metadata.get("annotations")),
    )


def cnpg_pod_spec(obj: K8sObject) -> dict[str, Any]:
    """The pod spec the CloudNativePG operator generates for an instance (pkg/specs/pods.go, 1.29)."""
    spec = obj.spec
    seccomp = mapping(spec.get("seccompProfile")) or {"type": "RuntimeDefault"}
    uid = as_int(spec.get("postgresUID"), CNPG_DEFAULT_UID)
    gid = as_int(spec.get("postgresGID"), CNPG_DEFAULT_UID)
    return {
        "serviceAccountName": obj.name,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": uid,
            "runAsGroup": gid,
            "fsGroup": gid,
            "seccompProfile": dict(seccomp),
        },
        "containers": [
            {
                "name": "postgres",
                "image": str(spec.get("imageName") or ""),
                "ports": [
                    {"name": "postgresql", "containerPort": 5432, "protocol": "TCP"},
                    {"name": "metrics", "containerPort": 9187, "protocol": "TCP"},
                    {"name": "status", "containerPort": 8000, "protocol": "TCP"},
                ],
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "privileged": False,
                    "runAsNonRoot": True,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                    "seccompProfile": dict(seccomp),
                },
            }
        ],
        "volumes": [
            {"name": "pgdata", "persistentVolumeClaim": {"claimName": f"{obj.name}-1"}},
            {"name": "scratch-data", "emptyDir": {}},
            {"name": "shm", "emptyDir": {"medium": "Memory"}},
        ],
    }


def _cnpg_workload(obj: K8sObject) -> Workload:
    instances = max(as_int(obj.spec.get("instances"), 1), 0)
    inherited = _labels(mapping(obj.spec.get("inheritedMetadata")).get("labels"))
    pods = []
    for serial in range(1, instances + 1):
        role = "primary" if serial == 1 else "replica"
        labels = dict(inherited)
        labels.update(
            {
                "cnpg.io/cluster": obj.name,
                "cnpg.io/instanceName": f"{obj.name}-{serial}",
                "cnpg.io/podRole": "instance",
                "cnpg.io/instanceRole": role,
                "role": role,  # the deprecated legacy label, still set
            }
        )
        pods.append(Pod(f"{obj.name}-{serial}", labels))
    pod_spec = cnpg_pod_spec(obj)
    return Workload(
        namespace=obj.namespace or "default",
        name=obj.name,
        kind=obj.kind,
        source="manifest",
        pods=tuple(pods),
        containers=containers_of(pod_spec),
        pod_spec=pod_spec,
        service_account=obj.name,
        replicas=instances,
        obj=obj,
    )


def is_workload(obj: K8sObject) -> bool:
    if obj.kind in _TEMPLATE_PATHS and obj.group in CORE_WORKLOAD_GROUPS:
        return True
    return obj.kind == "Cluster" and obj.group == CNPG_GROUP


def workload_of(obj: K8sObject) -> Workload | None:
    """The workload an object owns, or None when it runs no pods."""
    if not is_workload(obj):
        return None
    return _cnpg_workload(obj) if obj.group == CNPG_GROUP else _core_workload(obj)


def kube_dns() -> Workload:
    """kube-system/kube-dns as every cluster runs it (CoreDNS, pod label k8s-app=kube-dns)."""
    ports = (ContainerPort(53, "UDP", "dns"), ContainerPort(53, "TCP", "dns-tcp"))
    container = Container("coredns", "container", "", ports, {})
    return Workload(
        namespace="kube-system",
        name="kube-dns",
        kind="Deployment",
        source="cluster",
        pods=(Pod("kube-dns", {"k8s-app": "kube-dns"}),),
        containers=(container,),
        pod_spec={},
        service_account="coredns",
        replicas=2,
    )


def addon_workload(addon: AddonPod) -> Workload:
    container = Container(addon.name, "container", "", addon.ports, {})
    return Workload(
        namespace=addon.namespace,
        name=addon.name,
        kind=addon.kind,
        source="addon",
        pods=(Pod(addon.name, dict(addon.labels)),),
        containers=(container,),
        pod_spec={"serviceAccountName": addon.service_account},
        service_account=addon.service_account,
        replicas=1,
        role=addon.role,
    )


def _namespaces(manifests: ManifestSet, workloads: Iterable[Workload]) -> dict[str, Namespace]:
    names: dict[str, Namespace] = {}
    for obj in manifests.of_kind("Namespace"):
        labels = _labels(obj.labels)
        labels[NAMESPACE_NAME_LABEL] = obj.name  # immutable: the API server overwrites any other value
        names[obj.name] = Namespace(obj.name, labels, obj)
    used = {o.namespace for o in manifests.objects if o.namespace} | {w.namespace for w in workloads}
    for name in sorted(used):
        names.setdefault(name, Namespace(name, {NAMESPACE_NAME_LABEL: name}))
    return dict(sorted(names.items()))


def build_model(manifests: ManifestSet, addons: Sequence[AddonPod] | None = None) -> ClusterModel:
    """The cluster `manifests` describe, plus kube-dns and `addons`.

    `addons=None` reads the add-ons every target installs from dbc_validate/data/addons.yaml (the only I/O, done
    once per process); pass `()` for a model of the set alone, or your own AddonPod list.
    """
    if addons is None:
        addons = default_addons()
    extra = {w.id: w for w in (kube_dns(), *(addon_workload(a) for a in addons))}
    own = []
    for workload in (workload_of(o) for o in manifests.objects):
        if workload is not None:
            # The set's own object wins over an add-on of the same identity but keeps the add-on's role.
            replaced = extra.pop(workload.id, None)
            own.append(replace(workload, role=replaced.role) if replaced is not None else workload)
    workloads = own + list(extra.values())
    return ClusterModel(
        namespaces=_namespaces(manifests, workloads),
        workloads=tuple(workloads),
        network_policies=tuple(manifests.of_kind("NetworkPolicy", group="networking.k8s.io")),
        manifests=manifests,
    )
