"""Secrets for test clusters (which to generate, with which keys and values: declared by the set's
deploy-time-secrets.yaml, else inferred from the workloads) and whether every SealedSecret was unsealed into the
Secret it describes. Values never appear in a plan or a finding, only key names, value names and digests."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.analysis.live.pods import Obj, condition, name_of, namespace_of
from dbc_validate.analysis.live.templates import pod_spec_of
from dbc_validate.analysis.secrets import CNPG_GENERATED_SUFFIXES
from dbc_validate.manifests.deploy_time_secrets import FILE_NAME, DeclaredSecret, DeployTimeSecrets
from dbc_validate.manifests.model import K8sObject, ManifestSet

_USER_KEY = re.compile(r"(^|[_.-])(user|username|login)$", re.IGNORECASE)
DEFAULT_USER = "dbc"


@dataclass(frozen=True)
class SecretSpec:
    """A Secret the test cluster needs: where it comes from in the set and which keys it must carry."""

    namespace: str
    name: str
    keys: tuple[str, ...]
    type: str = "Opaque"
    labels: Mapping[str, str] = field(default_factory=dict)
    source: str = ""  # "SealedSecret in the set" | "referenced by Deployment/prod/wordpress"
    fixed: Mapping[str, str] = field(default_factory=dict)  # key -> value the set dictates (CNPG owner)
    value_names: Mapping[str, str] = field(default_factory=dict)  # key -> declared value name (never a value)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


def _secret_refs(obj: K8sObject) -> dict[str, set[str]]:
    """Secret name -> keys that `obj` reads from it (an empty set: the whole secret, keys unknown)."""
    refs: dict[str, set[str]] = {}
    pod = pod_spec_of(obj)
    if pod is not None:
        containers = [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]
        for c in containers:
            for env in c.get("env") or []:
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if ref and not ref.get("optional"):
                    refs.setdefault(str(ref["name"]), set()).add(str(ref["key"]))
            for src in c.get("envFrom") or []:
                ref = src.get("secretRef")
                if ref and not ref.get("optional"):
                    refs.setdefault(str(ref["name"]), set())
        for vol in pod.get("volumes") or []:
            sec = vol.get("secret")
            if sec and not sec.get("optional"):
                keys = {str(i["key"]) for i in sec.get("items") or []}
                refs.setdefault(str(sec["secretName"]), set()).update(keys)
    if obj.kind == "Cluster" and obj.group == "postgresql.cnpg.io":
        initdb = ((obj.spec.get("bootstrap") or {}).get("initdb")) or {}
        if (initdb.get("secret") or {}).get("name"):
            refs.setdefault(str(initdb["secret"]["name"]), set()).update({"username", "password"})
        if (obj.spec.get("superuserSecret") or {}).get("name"):
            refs.setdefault(str(obj.spec["superuserSecret"]["name"]), set()).update({"username", "password"})
    return refs


def _cnpg_owner(ms: ManifestSet, namespace: str, secret: str) -> str | None:
    for cluster in ms.of_kind("Cluster", group="postgresql.cnpg.io"):
        initdb = ((cluster.spec.get("bootstrap") or {}).get("initdb")) or {}
        if cluster.namespace == namespace and (initdb.get("secret") or {}).get("name") == secret:
            return str(initdb.get("owner") or initdb.get("database") or "app")
    return None


def _references(ms: ManifestSet) -> dict[tuple[str, str], tuple[set[str], list[str]]]:
    """(namespace, secret) -> (keys read, an empty set when read whole; the objects that read it)."""
    wanted: dict[tuple[str, str], tuple[set[str], list[str]]] = {}
    for obj in ms.objects:
        for name, keys in _secret_refs(obj).items():
            entry = wanted.setdefault((str(obj.namespace), name), (set(), []))
            entry[0].update(keys)
            entry[1].append(obj.ref)
    return wanted


def secrets_to_generate(ms: ManifestSet) -> list[SecretSpec]:
    """Inferred plan, for a set without a deploy-time-secrets.yaml: every Secret a test cluster must be given,
    each SealedSecret of the set (its committed ciphertext was sealed for another cluster's key) and each secret
    a workload reads that nothing in the set provides, with the keys the references name.
    """
    specs: dict[tuple[str, str], SecretSpec] = {}
    for sealed in ms.of_kind("SealedSecret", group="bitnami.com"):
        ns, name, kind, labels = _sealed_template(sealed)
        keys = tuple(sorted((sealed.spec.get("encryptedData") or {}).keys()))
        specs[(ns, name)] = SecretSpec(ns, name, keys, kind, labels, "SealedSecret in the set")
    provided = {(str(s.namespace), s.name) for s in ms.of_kind("Secret")}
    for (ns, name), (keys, who) in sorted(_references(ms).items()):
        if (ns, name) in provided:
            continue
        existing = specs.get((ns, name))
        all_keys = tuple(sorted(set(existing.keys if existing else ()) | keys))
        owner = _cnpg_owner(ms, ns, name)
        fixed = {"username": owner} if owner else {}
        if existing is not None:
            specs[(ns, name)] = SecretSpec(ns, name, all_keys, existing.type, existing.labels, existing.source, fixed)
        else:
            kind = "kubernetes.io/basic-auth" if owner else "Opaque"
            specs[(ns, name)] = SecretSpec(ns, name, all_keys, kind, {}, f"referenced by {who[0]}", fixed)
    for (ns, name), spec in specs.items():
        if not spec.fixed:
            owner = _cnpg_owner(ms, ns, name)
            if owner:
                specs[(ns, name)] = SecretSpec(
                    ns, name, spec.keys, spec.type, spec.labels, spec.source, {"username": owner}
                )
    return [specs[k] for k in sorted(specs)]


def _sealed_template(sealed: K8sObject) -> tuple[str, str, str, dict[str, str]]:
    """Namespace, name, type and labels of the Secret a SealedSecret of the set describes."""
    template = sealed.spec.get("template") or {}
    tmeta = template.get("metadata") or {}
    ns = str(tmeta.get("namespace") or sealed.namespace)
    name = str(tmeta.get("name") or sealed.name)
    return ns, name, str(template.get("type") or "Opaque"), dict(tmeta.get("labels") or {})


@dataclass(frozen=True)
class UndeclaredSecret:
    """A Secret (or some of its keys) a workload reads that neither the declaration nor the set provides."""

    namespace: str
    name: str
    keys: tuple[str, ...]  # the keys missing from a declared secret; empty: the secret is not declared at all
    used_by: tuple[str, ...]

    def __str__(self) -> str:
        ref = f"{self.namespace}/{self.name}"
        what = f"keys {', '.join(self.keys)} of {ref}" if self.keys else ref
        return f"{what} (used by {', '.join(self.used_by)})"


@dataclass(frozen=True)
class SecretPlan:
    """The Secrets a kind/k3d deploy generates, and what the workloads need that nothing provides."""

    specs: tuple[SecretSpec, ...]
    basis: str  # where the plan comes from, for the plan output and error messages
    undeclared: tuple[UndeclaredSecret, ...] = ()


def _declared_specs(ms: ManifestSet, declared: Sequence[DeclaredSecret], origin: str) -> list[SecretSpec]:
    templates = {
        (ns, name): (kind, labels)
        for ns, name, kind, labels in map(_sealed_template, ms.of_kind("SealedSecret", group="bitnami.com"))
    }
    specs = []
    for secret in declared:
        owner = _cnpg_owner(ms, secret.namespace, secret.name)
        kind, labels = templates.get(
            (secret.namespace, secret.name), ("kubernetes.io/basic-auth" if owner else "Opaque", {})
        )
        specs.append(
            SecretSpec(
                secret.namespace,
                secret.name,
                tuple(sorted(secret.data)),
                kind,
                labels,
                f"declared in {origin}",
                {"username": owner} if owner and "username" in secret.data else {},
                dict(secret.data),
            )
        )
    return sorted(specs, key=lambda s: (s.namespace, s.name))


def _undeclared(ms: ManifestSet, declared: Sequence[DeclaredSecret]) -> list[UndeclaredSecret]:
    by_ref = {(s.namespace, s.name): s for s in declared}
    # Applied as they are, or made by the CloudNativePG operator. The set's SealedSecrets are not applied on a
    # test cluster (sealed for another controller), so they provide nothing here.
    provided = {(str(s.namespace), s.name) for s in ms.of_kind("Secret")}
    for cluster in ms.of_kind("Cluster", group="postgresql.cnpg.io"):
        provided |= {(str(cluster.namespace), cluster.name + suffix) for suffix in CNPG_GENERATED_SUFFIXES}
    missing = []
    for (ns, name), (keys, who) in sorted(_references(ms).items()):
        if (ns, name) in provided:
            continue
        secret = by_ref.get((ns, name))
        if secret is None:
            missing.append(UndeclaredSecret(ns, name, (), tuple(who)))
        elif keys - set(secret.data):
            missing.append(UndeclaredSecret(ns, name, tuple(sorted(keys - set(secret.data))), tuple(who)))
    return missing


def secret_plan(ms: ManifestSet, declared: DeployTimeSecrets | None, overlay: str) -> SecretPlan:
    """The test-secret plan for deploying `ms` as `overlay`.

    With a deploy-time-secrets.yaml the declared secrets of that overlay are the plan (keys from `data`, one
    value per value name) and any reference they do not cover is listed as undeclared. Without one, the plan is
    inferred from the workloads' references (`secrets_to_generate`).
    """
    if declared is None:
        return SecretPlan(tuple(secrets_to_generate(ms)), f"inferred from workload references (no {FILE_NAME})")
    chosen = declared.for_overlay(overlay)
    return SecretPlan(
        tuple(_declared_specs(ms, chosen, declared.origin)),
        f"declared in {declared.origin} for overlay {overlay}",
        tuple(_undeclared(ms, chosen)),
    )


def shared_values(specs: Sequence[SecretSpec]) -> dict[str, list[str]]:
    """Value name -> "ns/name.key" of every place it goes, for values used in more than one place."""
    places: dict[str, list[str]] = {}
    for spec in specs:
        for key, value_name in sorted(spec.value_names.items()):
            if key not in spec.fixed:
                places.setdefault(value_name, []).append(f"{spec.ref}.{key}")
    return {name: where for name, where in sorted(places.items()) if len(where) > 1}


def generate_values(specs: Sequence[SecretSpec], token: Callable[[int], str]) -> dict[str, dict[str, str]]:
    """Values for every key of every spec ("ns/name" -> key -> value).

    A key with a declared value name gets that value's one random string, shared wherever the name is used
    (MySQL's `password` and WordPress's `WORDPRESS_DB_PASSWORD` are both `wordpress-db-password`). A user-name
    key the set dictates (the CloudNativePG owner) gets that name. In an inferred plan, other user-name keys
    get a fixed name and every other key one random value per distinct key name.
    """
    shared: dict[tuple[str, str], str] = {}
    result: dict[str, dict[str, str]] = {}
    for spec in specs:
        values: dict[str, str] = {}
        for key in spec.keys:
            if key in spec.fixed:
                values[key] = spec.fixed[key]
            elif key in spec.value_names:
                values[key] = shared.setdefault(("value", spec.value_names[key]), token(24))
            elif _USER_KEY.search(key):
                values[key] = DEFAULT_USER
            else:
                values[key] = shared.setdefault(("key", key.lower()), token(24))
        result[spec.ref] = values
    return result


def digest(value: str | bytes) -> str:
    data = value.encode() if isinstance(value, str) else value
    return hashlib.sha256(data).hexdigest()


def digests_of(values: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """What the live check may keep of generated values: their SHA-256, never the values."""
    return {ref: {k: digest(v) for k, v in kv.items()} for ref, kv in values.items()}


def sealed_secret_findings(
    sealed: Sequence[Obj], secrets: Sequence[Obj], expected: Mapping[str, Mapping[str, str]] | None = None
) -> list[Finding]:
    """Each SealedSecret Synced=True, its Secret present, owned by it, carrying every sealed key; with
    `expected` ("ns/name" -> key -> sha256) the unsealed values must be exactly the ones sealed."""
    by_ref = {f"{namespace_of(s)}/{name_of(s)}": s for s in secrets}
    findings: list[Finding] = []
    for ss in sealed:
        ref = f"{namespace_of(ss)}/{name_of(ss)}"
        subject = f"SealedSecret/{ref}"
        cond = condition(ss, "Synced")
        if cond is None:
            findings.append(
                finding("live.sealed-secret", subject, "no Synced condition: the controller has not processed it")
            )
        elif str(cond.get("status")) != "True":
            findings.append(
                finding(
                    "live.sealed-secret",
                    subject,
                    f"Synced={cond.get('status')}: {cond.get('message') or cond.get('reason')}",
                )
            )
        secret = by_ref.get(ref)
        if secret is None:
            findings.append(finding("live.sealed-secret", subject, "no Secret of the same name in its namespace"))
            continue
        owners = (secret.get("metadata") or {}).get("ownerReferences") or []
        if not any(o.get("kind") == "SealedSecret" and o.get("name") == name_of(ss) for o in owners):
            findings.append(
                finding("live.sealed-secret", subject, "the Secret of that name is not owned by this SealedSecret")
            )
        data = secret.get("data") or {}
        sealed_keys = sorted(((ss.get("spec") or {}).get("encryptedData") or {}).keys())
        missing = [k for k in sealed_keys if k not in data]
        if missing:
            findings.append(finding("live.sealed-secret", subject, f"Secret lacks sealed key(s) {', '.join(missing)}"))
        for key, want in ((expected or {}).get(ref) or {}).items():
            if key in data and digest(base64.b64decode(data[key])) != want:
                findings.append(
                    finding("live.sealed-secret", subject, f"key {key}: unsealed value differs from the value sealed")
                )
    return findings
