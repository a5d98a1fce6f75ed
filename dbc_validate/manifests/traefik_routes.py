"""Traefik v3 HTTP routes declared by a manifest set: hosts, weighted leaf services and variant markers.

One model serves three readers: the static ingress rules, the local Traefik lab (which turns it into a
file-provider configuration) and the traffic-split check (declared shares per variant).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from dbc_validate.capabilities import Backend, HttpRoute, MiddlewareRef
from dbc_validate.manifests.model import K8sObject, ManifestSet

TRAEFIK_GROUP = "traefik.io"
LEGACY_TRAEFIK_GROUP = "traefik.containo.us"  # Traefik v2's group: not served by Traefik v3
_HOST_RULE = re.compile(r"Host\(([^)]*)\)")
_BACKTICKED = re.compile(r"`([^`]*)`")


def hosts_of(match: str) -> tuple[str, ...]:
    """Host names named by Host(...) matchers of a Traefik v3 rule."""
    hosts: list[str] = []
    for args in _HOST_RULE.findall(match):
        hosts.extend(_BACKTICKED.findall(args))
    return tuple(hosts)


def _refs(items: Any, default_namespace: str) -> tuple[MiddlewareRef, ...]:
    refs = []
    for item in items or []:
        if isinstance(item, Mapping) and item.get("name"):
            refs.append(MiddlewareRef(str(item["name"]), str(item.get("namespace") or default_namespace)))
    return tuple(refs)


def _weight(entry: Mapping[str, Any]) -> int:
    weight = entry.get("weight")
    return 1 if weight is None else max(int(weight), 0)


class _Resolver:
    def __init__(self, manifests: ManifestSet, group: str = TRAEFIK_GROUP) -> None:
        # A route resolves its references in its own API group: Traefik v2 read only traefik.containo.us objects.
        self.traefik_services = {(o.namespace, o.name): o for o in manifests.of_kind("TraefikService", group=group)}
        self.middlewares = {(o.namespace, o.name): o for o in manifests.of_kind("Middleware", group=group)}
        self.problems: list[str] = []

    def marker(self, refs: tuple[MiddlewareRef, ...]) -> dict[str, str]:
        headers: dict[str, str] = {}
        for ref in refs:
            middleware = self.middlewares.get((ref.namespace, ref.name))
            if middleware is None:
                self.problems.append(f"middleware {ref.namespace}/{ref.name} is not in the set")
                continue
            custom = (middleware.spec.get("headers") or {}).get("customResponseHeaders") or {}
            headers.update({str(k): str(v) for k, v in custom.items() if v})
        return headers

    def expand(
        self,
        entries: Any,
        namespace: str,
        share: Fraction,
        inherited: tuple[MiddlewareRef, ...],
        seen: tuple[tuple[str, str], ...],
    ) -> list[Backend]:
        entries = [e for e in entries or [] if isinstance(e, Mapping)]
        total = sum(_weight(e) for e in entries)
        backends: list[Backend] = []
        for entry in entries:
            part = share * Fraction(_weight(entry), total) if total else Fraction(0)
            entry_ns = str(entry.get("namespace") or namespace)
            own = inherited + _refs(entry.get("middlewares"), namespace)
            if entry.get("kind", "Service") == "TraefikService":
                key = (entry_ns, str(entry.get("name")))
                if key in seen:
                    self.problems.append(f"TraefikService {key[0]}/{key[1]} refers to itself")
                    continue
                ts = self.traefik_services.get(key)
                if ts is None:
                    self.problems.append(f"TraefikService {key[0]}/{key[1]} is not in the set")
                    continue
                weighted = ts.spec.get("weighted") or {}
                backends += self.expand(weighted.get("services"), entry_ns, part, own, (*seen, key))
            else:
                backends.append(
                    Backend(entry_ns, str(entry.get("name")), entry.get("port"), part, own, self.marker(own))
                )
        return backends


def _routes_of(obj: K8sObject, resolver: _Resolver) -> list[HttpRoute]:
    routes = []
    namespace = obj.namespace or "default"
    entry_points = tuple(str(e) for e in obj.spec.get("entryPoints") or [])
    for index, route in enumerate(obj.spec.get("routes") or []):
        if not isinstance(route, Mapping):
            continue
        resolver.problems = []
        match = str(route.get("match") or "")
        backends = resolver.expand(route.get("services"), namespace, Fraction(1), (), ())
        routes.append(
            HttpRoute(
                source=f"{obj.ref}#{index}",
                namespace=namespace,
                match=match,
                hosts=hosts_of(match),
                entry_points=entry_points,
                middlewares=_refs(route.get("middlewares"), namespace),
                backends=tuple(backends),
                problems=tuple(resolver.problems),
            )
        )
    return routes


def http_routes(manifests: ManifestSet, *, include_legacy: bool = False) -> list[HttpRoute]:
    """Every HTTP route of the set's traefik.io IngressRoutes, with nested weights resolved.

    include_legacy adds the routes of traefik.containo.us IngressRoutes (which Traefik v3 ignores), for the
    static analysis: a set being migrated still carries them, and their other defects should not hide.
    """
    routes: list[HttpRoute] = []
    for group in (TRAEFIK_GROUP, LEGACY_TRAEFIK_GROUP) if include_legacy else (TRAEFIK_GROUP,):
        resolver = _Resolver(manifests, group)
        for obj in manifests.of_kind("IngressRoute", group=group):
            routes += _routes_of(obj, resolver)
    return routes


def legacy_objects(manifests: ManifestSet) -> list[K8sObject]:
    """Objects in Traefik v2's removed API group, which Traefik v3 silently ignores."""
    return [o for o in manifests.objects if o.group == LEGACY_TRAEFIK_GROUP]
