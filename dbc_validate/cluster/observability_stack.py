"""The `observability` capability on a cluster: the installed kube-prometheus-stack's Prometheus and Alertmanager
reached through `kubectl port-forward`, expected to scrape the pools the set's monitors predict."""

from __future__ import annotations

from contextlib import ExitStack

from dbc_validate.analysis.netpol import build_model
from dbc_validate.analysis.observability_lab_config import pool_name
from dbc_validate.analysis.scrape_targets import predict_targets
from dbc_validate.capabilities import CapabilityUnavailable, ObservabilityStack
from dbc_validate.cluster.access import ClusterAccess

ALERTMANAGER = "kube-prometheus-stack-alertmanager:9093"
EVALUATION_INTERVAL_S = 30.0  # kube-prometheus-stack's default evaluationInterval


def cluster_observability(access: ClusterAccess, stack: ExitStack) -> ObservabilityStack:
    del stack  # port-forwards are registered on the access's stack (the target's)
    stack_info = access.observability
    if stack_info is None:
        raise CapabilityUnavailable("the observability stack is not installed: pass --with-observability (kind/k3d)")
    prometheus_service, prometheus_port = stack_info.prometheus.split(":")
    if access.kubectl.get("service", prometheus_service, stack_info.namespace) is None:
        raise CapabilityUnavailable(f"no Service {stack_info.namespace}/{prometheus_service}: no Prometheus to check")
    local = access.port_forward(stack_info.namespace, f"svc/{prometheus_service}", int(prometheus_port), "prometheus")
    alertmanager_url = None
    am_service, am_port = ALERTMANAGER.split(":")
    if access.kubectl.get("service", am_service, stack_info.namespace) is not None:
        am_local = access.port_forward(stack_info.namespace, f"svc/{am_service}", int(am_port), "alertmanager")
        alertmanager_url = f"http://127.0.0.1:{am_local}"
    prediction = predict_targets(build_model(access.manifest_set))
    pools = {pool_name(t): t.describe() for t in prediction.targets}
    return ObservabilityStack(
        description=f"the {access.target} cluster's Prometheus ({stack_info.namespace}/{prometheus_service}) through "
        "kubectl port-forward",
        prometheus_url=f"http://127.0.0.1:{local}",
        alertmanager_url=alertmanager_url,
        expected_pools=pools,
        evaluation_interval_s=EVALUATION_INTERVAL_S,
        absent={"grafana": "Grafana is checked by test_observability_live.py; the panel queries run on Prometheus"},
    )
