"""Secret rules: no plaintext Secret in the set, SealedSecrets carry encrypted data, references resolve."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from dbc_validate.analysis.cluster_model import CNPG_GROUP, ClusterModel, Workload, containers_of
from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.manifests.fields import dig, mapping
from dbc_validate.manifests.model import ManifestSet

SEALED_SECRETS_GROUP = "bitnami.com"
# Secrets the CloudNativePG operator creates for a Cluster named <name>.
CNPG_GENERATED_SUFFIXES = ("-app", "-superuser", "-ca", "-server", "-replication")


def pod_secret_refs(pod_spec: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(secret name, where) for each non-optional Secret a pod spec needs."""
    for container in containers_of(pod_spec):
        for env in container.body.get("env") or []:
            ref = mapping(dig(env, "valueFrom", "secretKeyRef"))
            if ref.get("name") and not ref.get("optional"):
                yield str(ref["name"]), f"{container.label} env {mapping(env).get('name')}"
        for source in container.body.get("envFrom") or []:
            ref = mapping(dig(source, "secretRef"))
            if ref.get("name") and not ref.get("optional"):
                yield str(ref["name"]), f"{container.label} envFrom"
    for volume in pod_spec.get("volumes") or []:
        volume = mapping(volume)
        secret = mapping(volume.get("secret"))
        if secret.get("secretName") and not secret.get("optional"):
            yield str(secret["secretName"]), f"volume {volume.get('name')}"
        for source in mapping(volume.get("projected")).get("sources") or []:
            ref = mapping(dig(source, "secret"))
            if ref.get("name") and not ref.get("optional"):
                yield str(ref["name"]), f"projected volume {volume.get('name')}"
    for pull in pod_spec.get("imagePullSecrets") or []:
        if mapping(pull).get("name"):
            yield str(mapping(pull)["name"]), "imagePullSecrets"


def cnpg_secret_refs(spec: Any, path: str = "spec") -> Iterator[tuple[str, str]]:
    """Secrets a CNPG Cluster spec names: *Secret / secret fields and *Credentials key selectors."""
    if isinstance(spec, list):
        for index, item in enumerate(spec):
            yield from cnpg_secret_refs(item, f"{path}[{index}]")
        return
    if not isinstance(spec, Mapping):
        return
    for key, value in spec.items():
        here = f"{path}.{key}"
        if key == "secret" or key.endswith("Secret"):
            name = value if isinstance(value, str) else mapping(value).get("name")
            if name:
                yield str(name), here
                continue
        if key.endswith("Credentials") and isinstance(value, Mapping):
            for child, selector in value.items():
                if mapping(selector).get("name"):
                    yield str(mapping(selector)["name"]), f"{here}.{child}"
            continue
        yield from cnpg_secret_refs(value, here)


def provided_secrets(manifests: ManifestSet) -> set[tuple[str, str]]:
    """(namespace, name) of every Secret the set creates: Secrets, SealedSecrets, CNPG-generated ones."""
    provided = {(o.namespace or "default", o.name) for o in manifests.of_kind("Secret")}
    provided |= {(o.namespace or "default", o.name) for o in manifests.of_kind("SealedSecret")}
    for cluster in manifests.of_kind("Cluster", group=CNPG_GROUP):
        provided |= {(cluster.namespace or "default", cluster.name + s) for s in CNPG_GENERATED_SUFFIXES}
    return provided


def _references(workload: Workload) -> Iterator[tuple[str, str]]:
    if workload.operator_managed and workload.obj is not None:
        yield from cnpg_secret_refs(workload.obj.spec)
    else:
        yield from pod_secret_refs(workload.pod_spec)


def secret_findings(model: ClusterModel) -> list[Finding]:
    manifests = model.manifests
    if manifests is None:
        return []
    findings = []
    for secret in manifests.of_kind("Secret"):
        keys = sorted(set(mapping(secret.body.get("data"))) | set(mapping(secret.body.get("stringData"))))
        if keys:
            findings.append(
                finding("secrets.plain-secret", secret.ref, f"plaintext Secret with key(s) {', '.join(keys)} in git")
            )
    for sealed in manifests.of_kind("SealedSecret", group=SEALED_SECRETS_GROUP):
        if not mapping(sealed.spec.get("encryptedData")):
            findings.append(
                finding("secrets.sealed-secret-empty", sealed.ref, "spec.encryptedData is empty or missing")
            )
    provided = provided_secrets(manifests)
    for workload in model.manifest_workloads:
        missing: dict[str, list[str]] = {}
        for name, where in _references(workload):
            if (workload.namespace, name) not in provided:
                missing.setdefault(name, []).append(where)
        for name, places in sorted(missing.items()):
            message = (
                f"Secret {workload.namespace}/{name} (used by {', '.join(places)}) is provided by no SealedSecret or "
                "Secret in the set"
            )
            findings.append(finding("secrets.unresolved-reference", workload.ref, message))
    return findings
