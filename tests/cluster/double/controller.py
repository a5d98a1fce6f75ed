"""What the modelled cluster's controllers and kubelets do when an object is written or deleted: workloads get
pods, pods get a status, an IP, logs and metrics, claims are bound, CloudNativePG Clusters get instances, a
SealedSecret gets its Secret, a deleted pod of a controller comes back, an ephemeral probe container runs.
Everything a scenario changes about that (`Behaviour`) is applied on top as merge patches."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import re
import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import network
from .patches import merge_patch

Obj = dict[str, Any]
STARTED = "2026-01-01T00:00:00Z"
PROBE_MARK, PROBE_DONE = "DBC-PROBE", "DBC-PROBE-DONE"  # the harness's probe script output contract
# CloudNativePG's own labels and status (API reference, postgresql.cnpg.io/v1 ClusterStatus:
# https://cloudnative-pg.io/documentation/current/cloudnative-pg.v1/#postgresql-cnpg-io-v1-ClusterStatus;
# pod labels: https://cloudnative-pg.io/documentation/current/labels_annotations/).
CNPG_HEALTHY = "Cluster in healthy state"
CNPG_IMAGE = "ghcr.io/cloudnative-pg/postgresql:16"
CNPG_UID = 26  # the postgres user of CloudNativePG's operand images


@dataclass(frozen=True)
class Patch:
    """A merge patch the scenario applies to every matching object each time it is written."""

    kind: str
    merge: dict
    namespace: str = "*"
    name: str = "*"

    def matches(self, obj: Obj) -> bool:
        meta = obj.get("metadata") or {}
        return (
            obj.get("kind") == self.kind
            and fnmatch.fnmatchcase(meta.get("namespace", ""), self.namespace)
            and fnmatch.fnmatchcase(meta.get("name", ""), self.name)
        )


@dataclass
class Behaviour:
    """The scenario's knobs on top of a conforming cluster."""

    patches: list[Patch] = field(default_factory=list)
    never_ready: list[str] = field(default_factory=list)  # "Kind/namespace/name" globs of workloads
    cni_enforces: bool = True
    node_usage: float = 0.2  # of allocatable, CPU and memory
    container_usage: float = 0.1  # of each limit (50m / 64Mi when a container has none)
    logs: list[dict] = field(default_factory=list)  # [{namespace, pod, text}], first match wins
    default_log: str = "starting\nready\n"
    sealing: bool = False  # True: SealedSecrets are decrypted with the controller's key (fixture.arm_sealing)

    def log_text(self, ns: str, pod: str) -> str:
        for rule in self.logs:
            if fnmatch.fnmatchcase(ns, rule.get("namespace", "*")) and fnmatch.fnmatchcase(pod, rule.get("pod", "*")):
                return str(rule.get("text", ""))
        return self.default_log

    def ready(self, kind: str, ns: str, name: str) -> bool:
        return not any(fnmatch.fnmatchcase(f"{kind}/{ns}/{name}", g) for g in self.never_ready)


def _meta(obj: Obj) -> Obj:
    return obj.setdefault("metadata", {})


def _short_hash(text: str, n: int = 10) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


class Controller:
    """Bound to one Double (store.Double): `shape` runs before an object is stored, `react` after."""

    def __init__(self, double: Any, behaviour: Behaviour) -> None:
        self.d = double
        self.b = behaviour
        self.next_ip = 10
        self.files: dict[tuple, str] = {}  # (namespace, claim or pod, path) -> content
        self.sealing_key: Any = None  # the Sealed Secrets controller's RSA private key, when armed
        self.unsealed: dict[tuple, dict] = {}  # (namespace, name) -> Secret data (base64)

    # ---- store helpers --------------------------------------------------------------------------------
    def objects(self, group: str, plural: str, ns: str | None = None) -> list[Obj]:
        return [o for (g, p, n, _), o in list(self.d.store.items()) if g == group and p == plural and ns in (None, n)]

    def write(self, group: str, plural: str, ns: str | None, obj: Obj) -> None:
        self.d.validate(obj)
        self.d.put(group, plural, ns, obj)

    # ---- shape: status of what is being written -------------------------------------------------------
    def shape(self, key: tuple, obj: Obj) -> Obj:
        group, plural, ns, name = key
        kind = obj.get("kind", "")
        if plural == "namespaces":
            _meta(obj).setdefault("labels", {})["kubernetes.io/metadata.name"] = name
            obj["status"] = {"phase": "Active"}
        elif plural == "pods":
            self.pod_status(obj)
        elif plural in ("deployments", "statefulsets", "daemonsets") and group == "apps":
            want = int((obj.get("spec") or {}).get("replicas", 1)) if plural != "daemonsets" else 1
            ready = want if self.b.ready(kind, ns or "", name) else 0
            obj["status"] = self.workload_status(plural, want, ready, (obj.get("metadata") or {}).get("generation", 1))
        elif plural == "persistentvolumeclaims":
            spec = obj.setdefault("spec", {})
            spec.setdefault("storageClassName", self.default_class())
            spec.setdefault("volumeName", f"pvc-{_short_hash(f'{ns}/{name}', 12)}")
            size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
            modes = spec.get("accessModes") or ["ReadWriteOnce"]
            obj["status"] = {"phase": "Bound", "accessModes": modes, "capacity": {"storage": size}}
        elif kind == "Cluster" and group == "postgresql.cnpg.io":
            obj["status"] = self.cnpg_status(obj)
        elif kind == "SealedSecret":
            # Sealed Secrets README, "status": the controller sets condition Synced=True once it unsealed, False
            # with the error otherwise (https://github.com/bitnami-labs/sealed-secrets#sealedsecrets-as-templates-for-secrets;
            # REFERENCE.md).
            error = self.unseal(obj)
            condition = {"type": "Synced", "status": "False" if error else "True", "lastUpdateTime": STARTED}
            condition["lastTransitionTime"] = STARTED
            if error:
                condition.update({"reason": "ErrUnsealFailed", "message": error})
            obj["status"] = {"conditions": [condition], "observedGeneration": 1}
        for patch in self.b.patches:
            if patch.matches(obj):
                obj = merge_patch(obj, patch.merge)
        return obj

    def default_class(self) -> str:
        for sc in self.objects("storage.k8s.io", "storageclasses"):
            if (sc["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true":
                return str(sc["metadata"]["name"])
        return "local-path"

    def unseal(self, sealed: Obj) -> str:
        """With the controller's key (`sealing_key`): decrypt every value, as the controller does (sealed-secrets
        pkg/crypto HybridDecrypt, strict scope); the values are kept for the Secret. Without a key the values are
        taken as unsealed. Returns the error, or ""."""
        meta = sealed["metadata"]
        encrypted = (sealed.get("spec") or {}).get("encryptedData") or {}
        if self.sealing_key is None:
            self.unsealed[(meta["namespace"], meta["name"])] = {k: "dW5zZWFsZWQ=" for k in encrypted}
            return ""
        from cryptography.exceptions import InvalidTag  # heavy third-party import, only when sealing is armed

        values = {}
        for key, text in encrypted.items():
            try:
                values[key] = base64.b64encode(
                    hybrid_decrypt(self.sealing_key, base64.b64decode(text), f"{meta['namespace']}/{meta['name']}")
                ).decode()
            except (ValueError, InvalidTag):
                return f"no key could decrypt secret ({key})"
        self.unsealed[(meta["namespace"], meta["name"])] = values
        return ""

    @staticmethod
    def workload_status(plural: str, want: int, ready: int, generation: int) -> Obj:
        if plural == "daemonsets":
            return {
                "currentNumberScheduled": 1, "desiredNumberScheduled": 1, "numberMisscheduled": 0,
                "numberReady": ready, "numberAvailable": ready, "updatedNumberScheduled": 1,
                "observedGeneration": generation,
            }  # fmt: skip
        status = {"observedGeneration": generation, "replicas": want, "readyReplicas": ready, "updatedReplicas": want}
        status["availableReplicas"] = ready
        if plural == "statefulsets":
            status["currentReplicas"] = want
        else:
            status["conditions"] = [
                {
                    "type": "Available",
                    "status": "True" if ready >= want else "False",
                    "reason": "MinimumReplicasAvailable",
                }
            ]
        return status

    def cnpg_status(self, cluster: Obj) -> Obj:
        name = cluster["metadata"]["name"]
        want = int((cluster.get("spec") or {}).get("instances", 1))
        names = [f"{name}-{i}" for i in range(1, want + 1)]
        old = cluster.get("status") or {}
        primary = old.get("currentPrimary") or names[0]
        ready = want if self.b.ready("Cluster", cluster["metadata"].get("namespace", ""), name) else 0
        return {
            "instances": want, "readyInstances": ready, "instanceNames": names,
            "phase": CNPG_HEALTHY if ready == want else "Waiting for the instances to become active",
            "currentPrimary": primary, "targetPrimary": old.get("targetPrimary") or primary,
            "currentPrimaryTimestamp": STARTED, "instancesStatus": {"healthy": names[:ready]},
            "latestGeneratedNode": want,
        }  # fmt: skip

    def pod_status(self, pod: Obj) -> None:
        meta, spec = _meta(pod), pod.setdefault("spec", {})
        status = pod.setdefault("status", {})
        owner = self.owner_of(pod)
        ready = owner is None or self.b.ready(*owner)
        if not status.get("podIP"):
            self.next_ip += 1
            status.update({"phase": "Running", "podIP": f"10.42.0.{self.next_ip}", "hostIP": "172.18.0.2"})
            status["podIPs"] = [{"ip": status["podIP"]}]
            status["startTime"] = STARTED
            status["qosClass"] = "Burstable"
            status["containerStatuses"] = [self.container_status(c, ready) for c in spec.get("containers") or []]
            spec.setdefault("nodeName", "server-0")
            for c in spec.get("containers") or []:
                self.d.pod_logs[(meta.get("namespace"), meta["name"], c["name"])] = self.b.log_text(
                    meta.get("namespace", ""), meta["name"]
                )
        conditions = [{"type": t, "status": "True" if ready else "False"} for t in ("Ready", "ContainersReady")]
        status["conditions"] = [{"type": "PodScheduled", "status": "True"}, *conditions]
        self.run_ephemeral(pod)

    @staticmethod
    def container_status(container: Obj, ready: bool) -> Obj:
        state = {"running": {"startedAt": STARTED}} if ready else {"waiting": {"reason": "ContainerCreating"}}
        return {
            "name": container["name"], "image": container.get("image", ""), "imageID": "", "ready": ready,
            "restartCount": 0, "started": ready, "state": state,
        }  # fmt: skip

    def owner_of(self, pod: Obj) -> tuple[str, str, str] | None:
        meta = pod.get("metadata") or {}
        ns = meta.get("namespace", "")
        labels = meta.get("labels") or {}
        if "cnpg.io/cluster" in labels:
            return ("Cluster", ns, labels["cnpg.io/cluster"])
        for ref in meta.get("ownerReferences") or []:
            if ref.get("kind") == "ReplicaSet":
                return ("Deployment", ns, ref["name"].rsplit("-", 1)[0])
            return (ref.get("kind", ""), ns, ref.get("name", ""))
        return None

    # ---- react: children of what was written, replacements of what was deleted ------------------------
    def react(self, event: str, key: tuple, obj: Obj) -> None:
        group, plural = key[0], key[1]
        if event == "DELETED":
            if plural == "pods":
                self.replace_pod(obj)
            self.refresh_metrics()
            return
        if group == "apps" and plural in ("deployments", "statefulsets", "daemonsets"):
            self.ensure_pods(plural, obj)
        elif plural == "clusters" and group == "postgresql.cnpg.io":
            self.ensure_cnpg(obj)
        elif plural == "sealedsecrets":
            self.ensure_secret(obj)
        self.refresh_metrics()

    def owned_pods(self, ns: str, uid: str) -> list[Obj]:
        return [
            p
            for p in self.objects("", "pods", ns)
            if any(r.get("uid") == uid for r in p["metadata"].get("ownerReferences") or [])
        ]

    def ensure_pods(self, plural: str, workload: Obj) -> None:
        meta, spec = workload["metadata"], workload.get("spec") or {}
        ns = meta["namespace"]
        if self.owned_pods(ns, meta["uid"]):
            return
        want = int(spec.get("replicas", 1)) if plural != "daemonsets" else 1
        for i in range(want):
            self.write("", "pods", ns, self.pod_of(plural, workload, i))

    def pod_of(self, plural: str, workload: Obj, index: int) -> Obj:
        meta, spec = workload["metadata"], workload.get("spec") or {}
        template = spec.get("template") or {}
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        pod_spec = dict(template.get("spec") or {})
        kind = {"deployments": "Deployment", "statefulsets": "StatefulSet", "daemonsets": "DaemonSet"}[plural]
        owner = {"apiVersion": "apps/v1", "kind": kind, "name": meta["name"], "uid": meta["uid"], "controller": True}
        if plural == "statefulsets":
            name = f"{meta['name']}-{index}"
            labels["statefulset.kubernetes.io/pod-name"] = name
            volumes = list(pod_spec.get("volumes") or [])
            for claim in spec.get("volumeClaimTemplates") or []:
                claim_name = f"{claim['metadata']['name']}-{name}"
                self.ensure_claim(meta["namespace"], claim_name, claim.get("spec") or {})
                volumes.append({"name": claim["metadata"]["name"], "persistentVolumeClaim": {"claimName": claim_name}})
            pod_spec["volumes"] = volumes
        else:
            template_hash = _short_hash(f"{meta['namespace']}/{meta['name']}")
            labels["pod-template-hash"] = template_hash
            suffix = _short_hash(str((meta["uid"], index, self.d.rv)), 5)
            name = f"{meta['name']}-{template_hash}-{suffix}"
            if plural == "deployments":
                owner = {**owner, "kind": "ReplicaSet", "name": f"{meta['name']}-{template_hash}"}
        pod_meta = {"name": name, "namespace": meta["namespace"], "labels": labels, "ownerReferences": [owner]}
        return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": pod_spec}

    def ensure_claim(self, ns: str, name: str, spec: Obj) -> None:
        if ("", "persistentvolumeclaims", ns, name) not in self.d.store:
            claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": ns}}
            claim["spec"] = {k: v for k, v in spec.items() if k in ("accessModes", "resources", "storageClassName")}
            self.write("", "persistentvolumeclaims", ns, claim)

    def ensure_cnpg(self, cluster: Obj) -> None:
        meta, spec = cluster["metadata"], cluster.get("spec") or {}
        ns, name = meta["namespace"], meta["name"]
        primary = (cluster.get("status") or {}).get("currentPrimary") or f"{name}-1"
        for i in range(1, int(spec.get("instances", 1)) + 1):
            instance = f"{name}-{i}"
            role = "primary" if instance == primary else "replica"
            current = self.d.store.get(("", "pods", ns, instance))
            if current is not None and (current["metadata"].get("labels") or {}).get("cnpg.io/instanceRole") == role:
                continue
            self.ensure_claim(
                ns,
                instance,
                {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": str((spec.get("storage") or {}).get("size", "1Gi"))}},
                },
            )
            self.write("", "pods", ns, self.cnpg_pod(cluster, instance, role, current))

    @staticmethod
    def cnpg_pod(cluster: Obj, instance: str, role: str, current: Obj | None) -> Obj:
        meta, spec = cluster["metadata"], cluster.get("spec") or {}
        labels = {
            "cnpg.io/cluster": meta["name"], "cnpg.io/instanceName": instance, "cnpg.io/podRole": "instance",
            "cnpg.io/instanceRole": role, "role": role,
        }  # fmt: skip
        owner = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "name": meta["name"], "uid": meta["uid"]}
        ports = [{"name": "postgresql", "containerPort": 5432, "protocol": "TCP"}]
        ports += [{"name": "status", "containerPort": 8000, "protocol": "TCP"}]
        ports += [{"name": "metrics", "containerPort": 9187, "protocol": "TCP"}]
        container = {
            "name": "postgres", "image": spec.get("imageName") or CNPG_IMAGE, "ports": ports,
            "volumeMounts": [{"name": "pgdata", "mountPath": "/var/lib/postgresql/data"}],
        }  # fmt: skip
        container["securityContext"] = {"allowPrivilegeEscalation": False, "runAsNonRoot": True}
        container["securityContext"]["capabilities"] = {"drop": ["ALL"]}
        if spec.get("resources"):
            container["resources"] = spec["resources"]
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": instance,
                "namespace": meta["namespace"],
                "labels": labels,
                "ownerReferences": [owner],
            },
            "spec": {
                "containers": [container],
                "securityContext": {"runAsUser": CNPG_UID, "runAsGroup": CNPG_UID, "runAsNonRoot": True},
                "volumes": [{"name": "pgdata", "persistentVolumeClaim": {"claimName": instance}}],
            },
        }
        if current is not None:  # a role change keeps the pod (the instance manager relabels it)
            pod["metadata"]["uid"] = current["metadata"]["uid"]
            pod["status"] = current.get("status")
        return pod

    def ensure_secret(self, sealed: Obj) -> None:
        meta, spec = sealed["metadata"], sealed.get("spec") or {}
        condition = next((c for c in (sealed.get("status") or {}).get("conditions") or [] if c["type"] == "Synced"), {})
        if condition.get("status") != "True":
            return  # not unsealed: no Secret
        template = spec.get("template") or {}
        owner = {
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "name": meta["name"],
            "uid": meta["uid"],
            "controller": True,
        }
        data = self.unsealed.get((meta["namespace"], meta["name"]), {})
        secret = {
            "apiVersion": "v1", "kind": "Secret", "type": template.get("type", "Opaque"), "data": data,
            "metadata": {"name": meta["name"], "namespace": meta["namespace"], "ownerReferences": [owner]},
        }  # fmt: skip
        self.write("", "secrets", meta["namespace"], secret)

    def replace_pod(self, pod: Obj) -> None:
        owner = self.owner_of(pod)
        if owner is None:
            return
        kind, ns, name = owner
        group, plural = ("postgresql.cnpg.io", "clusters") if kind == "Cluster" else ("apps", kind.lower() + "s")
        workload = self.d.store.get((group, plural, ns, name))
        if workload is None:
            return

        def recreate() -> None:
            # After the delete has been seen (kubectl delete --wait watches for the old object to go).
            if kind == "Cluster":
                self.ensure_cnpg(workload)
            elif not self.owned_pods(ns, workload["metadata"]["uid"]) or kind == "StatefulSet":
                index = int(pod["metadata"]["name"].rsplit("-", 1)[-1]) if kind == "StatefulSet" else 0
                self.write("", "pods", ns, self.pod_of(plural, workload, index))

        threading.Timer(1.0, recreate).start()

    # ---- metrics -------------------------------------------------------------------------------------
    def refresh_metrics(self) -> None:
        from dbc_validate.analysis.live.quantities import parse_quantity  # the harness's own parser for units

        nodes = []
        for node in self.objects("", "nodes"):
            alloc = (node.get("status") or {}).get("allocatable") or {}
            share = float((node["metadata"].get("annotations") or {}).get("double/usage", self.b.node_usage))
            cpu = parse_quantity(alloc.get("cpu", "4")) * share
            memory = parse_quantity(alloc.get("memory", "8Gi")) * share
            nodes.append(self.sample("NodeMetrics", node["metadata"]["name"], None, {"cpu": cpu, "memory": memory}))
        pods: dict[str, list] = {}
        for pod in self.objects("", "pods"):
            if (pod.get("status") or {}).get("phase") != "Running":
                continue
            containers = []
            for c in (pod.get("spec") or {}).get("containers") or []:
                limits = (c.get("resources") or {}).get("limits") or {}
                cpu = parse_quantity(limits["cpu"]) * self.b.container_usage if "cpu" in limits else 0.05
                mem = parse_quantity(limits["memory"]) * self.b.container_usage if "memory" in limits else 64 * 2**20
                containers.append({"name": c["name"], "usage": usage(cpu, mem)})
            ns = pod["metadata"]["namespace"]
            sample = self.sample("PodMetrics", pod["metadata"]["name"], ns, None)
            sample["containers"] = containers
            pods.setdefault(ns, []).append(sample)
        self.d.metrics = {"nodes": nodes, "pods": pods}

    @staticmethod
    def sample(kind: str, name: str, ns: str | None, use: dict | None) -> Obj:
        meta = {"name": name, **({"namespace": ns} if ns else {}), "creationTimestamp": STARTED}
        out = {"kind": kind, "apiVersion": "metrics.k8s.io/v1beta1", "metadata": meta, "timestamp": STARTED}
        out["window"] = "15s"
        if use is not None:
            out["usage"] = usage(use["cpu"], use["memory"])
        return out

    # ---- data plane: exec into containers ------------------------------------------------------------
    def pod_by_ip(self, ip: str) -> Obj | None:
        return next((p for p in self.objects("", "pods") if (p.get("status") or {}).get("podIP") == ip), None)

    def connect(self, source: Obj, ip: str, port: int, protocol: str) -> bool:
        destination = self.pod_by_ip(ip)
        if destination is None:
            return False
        if not self.b.cni_enforces:
            return True
        policies = self.objects("networking.k8s.io", "networkpolicies")
        namespaces = {n["metadata"]["name"]: n for n in self.objects("", "namespaces")}
        return network.allowed(source, destination, port, protocol, policies, namespaces)

    def run_command(self, pod: Obj, argv: list[str]) -> tuple[int, str, str]:
        """agnhost connect / dig from inside `pod`, and a file system on its claims; (127, ...) otherwise."""
        if argv[:2] == ["/agnhost", "connect"]:
            host, _, port = argv[-1].rpartition(":")
            if self.connect(pod, host.strip("[]"), int(port), "TCP"):
                return 0, "", ""
            return 1, "", "TIMEOUT: dial tcp: i/o timeout\n"
        if argv[:1] == ["dig"]:
            server = next(a[1:] for a in argv if a.startswith("@"))
            if self.connect(pod, server, int(argv[argv.index("-p") + 1]), "UDP"):
                return 0, "10.43.0.1\n", ""
            return 9, ";; connection timed out; no servers could be reached\n", ""
        return self.files_command(pod, argv)

    def files_command(self, pod: Obj, argv: list[str]) -> tuple[int, str, str]:
        script = argv[2] if argv[:2] == ["sh", "-c"] else None
        written = re.fullmatch(r"printf %s (\S+) > (\S+)", script or "")
        if written:
            self.files[self.file_key(pod, written.group(2))] = written.group(1)
            return 0, "", ""
        if argv[:1] == ["cat"] and len(argv) == 2:
            key = self.file_key(pod, argv[1])
            if key in self.files:
                return 0, self.files[key], ""
            return 1, "", f"cat: can't open '{argv[1]}': No such file or directory\n"
        if argv[:2] == ["rm", "-f"]:
            self.files.pop(self.file_key(pod, argv[2]), None)
            return 0, "", ""
        return 127, "", f"test double: no answer for {shlex.join(argv)}\n"

    @staticmethod
    def file_key(pod: Obj, path: str) -> tuple:
        """A file on a claim outlives the pod; any other file is the pod's own."""
        spec, ns = pod.get("spec") or {}, pod["metadata"]["namespace"]
        claims = {
            v["name"]: v["persistentVolumeClaim"]["claimName"]
            for v in spec.get("volumes") or []
            if v.get("persistentVolumeClaim")
        }
        for c in spec.get("containers") or []:
            for m in c.get("volumeMounts") or []:
                if m["name"] in claims and path.startswith(m["mountPath"].rstrip("/") + "/"):
                    return (ns, "claim", claims[m["name"]], path[len(m["mountPath"]) :])
        return (ns, "pod", pod["metadata"]["name"], path)

    def run_ephemeral(self, pod: Obj) -> None:
        """Each new ephemeral container runs its script to the end at once (its output becomes its log)."""
        status = pod.setdefault("status", {})
        done = {s["name"] for s in status.get("ephemeralContainerStatuses") or []}
        for container in (pod.get("spec") or {}).get("ephemeralContainers") or []:
            if container["name"] in done:
                continue
            script = (container.get("command") or ["", "", ""])[-1]
            lines = []
            for line in script.splitlines():
                words = shlex.split(line)
                if words[:1] == ["probe"] and words[-1] == "&":
                    rc, out, err = self.run_command(pod, words[2:-1])
                    lines.append(f"{PROBE_MARK} {words[1]} {rc} {(out + err).strip()[:200]}")
            lines.append(PROBE_DONE)
            meta = pod["metadata"]
            self.d.pod_logs[(meta["namespace"], meta["name"], container["name"])] = "\n".join(lines) + "\n"
            terminated = {
                "terminated": {"exitCode": 0, "reason": "Completed", "startedAt": STARTED, "finishedAt": STARTED}
            }
            entry = {"name": container["name"], "image": container.get("image", ""), "imageID": "", "ready": False}
            status.setdefault("ephemeralContainerStatuses", []).append(
                {**entry, "restartCount": 0, "state": terminated}
            )


def hybrid_decrypt(key: Any, blob: bytes, label: str) -> bytes:
    """The Sealed Secrets controller's HybridDecrypt: 2-byte length, RSA-OAEP(SHA-256, label) session key, then
    AES-256-GCM with a zero nonce (written from the format, independently of the harness's sealing.py)."""
    from cryptography.hazmat.primitives import hashes  # heavy third-party import, only when sealing is armed
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    size = int.from_bytes(blob[:2], "big")
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label.encode())
    session = key.decrypt(blob[2 : 2 + size], oaep)
    return AESGCM(session).decrypt(bytes(12), blob[2 + size :], None)


def usage(cpu_cores: float, memory_bytes: float) -> dict[str, str]:
    return {"cpu": f"{round(cpu_cores * 1e9)}n", "memory": f"{round(memory_bytes / 1024)}Ki"}


def exec_chain(first: Callable[[str, str, str, list], tuple], controller: Controller) -> Callable:
    """The scenario's scripted answers first, then what the modelled containers do."""

    def handler(ns: str, pod: str, container: str, argv: list) -> tuple:
        rc, out, err = first(ns, pod, container, argv)
        if rc != 127:
            return rc, out, err
        obj = controller.d.store.get(("", "pods", ns, pod))
        return controller.run_command(obj, list(argv)) if obj is not None else (rc, out, err)

    return handler
