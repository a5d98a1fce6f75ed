"""The `apps` capability on a cluster: the deployed MySQL StatefulSet (through a port-forward to its Service) and
WordPress Deployments (through the cluster's Traefik), planned from the same manifest set as the local lab.
Credentials are read from the deployed Secrets and never printed; a restart deletes the pods and waits for
their replacements on the same claims."""

from __future__ import annotations

import base64
import time
from contextlib import ExitStack
from typing import TYPE_CHECKING

from dbc_validate.analysis.app_stack import AppStackPlan, app_stack_plan, wordpress_variants
from dbc_validate.analysis.live.databases import statefulset_health
from dbc_validate.analysis.workload_config import label_selector, restart_complete
from dbc_validate.capabilities import HttpRoute, IngressEndpoint, MysqlEndpoint, WordPressVariant
from dbc_validate.cluster.kubectl import ClusterError
from dbc_validate.cluster.traefik_endpoint import cluster_ingress
from dbc_validate.manifests.model import K8sObject
from dbc_validate.manifests.traefik_routes import http_routes

if TYPE_CHECKING:
    from dbc_validate.cluster.access import ClusterAccess

RESTART_TIMEOUT_S = 600.0


def deployed_secret_values(access: ClusterAccess, namespaces: set[str]) -> dict[str, dict[str, str]]:
    """ "namespace/name" -> key -> value of the Secrets in `namespaces` (decoded, kept in memory only)."""
    values: dict[str, dict[str, str]] = {}
    for ns in sorted(namespaces):
        for secret in access.items("secrets", ns):
            data = secret.get("data") or {}
            values[f"{ns}/{secret['metadata']['name']}"] = {
                k: base64.b64decode(v).decode("utf-8", "replace") for k, v in data.items()
            }
    return values


class ClusterAppStack:
    """The AppStack of kind, k3d and kubeconfig (see capabilities.AppStack)."""

    def __init__(self, access: ClusterAccess, plan: AppStackPlan, ingress: IngressEndpoint) -> None:
        self.access = access
        self.plan = plan
        self.ingress = ingress
        self.route: HttpRoute = ingress.route(plan.route.source)
        self._mysql_port = 0
        self.notes: tuple[str, ...] = (
            f"MySQL {plan.mysql.image} ({plan.mysql.workload}) through kubectl port-forward to svc/{self._service()}",
            *(f"{p.variant}: {p.deployment} ({p.image}), uploads on {p.uploads.description}" for p in plan.wordpress),
        )

    @property
    def description(self) -> str:
        return f"the {self.access.target} cluster's {self.plan.mysql.workload} and {len(self.plan.wordpress)} WordPress"

    def _service(self) -> str:
        services = [s.split("/", 1)[1] for s in self.plan.mysql.services]
        return next((s for s in services if not s.endswith("headless")), services[0] if services else "mysql")

    @property
    def mysql(self) -> MysqlEndpoint:
        m = self.plan.mysql
        if not self._mysql_port:
            self._mysql_port = self.access.port_forward(m.namespace, f"svc/{self._service()}", 3306, "mysql")
        return MysqlEndpoint("127.0.0.1", self._mysql_port, m.database, m.user, m.password, f"{m.image} ({m.workload})")

    @property
    def variants(self) -> tuple[WordPressVariant, ...]:
        return wordpress_variants(self.plan)

    def _workloads(self) -> list[K8sObject]:
        ms = self.access.manifest_set
        kind_name = [("StatefulSet", self.plan.mysql.namespace, self.plan.mysql.name)]
        kind_name += [("Deployment", *p.deployment.split("/", 1)) for p in self.plan.wordpress]
        return [w for kind, ns, name in kind_name if (w := ms.get(kind, name, ns)) is not None]

    def restart(self) -> str:
        """Delete the database's and every WordPress's pods; wait until their controllers replaced them."""
        began = time.monotonic()
        waits = []
        for workload in self._workloads():
            ns, selector = workload.namespace or "default", label_selector(workload)
            pods = self.access.kubectl.items("pods", ns, selector=selector)
            self.access.kubectl.run(["delete", "pods", "-n", ns, "-l", selector, "--wait=false"], timeout_s=120.0)
            waits.append((ns, selector, [p["metadata"]["uid"] for p in pods], len(pods)))
        deadline = time.monotonic() + RESTART_TIMEOUT_S
        for ns, selector, uids, want in waits:
            while not restart_complete(uids, self.access.kubectl.items("pods", ns, selector=selector), want):
                if time.monotonic() > deadline:
                    raise ClusterError(f"pods {ns} -l {selector} not replaced and ready in {RESTART_TIMEOUT_S:.0f} s")
                time.sleep(3.0)
        self._mysql_port = 0  # the forward went to the deleted pod: the next use opens a new one
        took = time.monotonic() - began
        return f"deleted {sum(w[3] for w in waits)} pod(s) of {len(waits)} workload(s); replaced in {took:.0f} s"

    def workload_problems(self) -> list[str]:
        m = self.plan.mysql
        sts = self.access.kubectl.get("statefulset", m.name, m.namespace)
        if sts is None:
            return [f"{m.workload} is not deployed"]
        baseline = self.access.record.baseline_restarts if self.access.record is not None else None
        found = statefulset_health(sts, self.access.items("pods", m.namespace), baseline)
        return [f"{f.object}: {f.message}" for f in found]


def cluster_apps(access: ClusterAccess, stack: ExitStack) -> ClusterAppStack:
    """The set's application stack as deployed; its Traefik is the `ingress` capability's."""
    ms = access.manifest_set
    namespaces = {str(w.namespace) for w in ms.of_kind("Deployment", "StatefulSet") if w.namespace}
    plan = app_stack_plan(ms, http_routes(ms), deployed_secret_values(access, namespaces))
    return ClusterAppStack(access, plan, cluster_ingress(access, stack))
