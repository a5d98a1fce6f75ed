"""Read Traefik's Prometheus text: requests per service from `traefik_service_requests_total` (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping

METRIC = "traefik_service_requests_total"
_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})?\s+(?P<value>\S+)")
_LABEL = re.compile(r'(?P<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?P<value>(?:[^"\\]|\\.)*)"')


def service_request_totals(text: str) -> dict[str, float]:
    """Total requests per `service` label (summed over codes, methods and protocols)."""
    totals: dict[str, float] = {}
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match is None or match.group("name") != METRIC:
            continue
        labels = {m.group("key"): m.group("value") for m in _LABEL.finditer(match.group("labels") or "")}
        service = labels.get("service")
        if service is None:
            continue
        try:
            value = float(match.group("value"))
        except ValueError:
            continue
        totals[service] = totals.get(service, 0.0) + value
    return totals


def variant_counts(
    before: Mapping[str, float], after: Mapping[str, float], leaves: Mapping[str, tuple[str, ...]]
) -> dict[str, int]:
    """Requests each variant's leaf services served between two scrapes."""
    return {
        variant: round(sum(after.get(s, 0.0) - before.get(s, 0.0) for s in services))
        for variant, services in leaves.items()
    }


def exported(totals: Mapping[str, float], leaves: Mapping[str, tuple[str, ...]]) -> bool:
    """Whether Traefik exports a series for any of the leaf services. None exported after the load means the names
    are not the ones this Traefik uses (a zero count would then be a naming question, not a disagreement)."""
    return any(s in totals for services in leaves.values() for s in services)
