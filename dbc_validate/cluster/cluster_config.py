"""The kind/k3d cluster config for a number of servers: the packaged file (3 control-plane nodes / 3 k3s servers
on embedded etcd, as production) adjusted for `--servers N` (pure, plus rendering to text)."""

from __future__ import annotations

import copy
from typing import Any

import yaml


def with_servers(tool: str, config: dict[str, Any], servers: int) -> dict[str, Any]:
    """`config` with `servers` control-plane nodes (kind) or k3s servers (k3d); other nodes are kept.

    kind: the first control-plane node keeps its port mappings, the others are plain control-plane nodes.
    k3d: `servers: N`; k3d starts the first server with --cluster-init (embedded etcd) when N > 1.
    """
    if servers < 1:
        raise ValueError(f"a cluster needs at least one server, got {servers}")
    result = copy.deepcopy(config)
    if tool == "k3d":
        result["servers"] = servers
        return result
    if tool != "kind":
        raise ValueError(f"no cluster config for tool {tool!r}")
    nodes = result.get("nodes") or [{"role": "control-plane"}]
    control = [n for n in nodes if n.get("role") == "control-plane"]
    others = [n for n in nodes if n.get("role") != "control-plane"]
    first = control[0] if control else {"role": "control-plane"}
    result["nodes"] = [first, *({"role": "control-plane"} for _ in range(servers - 1)), *others]
    return result


def servers_of(tool: str, config: dict[str, Any]) -> int:
    """How many servers a kind/k3d config creates."""
    if tool == "k3d":
        return int(config.get("servers", 1))
    return sum(1 for n in config.get("nodes") or [{"role": "control-plane"}] if n.get("role") == "control-plane")


def render(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, sort_keys=False)
