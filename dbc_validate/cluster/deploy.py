"""Deploy onto a kind/k3d cluster: pinned add-ons, locally built images, test secrets sealed with the
controller's certificate, the manifest set applied server-side phase by phase, readiness waits in between.
Thin: the order, the transforms, what to generate and what "ready" means are decided in analysis.live."""

from __future__ import annotations

import secrets as random_source
import string
import tempfile
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dbc_validate.analysis.live.addon_manifests import (
    namespace_object,
    service_proxy_path,
    traefik_objects,
    with_kubelet_insecure_tls,
    without_upstream_binding,
)
from dbc_validate.analysis.live.apply_order import ApplyPlan, apply_plan
from dbc_validate.analysis.live.cluster_commands import build_image_command
from dbc_validate.analysis.live.pods import restart_counts
from dbc_validate.analysis.live.readiness import WAITED_KINDS
from dbc_validate.analysis.live.secrets import SecretPlan, digests_of, generate_values, secret_plan
from dbc_validate.cluster.kubectl import ClusterError, Kubectl
from dbc_validate.cluster.lifecycle import ClusterCli, run_tool
from dbc_validate.cluster.pins import Addon, Pins, images_to_build, referenced_images
from dbc_validate.cluster.sealing import public_key_from_cert, sealed_secret
from dbc_validate.cluster.waits import wait_ready
from dbc_validate.errors import InputError
from dbc_validate.manifests.deploy_time_secrets import FILE_NAME, load_deploy_time_secrets
from dbc_validate.manifests.model import ManifestSet

SEALED_SECRETS_SERVICE = ("kube-system", "sealed-secrets-controller")
_ALPHABET = string.ascii_letters + string.digits


def random_token(length: int) -> str:
    return "".join(random_source.choice(_ALPHABET) for _ in range(length))


def deploy_secret_plan(ms: ManifestSet, root: Path, overlay: str) -> SecretPlan:
    """The test secrets a kind/k3d deploy of `ms` as `overlay` generates, from the set's deploy-time-secrets.yaml
    when it has one. A Secret (or key) a workload reads that nothing provides is refused here, before anything is
    created or applied: the workload would not start (CreateContainerConfigError)."""
    plan = secret_plan(ms, load_deploy_time_secrets(ms.source, root), overlay)
    if plan.undeclared:
        raise InputError(
            f"workloads of {ms.source} read Secrets that the {overlay} deploy would not provide: "
            f"{'; '.join(str(u) for u in plan.undeclared)} (test secrets {plan.basis})",
            f"declare them in {FILE_NAME} (an entry with overlay {overlay} and the keys in `data`), "
            "or add them to the manifest set",
        )
    return plan


@dataclass
class DeployRecord:
    """What the deploy did, for the live checks: never a secret value, only digests."""

    addons: dict[str, str] = field(default_factory=dict)  # name -> version
    images: list[str] = field(default_factory=list)
    secret_digests: dict[str, dict[str, str]] = field(default_factory=dict)  # "ns/name" -> key -> sha256
    baseline_restarts: dict[str, int] = field(default_factory=dict)
    observability: bool = False
    grafana_password: str = field(default="", repr=False)


def fetch_documents(url: str, timeout_s: float = 60.0) -> list[dict[str, Any]]:
    """The YAML documents at a pinned URL."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            text = response.read().decode("utf-8")
    except OSError as exc:
        raise ClusterError(f"cannot download {url}: {exc}") from None
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]


class Deployer:
    def __init__(
        self,
        kubectl: Kubectl,
        cli: ClusterCli,
        pins: Pins,
        target: str,
        root: Path,
        with_observability: bool,
        progress: Callable[[str], None],
    ) -> None:
        self.kubectl = kubectl
        self.cli = cli
        self.pins = pins
        self.target = target
        self.root = root
        self.with_observability = with_observability
        self.progress = progress
        self.record = DeployRecord(observability=with_observability)

    # ---- add-ons -------------------------------------------------------------------------------------

    def install_addons(self) -> None:
        for addon in self.pins.addons_for(self.target, self.with_observability):
            self.progress(f"add-on {addon.name} {addon.version} -> {addon.namespace}")
            if addon.install == "helm":
                self._helm(addon)
            elif addon.install == "traefik":
                self._traefik(addon)
            else:
                docs = fetch_documents(addon.url)
                if addon.patch == "kubelet-insecure-tls":
                    docs = with_kubelet_insecure_tls(docs)
                self.kubectl.apply([namespace_object(addon.namespace), *docs])
            if addon.wait:
                wait_ready(self.kubectl, [addon.namespace], addon.wait, self.progress, what=f"add-on {addon.name}")
            self.record.addons[addon.name] = addon.version

    def _traefik(self, addon: Addon) -> None:
        install = addon.traefik
        if install is None:
            raise ClusterError(f"add-on {addon.name}: its settings file {addon.settings} was not read")
        self.kubectl.apply(fetch_documents(install.crds))
        self.kubectl.apply(without_upstream_binding(fetch_documents(install.rbac)))
        self.kubectl.apply([namespace_object(install.namespace), *traefik_objects(install)])

    def _helm(self, addon: Addon) -> None:
        values: dict[str, Any] = dict(addon.values)
        if addon.chart == "kube-prometheus-stack":
            self.record.grafana_password = random_token(24)
            values.setdefault("grafana", {})["adminPassword"] = self.record.grafana_password
            # The set's dashboard ConfigMaps live beside their apps, not in the stack's namespace.
            sidecar = values["grafana"].setdefault("sidecar", {}).setdefault("dashboards", {})
            sidecar.setdefault("searchNamespace", "ALL")
            # Scrape the manifest set's ServiceMonitors/PodMonitors, not only the chart's own.
            prometheus_spec = values.setdefault("prometheus", {}).setdefault("prometheusSpec", {})
            prometheus_spec["serviceMonitorSelectorNilUsesHelmValues"] = False
            prometheus_spec["podMonitorSelectorNilUsesHelmValues"] = False
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=True) as handle:
            yaml.safe_dump(values, handle)
            handle.flush()
            run_tool(
                [
                    "helm", "upgrade", "--install", addon.name, addon.chart, "--repo", addon.repo,
                    "--version", addon.version, "--namespace", addon.namespace, "--create-namespace",
                    "--kubeconfig", str(self.kubectl.kubeconfig), "--values", handle.name,
                    "--wait", "--timeout", "15m",
                ],
                timeout_s=1000.0,
            )  # fmt: skip

    # ---- images and secrets --------------------------------------------------------------------------

    def build_and_load_images(self, ms: ManifestSet) -> None:
        for recipe in images_to_build(self.pins.images, referenced_images(ms.objects)):
            context = self.root / recipe.context
            if not (context / "Dockerfile").is_file():
                raise ClusterError(f"no Dockerfile for {recipe.image} at {context}")
            self.progress(f"building {recipe.image} from {recipe.context} (docker build; minutes on a cold cache)")
            run_tool(build_image_command(recipe.image, str(context)), timeout_s=3600.0)
            self.progress(f"loading {recipe.image} into {self.cli.tool} cluster {self.cli.name!r}")
            self.cli.load_image(recipe.image)
            self.record.images.append(recipe.image)

    def sealed_test_secrets(self, plan: SecretPlan) -> list[dict[str, Any]]:
        """Fresh values for every secret of the plan, sealed with this cluster's controller certificate."""
        specs = plan.specs
        if not specs:
            return []
        ns, name = SEALED_SECRETS_SERVICE
        service = self.kubectl.get("service", name, ns)
        if service is None:
            raise ClusterError(f"Service {ns}/{name} not found: the Sealed Secrets controller is not installed")
        cert = self.kubectl.raw(service_proxy_path(service, "/v1/cert.pem")).encode()
        key = public_key_from_cert(cert)
        values = generate_values(specs, random_token)
        self.record.secret_digests = digests_of(values)
        self.progress(
            f"sealed {len(specs)} test secret(s) {plan.basis} with the controller's certificate (values kept in memory)"
        )
        return [sealed_secret(spec, values[spec.ref], key) for spec in specs]

    # ---- the manifest set ----------------------------------------------------------------------------

    def plan(self, ms: ManifestSet) -> ApplyPlan:
        served = self.pins.served_groups(self.target, self.with_observability)
        # The set's own SealedSecrets were sealed for another cluster's key: the generated ones replace them.
        objects = [o for o in ms.objects if o.kind != "SealedSecret"]
        return apply_plan(objects, served)

    def apply_manifests(self, ms: ManifestSet, sealed: Sequence[Mapping[str, Any]]) -> None:
        plan = self.plan(ms)
        for obj, why in plan.skipped:
            self.progress(f"not applied: {obj.ref} ({why})")
        namespaces = ms.namespaces
        for phase in plan.phases:
            docs = [dict(o.body) for o in phase.objects]
            if phase.name == "foundation":
                docs += [dict(s) for s in sealed]
            self.progress(f"applying phase {phase.name}: {len(docs)} object(s)")
            self.kubectl.apply(docs)
            expected = [o.ref for o in phase.objects if o.kind in WAITED_KINDS and o.namespace]
            if phase.name == "foundation":
                expected += [f"SealedSecret/{s['metadata']['namespace']}/{s['metadata']['name']}" for s in sealed]
            wait_ready(self.kubectl, namespaces, expected, self.progress, what=f"phase {phase.name}")

    def deploy(self, ms: ManifestSet, secrets: SecretPlan) -> DeployRecord:
        self.install_addons()
        self.build_and_load_images(ms)
        sealed = self.sealed_test_secrets(secrets)
        self.apply_manifests(ms, sealed)
        pods = [p for ns in ms.namespaces for p in self.kubectl.items("pods", ns)]
        self.record.baseline_restarts = restart_counts(pods)
        return self.record
