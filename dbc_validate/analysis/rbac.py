"""RBAC rules: no wildcards or escalation verbs, no Secret reads or cluster-admin for workloads' ServiceAccounts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from dbc_validate.analysis.cluster_model import ClusterModel, Workload
from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.manifests.model import K8sObject, ManifestSet

RBAC_GROUP = "rbac.authorization.k8s.io"
READ_VERBS = ("get", "list", "watch")
ESCALATION_VERBS = ("escalate", "bind", "impersonate")
# The parts of the built-in ClusterRoles these rules care about (user-facing roles of kube-apiserver).
BUILTIN_CLUSTER_ROLES: Mapping[str, tuple[Mapping[str, Any], ...]] = {
    "cluster-admin": ({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},),
    "admin": ({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]},),
    "edit": ({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]},),
    "view": (),
}


@dataclass(frozen=True)
class Grant:
    """A binding in the set giving a role's rules to a ServiceAccount."""

    binding: K8sObject
    role_ref: str  # "ClusterRole/name" or "Role/ns/name"
    rules: tuple[Mapping[str, Any], ...]


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _rules_of(obj: K8sObject) -> tuple[Mapping[str, Any], ...]:
    return tuple(r for r in obj.body.get("rules") or [] if isinstance(r, Mapping))


def _roles(manifests: ManifestSet) -> list[K8sObject]:
    return manifests.of_kind("Role", "ClusterRole", group=RBAC_GROUP)


def _role_rules(manifests: ManifestSet, binding: K8sObject) -> tuple[str, tuple[Mapping[str, Any], ...]] | None:
    ref = binding.body.get("roleRef") or {}
    kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
    if kind == "ClusterRole":
        role = manifests.get("ClusterRole", name)
        if role is not None:
            return f"ClusterRole/{name}", _rules_of(role)
        if name in BUILTIN_CLUSTER_ROLES:
            return f"ClusterRole/{name}", BUILTIN_CLUSTER_ROLES[name]
        return None
    if kind == "Role" and binding.kind == "RoleBinding":
        role = manifests.get("Role", name, binding.namespace)
        return (role.ref, _rules_of(role)) if role is not None else None
    return None


def _subject_covers(subject: Mapping[str, Any], binding: K8sObject, namespace: str, account: str) -> bool:
    kind = subject.get("kind")
    if kind == "ServiceAccount":
        subject_ns = subject.get("namespace") or binding.namespace
        return subject.get("name") == account and subject_ns == namespace
    if kind == "Group":
        return subject.get("name") in (
            "system:serviceaccounts",
            f"system:serviceaccounts:{namespace}",
            "system:authenticated",
        )
    return False


def grants_to(manifests: ManifestSet, namespace: str, account: str) -> list[Grant]:
    """Bindings in the set that give rules to ServiceAccount namespace/account (RoleBindings only in its namespace)."""
    grants = []
    for binding in manifests.of_kind("RoleBinding", "ClusterRoleBinding", group=RBAC_GROUP):
        if binding.kind == "RoleBinding" and binding.namespace != namespace:
            continue
        subjects = [s for s in binding.body.get("subjects") or [] if isinstance(s, Mapping)]
        if not any(_subject_covers(s, binding, namespace, account) for s in subjects):
            continue
        resolved = _role_rules(manifests, binding)
        if resolved is not None:
            grants.append(Grant(binding, resolved[0], resolved[1]))
    return grants


def reads_secrets(rule: Mapping[str, Any]) -> list[str]:
    """The read verbs a policy rule grants on core Secrets (empty when none)."""
    groups, resources, verbs = (_strings(rule.get(k)) for k in ("apiGroups", "resources", "verbs"))
    if not ({"", "*"} & set(groups) and {"secrets", "*"} & set(resources)):
        return []
    return list(READ_VERBS) if "*" in verbs else [v for v in READ_VERBS if v in verbs]


def _role_findings(manifests: ManifestSet) -> Iterator[Finding]:
    for role in _roles(manifests):
        wildcards: list[str] = []
        escalations: set[str] = set()
        for rule in _rules_of(role):
            for key in ("apiGroups", "resources", "verbs"):
                if "*" in _strings(rule.get(key)) and key not in wildcards:
                    wildcards.append(key)
            escalations.update(v for v in _strings(rule.get("verbs")) if v in ESCALATION_VERBS)
        if wildcards:
            yield finding("rbac.wildcard", role.ref, f"'*' in {', '.join(wildcards)}")
        if escalations:
            yield finding("rbac.escalation-verbs", role.ref, f"grants {', '.join(sorted(escalations))}")


def _cluster_admin(manifests: ManifestSet) -> Iterator[Finding]:
    for binding in manifests.of_kind("RoleBinding", "ClusterRoleBinding", group=RBAC_GROUP):
        ref = binding.body.get("roleRef") or {}
        if ref.get("kind") != "ClusterRole" or ref.get("name") != "cluster-admin":
            continue
        for subject in binding.body.get("subjects") or []:
            if isinstance(subject, Mapping) and subject.get("kind") == "ServiceAccount":
                who = f"{subject.get('namespace') or binding.namespace}/{subject.get('name')}"
                yield finding("rbac.cluster-admin-sa", binding.ref, f"binds cluster-admin to ServiceAccount {who}")


def _workload_findings(manifests: ManifestSet, workload: Workload) -> Iterator[Finding]:
    account, namespace = workload.service_account, workload.namespace
    for grant in grants_to(manifests, namespace, account):
        verbs = sorted({v for rule in grant.rules for v in reads_secrets(rule)})
        if verbs:
            message = (
                f"ServiceAccount {namespace}/{account} may {', '.join(verbs)} secrets through "
                f"{grant.binding.ref} -> {grant.role_ref}"
            )
            yield finding("rbac.secrets-read", workload.ref, message)
    if workload.operator_managed:
        return  # the operator creates the instances' ServiceAccount
    service_account = manifests.get("ServiceAccount", account, namespace)
    if account != "default" and service_account is None:
        yield finding(
            "rbac.service-account-missing",
            workload.ref,
            f"serviceAccountName {account} is not created by the set: the pods will be rejected",
        )
    if account == "default":
        pod_value = workload.pod_spec.get("automountServiceAccountToken")
        sa_value = service_account.body.get("automountServiceAccountToken") if service_account else None
        if pod_value is not False and not (pod_value is None and sa_value is False):
            yield finding(
                "rbac.default-sa-automount",
                workload.ref,
                f"runs as {namespace}/default with its API token mounted (automountServiceAccountToken not false)",
            )


def rbac_findings(model: ClusterModel) -> list[Finding]:
    manifests = model.manifests
    if manifests is None:
        return []
    findings = list(_role_findings(manifests))
    findings.extend(_cluster_admin(manifests))
    for workload in model.manifest_workloads:
        findings.extend(_workload_findings(manifests, workload))
    return findings
