"""The database bootstrap SQL a manifest set declares: CloudNativePG Cluster -> postInitApplicationSQLRefs ->
ConfigMap data. One text for both readers: CNPG runs it after initdb, the local target applies it to its lab."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dbc_validate.errors import InputError
from dbc_validate.manifests.fields import dig, listing, mapping
from dbc_validate.manifests.model import K8sObject, ManifestSet
from dbc_validate.manifests.sql_statements import SqlStatement, split_statements

CNPG_GROUP = "postgresql.cnpg.io"
REFS_PATH = "spec.bootstrap.initdb.postInitApplicationSQLRefs.configMapRefs"
CNPG_DEFAULT_DATABASE = "app"  # what CNPG names the application database when initdb.database is unset
# kustomize's configMapGenerator appends a 10-character content hash to the name unless told not to.
_HASH_SUFFIX = re.compile(r"-[a-z0-9]{10}$")


@dataclass(frozen=True)
class BootstrapSql:
    """The SQL CNPG runs in the application database after initdb, in the order it runs it."""

    cluster: str  # "Cluster/infra/postgres-cluster"
    database: str  # the application database the SQL runs in
    parts: tuple[tuple[str, str], ...]  # (origin, text) per ConfigMap reference, in order
    unread_secret_refs: tuple[str, ...] = ()  # SQL in Secrets (run first by CNPG) cannot be read from manifests

    @property
    def source(self) -> str:
        origins = ", ".join(origin for origin, _ in self.parts)
        return f"{self.cluster} -> {origins}"

    def statements(self) -> list[SqlStatement]:
        """Every statement, each naming its ConfigMap and line; InputError if the SQL cannot be split."""
        result: list[SqlStatement] = []
        for origin, text in self.parts:
            try:
                result += split_statements(text, origin)
            except ValueError as exc:
                raise InputError(f"cannot read the SQL of {origin}: {exc}", "fix the SQL in that ConfigMap") from None
        return result


def _initdb(cluster: K8sObject) -> Mapping[str, Any]:
    return mapping(dig(cluster.body, "spec", "bootstrap", "initdb"))


def _config_map_refs(cluster: K8sObject) -> list[Any]:
    return listing(dig(cluster.body, *REFS_PATH.split(".")))


def _choose_cluster(ms: ManifestSet, database: str) -> K8sObject:
    clusters = ms.of_kind("Cluster", group=CNPG_GROUP)
    if not clusters:
        raise InputError(
            f"manifest set {ms.source} has no CloudNativePG Cluster ({CNPG_GROUP}/v1), so it declares no database "
            "bootstrap SQL",
            "add the Cluster that bootstraps the discourse database, or pass --manifests with the set that has it",
        )
    with_refs = [c for c in clusters if _config_map_refs(c)]
    if not with_refs:
        names = ", ".join(c.ref for c in clusters)
        raise InputError(
            f"no CloudNativePG Cluster in {ms.source} references bootstrap SQL ({names}: no {REFS_PATH})",
            f"add {REFS_PATH}: [{{name: discourse-bootstrap-sql, key: discourse-bootstrap.sql}}] to the Cluster",
        )
    if len(with_refs) > 1:
        for_database = [c for c in with_refs if _initdb(c).get("database") == database]
        if len(for_database) == 1:
            return for_database[0]
        raise InputError(
            f"several CloudNativePG Clusters reference bootstrap SQL ({', '.join(c.ref for c in with_refs)})",
            f"keep one Cluster whose spec.bootstrap.initdb.database is {database!r}",
        )
    return with_refs[0]


def _missing_config_map(ms: ManifestSet, cluster: K8sObject, name: str) -> InputError:
    namespace = cluster.namespace
    hashed = [
        o.name
        for o in ms.of_kind("ConfigMap")
        if o.namespace == namespace and o.name.startswith(name + "-") and _HASH_SUFFIX.search(o.name)
    ]
    if hashed:
        return InputError(
            f"{cluster.ref} references ConfigMap {namespace}/{name}, but the manifest set has {namespace}/{hashed[0]}: "
            "kustomize appended a content hash it cannot rewrite inside a CNPG Cluster",
            "set generatorOptions.disableNameSuffixHash: true on that configMapGenerator",
        )
    elsewhere = [o.ref for o in ms.of_kind("ConfigMap") if o.name == name]
    where = f" (there is {', '.join(elsewhere)}, in another namespace)" if elsewhere else ""
    return InputError(
        f"{cluster.ref} references ConfigMap {namespace}/{name}, which is not in the manifest set{where}",
        f"add ConfigMap {name} in namespace {namespace} (e.g. a configMapGenerator from discourse-bootstrap.sql)",
    )


def find_bootstrap_sql(ms: ManifestSet, database: str = "discourse") -> BootstrapSql:
    """The bootstrap SQL the manifest set declares for `database`; InputError naming the broken link and its fix."""
    cluster = _choose_cluster(ms, database)
    runs_in = str(_initdb(cluster).get("database") or CNPG_DEFAULT_DATABASE)
    if runs_in != database:
        raise InputError(
            f"{cluster.ref} runs its bootstrap SQL in database {runs_in!r} (spec.bootstrap.initdb.database), "
            f"not in {database!r}",
            f"set spec.bootstrap.initdb.database: {database} so the SQL configures the {database} database",
        )
    parts: list[tuple[str, str]] = []
    for index, ref in enumerate(_config_map_refs(cluster)):
        name = ref.get("name") if isinstance(ref, Mapping) else None
        key = ref.get("key") if isinstance(ref, Mapping) else None
        if not name or not key:
            raise InputError(
                f"{cluster.ref}: {REFS_PATH}[{index}] needs both name and key",
                "write each reference as {name: <ConfigMap>, key: <file name in its data>}",
            )
        config_map = ms.get("ConfigMap", str(name), cluster.namespace)
        if config_map is None:
            raise _missing_config_map(ms, cluster, str(name))
        data = config_map.body.get("data") or {}
        text = data.get(key) if isinstance(data, Mapping) else None
        if not isinstance(text, str) or not text.strip():
            keys = ", ".join(sorted(map(str, data))) if isinstance(data, Mapping) and data else "none"
            raise InputError(
                f"{config_map.ref} has no SQL under key {key!r} (its keys: {keys})",
                f"put the SQL under data.{key}, or point {cluster.ref} at the key that holds it",
            )
        parts.append((f"{config_map.ref} key {key}", text))
    secret_refs = dig(cluster.body, "spec", "bootstrap", "initdb", "postInitApplicationSQLRefs", "secretRefs")
    unread = tuple(
        f"Secret/{cluster.namespace}/{r.get('name')} key {r.get('key')}"
        for r in listing(secret_refs)
        if isinstance(r, Mapping)
    )
    return BootstrapSql(cluster.ref, runs_in, tuple(parts), unread)
