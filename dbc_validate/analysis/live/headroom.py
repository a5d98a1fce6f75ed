"""Resource headroom: node usage against allocatable and container usage against limits (metrics API)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.analysis.live.pods import Obj, name_of, namespace_of
from dbc_validate.analysis.live.quantities import parse_quantity, percent


@dataclass(frozen=True)
class Usage:
    subject: str
    cpu_percent: float | None
    memory_percent: float | None
    basis: str  # "allocatable" | "limit"


def node_usage(node_metrics: Sequence[Obj], nodes: Sequence[Obj]) -> list[Usage]:
    allocatable = {name_of(n): (n.get("status") or {}).get("allocatable") or {} for n in nodes}
    result = []
    for m in node_metrics:
        alloc = allocatable.get(name_of(m))
        if alloc is None:
            continue
        usage = m.get("usage") or {}
        result.append(
            Usage(
                f"Node/{name_of(m)}",
                percent(parse_quantity(usage.get("cpu", 0)), parse_quantity(alloc.get("cpu", 0))),
                percent(parse_quantity(usage.get("memory", 0)), parse_quantity(alloc.get("memory", 0))),
                "allocatable",
            )
        )
    return result


@dataclass(frozen=True)
class ContainerLoad:
    """One container's use from the metrics API beside its limits (None: no limit for that resource)."""

    subject: str
    cpu_cores: float
    memory_bytes: float
    cpu_limit_cores: float | None
    memory_limit_bytes: float | None


def container_loads(pod_metrics: Sequence[Obj], pods: Sequence[Obj]) -> list[ContainerLoad]:
    """Use of every container the metrics API reports that belongs to one of `pods`, with its limits."""
    limits: dict[tuple[str, str, str], Mapping[str, str]] = {}
    for pod in pods:
        for c in (pod.get("spec") or {}).get("containers") or []:
            limits[(namespace_of(pod), name_of(pod), c["name"])] = ((c.get("resources") or {}).get("limits")) or {}
    result = []
    for m in pod_metrics:
        for c in m.get("containers") or []:
            key = (namespace_of(m), name_of(m), c.get("name", ""))
            if key not in limits:
                continue
            usage, limit = c.get("usage") or {}, limits[key]
            result.append(
                ContainerLoad(
                    f"Pod/{key[0]}/{key[1]} (container {key[2]})",
                    parse_quantity(usage.get("cpu", 0)),
                    parse_quantity(usage.get("memory", 0)),
                    parse_quantity(limit["cpu"]) if "cpu" in limit else None,
                    parse_quantity(limit["memory"]) if "memory" in limit else None,
                )
            )
    return result


def container_usage(pod_metrics: Sequence[Obj], pods: Sequence[Obj]) -> list[Usage]:
    """Usage against each container's limits; a container without a limit gets None for that resource."""
    return [
        Usage(
            load.subject,
            percent(load.cpu_cores, load.cpu_limit_cores) if load.cpu_limit_cores is not None else None,
            percent(load.memory_bytes, load.memory_limit_bytes) if load.memory_limit_bytes is not None else None,
            "limit",
        )
        for load in container_loads(pod_metrics, pods)
    ]


@dataclass(frozen=True)
class HeaviestLoad:
    """The container closest to its CPU limit and the one closest to its memory limit (they may differ)."""

    cpu: ContainerLoad | None
    memory: ContainerLoad | None


def heaviest(loads: Sequence[ContainerLoad]) -> HeaviestLoad:
    """Gate 1 asks every container to stay under the threshold of its limits, so the soak follows the worst one
    per resource; containers without a limit for a resource cannot be judged on it and are left out."""
    cpu = [x for x in loads if x.cpu_limit_cores]
    memory = [x for x in loads if x.memory_limit_bytes]
    return HeaviestLoad(
        max(cpu, key=lambda x: x.cpu_cores / (x.cpu_limit_cores or 1), default=None),
        max(memory, key=lambda x: x.memory_bytes / (x.memory_limit_bytes or 1), default=None),
    )


def peaks(usages: Sequence[Usage]) -> tuple[float | None, float | None]:
    cpu = [u.cpu_percent for u in usages if u.cpu_percent is not None]
    mem = [u.memory_percent for u in usages if u.memory_percent is not None]
    return (max(cpu) if cpu else None, max(mem) if mem else None)


def headroom_findings(usages: Sequence[Usage], max_percent: float) -> list[Finding]:
    findings = []
    for u in usages:
        for resource, value in (("CPU", u.cpu_percent), ("memory", u.memory_percent)):
            if value is not None and value >= max_percent:
                findings.append(
                    finding(
                        "live.headroom",
                        u.subject,
                        f"{resource} at {value:.0f} % of its {u.basis} (limit {max_percent:g} %)",
                    )
                )
    return findings


def containers_without_limits(pods: Sequence[Obj]) -> list[str]:
    return [
        f"Pod/{namespace_of(p)}/{name_of(p)} (container {c['name']})"
        for p in pods
        for c in (p.get("spec") or {}).get("containers") or []
        if not {"cpu", "memory"} <= set(((c.get("resources") or {}).get("limits")) or {})
    ]
