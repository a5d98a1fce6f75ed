"""dbc_validate/data/addons.yaml: the pods the targets' add-ons run, as checked against their upstream installs."""

from __future__ import annotations

import re

import pytest

from dbc_validate.analysis.addons import addons_from_data
from dbc_validate.analysis.addons_file import addons_path, load_addons
from dbc_validate.errors import InputError


@pytest.fixture(scope="module")
def addons():
    return {a.role: a for a in load_addons(addons_path())}


def test_traefik_runs_in_ingress_system_with_the_helm_chart_labels_and_ports(addons):
    traefik = addons["ingress-controller"]
    assert traefik.id == "ingress-system/traefik"
    assert traefik.labels == {
        "app.kubernetes.io/name": "traefik",
        "app.kubernetes.io/instance": "traefik-ingress-system",
    }
    # The ports the installed Traefik exposes (dbc_validate/data/traefik-install.yaml): web and metrics only.
    assert {(p.name, p.port) for p in traefik.ports} == {("web", 8000), ("metrics", 9100)}


def test_the_cnpg_operator_is_cnpg_controller_manager_in_cnpg_system(addons):
    operator = addons["cnpg-operator"]
    assert operator.id == "cnpg-system/cnpg-controller-manager"
    assert operator.labels == {"app.kubernetes.io/name": "cloudnative-pg"}
    assert operator.service_account == "cnpg-manager"


def test_the_sealed_secrets_controller_runs_in_kube_system(addons):
    controller = addons["sealed-secrets-controller"]
    assert controller.id == "kube-system/sealed-secrets-controller"
    assert controller.labels == {"name": "sealed-secrets-controller"}
    assert {(p.name, p.port) for p in controller.ports} == {("http", 8080), ("metrics", 8081)}


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "expected a mapping with an 'addons' list"),
        ({"addons": ["x"]}, "addons[0] is not a mapping"),
        ({"addons": [{"role": "ingress-controller", "namespace": "n"}]}, "addons[0] lacks name, podLabels"),
        ({"addons": [{"role": "dns", "namespace": "n", "name": "x", "podLabels": {"a": "b"}}]}, "is not one of"),
        (
            {
                "addons": [
                    {
                        "role": "cnpg-operator",
                        "namespace": "n",
                        "name": "x",
                        "podLabels": {"a": "b"},
                        "ports": [{"name": "p"}],
                    }
                ]
            },
            "every port needs a containerPort",
        ),
    ],
)
def test_a_malformed_addons_file_is_an_input_error_naming_the_entry(data, problem):
    with pytest.raises(InputError, match=re.escape(problem)):
        addons_from_data(data, "addons.yaml")


def test_a_missing_addons_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot read the add-ons file"):
        load_addons(tmp_path / "absent.yaml")
