"""The add-ons a target installs, described as the pods they run (parsed from dbc_validate/data/addons.yaml).

Pure: `addons_from_data` turns the file's parsed YAML into AddonPod records; reading the file is
`addons_file.default_addons()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dbc_validate.analysis.container_ports import ContainerPort, container_ports
from dbc_validate.errors import InputError

ROLES = ("ingress-controller", "cnpg-operator", "sealed-secrets-controller")


@dataclass(frozen=True)
class AddonPod:
    role: str  # one of ROLES: how rules find e.g. the CloudNativePG operator
    namespace: str
    name: str  # the workload's name (Deployment name): its identity is namespace/name
    kind: str
    labels: Mapping[str, str] = field(hash=False)
    service_account: str = "default"
    ports: tuple[ContainerPort, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"


def _fail(origin: str, problem: str) -> InputError:
    return InputError(f"{origin}: {problem}", "correct the add-ons file (see the comment at its top for the format)")


def addons_from_data(data: Any, origin: str = "addons.yaml") -> tuple[AddonPod, ...]:
    """AddonPods from `{"addons": [{role, namespace, kind, name, serviceAccount, podLabels, ports}]}`."""
    if not isinstance(data, Mapping) or not isinstance(data.get("addons"), list):
        raise _fail(origin, "expected a mapping with an 'addons' list")
    result = []
    for index, item in enumerate(data["addons"]):
        where = f"addons[{index}]"
        if not isinstance(item, Mapping):
            raise _fail(origin, f"{where} is not a mapping")
        missing = [key for key in ("role", "namespace", "name", "podLabels") if not item.get(key)]
        if missing:
            raise _fail(origin, f"{where} lacks {', '.join(missing)}")
        if item["role"] not in ROLES:
            raise _fail(origin, f"{where}.role {item['role']!r} is not one of {', '.join(ROLES)}")
        labels = item["podLabels"]
        if not isinstance(labels, Mapping):
            raise _fail(origin, f"{where}.podLabels is not a mapping")
        ports = container_ports(item.get("ports"))
        if len(ports) != len(item.get("ports") or []):
            raise _fail(origin, f"{where}.ports: every port needs a containerPort number")
        result.append(
            AddonPod(
                role=str(item["role"]),
                namespace=str(item["namespace"]),
                name=str(item["name"]),
                kind=str(item.get("kind") or "Deployment"),
                labels={str(k): str(v) for k, v in labels.items()},
                service_account=str(item.get("serviceAccount") or "default"),
                ports=ports,
            )
        )
    return tuple(result)
