"""The RBAC truth table: which sensitive requests each ServiceAccount must be refused, what the manifest
set grants, the SubjectAccessReviews that ask the API server, and what its answers imply."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.analysis.live.templates import pod_spec_of
from dbc_validate.manifests.model import K8sObject, ManifestSet


@dataclass(frozen=True)
class Question:
    """One request a ServiceAccount might make: verb on group/resource[/subresource] in a namespace."""

    verb: str
    resource: str
    group: str = ""
    subresource: str = ""
    namespace: str = ""  # "" = cluster-wide (all namespaces, or a cluster-scoped resource)

    def describe(self) -> str:
        what = self.resource + (f"/{self.subresource}" if self.subresource else "")
        where = f"in {self.namespace}" if self.namespace else "cluster-wide"
        return f"{self.verb} {what}{'.' + self.group if self.group else ''} {where}"


@dataclass(frozen=True)
class Subject:
    namespace: str
    name: str

    @property
    def user(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.name}"

    @property
    def groups(self) -> tuple[str, ...]:
        return ("system:serviceaccounts", f"system:serviceaccounts:{self.namespace}", "system:authenticated")

    def __str__(self) -> str:
        return f"ServiceAccount/{self.namespace}/{self.name}"


def sensitive_questions(namespace: str) -> list[Question]:
    """Requests no application ServiceAccount should be able to make unless the manifest grants them."""
    return [
        Question("get", "secrets", namespace=namespace),
        Question("list", "secrets", namespace=namespace),
        Question("watch", "secrets", namespace=namespace),
        Question("list", "secrets"),
        Question("create", "pods", namespace=namespace),
        Question("create", "pods", subresource="exec", namespace=namespace),
        Question("delete", "pods", namespace=namespace),
        Question("patch", "deployments", group="apps", namespace=namespace),
        Question("create", "serviceaccounts", subresource="token", namespace=namespace),
        Question("create", "rolebindings", group="rbac.authorization.k8s.io", namespace=namespace),
        Question("create", "clusterrolebindings", group="rbac.authorization.k8s.io"),
        Question("escalate", "clusterroles", group="rbac.authorization.k8s.io"),
        Question("bind", "clusterroles", group="rbac.authorization.k8s.io"),
        Question("impersonate", "users"),
        Question("list", "nodes"),
        Question("*", "*", group="*"),
    ]


def subjects_of(ms: ManifestSet, app_namespaces: Iterable[str]) -> list[Subject]:
    """Every ServiceAccount of the set, those workloads name, and `default` of each app namespace."""
    found = {Subject(str(o.namespace), o.name) for o in ms.of_kind("ServiceAccount")}
    for obj in ms.objects:
        pod_spec = pod_spec_of(obj)
        if pod_spec is not None:
            found.add(Subject(str(obj.namespace), str(pod_spec.get("serviceAccountName") or "default")))
    found.update(Subject(ns, "default") for ns in app_namespaces)
    return sorted(found, key=lambda s: (s.namespace, s.name))


def _rule_allows(rule: Mapping[str, Any], q: Question) -> bool:
    groups, resources, verbs = rule.get("apiGroups") or [], rule.get("resources") or [], rule.get("verbs") or []
    if rule.get("resourceNames"):
        return False  # our questions name no object; a rule limited to names does not grant them
    wanted = q.resource + (f"/{q.subresource}" if q.subresource else "")
    group_ok = "*" in groups or q.group in groups
    resource_ok = "*" in resources or wanted in resources or (q.subresource and f"*/{q.subresource}" in resources)
    verb_ok = "*" in verbs or q.verb in verbs
    if q.verb == "*" or q.resource == "*" or q.group == "*":
        # A wildcard question is granted only by a wildcard rule.
        group_ok = "*" in groups if q.group == "*" else group_ok
        resource_ok = "*" in resources if q.resource == "*" else resource_ok
        verb_ok = "*" in verbs if q.verb == "*" else verb_ok
    return bool(group_ok and resource_ok and verb_ok)


def _binds(binding: K8sObject, subject: Subject) -> bool:
    for s in binding.body.get("subjects") or []:
        same_account = s.get("kind") == "ServiceAccount" and s.get("name") == subject.name
        if same_account and (s.get("namespace") or binding.namespace) == subject.namespace:
            return True
        if s.get("kind") == "Group" and s.get("name") in subject.groups:
            return True
        if s.get("kind") == "User" and s.get("name") == subject.user:
            return True
    return False


@dataclass(frozen=True)
class Grant:
    allowed: bool
    by: str  # the binding and role that grant it, or why nothing does


def declared_grant(ms: ManifestSet, subject: Subject, q: Question) -> Grant:
    """Whether the manifest set's own Roles/ClusterRoles, through its bindings, grant `q` to `subject`.

    A binding to a role the set does not define (cluster-admin, edit, ...) grants nothing here: access
    that comes from outside the set is exactly what the live check must flag.
    """
    roles = {("Role", o.namespace, o.name): o for o in ms.of_kind("Role")}
    roles.update({("ClusterRole", None, o.name): o for o in ms.of_kind("ClusterRole")})
    for binding in ms.of_kind("RoleBinding", "ClusterRoleBinding"):
        if not _binds(binding, subject):
            continue
        if binding.kind == "RoleBinding" and q.namespace != binding.namespace:
            continue  # a RoleBinding grants only inside its own namespace
        role_ref = binding.body.get("roleRef") or {}
        key = (
            str(role_ref.get("kind")),
            binding.namespace if role_ref.get("kind") == "Role" else None,
            str(role_ref.get("name")),
        )
        role = roles.get(key)
        if role is None:
            continue
        if any(_rule_allows(rule, q) for rule in role.body.get("rules") or []):
            return Grant(True, f"{binding.ref} -> {role.ref}")
    return Grant(False, "no Role or ClusterRole of the manifest set grants it")


def review_body(subject: Subject, q: Question) -> dict[str, Any]:
    """An authorization.k8s.io/v1 SubjectAccessReview asking whether `subject` may do `q`."""
    attributes: dict[str, Any] = {"verb": q.verb, "resource": q.resource, "group": q.group}
    if q.subresource:
        attributes["subresource"] = q.subresource
    if q.namespace:
        attributes["namespace"] = q.namespace
    return {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {"user": subject.user, "groups": list(subject.groups), "resourceAttributes": attributes},
    }


@dataclass(frozen=True)
class Answer:
    allowed: bool
    detail: str


def parse_review(review: Mapping[str, Any]) -> Answer:
    """The server's answer: `allowed` decides; `denied`/no opinion both mean refused under RBAC alone."""
    status = review.get("status") or {}
    allowed = bool(status.get("allowed"))
    detail = str(status.get("reason") or ("allowed" if allowed else "no rule allows it"))
    if status.get("evaluationError"):
        detail += f" (evaluation error: {status['evaluationError']})"
    return Answer(allowed, detail)


@dataclass(frozen=True)
class Cell:
    subject: Subject
    question: Question
    expected: Grant
    answer: Answer

    @property
    def matches(self) -> bool:
        return self.expected.allowed == self.answer.allowed


def truth_table(
    subjects: Sequence[Subject], questions_for: Mapping[str, Sequence[Question]], ms: ManifestSet
) -> list[tuple[Subject, Question, Grant]]:
    """Every (subject, question, expected grant) the live check asks, namespace by namespace."""
    return [(s, q, declared_grant(ms, s, q)) for s in subjects for q in questions_for[s.namespace]]


def rbac_findings(cells: Sequence[Cell]) -> list[Finding]:
    findings = []
    for cell in cells:
        if cell.matches:
            continue
        if cell.answer.allowed:
            problem = f"may {cell.question.describe()} but the manifest set does not grant it ({cell.answer.detail})"
        else:
            problem = f"is refused {cell.question.describe()} although {cell.expected.by} grants it"
        findings.append(finding("live.rbac", str(cell.subject), problem))
    return findings
