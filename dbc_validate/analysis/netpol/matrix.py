"""The expected connectivity matrix: every workload pair x every port the destination declares.

Contract (the cluster tier probes it live; the manifest-set checks assert an app-path truth table on it):
`expected_matrix(model) -> list[Flow]`, Flow(source "ns/name", destination "ns/name", port int,
protocol "TCP"/"UDP"/"SCTP", allowed bool, port_name). DNS is included: kube-system/kube-dns declares
53/UDP and 53/TCP like any destination. A workload appears as its own destination only when it has
several pods (replicas, CNPG instances): pod-to-pod traffic inside it is then policed too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dbc_validate.analysis.cluster_model import ClusterModel
from dbc_validate.analysis.netpol.engine import compiled, pod_pairs


@dataclass(frozen=True)
class Flow:
    source: str
    destination: str
    port: int
    protocol: str
    allowed: bool
    port_name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The CLI's JSON shape: {"from", "to", "port", "protocol", "allowed"}."""
        return {
            "from": self.source,
            "to": self.destination,
            "port": self.port,
            "protocol": self.protocol,
            "allowed": self.allowed,
        }


def expected_matrix(model: ClusterModel) -> list[Flow]:
    """Every (source, destination, destination port) of the model with the engine's verdict, sorted."""
    index = compiled(model)
    flows: list[Flow] = []
    workloads = sorted(((w.id, w) for w in model.workloads), key=lambda item: item[0])
    pods = {workload_id: index.endpoints(workload_id) for workload_id, _ in workloads}
    for source_id, source in workloads:
        for destination_id, destination in workloads:
            if source is destination and len(destination.pods) < 2 and destination.replicas < 2:
                continue
            pairs = pod_pairs(pods[source_id], pods[destination_id], source is destination)
            for port in sorted(destination.ports, key=lambda p: (p.port, p.protocol)):
                verdict = index.flow_allowed(pairs, port.port, port.protocol)
                flows.append(Flow(source_id, destination_id, port.port, port.protocol, verdict, port.name))
    return flows
