"""The `observability` capability on a cluster: the Prometheus and Alertmanager `find_observability` found (the
charts' Service labels in any namespace, or --prometheus-url), expected to scrape the pools the set's monitors
predict; and the Grafana admin login the live suite needs, read from the Secret its chart creates."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field

from dbc_validate.analysis.netpol import build_model
from dbc_validate.analysis.observability_lab_config import pool_name
from dbc_validate.analysis.scrape_targets import predict_targets
from dbc_validate.capabilities import CapabilityUnavailable, ObservabilityStack
from dbc_validate.cluster.access import ClusterAccess, Observability
from dbc_validate.cluster.kubectl import ClusterError, Kubectl
from dbc_validate.redact import redact

EVALUATION_INTERVAL_S = 30.0  # kube-prometheus-stack's default evaluationInterval
# The grafana chart's Secret (templates/secret.yaml): named like the release's Grafana (grafana.fullname, which
# also names its Service), keys admin-user and admin-password unless admin.existingSecret names another one.
GRAFANA_USER_KEY = "admin-user"
GRAFANA_PASSWORD_KEY = "admin-password"


def cluster_observability(access: ClusterAccess, stack: ExitStack) -> ObservabilityStack:
    """NOT_RUN (CapabilityUnavailable) only when no Prometheus was found; one that was found or named and does not
    answer is a ClusterError (the tests ERROR with its message)."""
    del stack  # kubectl proxy is registered on the access's stack (the target's)
    stack_info = access.observability
    if not stack_info.has("prometheus"):
        raise CapabilityUnavailable(stack_info.missing_reason("prometheus", access.target))
    prometheus_url = access.observability_url("prometheus")
    expect_ready(prometheus_url, f"Prometheus ({stack_info.where('prometheus')})")
    alertmanager_url = None
    if stack_info.has("alertmanager"):
        alertmanager_url = access.observability_url("alertmanager")
        expect_ready(alertmanager_url, f"Alertmanager ({stack_info.where('alertmanager')})")
    prediction = predict_targets(build_model(access.manifest_set))
    pools = {pool_name(t): t.describe() for t in prediction.targets}
    notes = () if alertmanager_url else ("no Alertmanager found: the alerts are read from Prometheus alone",)
    return ObservabilityStack(
        description=f"the {access.target} cluster's Prometheus ({stack_info.where('prometheus')})",
        prometheus_url=prometheus_url,
        alertmanager_url=alertmanager_url,
        expected_pools=pools,
        evaluation_interval_s=EVALUATION_INTERVAL_S,
        absent={
            "grafana": "Grafana itself (health, dashboards loaded) is judged by test_observability_live.py; "
            "here the set's panel queries run on the cluster's Prometheus"
        },
        notes=notes,
    )


def expect_ready(base_url: str, what: str) -> None:
    """GET /-/ready must answer 200 (Prometheus and Alertmanager both serve it); else a ClusterError naming it."""
    try:
        with urllib.request.urlopen(base_url + "/-/ready", timeout=30.0) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        raise ClusterError(redact(f"{what} does not answer: {exc}")) from None
    if status != 200:
        raise ClusterError(redact(f"{what} is not ready: GET /-/ready answered HTTP {status}"))


@dataclass(frozen=True)
class GrafanaLogin:
    """Grafana's admin login, or why it is not known (`reason`). The password never appears in repr or messages."""

    user: str = ""
    password: str = field(default="", repr=False)
    reason: str = ""

    def header(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}


def grafana_login(kubectl: Kubectl, stack: Observability, installed_password: str) -> GrafanaLogin:
    """The password the harness set when it installed the stack; else the one in the Secret the grafana chart
    creates beside its Service, when the kubeconfig's RBAC lets us read it."""
    if installed_password:
        return GrafanaLogin("admin", installed_password)
    service = stack.service("grafana") or _service_of(stack.services.get("grafana"))
    if service is None:
        return GrafanaLogin(reason="no Grafana Service was found, so no Secret holding its admin password")
    namespace, name, _ = service
    what = f"Secret {namespace}/{name}"
    try:
        secret = kubectl.get("secret", name, namespace)
    except ClusterError as exc:
        return GrafanaLogin(reason=f"cannot read {what} (needs get on secrets in {namespace}): {exc}")
    if secret is None:
        return GrafanaLogin(reason=f"no {what}: the Grafana chart's admin Secret is elsewhere (admin.existingSecret)")
    data = secret.get("data") or {}
    if GRAFANA_PASSWORD_KEY not in data:
        return GrafanaLogin(reason=f"{what} has no key {GRAFANA_PASSWORD_KEY}")
    try:
        user = base64.b64decode(data.get(GRAFANA_USER_KEY) or base64.b64encode(b"admin")).decode()
        password = base64.b64decode(data[GRAFANA_PASSWORD_KEY]).decode()
    except (ValueError, UnicodeDecodeError):
        return GrafanaLogin(reason=f"{what}: {GRAFANA_PASSWORD_KEY} is not base64 text")
    return GrafanaLogin(user, password)


def _service_of(where: str | None) -> tuple[str, str, int] | None:
    """A Grafana given a URL may still have been found as a Service: its Secret sits beside it."""
    if where is None:
        return None
    return Observability({"grafana": where}).service("grafana")
