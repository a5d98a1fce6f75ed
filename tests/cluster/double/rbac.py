"""SubjectAccessReview answers from the stored RBAC objects (Roles, ClusterRoles and their bindings), as the
RBAC authorizer decides for a ServiceAccount user: allowed when one bound rule covers verb, group and resource."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
SA_PREFIX = "system:serviceaccount:"


def _covers(values: list | None, want: str) -> bool:
    return bool(values) and ("*" in values or want in values)


def rule_allows(rule: Obj, attributes: Obj) -> bool:
    resource = attributes.get("resource", "")
    if attributes.get("subresource"):
        resource = f"{resource}/{attributes['subresource']}"
    names = rule.get("resourceNames")
    return (
        _covers(rule.get("verbs"), attributes.get("verb", ""))
        and _covers(rule.get("apiGroups"), attributes.get("group", ""))
        and _covers(rule.get("resources"), resource)
        and (not names or attributes.get("name") in names)
    )


def _bound(binding: Obj, user: str) -> bool:
    if not user.startswith(SA_PREFIX):
        return False
    ns, _, name = user[len(SA_PREFIX) :].partition(":")
    return any(
        s.get("kind") == "ServiceAccount" and s.get("name") == name and s.get("namespace", "") == ns
        for s in binding.get("subjects") or []
    )


def authorizer(objects: Callable[[str], list[Obj]]) -> Callable[[Obj], Obj]:
    """A sar_answer for Double: `objects(plural)` lists the stored RBAC objects of that kind."""

    def answer(spec: Obj) -> Obj:
        user, attributes = spec.get("user", ""), spec.get("resourceAttributes") or {}
        namespace = attributes.get("namespace", "")
        roles = {(r["metadata"].get("namespace", ""), r["metadata"]["name"]): r for r in objects("roles")}
        cluster_roles = {r["metadata"]["name"]: r for r in objects("clusterroles")}
        bindings = [b for b in objects("rolebindings") if b["metadata"].get("namespace") == namespace]
        bindings += objects("clusterrolebindings")
        for binding in bindings:
            if not _bound(binding, user):
                continue
            ref = binding.get("roleRef") or {}
            if ref.get("kind") == "ClusterRole":
                role = cluster_roles.get(ref.get("name", ""))
            else:
                role = roles.get((binding["metadata"].get("namespace", ""), ref.get("name", "")))
            if role and any(rule_allows(r, attributes) for r in role.get("rules") or []):
                where = binding["metadata"].get("namespace", "")
                return {
                    "allowed": True,
                    "reason": f'RBAC: allowed by {binding["kind"]} "{where}/{binding["metadata"]["name"]}"',
                }
        return {"allowed": False}

    return answer
