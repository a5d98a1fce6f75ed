"""The NetworkPolicy engine, with policy semantics as data (selectors, peers, ports, policies).

Public API (stable; other tiers depend on it):
- `build_model(manifest_set, addons=None) -> ClusterModel` (add-ons default to dbc_validate/data/addons.yaml),
- `allowed(model, src, dst, port, protocol) -> Decision(allowed: bool, explanation: Explanation)`,
- `expected_matrix(model) -> list[Flow]` with Flow(source, destination, port, protocol, allowed).
"""

from __future__ import annotations

from dbc_validate.analysis.cluster_model import ClusterModel, Workload, build_model
from dbc_validate.analysis.netpol.engine import Decision, Explanation, UnknownEndpoint, allowed
from dbc_validate.analysis.netpol.matrix import Flow, expected_matrix

__all__ = [
    "ClusterModel",
    "Decision",
    "Explanation",
    "Flow",
    "UnknownEndpoint",
    "Workload",
    "allowed",
    "build_model",
    "expected_matrix",
]
