"""Static checks of the log path for observability.loki_logs: a Loki and a Promtail are configured, Promtail
pushes to that Loki, and its relabelling keeps the application namespaces. Pure: add-on settings in, problems out.

Promtail's chart scrapes every pod of every namespace by default (job kubernetes-pods); only keep/drop rules on
the namespace in `config.snippets.extraRelabelConfigs` narrow it, so those are what is evaluated here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from dbc_validate.manifests.fields import dig, listing, mapping

LOKI_PORT = 3100
PUSH_PATH = "/loki/api/v1/push"
NAMESPACE_LABELS = frozenset({"__meta_kubernetes_namespace", "namespace"})


@dataclass(frozen=True)
class Component:
    """An installed chart: its name, namespace and Helm values."""

    name: str
    namespace: str
    values: Mapping[str, Any]


def _pushes_to(url: str, loki: Component) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or ""
    names = {f"{loki.name}.{loki.namespace}.svc", f"{loki.name}.{loki.namespace}.svc.cluster.local"}
    return host in names and (parts.port or 80) == LOKI_PORT and parts.path == PUSH_PATH


def kept(namespace: str, relabel: Sequence[Any]) -> bool:
    """Whether Promtail's namespace keep/drop rules let a namespace's pods through (Prometheus relabel rules:
    the regex is anchored; other actions and labels do not decide on the namespace)."""
    for rule in relabel:
        rule = mapping(rule)
        labels = {str(label) for label in listing(rule.get("source_labels"))}
        action = str(rule.get("action") or "replace")
        if not labels & NAMESPACE_LABELS or action not in ("keep", "drop"):
            continue
        matches = re.fullmatch(str(rule.get("regex", "(.*)")), namespace) is not None
        if (action == "keep") != matches:
            return False
    return True


def log_shipping_problems(
    loki: Component | None, promtail: Component | None, app_namespaces: Sequence[str]
) -> list[str]:
    if loki is None or promtail is None:
        missing = " and ".join(n for n, c in (("Loki", loki), ("Promtail", promtail)) if c is None)
        return [f"no {missing} is configured: application logs would go nowhere"]
    problems = []
    clients = [str(mapping(c).get("url") or "") for c in listing(dig(promtail.values, "config", "clients"))]
    if not any(_pushes_to(url, loki) for url in clients):
        wanted = f"http://{loki.name}.{loki.namespace}.svc:{LOKI_PORT}{PUSH_PATH}"
        problems.append(f"Promtail pushes to {clients or 'no client'}, not to Loki ({wanted})")
    relabel = listing(dig(promtail.values, "config", "snippets", "extraRelabelConfigs"))
    dropped = [ns for ns in app_namespaces if not kept(ns, relabel)]
    if dropped:
        problems.append(f"Promtail's relabelling drops the logs of namespace(s) {', '.join(dropped)}")
    return problems
