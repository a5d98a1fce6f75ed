"""What a cluster run will do, decided without a cluster: the cluster, the add-ons, images to build, secrets
to generate, objects in apply order and which checks run or skip (and why). Rendered as text or JSON."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dbc_validate.analysis.live.apply_order import ApplyPlan
from dbc_validate.analysis.live.cluster_commands import build_image_command
from dbc_validate.analysis.live.safety import destructive_refusal
from dbc_validate.analysis.live.secrets import SecretPlan, shared_values
from dbc_validate.criteria import by_id


@dataclass(frozen=True)
class CollectedCheck:
    """A collected Gate 1 test: what the plan needs to know to say whether it runs."""

    nodeid: str
    criteria: tuple[str, ...]
    capabilities: tuple[str, ...]
    destructive: bool = False


@dataclass(frozen=True)
class PlannedCheck:
    check: CollectedCheck
    runs: bool
    reason: str


def plan_check(
    check: CollectedCheck,
    target: str,
    offered: Iterable[str],
    allow_destructive: bool,
    with_observability: bool,
) -> PlannedCheck:
    """Whether `check` will run on `target`, mirroring the skips the run itself applies."""
    offered = set(offered)
    missing = [c for c in check.capabilities if c not in offered]
    if missing:
        return PlannedCheck(check, False, f"target {target} does not offer {', '.join(missing)}")
    if check.destructive:
        refusal = destructive_refusal(target, allow_destructive)
        if refusal:
            return PlannedCheck(check, False, "destructive: needs --allow-destructive on target kubeconfig")
    areas = {by_id(c).area for c in check.criteria}
    if areas == {"observability"} and target in ("kind", "k3d") and not with_observability:
        return PlannedCheck(check, False, "the observability stack is installed only with --with-observability")
    if areas == {"observability"} and target == "kubeconfig":
        return PlannedCheck(check, True, "runs if the cluster has the observability stack, else skips")
    return PlannedCheck(check, True, "")


# How a cluster target provides each capability (the plan prints it; `{ingress}` says how Traefik is reached).
CAPABILITY_HOW = {
    "manifest_set": "the rendered manifest set",
    "cluster": "the Kubernetes API through kubectl",
    "postgres": (
        "every CloudNativePG instance pod of the set's Clusters (cnpg.io/cluster, role from cnpg.io/instanceRole), "
        "each through its own kubectl port-forward; credentials from the operator's Secret (<cluster>-app or the "
        "initdb secret, else <cluster>-superuser), never printed"
    ),
    "soak_run": "the soak's run, when the soak suite asks for its result (--soak-mode, --soak-duration)",
    "failover_lab": (
        "the set's first CloudNativePG Cluster: its primary pod deleted with --grace-period=1 (a switchover through "
        "the status patch `kubectl cnpg promote` applies), topology from the Cluster's status; the writer is a pod in "
        "the Cluster's namespace writing through <cluster>-rw, let through default-deny by NetworkPolicies of its own "
        "(egress to the instances on 5432 and kube-dns on 53; ingress on the instances when they are isolated), "
        "deleted with it; destructive (kubeconfig needs --allow-destructive)"
    ),
    "ingress": (
        "the cluster's Traefik ({ingress}), replicas from its Deployment, metrics through a port-forward to its "
        "metrics port, leaf services <namespace>-<service>-<port>@kubernetescrd"
    ),
    "soak": (
        "load through the cluster's Traefik; the pods of the set's namespaces and Traefik's watched through the API "
        "(Ready, restartCount, CrashLoopBackOff) and the metrics API against container limits; 48 h by default"
    ),
    "apps": (
        "the set's MySQL StatefulSet through a kubectl port-forward to its Service (pymysql as the application user, "
        "credentials from the deployed Secrets, never printed) and its WordPress Deployments through the cluster's "
        "Traefik ({ingress}); the persistence check deletes their pods (destructive)"
    ),
    "observability": (
        "the cluster's Prometheus and Alertmanager, found by their charts' Service labels in any namespace (or "
        "--prometheus-url), through the API server's service proxy behind kubectl proxy, expected to scrape the "
        "pools the set's monitors predict (dbc-validate targets); NOT RUN when no Prometheus is found"
    ),
}


@dataclass(frozen=True)
class CapabilityLine:
    capability: str
    scope: str
    how: str


def capability_lines(offered: Mapping[str, str], ingress: str) -> list[CapabilityLine]:
    """What the suites get on the target: each offered capability (name -> scope) and how it is provided."""
    return [
        CapabilityLine(name, scope, CAPABILITY_HOW.get(name, "provided by the target").format(ingress=ingress))
        for name, scope in offered.items()
    ]


@dataclass(frozen=True)
class AddonLine:
    name: str
    version: str
    namespace: str
    sources: tuple[str, ...]


@dataclass
class Plan:
    target: str
    cluster_lines: list[str] = field(default_factory=list)
    cluster_config: str = ""  # the config file's text, printed as is
    addons: list[AddonLine] = field(default_factory=list)
    images: list[tuple[str, str, str]] = field(default_factory=list)  # image, build context, load command
    secrets: SecretPlan | None = None
    apply: ApplyPlan | None = None
    manifests_note: str = ""
    capabilities: list[CapabilityLine] = field(default_factory=list)
    checks: list[PlannedCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "cluster": self.cluster_lines,
            "cluster_config": self.cluster_config,
            "addons": [a.__dict__ | {"sources": list(a.sources)} for a in self.addons],
            "images": [{"image": i, "context": c, "load": load} for i, c, load in self.images],
            "secrets": [
                {"secret": s.ref, "keys": list(s.keys), "type": s.type, "source": s.source}
                | ({"value_names": dict(s.value_names)} if s.value_names else {})
                for s in (self.secrets.specs if self.secrets else ())
            ],
            "secrets_basis": self.secrets.basis if self.secrets else "",
            "secrets_referenced_but_not_declared": [
                {"secret": f"{u.namespace}/{u.name}", "keys": list(u.keys), "used_by": list(u.used_by)}
                for u in (self.secrets.undeclared if self.secrets else ())
            ],
            "apply": [
                {"phase": p.name, "why": p.why, "objects": [o.ref for o in p.objects]}
                for p in (self.apply.phases if self.apply else ())
            ],
            "not_applied": [{"object": o.ref, "reason": why} for o, why in (self.apply.skipped if self.apply else ())],
            "manifests_note": self.manifests_note,
            "capabilities": [c.__dict__ for c in self.capabilities],
            "checks": [
                {"test": c.check.nodeid, "criteria": list(c.check.criteria), "runs": c.runs, "reason": c.reason}
                for c in self.checks
            ],
            "notes": self.notes,
        }


def _indent(text: str, prefix: str = "    ") -> list[str]:
    return [prefix + line if line else "" for line in text.rstrip().splitlines()]


def _secret_lines(secrets: SecretPlan | None) -> list[str]:
    if secrets is None:
        return ["  none"]
    out = [f"  {secrets.basis}"]
    out += [f"  {s.ref}: keys {', '.join(s.keys) or '(none)'} [{s.type}] ({s.source})" for s in secrets.specs] or [
        "  none"
    ]
    out += [f"  shared value {name}: {', '.join(where)}" for name, where in shared_values(secrets.specs).items()]
    out += [
        f"  referenced but not declared: {u} -- the deploy refuses to start until it is declared"
        for u in secrets.undeclared
    ]
    return out


def render_plan(plan: Plan) -> str:
    out = [f"dbc-validate plan for target {plan.target} (a description: nothing was created or applied)", ""]
    out += ["Cluster", *(f"  {line}" for line in plan.cluster_lines)]
    if plan.cluster_config:
        out += _indent(plan.cluster_config)
    out += ["", "Add-ons (installed in this order, versions pinned in dbc_validate/data/addon-versions.yaml)"]
    if not plan.addons:
        out.append("  none: an existing cluster is judged as it is")
    for a in plan.addons:
        out.append(f"  {a.name} {a.version} -> namespace {a.namespace}")
        out += [f"      from {s}" for s in a.sources]
    out += ["", "Images to build and load into the cluster"]
    out += [
        f"  {image}  ({shlex.join(build_image_command(image, ctx))}; {load})" for image, ctx, load in plan.images
    ] or ["  none"]
    out += ["", "Secrets generated at deploy time, sealed with the controller's certificate (values never written)"]
    out += _secret_lines(plan.secrets)
    out += ["", "Objects in apply order (server-side apply)"]
    if plan.manifests_note:
        out.append(f"  {plan.manifests_note}")
    if plan.apply is not None:
        for number, phase in enumerate(plan.apply.phases, start=1):
            out.append(f"  phase {number} {phase.name}: {phase.why}")
            out += [f"    {o.ref}" for o in phase.objects]
        for obj, why in plan.apply.skipped:
            out.append(f"  not applied: {obj.ref} ({why})")
    out += ["", "Capabilities (what the suites' fixtures get on this target)"]
    out += [f"  {c.capability} [{c.scope}]: {c.how}" for c in plan.capabilities]
    runs = [c for c in plan.checks if c.runs]
    out += ["", f"Checks ({len(runs)} of {len(plan.checks)} run)"]
    for c in plan.checks:
        mark = "runs " if c.runs else "skips"
        reason = f"  -- {c.reason}" if c.reason else ""
        out.append(f"  [{mark}] {c.check.nodeid} ({', '.join(c.check.criteria)}){reason}")
    if plan.notes:
        out += ["", "Notes", *(f"  {n}" for n in plan.notes)]
    return "\n".join(out) + "\n"


def checks_summary(checks: Sequence[PlannedCheck]) -> tuple[int, int]:
    return sum(1 for c in checks if c.runs), len(checks)
