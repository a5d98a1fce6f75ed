"""Findings of the static analysis and the catalog of rule ids they carry (id, category, severity, fix)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}

CATEGORIES = (
    "namespace",
    "pod-security",
    "network-policy",
    "rbac",
    "secrets",
    "images",
    "ingress",
    "database",
    "schema",
    "observability",
)


@dataclass(frozen=True)
class Rule:
    """A stable rule id with its category, severity and the generic fix shown when a finding has none."""

    id: str
    category: str
    severity: Severity
    title: str
    fix: str


def _r(rule_id: str, severity: Severity, title: str, fix: str) -> Rule:
    return Rule(rule_id, rule_id.split(".", 1)[0], severity, title, fix)


ERR, WARN, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

RULES: tuple[Rule, ...] = (
    # namespace
    _r(
        "namespace.pss-enforce-missing",
        ERR,
        "a namespace running workloads does not enforce a Pod Security level",
        "label the Namespace pod-security.kubernetes.io/enforce=restricted (and audit/warn)",
    ),
    _r(
        "namespace.pss-enforce-weak",
        WARN,
        "a namespace enforces less than Pod Security restricted",
        "set pod-security.kubernetes.io/enforce=restricted",
    ),
    # pod security (PSS restricted, pod-security-admission 1.36)
    _r(
        "pod-security.host-process",
        ERR,
        "a Windows HostProcess container",
        "remove securityContext.windowsOptions.hostProcess",
    ),
    _r(
        "pod-security.host-namespaces",
        ERR,
        "the pod shares the node's network, PID or IPC namespace",
        "remove hostNetwork, hostPID and hostIPC (or set them false)",
    ),
    _r("pod-security.privileged", ERR, "a privileged container", "set securityContext.privileged: false"),
    _r(
        "pod-security.host-path",
        ERR,
        "a hostPath volume",
        "use a PersistentVolumeClaim, emptyDir, configMap or secret instead of hostPath",
    ),
    _r("pod-security.host-ports", ERR, "a container binds a host port", "remove ports[].hostPort; expose a Service"),
    _r(
        "pod-security.apparmor",
        ERR,
        "AppArmor set to unconfined (or an unknown profile)",
        "use the RuntimeDefault or a Localhost AppArmor profile",
    ),
    _r(
        "pod-security.selinux",
        ERR,
        "a custom SELinux user, role or type",
        "remove seLinuxOptions.user/role and keep type to container_t, container_init_t, container_kvm_t "
        "or container_engine_t",
    ),
    _r("pod-security.proc-mount", ERR, "an unmasked /proc mount", "remove securityContext.procMount (Default)"),
    _r(
        "pod-security.sysctls",
        ERR,
        "an unsafe sysctl",
        "only set the safe sysctls allowed by Pod Security baseline, or none",
    ),
    _r(
        "pod-security.volume-types",
        ERR,
        "a volume type Pod Security restricted does not allow",
        "use configMap, downwardAPI, emptyDir, projected, secret, csi, persistentVolumeClaim, ephemeral or image",
    ),
    _r(
        "pod-security.allow-privilege-escalation",
        ERR,
        "allowPrivilegeEscalation is not explicitly false",
        "set securityContext.allowPrivilegeEscalation: false on the container",
    ),
    _r(
        "pod-security.run-as-non-root",
        ERR,
        "the container may run as root (runAsNonRoot is not true)",
        "set securityContext.runAsNonRoot: true on the pod (or on every container) and run as a non-zero UID",
    ),
    _r(
        "pod-security.run-as-user",
        ERR,
        "the container runs as UID 0",
        "set runAsUser to a non-zero UID the image supports",
    ),
    _r(
        "pod-security.seccomp",
        ERR,
        "no RuntimeDefault/Localhost seccomp profile",
        "set securityContext.seccompProfile.type: RuntimeDefault on the pod (or on every container)",
    ),
    _r(
        "pod-security.capabilities",
        ERR,
        "capabilities do not drop ALL, or add more than NET_BIND_SERVICE",
        "set securityContext.capabilities.drop: [ALL] and add at most NET_BIND_SERVICE",
    ),
    # images
    _r(
        "images.latest-tag",
        ERR,
        "an image tagged :latest or without a tag",
        "pin the image to a version tag (and ideally a digest)",
    ),
    _r("images.no-digest", INFO, "an image without a digest", "pin the image by digest: name:tag@sha256:..."),
    # network policy (decided with the NetworkPolicy engine)
    _r(
        "network-policy.invalid",
        ERR,
        "a NetworkPolicy the API server would reject",
        "correct the policy (see the message); kubectl apply --dry-run=server shows the same error",
    ),
    _r(
        "network-policy.selects-nothing",
        WARN,
        "a NetworkPolicy whose podSelector selects no pod",
        "correct the podSelector to the labels of the pods it should protect, or delete the policy",
    ),
    _r(
        "network-policy.peer-matches-nothing",
        WARN,
        "a from/to peer that matches no namespace or no pod",
        "select namespaces by kubernetes.io/metadata.name and pods by labels their templates really carry",
    ),
    _r(
        "network-policy.dns-blocked",
        ERR,
        "a workload isolated for egress cannot reach kube-dns on 53/UDP and 53/TCP",
        "allow egress to namespaceSelector kubernetes.io/metadata.name=kube-system, podSelector "
        "k8s-app=kube-dns, ports 53/UDP and 53/TCP",
    ),
    _r(
        "network-policy.cnpg-operator-blocked",
        ERR,
        "the CloudNativePG operator cannot reach an instance's status port 8000",
        "allow ingress to the instances on 8000/TCP from namespace cnpg-system, pods "
        "app.kubernetes.io/name=cloudnative-pg",
    ),
    _r(
        "network-policy.cnpg-replication-blocked",
        ERR,
        "CloudNativePG instances cannot reach each other on 5432",
        "allow ingress and egress between pods cnpg.io/cluster=<cluster> on 5432/TCP",
    ),
    _r(
        "network-policy.internet-egress-namespace-selector",
        ERR,
        "egress meant for the internet written as namespaceSelector: {} (which only matches pods)",
        "allow external egress with ipBlock (e.g. cidr 0.0.0.0/0 except the cluster ranges)",
    ),
    _r(
        "network-policy.no-default-deny",
        WARN,
        "a namespace with workloads has no default-deny policy",
        "add a NetworkPolicy with podSelector: {} and policyTypes [Ingress, Egress]",
    ),
    _r(
        "network-policy.named-port-undeclared",
        ERR,
        "a named port that no pod it applies to declares",
        "use a port name the destination containers declare in ports[].name, or the port number",
    ),
    # rbac
    _r(
        "rbac.wildcard",
        ERR,
        "a Role or ClusterRole with '*' in verbs, resources or apiGroups",
        "list the exact apiGroups, resources and verbs needed",
    ),
    _r(
        "rbac.secrets-read",
        ERR,
        "a workload's ServiceAccount may get, list or watch Secrets",
        "remove secrets from the rules bound to the ServiceAccount (mount the one secret it needs instead)",
    ),
    _r(
        "rbac.escalation-verbs",
        ERR,
        "a role grants escalate, bind or impersonate",
        "remove the escalate, bind and impersonate verbs",
    ),
    _r(
        "rbac.cluster-admin-sa",
        ERR,
        "cluster-admin bound to a ServiceAccount",
        "bind a narrow Role instead of cluster-admin",
    ),
    _r(
        "rbac.service-account-missing",
        ERR,
        "a workload names a ServiceAccount the set does not create",
        "add the ServiceAccount to the manifest set (or correct serviceAccountName)",
    ),
    _r(
        "rbac.default-sa-automount",
        WARN,
        "a workload runs as the default ServiceAccount with its token mounted",
        "give the workload its own ServiceAccount and set automountServiceAccountToken: false",
    ),
    # secrets
    _r(
        "secrets.plain-secret",
        ERR,
        "a plain Secret with data in the manifest set",
        "commit a SealedSecret (kubeseal) instead of the Secret",
    ),
    _r(
        "secrets.sealed-secret-empty",
        ERR,
        "a SealedSecret without encryptedData",
        "seal the secret's values with kubeseal so spec.encryptedData is filled",
    ),
    _r(
        "secrets.unresolved-reference",
        WARN,
        "a workload references a Secret that no SealedSecret or Secret in the set provides",
        "add a SealedSecret with that name, or document that the deployment generates it",
    ),
    # ingress
    _r(
        "ingress.legacy-traefik-group",
        ERR,
        "a Traefik object in the removed traefik.containo.us group (ignored by Traefik v3)",
        "use apiVersion traefik.io/v1alpha1",
    ),
    _r(
        "ingress.split-mismatch",
        ERR,
        "a weighted route's shares differ from the expected split",
        "set the weights of the route's services to the expected split",
    ),
    _r(
        "ingress.cross-namespace",
        WARN,
        "a route refers to a Service or Middleware in another namespace",
        "install Traefik with providers.kubernetesCRD.allowCrossNamespace=true, or move the route",
    ),
    _r(
        "ingress.missing-service",
        ERR,
        "a route sends traffic to a Service that is not in the set",
        "add the Service or correct the route's service name and namespace",
    ),
    _r(
        "ingress.backend-blocked",
        ERR,
        "a NetworkPolicy denies the ingress controller's pods a route's backend pods",
        "allow ingress to the backend pods on their served port from the ingress controller's namespace and labels",
    ),
    _r(
        "ingress.unresolved-reference",
        ERR,
        "a route refers to a TraefikService or Middleware that is not in the set",
        "add the referenced object or correct the reference",
    ),
    # database
    _r(
        "database.cnpg-instances",
        ERR,
        "a CloudNativePG Cluster with fewer instances than required",
        "set spec.instances to at least 3",
    ),
    _r(
        "database.cnpg-no-sync-replication",
        WARN,
        "a CloudNativePG Cluster without synchronous replication: failover can lose acknowledged writes",
        "set spec.postgresql.synchronous (method any|first, number >= 1), or document the accepted RPO",
    ),
    _r(
        "database.cnpg-image-latest",
        ERR,
        "a CloudNativePG imageName tagged latest or without a tag",
        "pin imageName to a tag starting with the PostgreSQL major version (e.g. 15-cjk)",
    ),
    # observability (Prometheus Operator monitors and rules, Grafana dashboards; see analysis/scrape_targets.py)
    _r(
        "observability.monitor-not-selected",
        ERR,
        "a ServiceMonitor or PodMonitor that no Prometheus selects",
        "label the monitor as the Prometheus selects (kube-prometheus-stack: release=<release name>), or set "
        "prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues/podMonitorSelectorNilUsesHelmValues false",
    ),
    _r(
        "observability.monitor-selects-nothing",
        ERR,
        "a monitor whose selector matches no Service or pod in the namespaces it watches",
        "correct spec.selector to the target's labels, and spec.namespaceSelector (matchNames or any: true) when "
        "the target lives in another namespace",
    ),
    _r(
        "observability.port-not-found",
        ERR,
        "a monitor endpoint names a port the Service (or pod) does not have",
        "use the name of a port the Service (ServiceMonitor) or the container (PodMonitor) declares",
    ),
    _r(
        "observability.exporter-missing",
        ERR,
        "the scraped port is not served by any container of the target pods (no exporter)",
        "add the exporter container (or sidecar) serving that port, or point the Service/monitor at the port "
        "the pods really serve (CloudNativePG: a PodMonitor on port metrics, 9187)",
    ),
    _r(
        "observability.scrape-blocked",
        ERR,
        "a NetworkPolicy denies Prometheus's pods the scrape port of a target",
        "allow ingress to the target on that port from the Prometheus pods' namespace and labels",
    ),
    _r(
        "observability.rules-not-selected",
        ERR,
        "a PrometheusRule that no Prometheus loads",
        "label it as the Prometheus's ruleSelector wants (kube-prometheus-stack: release=<release name>)",
    ),
    _r(
        "observability.rule-invalid",
        ERR,
        "a PrometheusRule group that promtool check rules rejects",
        "correct the rule named in the message; `promtool check rules` on its spec shows the same error",
    ),
    _r(
        "observability.alert-without-severity",
        WARN,
        "an alerting rule without a severity label (critical alerts cannot be told apart)",
        "add labels.severity (critical, warning or info) to the alert",
    ),
    _r(
        "observability.dashboard-invalid",
        ERR,
        "a Grafana dashboard ConfigMap whose JSON or PromQL does not parse",
        "correct the dashboard JSON or the panel query named in the message",
    ),
    _r(
        "observability.promql-not-checked",
        INFO,
        "rules and dashboard queries were not checked because promtool is not installed",
        "apt-get install -y --no-install-recommends prometheus (it ships promtool)",
    ),
    # schema
    _r(
        "schema.invalid",
        ERR,
        "an object does not validate against the Kubernetes schema",
        "correct the field named in the message",
    ),
    _r(
        "schema.unknown-kind",
        INFO,
        "objects of a kind the Kubernetes schemas do not know (a CRD) were not validated",
        "nothing to do; they are validated by their CRD when applied",
    ),
)

RULES_BY_ID: Mapping[str, Rule] = {rule.id: rule for rule in RULES}

# Checks judged on a live cluster. They share the Finding record with the static rules; each is proven by the
# recorded-shape tests under tests/cluster rather than by a manifest fixture, so they are catalogued apart.
LIVE_CATEGORY = "live"
LIVE_RULES: tuple[Rule, ...] = tuple(
    Rule(rule_id, LIVE_CATEGORY, ERR, title, fix)
    for rule_id, title, fix in (
        ("live.pod", "a pod is not running healthily", "read the pod's events and logs in the run's diagnostics"),
        ("live.not-ready", "a deployed object did not become ready", "read the object's status and its events"),
        (
            "live.database",
            "a database is not healthy",
            "read the CloudNativePG Cluster (or StatefulSet) status and its pods' logs",
        ),
        (
            "live.sealed-secret",
            "a SealedSecret was not unsealed into the Secret it describes",
            "seal the values for this cluster's controller and read the controller's logs",
        ),
        (
            "live.rbac",
            "the API server's answer to an access review differs from the expected one",
            "correct the Roles and bindings of that ServiceAccount",
        ),
        (
            "live.observability",
            "the observability stack misses targets, fires alerts or shows no data",
            "read the named component's status page",
        ),
        (
            "live.headroom",
            "a node or container uses more than its allowed share",
            "raise the limit or the node's size, or lower the load",
        ),
        (
            "live.network",
            "a probed connection differs from what the NetworkPolicies allow",
            "compare the policies selecting both ends with the expected matrix",
        ),
        ("live.node", "a node is not Ready, under pressure or cordoned", "read the node's conditions and events"),
        (
            "live.storage",
            "a PersistentVolumeClaim is not bound by the expected storage class",
            "check the storageClassName and the provisioner",
        ),
        (
            "live.app",
            "an application does not answer, or its logs and metrics are not visible",
            "read the application's pods, route and database",
        ),
    )
)
_ANY_RULE: Mapping[str, Rule] = {rule.id: rule for rule in (*RULES, *LIVE_RULES)}


@dataclass(frozen=True)
class Finding:
    """One problem: `object` is "Kind/namespace/name" (or "Kind/name" when cluster-scoped)."""

    rule: str
    category: str
    severity: Severity
    object: str
    message: str
    fix: str
    container: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "category": self.category,
            "severity": str(self.severity),
            "object": self.object,
            "container": self.container,
            "message": self.message,
            "fix": self.fix,
        }

    def __str__(self) -> str:
        """One short line: object [container]: message."""
        where = f"{self.object} [{self.container}]" if self.container else self.object
        return f"{where}: {self.message}"

    def describe(self) -> str:
        """One line: severity, rule, object [container]: message; then the fix."""
        where = f"{self.object} [{self.container}]" if self.container else self.object
        return f"{self.severity.upper()} {self.rule} {where}: {self.message}\n    fix: {self.fix}"


def finding(rule_id: str, obj: str, message: str, *, container: str | None = None, fix: str | None = None) -> Finding:
    """A Finding for a catalogued rule, static or live (unknown ids are a programming error: KeyError)."""
    rule = _ANY_RULE[rule_id]
    return Finding(rule.id, rule.category, rule.severity, obj, message, fix or rule.fix, container)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    unique = dict.fromkeys(findings)  # rules may reach the same conclusion twice; keep the first
    return sorted(
        unique, key=lambda f: (SEVERITY_ORDER[f.severity], f.category, f.object, f.container or "", f.rule, f.message)
    )


def format_findings(findings: Iterable[Finding]) -> str:
    """The findings as text lines (object, container, rule, fix), for failure messages and the CLI."""
    return "\n".join(f.describe() for f in findings)


def count_by(findings: Iterable[Finding], attribute: str) -> dict[str, int]:
    return dict(sorted(Counter(str(getattr(f, attribute)) for f in findings).items()))


def failure_report(findings: Iterable[Finding], headline: str) -> str:
    """A test failure message: the headline, then every finding with its object, container, rule and fix."""
    findings = list(findings)
    return f"{headline}: {len(findings)} finding(s)\n{format_findings(findings)}"


def brief_report(findings: Iterable[Finding], limit: int = 20) -> str:
    """One short line per finding (at most `limit`, then a count of the rest), for assertion messages."""
    items = list(findings)
    lines = [str(f) for f in items[:limit]]
    if len(items) > limit:
        lines.append(f"... and {len(items) - limit} more")
    return "\n".join(lines)
