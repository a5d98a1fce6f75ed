"""The scrape targets a manifest set's Prometheus would have, predicted from its monitors, and what stops them.

Prometheus -> monitor (selector, namespace selector, the Helm release-label default) -> Services or pods by
label in the monitor's namespaces -> endpoint port by name or number against the Service's and containers'
real ports -> the NetworkPolicy engine's verdict for Prometheus's pods to the target on that port. Pure.

Contract: `predict_targets(model) -> Prediction(targets, findings)`; each ScrapeTarget names the Prometheus,
the monitor and endpoint, the workload and pods, the container port and path, and whether policies allow it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dbc_validate.analysis.cluster_model import ClusterModel, Namespace, Pod, Workload
from dbc_validate.analysis.container_ports import ContainerPort
from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.analysis.monitoring import (
    HELM_CHART_GROUP,
    MONITORING_GROUP,
    Monitor,
    MonitorEndpoint,
    PrometheusInstance,
    monitors,
    prometheus_instances,
)
from dbc_validate.analysis.netpol.engine import allowed
from dbc_validate.analysis.netpol.rules import denial_reason
from dbc_validate.manifests.fields import listing, mapping
from dbc_validate.manifests.model import K8sObject, ManifestSet


@dataclass(frozen=True)
class ScrapeTarget:
    prometheus: str  # "namespace/name" of the Prometheus
    monitor: str  # "ServiceMonitor/ns/name"
    endpoint: int
    workload: str  # "namespace/name"
    pods: tuple[str, ...]
    port: int  # the container port Prometheus connects to
    port_name: str | None
    path: str
    scheme: str
    service: str | None  # "namespace/name" of the Service (ServiceMonitor targets)
    allowed: bool  # by the NetworkPolicies, from Prometheus's pods
    why: str  # the engine's reason when denied

    @property
    def job(self) -> str:
        """The `job` label the operator gives the target: the Service name, or "namespace/podmonitor"."""
        if self.service is not None:
            return self.service.split("/", 1)[1]
        _, namespace, name = self.monitor.split("/", 2)
        return f"{namespace}/{name}"

    def describe(self) -> str:
        verdict = "allow" if self.allowed else "deny "
        via = f" via Service {self.service}" if self.service else ""
        return (
            f"{verdict} {self.prometheus} -> {self.workload}:{self.port}{self.path} "
            f"({self.monitor} endpoint {self.endpoint}{via}; pods {', '.join(self.pods)})"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "prometheus": self.prometheus,
            "monitor": self.monitor,
            "endpoint": self.endpoint,
            "job": self.job,
            "workload": self.workload,
            "pods": list(self.pods),
            "port": self.port,
            "port_name": self.port_name,
            "path": self.path,
            "scheme": self.scheme,
            "service": self.service,
            "allowed": self.allowed,
            "why": self.why,
        }


@dataclass(frozen=True)
class Prediction:
    instances: tuple[PrometheusInstance, ...]
    targets: tuple[ScrapeTarget, ...]
    findings: tuple[Finding, ...]


def _matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def service_target_port(service: K8sObject, port: int | str | None) -> int | str | None:
    """The pods' port a Service sends `port` (its number or name; None: its only port) to."""
    ports = [mapping(p) for p in listing(service.spec.get("ports"))]
    chosen = next((p for p in ports if port is not None and port in (p.get("port"), p.get("name"))), None)
    if chosen is None and port is None and len(ports) == 1:
        chosen = ports[0]
    if chosen is None:
        return None
    target = chosen.get("targetPort", chosen.get("port"))
    return target if isinstance(target, int | str) else None


def service_pods(model: ClusterModel, service: K8sObject) -> list[tuple[Workload, list[Pod]]]:
    """The workloads (and their pods) a Service's selector picks in its namespace."""
    selector = {str(k): str(v) for k, v in mapping(service.spec.get("selector")).items()}
    if not selector:
        return []
    found = []
    for workload in model.workloads:
        if workload.namespace == (service.namespace or "default"):
            pods = [p for p in workload.pods if _matches(selector, p.labels)]
            if pods:
                found.append((workload, pods))
    return found


def _container_port(workload: Workload, wanted: int | str) -> ContainerPort | None:
    for port in workload.ports:
        if port.protocol == "TCP" and (port.port == wanted or (isinstance(wanted, str) and port.name == wanted)):
            return port
    return None


def prometheus_workload_id(instance: PrometheusInstance) -> str:
    return f"{instance.namespace}/prometheus-{instance.name}"


def with_prometheus_pods(model: ClusterModel) -> ClusterModel:
    """The model plus the pods of the set's Prometheus instances, when the set has monitoring objects (monitors,
    rules, a Prometheus): NetworkPolicies admitting Prometheus then meet the pods they are written for."""
    manifests = model.manifests
    if manifests is None or not any(o.group in (MONITORING_GROUP, HELM_CHART_GROUP) for o in manifests.objects):
        return model
    return _with_prometheus(model, prometheus_instances(manifests))


def _with_prometheus(model: ClusterModel, instances: Sequence[PrometheusInstance]) -> ClusterModel:
    """The model plus one pod per Prometheus, so the engine can judge the scrape paths from it."""
    extra = [
        Workload(
            namespace=p.namespace,
            name=f"prometheus-{p.name}",
            kind="StatefulSet",
            source="addon",
            pods=(Pod(f"prometheus-{p.name}-0", dict(p.pod_labels)),),
            containers=(),
            pod_spec={},
            service_account=p.name,
            role="prometheus",
        )
        for p in instances
        if not model.has(prometheus_workload_id(p))
    ]
    if not extra:
        return model
    namespaces = dict(model.namespaces)
    for workload in extra:
        namespaces.setdefault(
            workload.namespace, Namespace(workload.namespace, model.namespace_labels(workload.namespace))
        )
    return replace(model, namespaces=namespaces, workloads=(*model.workloads, *extra), _by_id={})


def selection_summary(instances: Sequence[PrometheusInstance], kind: str) -> str:
    """ "monitoring/x (its source) takes labels {...} in namespaces {...}" for each instance."""
    return "; ".join(f"{p.id} ({p.source}) takes {p.selections[kind].describe()}" for p in instances)


def _elsewhere(matches: str, monitor: Monitor) -> str:
    return f"; {matches} match(es) but the monitor watches only {monitor.describe_namespaces()}" if matches else ""


def operator_services(model: ClusterModel) -> list[K8sObject]:
    """The Services the CloudNativePG operator makes for each Cluster (-rw, -ro, -r): PostgreSQL's port only,
    so a ServiceMonitor on them finds no metrics port (CNPG documents a PodMonitor on port `metrics`)."""
    services = []
    for workload in model.workloads:
        if not workload.operator_managed:
            continue
        for suffix, role in (("rw", "primary"), ("ro", "replica"), ("r", None)):
            selector = {"cnpg.io/cluster": workload.name, "cnpg.io/podRole": "instance"}
            if role:
                selector["cnpg.io/instanceRole"] = role
            body = {
                "metadata": {"name": f"{workload.name}-{suffix}", "namespace": workload.namespace,
                             "labels": {"cnpg.io/cluster": workload.name}},
                "spec": {"selector": selector, "ports": [{"name": "postgres", "port": 5432, "targetPort": 5432}]},
            }  # fmt: skip
            services.append(K8sObject("v1", "Service", f"{workload.name}-{suffix}", workload.namespace, body))
    return services


class _Predictor:
    def __init__(self, model: ClusterModel, manifests: ManifestSet, instances: Sequence[PrometheusInstance]) -> None:
        self.model = _with_prometheus(model, instances)
        self.manifests = manifests
        self.instances = tuple(instances)
        self.services = [*manifests.of_kind("Service"), *operator_services(model)]
        self.findings: list[Finding] = []

    def note(self, rule: str, monitor: Monitor, message: str) -> None:
        self.findings.append(finding(rule, monitor.obj.ref, message))

    def selects_nothing(self, monitor: Monitor, what: str, elsewhere: list[str]) -> None:
        """The monitor finds no `what` it watches; `elsewhere` names those that match in namespaces it ignores."""
        hint = (
            f"; {', '.join(elsewhere)} match(es) but the monitor watches only {monitor.describe_namespaces()}"
            if elsewhere
            else ""
        )
        self.note(
            "observability.monitor-selects-nothing",
            monitor,
            f"no {what} with labels {{{monitor.selector.describe()}}} in {monitor.describe_namespaces()}{hint}",
        )

    def selecting(self, monitor: Monitor) -> list[PrometheusInstance]:
        labels = self.model.namespace_labels(monitor.obj.namespace or "default")
        return [p for p in self.instances if p.selects(monitor.obj, labels)]

    def target(
        self,
        prometheus: PrometheusInstance,
        monitor: Monitor,
        endpoint: MonitorEndpoint,
        workload: Workload,
        pods: Sequence[Pod],
        port: ContainerPort,
        service: K8sObject | None,
    ) -> ScrapeTarget:
        decision = allowed(self.model, prometheus_workload_id(prometheus), workload.id, port.port)
        return ScrapeTarget(
            prometheus.id,
            monitor.obj.ref,
            endpoint.index,
            workload.id,
            tuple(p.name for p in pods),
            port.port,
            port.name,
            endpoint.path,
            endpoint.scheme,
            f"{service.namespace}/{service.name}" if service is not None else None,
            decision.allowed,
            "" if decision.allowed else denial_reason(decision),
        )

    def service_monitor(self, monitor: Monitor, selected_by: Sequence[PrometheusInstance]) -> Iterator[ScrapeTarget]:
        assert monitor.selector is not None
        matching = [s for s in self.services if monitor.selector.matches({str(k): str(v) for k, v in s.labels.items()})]
        watched = [s for s in matching if monitor.watches(s.namespace or "default")]
        if not watched:
            self.selects_nothing(monitor, "Service", [s.ref for s in matching])
            return
        for service in watched:
            ports = [mapping(p) for p in listing(service.spec.get("ports"))]
            backends = service_pods(self.model, service)
            if not backends:
                self.note("observability.monitor-selects-nothing", monitor, f"{service.ref} selects no pod of the set")
                continue
            for endpoint in monitor.endpoints:
                wanted: int | str | None
                if endpoint.port is not None:
                    service_port = next((p for p in ports if p.get("name") == endpoint.port), None)
                    if service_port is None:
                        names = ", ".join(str(p.get("name") or p.get("port")) for p in ports) or "none"
                        self.note(
                            "observability.port-not-found",
                            monitor,
                            f"endpoint {endpoint.index}: {service.ref} has no port named {endpoint.port!r} "
                            f"(its ports: {names})",
                        )
                        continue
                    target_port = service_port.get("targetPort", service_port.get("port"))
                    wanted = target_port if isinstance(target_port, int | str) else None
                else:
                    wanted = endpoint.number
                if wanted is None:
                    self.note("observability.port-not-found", monitor, f"endpoint {endpoint.index} names no port")
                    continue
                yield from self._pods_targets(monitor, endpoint, backends, wanted, selected_by, service)

    def _pods_targets(
        self,
        monitor: Monitor,
        endpoint: MonitorEndpoint,
        backends: Sequence[tuple[Workload, Sequence[Pod]]],
        wanted: int | str,
        selected_by: Sequence[PrometheusInstance],
        service: K8sObject | None,
    ) -> Iterator[ScrapeTarget]:
        for workload, pods in backends:
            port = _container_port(workload, wanted)
            if port is None:
                declared = ", ".join(f"{p.name or '-'} {p.port}" for p in workload.ports) or "none"
                via = f"{service.ref} sends port {wanted!r}" if service is not None else f"port {wanted!r}"
                rule = (
                    "observability.exporter-missing"
                    if service is not None or isinstance(wanted, int)
                    else ("observability.port-not-found")
                )
                self.note(
                    rule,
                    monitor,
                    f"endpoint {endpoint.index}: {via} to {workload.ref}, whose containers declare no such port "
                    f"(declared: {declared})",
                )
                continue
            for prometheus in selected_by:
                yield self.target(prometheus, monitor, endpoint, workload, pods, port, service)

    def pod_monitor(self, monitor: Monitor, selected_by: Sequence[PrometheusInstance]) -> Iterator[ScrapeTarget]:
        assert monitor.selector is not None
        matching = [
            (w, [p for p in w.pods if monitor.selector.matches(p.labels)])
            for w in self.model.workloads
            if w.role != "prometheus"
        ]
        matching = [(w, pods) for w, pods in matching if pods]
        watched = [(w, pods) for w, pods in matching if monitor.watches(w.namespace)]
        if not watched:
            self.selects_nothing(monitor, "pod", [w.id for w, _ in matching])
            return
        for endpoint in monitor.endpoints:
            wanted = endpoint.port if endpoint.port is not None else endpoint.number
            if wanted is None:
                self.note("observability.port-not-found", monitor, f"endpoint {endpoint.index} names no port")
                continue
            yield from self._pods_targets(monitor, endpoint, watched, wanted, selected_by, None)

    def run(self) -> Prediction:
        targets: list[ScrapeTarget] = []
        for monitor in monitors(self.manifests):
            if monitor.selector is None:
                self.note("observability.monitor-selects-nothing", monitor, monitor.problem)
                continue
            selected_by = self.selecting(monitor)
            if not selected_by:
                how = "; ".join(
                    f"{p.id} ({p.source}) takes {p.selections[monitor.kind].describe()}" for p in self.instances
                )
                self.note("observability.monitor-not-selected", monitor, f"no Prometheus selects it: {how}")
            if not monitor.endpoints:
                self.note("observability.port-not-found", monitor, "the monitor lists no endpoint")
                continue
            if monitor.kind == "ServiceMonitor":
                found = list(self.service_monitor(monitor, selected_by))
            else:
                found = list(self.pod_monitor(monitor, selected_by))
            targets += found
            for target in found:
                if not target.allowed:
                    self.findings.append(
                        finding(
                            "observability.scrape-blocked",
                            monitor.obj.ref,
                            f"endpoint {target.endpoint}: {target.prometheus} -> {target.workload} "
                            f"{target.port}/TCP is denied: {target.why}",
                        )
                    )
        return Prediction(self.instances, tuple(targets), tuple(self.findings))


def predict_targets(model: ClusterModel) -> Prediction:
    """Every target the set's Prometheus instances would scrape, and the findings met on the way."""
    if model.manifests is None:
        return Prediction((), (), ())
    return _Predictor(model, model.manifests, prometheus_instances(model.manifests)).run()
