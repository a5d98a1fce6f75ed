"""Ingress rules on Traefik routes: API group, declared traffic split, cross-namespace and missing Services, and
NetworkPolicy reachability from the ingress controller. Legacy traefik.containo.us routes get every rule too."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from dbc_validate.analysis.cluster_model import ClusterModel
from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.analysis.netpol.engine import allowed
from dbc_validate.analysis.netpol.rules import denial_reason
from dbc_validate.analysis.scrape_targets import service_pods, service_target_port
from dbc_validate.capabilities import HttpRoute
from dbc_validate.manifests.traefik_routes import http_routes, legacy_objects

DEFAULT_SPLIT = "70/30"


def parse_split(text: str) -> tuple[Fraction, ...]:
    """ "70/30" -> (7/10, 3/10): shares normalised to sum 1, largest first. Raises ValueError."""
    parts = [p.strip() for p in str(text).split("/")]
    try:
        weights = [Fraction(p) for p in parts]
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"split {text!r} is not numbers separated by '/', e.g. 70/30") from None
    if len(weights) < 2 or any(w <= 0 for w in weights):
        raise ValueError(f"split {text!r} needs two or more positive shares, e.g. 70/30")
    total = sum(weights)
    return tuple(sorted((w / total for w in weights), reverse=True))


def format_shares(shares: Sequence[Fraction]) -> str:
    return "/".join(f"{float(s) * 100:g}" for s in shares)


def route_object(route: HttpRoute) -> tuple[str, str]:
    """("IngressRoute/ns/name", "route 0") from a route's source "IngressRoute/ns/name#0"."""
    ref, _, index = route.source.partition("#")
    return ref, f"route {index} ({route.match})" if index else route.match


def split_matches(route: HttpRoute, expected: Sequence[Fraction]) -> bool:
    return tuple(sorted(route.shares().values(), reverse=True)) == tuple(expected)


def ingress_findings(model: ClusterModel, expected_split: Sequence[Fraction]) -> list[Finding]:
    manifests = model.manifests
    if manifests is None:
        return []
    findings = [
        finding(
            "ingress.legacy-traefik-group",
            obj.ref,
            f"apiVersion {obj.api_version}: Traefik v3 does not serve the traefik.containo.us group",
        )
        for obj in legacy_objects(manifests)
    ]
    services = {(o.namespace, o.name) for o in manifests.of_kind("Service")}
    for route in http_routes(manifests, include_legacy=True):
        ref, where = route_object(route)
        for problem in route.problems:
            findings.append(finding("ingress.unresolved-reference", ref, f"{where}: {problem}"))
        if route.is_split and not split_matches(route, expected_split):
            declared = ", ".join(f"{variant} {float(share):.0%}" for variant, share in route.shares().items())
            message = f"{where}: declares {declared}, expected {format_shares(expected_split)}"
            findings.append(finding("ingress.split-mismatch", ref, message))
        crossing = sorted({b.service_ref for b in route.backends if b.namespace != route.namespace})
        crossing += sorted(
            {
                f"middleware {m.namespace}/{m.name}"
                for m in route.middlewares + tuple(m for b in route.backends for m in b.middlewares)
                if m.namespace != route.namespace
            }
        )
        if crossing:
            message = f"{where}: refers to {', '.join(crossing)} outside namespace {route.namespace}"
            findings.append(finding("ingress.cross-namespace", ref, message))
        for backend in route.backends:
            if (backend.namespace, backend.name) not in services:
                message = f"{where}: Service {backend.service_ref} is not in the set"
                findings.append(finding("ingress.missing-service", ref, message))
        findings += _blocked_backends(model, route, ref, where)
    return findings


def _blocked_backends(model: ClusterModel, route: HttpRoute, ref: str, where: str) -> list[Finding]:
    """Backends whose pods the NetworkPolicies close to the ingress controller's pods on the served port."""
    manifests = model.manifests
    controllers = [w for w in model.workloads if w.role == "ingress-controller"]
    if manifests is None or not controllers:
        return []
    findings = []
    for backend in route.backends:
        service = manifests.get("Service", backend.name, backend.namespace)
        if service is None:
            continue
        target = service_target_port(service, backend.port)
        for workload, _pods in service_pods(model, service):
            port = workload.named_port(target, "TCP") if isinstance(target, str) else target
            if port is None:
                continue
            for controller in controllers:
                decision = allowed(model, controller.id, workload.id, port)
                if not decision.allowed:
                    message = (
                        f"{where}: {controller.id} -> {workload.id} {port}/TCP (Service {backend.service_ref}) is "
                        f"denied: {denial_reason(decision)}"
                    )
                    findings.append(finding("ingress.backend-blocked", ref, message))
    return findings
