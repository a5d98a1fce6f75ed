"""`dbc-validate plan --target kind|k3d|kubeconfig [--manifests PATH]`: print what a cluster run would do,
without Docker or a cluster: the cluster, pinned add-ons, images to build and load, secrets to generate,
objects in apply order and the checks that will run or skip."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from dbc_validate.analysis.live.apply_order import apply_plan
from dbc_validate.analysis.live.cluster_commands import create_command, delete_command, load_image_command
from dbc_validate.analysis.live.cluster_ingress import mapped_host_port
from dbc_validate.analysis.live.plan import (
    AddonLine,
    CollectedCheck,
    Plan,
    capability_lines,
    plan_check,
    render_plan,
)
from dbc_validate.analysis.live.safety import lifecycle, prod_context_refusal
from dbc_validate.analysis.live.secrets import secret_plan
from dbc_validate.capabilities import Capability
from dbc_validate.cluster.cluster_config import render, with_servers
from dbc_validate.cluster.pins import (
    Pins,
    cluster_config_path,
    images_to_build,
    load_pins,
    read_yaml,
    referenced_images,
)
from dbc_validate.criteria import criteria_of
from dbc_validate.errors import InputError, ManifestError
from dbc_validate.manifests.deploy_time_secrets import load_deploy_time_secrets
from dbc_validate.manifests.model import ManifestSet, load_manifest_set
from dbc_validate.manifests.overlays import default_manifests
from dbc_validate.options import add_arguments, settings_from_args
from dbc_validate.settings import Settings
from dbc_validate.targets.cluster import cluster_capability_scopes
from dbc_validate.targets.kubeconfig import read_context

CLUSTER_TARGETS = ("k3d", "kind", "kubeconfig")
PLAN_OPTIONS = (
    "--target",
    "--manifests",
    "--kubeconfig",
    "--cluster-name",
    "--with-observability",
    "--allow-destructive",
    "--allow-prod-context",
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plan", help="print what a cluster run would do (cluster, add-ons, images, apply order, checks); no Docker"
    )
    # The run's own options, from the plugin's table: same names, environment variables and checks.
    add_arguments(parser, PLAN_OPTIONS)
    parser.add_argument("--suites", type=Path, default=Path("suites/gate1"), help="suites whose checks are listed")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def _manifests(settings: Settings, root: Path) -> tuple[ManifestSet | None, str]:
    if settings.manifests is not None:  # checked to exist when the settings were resolved
        return load_manifest_set(settings.manifests), ""
    path = default_manifests(root, settings.target)
    try:
        return load_manifest_set(path), ""
    except ManifestError as exc:
        return None, f"no manifest set to plan from ({exc.problem}); pass --manifests PATH"


def collect_checks(suites: Path) -> tuple[list[CollectedCheck], str]:
    """The Gate 1 tests under `suites`, collected by pytest itself (nothing runs)."""
    names = {c.value for c in Capability}
    found: list[CollectedCheck] = []

    class Collector:
        def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
            for item in items:
                criteria = criteria_of(item)
                if criteria:
                    caps = tuple(n for n in getattr(item, "fixturenames", ()) if n in names)
                    destructive = item.get_closest_marker("destructive") is not None
                    found.append(CollectedCheck(item.nodeid, criteria, caps, destructive))

    if not suites.exists():
        return [], f"no suites at {suites}"
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        code = pytest.main([str(suites), "--collect-only", "-q", "-p", "no:cacheprovider"], plugins=[Collector()])
    note = (
        ""
        if code in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
        else f"collection of {suites} reported errors"
    )
    return found, note


def _cluster_section(plan: Plan, settings: Settings, pins: Pins) -> None:
    if settings.target == "kubeconfig":
        path = settings.kubeconfig
        plan.cluster_lines.append("an existing cluster, judged as deployed: nothing is created, installed or applied")
        if path is None:
            plan.cluster_lines.append("kubeconfig: none given (pass --kubeconfig PATH or set KUBECONFIG)")
            return
        context = read_context(path)
        refusal = prod_context_refusal(context, settings.allow_prod_context)
        plan.cluster_lines.append(f"kubeconfig {path}: context {context.name!r}, cluster {context.cluster!r}")
        plan.cluster_lines.append(f"REFUSED: {refusal}" if refusal else "context accepted")
        return
    pin = pins.clusters[settings.target]
    tool, name = settings.target, settings.cluster_name
    plan.cluster_lines += [
        f"{pin.cli}, cluster {name!r}: {lifecycle(name, False, False).say}",
        f"create: {shlex.join(create_command(tool, tool, name, str(cluster_config_path(pin)), pin.node_image))}",
        f"delete at the end: {shlex.join(delete_command(tool, tool, name))}",
        "(an existing cluster of that name is reused; --keep-cluster keeps it at the end)",
        f"node image: {pin.node_image}",
        f"storage class expected for PVCs: {pin.storage_class}",
        f"config {pin.config} with {settings.servers} server(s) (--servers):",
    ]
    config = cluster_config_path(pin)
    if config.is_file():
        # As the target writes it: the packaged file with --servers applied.
        packaged = read_yaml(config) or {}
        plan.cluster_config = render(with_servers(tool, packaged, settings.servers))
    else:
        plan.cluster_config = f"(missing: {config})"


def ingress_how(target: str, pins: Pins) -> str:
    """How the run reaches Traefik: the host port the cluster config maps to its web NodePort, or a port-forward."""
    install = pins.traefik
    web = install.port("web")
    if target == "kubeconfig":
        return f"kubectl port-forward to svc {install.namespace}/{install.service_name}:{web.service_port}"
    config = pins.clusters[target].config
    try:
        address = mapped_host_port(
            target, read_yaml(cluster_config_path(pins.clusters[target])) or {}, web.node_port or 0, config
        )
    except InputError as exc:
        return f"NOT REACHABLE: {exc}"
    return f"{address.address}:{address.port} -> NodePort {web.node_port}, mapped by {config}"


def plan_settings(args: argparse.Namespace, root: Path) -> Settings:
    """The run's Settings from the plan's flags and the environment; InputError for a bad value."""
    settings = settings_from_args(args, root, PLAN_OPTIONS)
    if settings.target not in CLUSTER_TARGETS:
        raise InputError(
            f"plan needs a cluster target, got {settings.target!r} (from {settings.target_source})",
            f"pass --target {', '.join(CLUSTER_TARGETS)}",
        )
    return settings


def build(args: argparse.Namespace, root: Path) -> Plan:
    settings = plan_settings(args, root)
    target, observability = settings.target, settings.with_observability
    pins = load_pins()
    plan = Plan(target)
    _cluster_section(plan, settings, pins)
    plan.addons = [
        AddonLine(a.name, a.version, a.namespace, tuple(a.sources)) for a in pins.addons_for(target, observability)
    ]
    ms, plan.manifests_note = _manifests(settings, root)
    if ms is not None and target != "kubeconfig":
        plan.images = [
            (r.image, r.context, shlex.join(load_image_command(target, target, settings.cluster_name, r.image)))
            for r in images_to_build(pins.images, referenced_images(ms.objects))
        ]
        plan.secrets = secret_plan(ms, load_deploy_time_secrets(ms.source, root), target)
        served = pins.served_groups(target, observability)
        plan.apply = apply_plan([o for o in ms.objects if o.kind != "SealedSecret"], served)
        if ms.of_kind("SealedSecret"):
            plan.notes.append("the set's own SealedSecrets are replaced by ones sealed for this cluster's controller")
    elif ms is not None:
        plan.manifests_note = f"{ms.source}: {len(ms)} objects judged against what the cluster runs (not applied)"
    checks, note = collect_checks(args.suites if args.suites.is_absolute() else root / args.suites)
    scopes = cluster_capability_scopes()
    plan.capabilities = capability_lines({c.value: s.value for c, s in scopes.items()}, ingress_how(target, pins))
    offered = {c.value for c in scopes}
    plan.checks = [plan_check(c, target, offered, settings.allow_destructive, observability) for c in checks]
    if note:
        plan.notes.append(note)
    plan.notes.append("the cluster tier has not yet been run by this project's own CI")
    return plan


def run(args: argparse.Namespace) -> int:
    plan = build(args, Path.cwd())
    if args.format == "json":
        print(json.dumps(plan.as_json(), indent=2))
    else:
        print(render_plan(plan), end="")
    return 0
