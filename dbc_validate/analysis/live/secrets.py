"""Secrets for test clusters (which to generate, with which keys and values) and whether every SealedSecret
was unsealed into the Secret it describes. Values never appear in a finding, only key names and digests."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from dbc_validate.analysis.live.findings import Finding
from dbc_validate.analysis.live.pods import Obj, condition, name_of, namespace_of
from dbc_validate.analysis.live.templates import pod_spec_of
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


def secrets_to_generate(ms: ManifestSet) -> list[SecretSpec]:
    """Every Secret a test cluster must be given: each SealedSecret of the set (its committed ciphertext
    was sealed for another cluster's key) and each secret a workload reads that nothing in the set provides.
    """
    specs: dict[tuple[str, str], SecretSpec] = {}
    for sealed in ms.of_kind("SealedSecret", group="bitnami.com"):
        template = sealed.spec.get("template") or {}
        tmeta = template.get("metadata") or {}
        keys = tuple(sorted((sealed.spec.get("encryptedData") or {}).keys()))
        ns = str(tmeta.get("namespace") or sealed.namespace)
        name = str(tmeta.get("name") or sealed.name)
        specs[(ns, name)] = SecretSpec(
            ns,
            name,
            keys,
            str(template.get("type") or "Opaque"),
            dict(tmeta.get("labels") or {}),
            "SealedSecret in the set",
        )
    provided = {(str(s.namespace), s.name) for s in ms.of_kind("Secret")}
    wanted: dict[tuple[str, str], tuple[set[str], str]] = {}
    for obj in ms.objects:
        for name, keys in _secret_refs(obj).items():
            key = (str(obj.namespace), name)
            entry = wanted.setdefault(key, (set(), obj.ref))
            entry[0].update(keys)
    for (ns, name), (keys, who) in sorted(wanted.items()):
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
            specs[(ns, name)] = SecretSpec(ns, name, all_keys, kind, {}, f"referenced by {who}", fixed)
    for (ns, name), spec in specs.items():
        if not spec.fixed:
            owner = _cnpg_owner(ms, ns, name)
            if owner:
                specs[(ns, name)] = SecretSpec(
                    ns, name, spec.keys, spec.type, spec.labels, spec.source, {"username": owner}
                )
    return [specs[k] for k in sorted(specs)]


def generate_values(specs: Sequence[SecretSpec], token: Callable[[int], str]) -> dict[str, dict[str, str]]:
    """Values for every key of every spec ("ns/name" -> key -> value).

    User-name keys get a fixed name (or the one the set dictates); every other key gets one random value
    per distinct key name across the run, so two secrets that must agree (a MySQL password given to
    MySQL and to WordPress under the same key name) do agree without the harness knowing the wiring.
    """
    shared: dict[str, str] = {}
    result: dict[str, dict[str, str]] = {}
    for spec in specs:
        values: dict[str, str] = {}
        for key in spec.keys:
            if key in spec.fixed:
                values[key] = spec.fixed[key]
            elif _USER_KEY.search(key):
                values[key] = DEFAULT_USER
            else:
                values[key] = shared.setdefault(key.lower(), token(24))
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
            findings.append(Finding(subject, "no Synced condition: the controller has not processed it"))
        elif str(cond.get("status")) != "True":
            findings.append(
                Finding(subject, f"Synced={cond.get('status')}: {cond.get('message') or cond.get('reason')}")
            )
        secret = by_ref.get(ref)
        if secret is None:
            findings.append(Finding(subject, "no Secret of the same name in its namespace"))
            continue
        owners = (secret.get("metadata") or {}).get("ownerReferences") or []
        if not any(o.get("kind") == "SealedSecret" and o.get("name") == name_of(ss) for o in owners):
            findings.append(Finding(subject, "the Secret of that name is not owned by this SealedSecret"))
        data = secret.get("data") or {}
        sealed_keys = sorted(((ss.get("spec") or {}).get("encryptedData") or {}).keys())
        missing = [k for k in sealed_keys if k not in data]
        if missing:
            findings.append(Finding(subject, f"Secret lacks sealed key(s) {', '.join(missing)}"))
        for key, want in ((expected or {}).get(ref) or {}).items():
            if key in data and digest(base64.b64decode(data[key])) != want:
                findings.append(Finding(subject, f"key {key}: unsealed value differs from the value sealed"))
    return findings
