"""dbc_validate/data/traefik-install.yaml is the one source of the Traefik install: the harness writes the workload from
it, the pin points at it, and the add-on pod model describes the same pod. A change to one of the three files
without the others fails here."""

from __future__ import annotations

import copy
import re
from dataclasses import replace

import pytest
import yaml

from dbc_validate.analysis.addons import AddonPod
from dbc_validate.analysis.addons_file import addons_path, load_addons
from dbc_validate.analysis.container_ports import ContainerPort
from dbc_validate.analysis.live.addon_manifests import traefik_objects
from dbc_validate.analysis.live.traefik_install import (
    install_problems,
    parse_traefik_install,
    pin_disagreements,
    pod_model_disagreements,
)
from dbc_validate.analysis.pod_security import evaluate_pod
from dbc_validate.cluster.pins import PINS_FILE, load_pins, parse_pins, read_yaml, with_traefik_settings
from dbc_validate.errors import InputError
from dbc_validate.resources import data_path

SETTINGS = data_path("traefik-install.yaml")


@pytest.fixture(scope="module")
def data() -> dict:
    return yaml.safe_load(SETTINGS.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def install(data):
    return parse_traefik_install(data, str(SETTINGS))


@pytest.fixture(scope="module")
def pod_model() -> AddonPod:
    return next(a for a in load_addons(addons_path()) if a.role == "ingress-controller")


def test_the_three_files_describe_one_traefik(install, pod_model):
    pins = load_pins()
    pin = pins.addon("traefik")
    assert pin is not None and pin.settings == "traefik-install.yaml"
    assert pins.traefik == install
    assert pin_disagreements(install, pin.version, pin.namespace) == []
    assert pod_model_disagreements(install, pod_model) == []
    assert pin.wait == (f"Deployment/{install.namespace}/{install.deployment}",)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: replace(p, namespace="traefik"), "namespace: the pod model says 'traefik'"),
        (lambda p: replace(p, name="traefik-ingress"), "workload name"),
        (lambda p: replace(p, service_account="traefik"), "service account: the pod model says 'traefik'"),
        (lambda p: replace(p, labels={"app.kubernetes.io/name": "traefik"}), "pod labels"),
        # The Helm chart's ports, which the harness's Traefik does not expose.
        (
            lambda p: replace(p, ports=(*p.ports, ContainerPort(8443, "TCP", "websecure"))),
            "adds [('websecure', 8443, 'TCP')]",
        ),
        (lambda p: replace(p, ports=p.ports[:1]), "lacks [('metrics', 9100, 'TCP')]"),
    ],
)
def test_a_pod_model_that_drifts_from_the_install_is_caught(install, pod_model, change, expected):
    problems = pod_model_disagreements(install, change(pod_model))
    assert len(problems) == 1 and expected in problems[0]


def test_a_pin_that_drifts_from_the_install_is_refused_when_the_pins_load(install):
    assert pin_disagreements(install, "v3.7.16", "ingress-system") == [
        "version: pinned v3.7.16, the install declares v3.7.15"
    ]
    data = yaml.safe_load(data_path(PINS_FILE).read_text(encoding="utf-8"))
    next(a for a in data["addons"] if a["name"] == "traefik")["namespace"] = "kube-system"
    with pytest.raises(InputError, match="disagree: namespace: pinned kube-system"):
        with_traefik_settings(parse_pins(data), lambda name: read_yaml(data_path(name)))
    without_settings = yaml.safe_load(data_path(PINS_FILE).read_text(encoding="utf-8"))
    next(a for a in without_settings["addons"] if a["name"] == "traefik").pop("settings")
    with pytest.raises(InputError, match="lacks settings"):
        parse_pins(without_settings)


def test_the_pins_keep_only_what_pinning_needs():
    entry = next(a for a in read_yaml(data_path(PINS_FILE))["addons"] if a["name"] == "traefik")
    assert set(entry) == {"name", "version", "namespace", "install", "settings", "wait", "serves"}


def test_the_workload_is_written_from_the_settings_file(install, data):
    objects = {o["kind"]: o for o in traefik_objects(install)}
    assert list(objects) == ["ServiceAccount", "ClusterRoleBinding", "Deployment", "Service"]
    traefik = data["traefik"]
    deployment = objects["Deployment"]
    pod = deployment["spec"]["template"]
    container = pod["spec"]["containers"][0]
    assert deployment["metadata"]["namespace"] == traefik["namespace"] == "ingress-system"
    assert deployment["spec"]["replicas"] == traefik["replicas"]
    assert pod["metadata"]["labels"] == deployment["spec"]["selector"]["matchLabels"] == traefik["podLabels"]
    assert (
        pod["spec"]["serviceAccountName"]
        == "traefik-ingress-controller"
        == objects["ServiceAccount"]["metadata"]["name"]
    )
    assert container["image"] == traefik["image"] and container["args"] == traefik["args"]
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"web": 8000, "metrics": 9100}
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/ping", "port": "metrics"}
    assert container["resources"] == traefik["resources"]
    assert container["securityContext"] == traefik["securityContext"]
    assert pod["spec"]["securityContext"] == traefik["podSecurityContext"]
    service = objects["Service"]
    assert service["spec"]["type"] == "NodePort" and service["spec"]["selector"] == traefik["podLabels"]
    assert {p["name"]: (p["port"], p["targetPort"], p.get("nodePort")) for p in service["spec"]["ports"]} == {
        "web": (80, "web", 30080),
        "metrics": (9100, "metrics", 30091),
    }
    binding = objects["ClusterRoleBinding"]
    assert binding["roleRef"]["name"] == "traefik-ingress-controller"  # the upstream ClusterRole
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "traefik-ingress-controller", "namespace": "ingress-system"}
    ]
    # Editing the file changes the workload: nothing is hard-coded beside it.
    moved = parse_traefik_install(_edited(data, lambda t: t["podLabels"].update({"tier": "edge"})), "edited")
    assert traefik_objects(moved)[2]["spec"]["template"]["metadata"]["labels"]["tier"] == "edge"


def test_the_written_pod_satisfies_pod_security_restricted(install):
    deployment = traefik_objects(install)[2]
    assert evaluate_pod(deployment["spec"]["template"]["spec"]) == []
    loose = replace(install, security_context={**install.security_context, "allowPrivilegeEscalation": True})
    rules = {v.rule for v in evaluate_pod(traefik_objects(loose)[2]["spec"]["template"]["spec"])}
    assert rules == {"pod-security.allow-privilege-escalation"}  # the check can fail


def _edited(data: dict, edit) -> dict:
    copied = copy.deepcopy(data)
    edit(copied["traefik"])
    return copied


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            lambda t: t["ports"]["web"].update(containerPort=8001),
            "containerPort 8001 but its entryPoint listens on :8000",
        ),
        (lambda t: t["args"].remove("--entryPoints.metrics.address=:9100/tcp"), "no --entryPoints.metrics.address"),
        (lambda t: t["probes"]["readiness"].update(port="traefik"), "readiness probe uses port 'traefik'"),
        (lambda t: t["args"].append("--ping.entryPoint=traefik"), "--ping.entrypoint=traefik names no declared port"),
        (lambda t: t.update(image="docker.io/library/traefik:v3.6.0"), "is not tagged with version v3.7.15"),
        (lambda t: t.pop("serviceAccount"), "traefik lacks serviceAccount"),
    ],
)
def test_an_inconsistent_settings_file_is_refused_naming_the_problem(data, edit, problem):
    with pytest.raises(InputError, match=re.escape(problem)):
        parse_traefik_install(_edited(data, edit), "traefik-install.yaml")


def test_the_metrics_port_is_the_entry_point_prometheus_is_served_on(install, data):
    assert install.metrics_port is not None and install.metrics_port.name == "metrics"
    assert install_problems(install) == []
    no_metrics = parse_traefik_install(
        _edited(data, lambda t: t.update(args=[a for a in t["args"] if not a.startswith("--metrics.")])), "edited"
    )
    assert no_metrics.metrics_port is None
