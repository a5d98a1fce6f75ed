"""Find a cluster's observability stack (every cluster target): Prometheus, Alertmanager, Grafana and Loki by the
labels and names their usual charts give their Services (kube-prometheus-stack, prometheus-operator, the grafana
and loki charts). Pure: Service objects in, "namespace/name:port" references out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dbc_validate.analysis.live.pods import labels_of, name_of, namespace_of

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class Component:
    """How to recognise one component's Service and which of its ports serves the HTTP API."""

    name: str
    matches: Callable[[Obj], bool]
    port_names: tuple[str, ...]
    port_numbers: tuple[int, ...]
    looked_for: str  # what the matcher accepts, for the reason shown when nothing matched


def _label(obj: Obj, *pairs: tuple[str, str]) -> bool:
    labels = labels_of(obj)
    return any(labels.get(key) == value for key, value in pairs)


def _is_prometheus(svc: Obj) -> bool:
    return name_of(svc) == "prometheus-operated" or _label(
        svc,
        ("app.kubernetes.io/name", "prometheus"),
        ("app", "kube-prometheus-stack-prometheus"),
        ("app", "prometheus"),
    )


def _is_alertmanager(svc: Obj) -> bool:
    return name_of(svc) == "alertmanager-operated" or _label(
        svc,
        ("app.kubernetes.io/name", "alertmanager"),
        ("app", "kube-prometheus-stack-alertmanager"),
        ("app", "alertmanager"),
    )


def _is_grafana(svc: Obj) -> bool:
    return _label(svc, ("app.kubernetes.io/name", "grafana"), ("app", "grafana"))


def _is_loki(svc: Obj) -> bool:
    # The loki chart also creates memberlist and per-component headless Services: those are dropped below.
    return _label(svc, ("app.kubernetes.io/name", "loki"), ("app", "loki")) and "memberlist" not in name_of(svc)


COMPONENTS = (
    Component(
        "prometheus",
        _is_prometheus,
        ("http-web", "web", "http"),
        (9090,),
        "app.kubernetes.io/name=prometheus, app=kube-prometheus-stack-prometheus, app=prometheus or the name "
        "prometheus-operated",
    ),
    Component(
        "alertmanager",
        _is_alertmanager,
        ("http-web", "web", "http"),
        (9093,),
        "app.kubernetes.io/name=alertmanager, app=kube-prometheus-stack-alertmanager, app=alertmanager or the name "
        "alertmanager-operated",
    ),
    Component(
        "grafana",
        _is_grafana,
        ("http-web", "service", "http", "grafana"),
        (80, 3000),
        "app.kubernetes.io/name=grafana or app=grafana",
    ),
    Component(
        "loki",
        _is_loki,
        ("http-metrics", "http", "http-web"),
        (3100, 80),
        "app.kubernetes.io/name=loki or app=loki",
    ),
)
BY_NAME = {c.name: c for c in COMPONENTS}


def _headless(svc: Obj) -> bool:
    return (svc.get("spec") or {}).get("clusterIP") == "None"


def api_port(svc: Obj, component: Component) -> int | None:
    """The Service port serving the component's HTTP API: by its usual name, else its usual number."""
    ports = [p for p in (svc.get("spec") or {}).get("ports") or [] if isinstance(p.get("port"), int)]
    for wanted in component.port_names:
        for port in ports:
            if port.get("name") == wanted:
                return int(port["port"])
    for wanted_number in component.port_numbers:
        if any(p["port"] == wanted_number for p in ports):
            return wanted_number
    return None


def find_component(services: Sequence[Obj], component: Component) -> str | None:
    """ "namespace/name:port" of the component's Service; a Service with a cluster IP wins over a headless one,
    then the shortest name (the chart's main Service, not a per-component one)."""
    candidates = []
    for svc in services:
        if not component.matches(svc):
            continue
        port = api_port(svc, component)
        if port is not None:
            candidates.append((_headless(svc), len(name_of(svc)), namespace_of(svc), name_of(svc), port))
    if not candidates:
        return None
    _, _, namespace, name, port = min(candidates)
    return f"{namespace}/{name}:{port}"


def discover(services: Sequence[Obj]) -> dict[str, str]:
    """Component name -> "namespace/name:port" for each component found (absent ones are left out)."""
    found = {c.name: find_component(services, c) for c in COMPONENTS}
    return {name: where for name, where in found.items() if where is not None}


def looked_for(component: str) -> str:
    """How `component` is recognised, in words: "a Service labelled ... (API port named ... or numbered ...)"."""
    c = BY_NAME[component]
    ports = "/".join(c.port_names)
    numbers = "/".join(str(n) for n in c.port_numbers)
    return f"a Service labelled {c.looked_for} (API port named {ports}, or {numbers}), in any namespace"
