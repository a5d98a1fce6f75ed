"""The pinned add-ons, node images and locally built images of the cluster tier (package data addon-versions.yaml)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from dbc_validate.analysis.live.templates import pod_spec_of
from dbc_validate.analysis.live.traefik_install import TraefikInstall, parse_traefik_install, pin_disagreements
from dbc_validate.errors import InputError
from dbc_validate.resources import ADDON_PINS, data_path

# libyaml's loader when PyYAML has it (about ten times faster; the pins are read by every cluster-tier plan).
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PINS_FILE = ADDON_PINS  # a package-data name, as are the `config:` and `settings:` names inside it
INSTALL_KINDS = ("manifest", "traefik", "helm")


@dataclass(frozen=True)
class Addon:
    name: str
    version: str
    namespace: str
    install: str  # "manifest" | "traefik" | "helm"
    url: str = ""
    repo: str = ""
    chart: str = ""
    settings: str = ""  # install "traefik": the package-data name of its settings file (traefik-install.yaml)
    values: Mapping[str, Any] = field(default_factory=dict)
    wait: tuple[str, ...] = ()
    serves: tuple[str, ...] = ()
    only_on: tuple[str, ...] = ()
    only_with: str = ""
    patch: str = ""
    traefik: TraefikInstall | None = None  # the parsed settings file (set by load_pins)

    @property
    def sources(self) -> list[str]:
        """Where it is installed from, for the plan."""
        if self.install == "helm":
            return [f"helm chart {self.chart} {self.version} from {self.repo}"]
        if self.install == "traefik":
            if self.traefik is None:
                return [f"settings {self.settings} (not read)"]
            return [
                self.traefik.crds,
                self.traefik.rbac,
                f"ServiceAccount, ClusterRoleBinding, Deployment and Service written by the harness from "
                f"{self.settings}, image {self.traefik.image}",
            ]
        return [self.url]


@dataclass(frozen=True)
class ClusterPins:
    node_image: str = ""
    config: str = ""  # package-data name of the kind/k3d cluster config
    storage_class: str | None = None
    metrics_server: str = ""
    cli: str = ""


@dataclass(frozen=True)
class ImageRecipe:
    image: str
    context: str


@dataclass(frozen=True)
class Pins:
    clusters: Mapping[str, ClusterPins]
    addons: tuple[Addon, ...]
    images: tuple[ImageRecipe, ...]
    probe_image: str

    def addons_for(self, target: str, with_observability: bool) -> list[Addon]:
        """The add-ons installed on `target` (none on an existing cluster: it is read-only)."""
        if target not in ("kind", "k3d"):
            return []
        return [
            a
            for a in self.addons
            if (not a.only_on or target in a.only_on)
            and (not a.only_with or (a.only_with == "observability" and with_observability))
        ]

    def addon(self, name: str) -> Addon | None:
        return next((a for a in self.addons if a.name == name), None)

    def served_groups(self, target: str, with_observability: bool) -> set[str]:
        return {g for a in self.addons_for(target, with_observability) for g in a.serves}

    @property
    def traefik(self) -> TraefikInstall:
        """The Traefik install the cluster targets deploy (and expect on an existing cluster)."""
        for addon in self.addons:
            if addon.install == "traefik" and addon.traefik is not None:
                return addon.traefik
        raise InputError(
            f"{PINS_FILE} pins no Traefik install with its settings file",
            "restore the traefik entry (install: traefik, settings: traefik-install.yaml)",
        )


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def parse_pins(data: Any, origin: str = str(PINS_FILE)) -> Pins:
    """Validate the pins document; InputError naming the file and the bad entry."""
    if not isinstance(data, Mapping):
        raise InputError(f"{origin} is not a mapping", "restore dbc_validate/data/addon-versions.yaml from git")
    addons = []
    for index, entry in enumerate(data.get("addons") or []):
        missing = [k for k in ("name", "version", "namespace", "install") if not entry.get(k)]
        if entry.get("install") == "traefik" and not entry.get("settings"):
            missing.append("settings")
        if missing or entry.get("install") not in INSTALL_KINDS:
            raise InputError(
                f"{origin}: add-on #{index + 1} lacks {', '.join(missing) or 'a valid install kind'}",
                f"give name, version, namespace and install (one of {', '.join(INSTALL_KINDS)}; "
                "install traefik also needs settings, the package-data name of its settings file)",
            )
        addons.append(
            Addon(
                name=str(entry["name"]),
                version=str(entry["version"]),
                namespace=str(entry["namespace"]),
                install=str(entry["install"]),
                url=str(entry.get("url", "")),
                repo=str(entry.get("repo", "")),
                chart=str(entry.get("chart", "")),
                settings=str(entry.get("settings", "")),
                values=dict(entry.get("values") or {}),
                wait=_tuple(entry.get("wait")),
                serves=_tuple(entry.get("serves")),
                only_on=_tuple(entry.get("only_on")),
                only_with=str(entry.get("only_with", "")),
                patch=str(entry.get("patch", "")),
            )
        )
    clusters = {
        str(name): ClusterPins(
            node_image=str(c.get("node_image", "")),
            config=str(c.get("config", "")),
            storage_class=c.get("storage_class"),
            metrics_server=str(c.get("metrics_server", "")),
            cli=str(c.get("cli", "")),
        )
        for name, c in (data.get("clusters") or {}).items()
    }
    for name in ("kind", "k3d"):
        pin = clusters.get(name)
        if pin is None or not pin.node_image:
            raise InputError(f"{origin}: no node image pinned for {name}", f"add clusters.{name}.node_image")
    if "@sha256:" not in clusters["kind"].node_image:
        raise InputError(
            f"{origin}: the kind node image {clusters['kind'].node_image} is not pinned by digest",
            "use the image@sha256 listed in the kind release notes",
        )
    return Pins(
        clusters=clusters,
        addons=tuple(addons),
        images=tuple(ImageRecipe(str(i["image"]), str(i["context"])) for i in data.get("images") or []),
        probe_image=str(data.get("probe_image", "")),
    )


def read_yaml(path: Path) -> Any:
    """A YAML file; InputError when it cannot be read or parsed."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", "reinstall dbc-validate or restore the file") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path} is not valid YAML: {exc}", "fix the YAML syntax") from None


def with_traefik_settings(pins: Pins, read: Callable[[str], Any], origin: str = str(PINS_FILE)) -> Pins:
    """The pins with each traefik add-on's settings file parsed (`read(path)` gives its YAML data); InputError
    when the file and the pin disagree on version or namespace."""
    addons = []
    for addon in pins.addons:
        if addon.install == "traefik":
            install = parse_traefik_install(read(addon.settings), addon.settings)
            problems = pin_disagreements(install, addon.version, addon.namespace)
            if problems:
                raise InputError(
                    f"{origin}: the traefik pin and {addon.settings} disagree: {'; '.join(problems)}",
                    "change both files together",
                )
            addon = replace(addon, traefik=install)
        addons.append(addon)
    return replace(pins, addons=tuple(addons))


def load_pins() -> Pins:
    """The packaged pins, with the Traefik settings file they name parsed."""
    path = data_path(PINS_FILE)
    return with_traefik_settings(
        parse_pins(read_yaml(path), str(path)), lambda name: read_yaml(data_path(name)), str(path)
    )


def cluster_config_path(pin: ClusterPins) -> Path:
    """The kind/k3d config file a cluster pin names (package data)."""
    return data_path(pin.config)


def referenced_images(objects: Sequence[Any]) -> set[str]:
    """Every image the manifest set runs: container images and CloudNativePG `imageName`."""
    found: set[str] = set()
    for obj in objects:
        if obj.kind == "Cluster" and obj.group == "postgresql.cnpg.io" and obj.spec.get("imageName"):
            found.add(str(obj.spec["imageName"]))
        pod = pod_spec_of(obj)
        for c in [*((pod or {}).get("initContainers") or []), *((pod or {}).get("containers") or [])]:
            if c.get("image"):
                found.add(str(c["image"]))
    return found


def images_to_build(recipes: Sequence[ImageRecipe], referenced: set[str]) -> list[ImageRecipe]:
    """The recipes whose image the manifest set references (others are not built)."""
    return [r for r in recipes if r.image in referenced]
