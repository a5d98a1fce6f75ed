"""The monitoring objects of a manifest set as data: Prometheus instances and what they select, monitors,
alerting/recording rule groups and Grafana dashboards (Prometheus Operator and kube-prometheus-stack semantics).

Pure. Where the set declares no Prometheus (no `Prometheus` CR, no k3s `HelmChart` of kube-prometheus-stack),
the stack is assumed to be kube-prometheus-stack with its chart defaults, released as `kube-prometheus-stack`
in namespace `monitoring`: it selects only monitors and rules labelled `release: kube-prometheus-stack`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from dbc_validate.analysis.netpol.selectors import LabelSelector, SelectorError, parse_selector
from dbc_validate.analysis.promql_text import promql_of
from dbc_validate.manifests.fields import dig, listing, mapping
from dbc_validate.manifests.model import K8sObject, ManifestSet

MONITORING_GROUP = "monitoring.coreos.com"
HELM_CHART_GROUP = "helm.cattle.io"
STACK_CHART = "kube-prometheus-stack"
DEFAULT_RELEASE = "kube-prometheus-stack"
DEFAULT_NAMESPACE = "monitoring"
# kube-prometheus-stack's Grafana sidecar loads ConfigMaps carrying this label (grafana.sidecar.dashboards.label).
DASHBOARD_LABEL = "grafana_dashboard"
# The kinds a Prometheus selects, with the prefix of their selector fields in the Prometheus spec.
SELECTOR_PREFIXES = (("ServiceMonitor", "serviceMonitor"), ("PodMonitor", "podMonitor"), ("PrometheusRule", "rule"))


@dataclass(frozen=True)
class Selection:
    """Which objects of one kind a Prometheus takes: a label selector (None: none) and namespaces."""

    labels: LabelSelector | None  # None: selects no object of this kind
    namespaces: LabelSelector | None  # None: only the Prometheus's own namespace

    def takes(self, obj: K8sObject, own_namespace: str, namespace_labels: Mapping[str, str]) -> bool:
        if self.labels is None or not self.labels.matches({str(k): str(v) for k, v in obj.labels.items()}):
            return False
        if self.namespaces is None:
            return obj.namespace == own_namespace
        return self.namespaces.matches(namespace_labels)

    def describe(self) -> str:
        if self.labels is None:
            return "nothing (selector not set)"
        where = "its own namespace" if self.namespaces is None else f"namespaces {{{self.namespaces.describe()}}}"
        return f"labels {{{self.labels.describe()}}} in {where}"


@dataclass(frozen=True)
class PrometheusInstance:
    """One Prometheus server as the operator runs it, with its pods' labels (for the NetworkPolicy engine)."""

    name: str  # the Prometheus CR's name
    namespace: str
    source: str  # "Prometheus/ns/name", "HelmChart/ns/name" or "assumed kube-prometheus-stack defaults"
    selections: Mapping[str, Selection] = field(hash=False)  # by kind: ServiceMonitor, PodMonitor, PrometheusRule
    pod_labels: Mapping[str, str] = field(hash=False)

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"

    def selects(self, obj: K8sObject, namespace_labels: Mapping[str, str]) -> bool:
        selection = self.selections.get(obj.kind)
        return selection is not None and selection.takes(obj, self.namespace, namespace_labels)


@dataclass(frozen=True)
class MonitorEndpoint:
    index: int
    port: str | None  # Service port name (ServiceMonitor) or container port name (PodMonitor)
    number: int | None  # targetPort (ServiceMonitor: the pod's port) or portNumber (PodMonitor)
    path: str
    scheme: str


@dataclass(frozen=True)
class Monitor:
    obj: K8sObject
    selector: LabelSelector | None  # None: the selector does not parse (`problem` says why)
    any_namespace: bool
    namespaces: tuple[str, ...]  # when not any_namespace: these (default: the monitor's own)
    endpoints: tuple[MonitorEndpoint, ...]
    problem: str = ""

    @property
    def kind(self) -> str:
        return self.obj.kind

    def watches(self, namespace: str) -> bool:
        return self.any_namespace or namespace in self.namespaces

    def describe_namespaces(self) -> str:
        return "any namespace" if self.any_namespace else f"namespace(s) {', '.join(self.namespaces)}"


@dataclass(frozen=True)
class AlertRule:
    group: str
    index: int
    name: str  # alert or record name
    alert: bool
    expr: str
    labels: Mapping[str, str] = field(hash=False)


@dataclass(frozen=True)
class RuleResource:
    """A PrometheusRule: its `spec` as the rule-file text promtool reads, and its rules."""

    obj: K8sObject
    rule_file: str  # YAML of {groups: [...]}
    rules: tuple[AlertRule, ...]


@dataclass(frozen=True)
class PanelQuery:
    where: str  # "dashboard.json panel 'Requests' target A"
    expr: str  # after Grafana variables were replaced (see promql_of)


@dataclass(frozen=True)
class Dashboard:
    obj: K8sObject  # the ConfigMap
    key: str  # its data key
    title: str
    queries: tuple[PanelQuery, ...]
    problem: str = ""  # the JSON does not parse


def _selector(raw: Any, where: str) -> LabelSelector | None:
    try:
        return parse_selector(raw, where)
    except SelectorError:
        return None


def _optional_selector(spec: Mapping[str, Any], key: str) -> LabelSelector | None:
    """The operator's rule: a missing selector (null) selects nothing; {} selects everything."""
    return None if spec.get(key) is None else _selector(spec.get(key), key)


def _prometheus_cr(obj: K8sObject) -> PrometheusInstance:
    spec = obj.spec
    selections = {
        kind: Selection(
            _optional_selector(spec, f"{prefix}Selector"), _optional_selector(spec, f"{prefix}NamespaceSelector")
        )
        for kind, prefix in (
            ("ServiceMonitor", "serviceMonitor"),
            ("PodMonitor", "podMonitor"),
            ("PrometheusRule", "rule"),
        )
    }
    labels = {
        "app.kubernetes.io/name": "prometheus",
        "app.kubernetes.io/instance": obj.name,
        "app.kubernetes.io/managed-by": "prometheus-operator",
        "operator.prometheus.io/name": obj.name,
        "prometheus": obj.name,
    }
    labels.update({str(k): str(v) for k, v in mapping(dig(obj.body, "spec", "podMetadata", "labels")).items()})
    return PrometheusInstance(obj.name, obj.namespace or "default", obj.ref, selections, labels)


def stack_instance(values: Mapping[str, Any], release: str, namespace: str, source: str) -> PrometheusInstance:
    """The Prometheus a kube-prometheus-stack release creates from its values (chart templates, v81)."""
    spec = mapping(dig(values, "prometheus", "prometheusSpec"))
    selections = {}
    for kind, prefix in (
        ("ServiceMonitor", "serviceMonitor"),
        ("PodMonitor", "podMonitor"),
        ("PrometheusRule", "rule"),
    ):
        own = spec.get(f"{prefix}Selector")
        if own:
            labels = _selector(own, f"{prefix}Selector")
        elif spec.get(f"{prefix}SelectorNilUsesHelmValues", True) is not False:
            labels = parse_selector({"matchLabels": {"release": release}})
        else:
            labels = LabelSelector()
        namespaces = _selector(spec.get(f"{prefix}NamespaceSelector") or {}, f"{prefix}NamespaceSelector")
        selections[kind] = Selection(labels, namespaces)
    # The chart names everything <fullname>-<component>; fullname is the release when it contains the chart name.
    fullname = release if STACK_CHART in release else f"{release}-{STACK_CHART}"
    name = f"{fullname[:26].rstrip('-')}-prometheus"  # the chart truncates fullname to 26 characters
    pod_labels = {
        "app.kubernetes.io/name": "prometheus",
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/managed-by": "prometheus-operator",
        "operator.prometheus.io/name": name,
        "prometheus": name,
    }
    pod_labels.update({str(k): str(v) for k, v in mapping(dig(spec, "podMetadata", "labels")).items()})
    return PrometheusInstance(name, namespace, source, selections, pod_labels)


def _helm_chart(obj: K8sObject) -> PrometheusInstance | None:
    if str(obj.spec.get("chart") or "").rsplit("/", 1)[-1] != STACK_CHART:
        return None
    try:
        values = yaml.safe_load(str(obj.spec.get("valuesContent") or "")) or {}
    except yaml.YAMLError:
        values = {}
    namespace = str(obj.spec.get("targetNamespace") or obj.namespace or "default")
    return stack_instance(mapping(values), obj.name, namespace, obj.ref)


def prometheus_instances(manifests: ManifestSet) -> tuple[PrometheusInstance, ...]:
    """The set's Prometheus CRs and kube-prometheus-stack HelmCharts, or the assumed default stack."""
    found = [_prometheus_cr(o) for o in manifests.of_kind("Prometheus", group=MONITORING_GROUP)]
    found += [p for o in manifests.of_kind("HelmChart", group=HELM_CHART_GROUP) if (p := _helm_chart(o)) is not None]
    if found:
        return tuple(found)
    assumed = f"assumed: {STACK_CHART} chart defaults, release {DEFAULT_RELEASE} in namespace {DEFAULT_NAMESPACE}"
    return (stack_instance({}, DEFAULT_RELEASE, DEFAULT_NAMESPACE, assumed),)


def _endpoints(obj: K8sObject) -> tuple[MonitorEndpoint, ...]:
    key = "endpoints" if obj.kind == "ServiceMonitor" else "podMetricsEndpoints"
    result = []
    for index, raw in enumerate(listing(obj.spec.get(key))):
        raw = mapping(raw)
        port = raw.get("port")
        number = raw.get("portNumber") if obj.kind == "PodMonitor" else None
        target = raw.get("targetPort")
        if isinstance(target, int) and number is None:
            number = target
        elif isinstance(target, str) and port is None:
            port = target
        result.append(
            MonitorEndpoint(
                index,
                str(port) if port else None,
                int(number) if isinstance(number, int) else None,
                str(raw.get("path") or "/metrics"),
                str(raw.get("scheme") or "http"),
            )
        )
    return tuple(result)


def monitor_of(obj: K8sObject) -> Monitor:
    spec = obj.spec
    selector = _selector(spec.get("selector") or {}, "spec.selector")
    namespace_selector = mapping(spec.get("namespaceSelector"))
    own = obj.namespace or "default"
    names = tuple(str(n) for n in listing(namespace_selector.get("matchNames")))
    problem = "" if selector is not None else "spec.selector does not parse"
    return Monitor(
        obj,
        selector,
        namespace_selector.get("any") is True,
        names or (own,),
        _endpoints(obj),
        problem,
    )


def monitors(manifests: ManifestSet) -> tuple[Monitor, ...]:
    return tuple(
        monitor_of(o)
        for o in manifests.objects
        if o.group == MONITORING_GROUP and o.kind in ("ServiceMonitor", "PodMonitor")
    )


def rule_resources(manifests: ManifestSet) -> tuple[RuleResource, ...]:
    result = []
    for obj in manifests.of_kind("PrometheusRule", group=MONITORING_GROUP):
        groups = listing(obj.spec.get("groups"))
        rules = []
        for group in groups:
            group = mapping(group)
            for index, rule in enumerate(listing(group.get("rules"))):
                rule = mapping(rule)
                name = rule.get("alert") or rule.get("record") or f"rule {index + 1}"
                labels = {str(k): str(v) for k, v in mapping(rule.get("labels")).items()}
                rules.append(
                    AlertRule(
                        str(group.get("name") or "?"),
                        index,
                        str(name),
                        "alert" in rule,
                        str(rule.get("expr") or ""),
                        labels,
                    )
                )
        rule_file = yaml.safe_dump({"groups": [dict(mapping(g)) for g in groups]}, sort_keys=False, allow_unicode=True)
        result.append(RuleResource(obj, rule_file, tuple(rules)))
    return tuple(result)


def _panels(items: Any) -> list[Mapping[str, Any]]:
    """Every panel, rows' collapsed panels included."""
    found: list[Mapping[str, Any]] = []
    for panel in listing(items):
        panel = mapping(panel)
        found.append(panel)
        found += _panels(panel.get("panels"))
    return found


def dashboard_of(obj: K8sObject, key: str, text: str) -> Dashboard:
    try:
        data = json.loads(text)
    except ValueError as exc:
        return Dashboard(obj, key, key, (), f"{key} is not JSON: {exc}")
    if not isinstance(data, Mapping):
        return Dashboard(obj, key, key, (), f"{key} is not a JSON object")
    data = data.get("dashboard") if isinstance(data.get("dashboard"), Mapping) else data
    queries = []
    for panel in _panels(data.get("panels") or dig(data, "rows")):
        title = str(panel.get("title") or panel.get("id") or "?")
        for target in listing(panel.get("targets")):
            target = mapping(target)
            expr = target.get("expr")
            if isinstance(expr, str) and expr.strip() and not target.get("hide"):
                where = f"{key} panel {title!r} target {target.get('refId') or '?'}"
                queries.append(PanelQuery(where, promql_of(expr)))
    return Dashboard(obj, key, str(data.get("title") or key), tuple(queries))


def dashboards(manifests: ManifestSet) -> tuple[Dashboard, ...]:
    """Dashboards of ConfigMaps labelled grafana_dashboard (every data key ending in .json)."""
    result = []
    for obj in manifests.of_kind("ConfigMap"):
        if DASHBOARD_LABEL not in obj.labels:
            continue
        for key, text in mapping(obj.body.get("data")).items():
            if str(key).endswith(".json"):
                result.append(dashboard_of(obj, str(key), str(text)))
    return tuple(result)
