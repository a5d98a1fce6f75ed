"""The Traefik the cluster targets install, as dbc_validate/data/traefik-install.yaml declares it (the one source), and
the checks that keep that file, the add-on pod model (dbc_validate/data/addons.yaml) and the pins in agreement. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dbc_validate.analysis.addons import AddonPod
from dbc_validate.errors import InputError

SETTINGS_FIX = "correct dbc_validate/data/traefik-install.yaml (its comments say what each key is for)"
REQUIRED = ("version", "image", "namespace", "deployment", "serviceAccount", "podLabels", "crds", "rbac", "ports")


@dataclass(frozen=True)
class TraefikPort:
    """An entryPoint: its container port and how the Service exposes it."""

    name: str
    container_port: int
    service_port: int
    node_port: int | None = None
    protocol: str = "TCP"


@dataclass(frozen=True)
class TraefikInstall:
    version: str
    image: str
    namespace: str
    deployment: str
    service_account: str
    pod_labels: Mapping[str, str] = field(hash=False)
    crds: str
    rbac: str
    ports: tuple[TraefikPort, ...]
    args: tuple[str, ...] = ()
    replicas: int = 1
    service_name: str = "traefik"
    service_type: str = "NodePort"
    probes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, hash=False)
    pod_security_context: Mapping[str, Any] = field(default_factory=dict, hash=False)
    security_context: Mapping[str, Any] = field(default_factory=dict, hash=False)
    resources: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def port(self, name: str) -> TraefikPort:
        for port in self.ports:
            if port.name == name:
                return port
        raise KeyError(f"Traefik declares no port {name!r} (ports: {', '.join(p.name for p in self.ports)})")

    def flag(self, name: str) -> str | None:
        """The value of a static-configuration argument (`--metrics.prometheus.entryPoint` -> "metrics")."""
        return flag_values(self.args).get(name.lower())

    @property
    def metrics_port(self) -> TraefikPort | None:
        """The port Prometheus metrics are served on (Traefik's default entryPoint is `traefik`)."""
        if self.flag("--metrics.prometheus") != "true":
            return None
        wanted = self.flag("--metrics.prometheus.entryPoint") or "traefik"
        return next((p for p in self.ports if p.name == wanted), None)


def flag_values(args: Sequence[str]) -> dict[str, str]:
    """`--key=value` arguments by lower-cased key (Traefik's flags are case-insensitive); `--flag` alone is "true"."""
    values: dict[str, str] = {}
    for arg in args:
        key, sep, value = str(arg).partition("=")
        values[key.lower()] = value if sep else "true"
    return values


def install_problems(install: TraefikInstall) -> list[str]:
    """What makes the declared install inconsistent with itself (the Deployment would not work as described)."""
    problems: list[str] = []
    flags = flag_values(install.args)
    names = {p.name for p in install.ports}
    for port in install.ports:
        address = flags.get(f"--entrypoints.{port.name.lower()}.address")
        if address is None:
            problems.append(f"port {port.name!r} has no --entryPoints.{port.name}.address argument")
        elif address.split("/")[0] != f":{port.container_port}":
            problems.append(
                f"port {port.name!r} is containerPort {port.container_port} but its entryPoint listens on {address}"
            )
    for flag in ("--metrics.prometheus.entrypoint", "--ping.entrypoint"):
        if flag in flags and flags[flag] not in names:
            problems.append(f"{flag}={flags[flag]} names no declared port ({', '.join(sorted(names))})")
    for probe, spec in install.probes.items():
        if spec.get("port") not in names:
            problems.append(f"the {probe} probe uses port {spec.get('port')!r}, which is not declared")
    if not install.image.endswith(":" + install.version):
        problems.append(f"image {install.image} is not tagged with version {install.version}")
    return problems


def _port(name: str, raw: Any, origin: str) -> TraefikPort:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("containerPort"), int):
        raise InputError(f"{origin}: traefik.ports.{name} needs an integer containerPort", SETTINGS_FIX)
    node_port = raw.get("nodePort")
    return TraefikPort(
        name=str(name),
        container_port=int(raw["containerPort"]),
        service_port=int(raw.get("servicePort") or raw["containerPort"]),
        node_port=int(node_port) if node_port else None,
        protocol=str(raw.get("protocol") or "TCP").upper(),
    )


def parse_traefik_install(data: Any, origin: str) -> TraefikInstall:
    """The `traefik:` entry of the settings file; InputError naming the file and what is wrong."""
    entry = data.get("traefik") if isinstance(data, Mapping) else None
    if not isinstance(entry, Mapping):
        raise InputError(f"{origin} has no `traefik:` mapping", SETTINGS_FIX)
    missing = [key for key in REQUIRED if not entry.get(key)]
    if missing:
        raise InputError(f"{origin}: traefik lacks {', '.join(missing)}", SETTINGS_FIX)
    if not isinstance(entry["ports"], Mapping) or not isinstance(entry["podLabels"], Mapping):
        raise InputError(f"{origin}: traefik.ports and traefik.podLabels must be mappings", SETTINGS_FIX)
    service = entry.get("service") or {}
    install = TraefikInstall(
        version=str(entry["version"]),
        image=str(entry["image"]),
        namespace=str(entry["namespace"]),
        deployment=str(entry["deployment"]),
        service_account=str(entry["serviceAccount"]),
        pod_labels={str(k): str(v) for k, v in entry["podLabels"].items()},
        crds=str(entry["crds"]),
        rbac=str(entry["rbac"]),
        ports=tuple(_port(name, raw, origin) for name, raw in entry["ports"].items()),
        args=tuple(str(a) for a in entry.get("args") or ()),
        replicas=int(entry.get("replicas") or 1),
        service_name=str(service.get("name") or entry["deployment"]),
        service_type=str(service.get("type") or "NodePort"),
        probes={str(k): dict(v) for k, v in (entry.get("probes") or {}).items()},
        pod_security_context=dict(entry.get("podSecurityContext") or {}),
        security_context=dict(entry.get("securityContext") or {}),
        resources=dict(entry.get("resources") or {}),
    )
    problems = install_problems(install)
    if problems:
        raise InputError(f"{origin}: {'; '.join(problems)}", SETTINGS_FIX)
    return install


def pod_model_disagreements(install: TraefikInstall, pod: AddonPod) -> list[str]:
    """How the add-on pod model's Traefik entry (dbc_validate/data/addons.yaml) differs from the install: the
    NetworkPolicy engine must judge the pod the cluster will really run."""
    declared = {(p.name, p.container_port, p.protocol) for p in install.ports}
    modelled = {(p.name, p.port, p.protocol) for p in pod.ports}
    checks = [
        ("namespace", pod.namespace, install.namespace),
        ("workload name", pod.name, install.deployment),
        ("service account", pod.service_account, install.service_account),
        ("pod labels", dict(pod.labels), dict(install.pod_labels)),
    ]
    found = [
        f"{what}: the pod model says {mine!r}, the install {theirs!r}"
        for what, mine, theirs in checks
        if mine != theirs
    ]
    if modelled != declared:
        extra, absent = sorted(modelled - declared, key=str), sorted(declared - modelled, key=str)
        found.append(f"ports: the pod model adds {extra or 'nothing'} and lacks {absent or 'nothing'}")
    return found


def pin_disagreements(install: TraefikInstall, version: str, namespace: str) -> list[str]:
    """How the traefik pin (dbc_validate/data/addon-versions.yaml) differs from the install it points at."""
    found = []
    if version != install.version:
        found.append(f"version: pinned {version}, the install declares {install.version}")
    if namespace != install.namespace:
        found.append(f"namespace: pinned {namespace}, the install declares {install.namespace}")
    return found
