"""Shared paths and helpers of the CJK self-tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from helpers import ROOT

from dbc_validate.labs.postgres_server import PostgresLab

FIXTURES = ROOT / "fixtures" / "cjk"
BOOTSTRAP_SQL = ROOT / "manifests" / "base" / "databases" / "discourse-bootstrap.sql"
SUITE = ROOT / "suites" / "gate1" / "test_cjk_parser.py"
JUDGE_PASSWORD = "Pw-7f3kQ9-never-printed"


@dataclass(frozen=True)
class StockParserDatabase:
    lab: PostgresLab
    dsn: str  # over TCP, with JUDGE_PASSWORD in it


def write_manifest_set(
    folder: Path,
    sql: str,
    database: str = "discourse",
    more_sql: dict[str, str] | None = None,
    secret_refs: list[dict[str, str]] | None = None,
) -> Path:
    """A minimal manifest set in the real layout: Cluster infra/postgres-cluster -> ConfigMap with `sql`
    (plus `more_sql` keys, referenced after it, and optional secretRefs)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = {"discourse-bootstrap.sql": sql, **(more_sql or {})}
    refs: dict[str, object] = {"configMapRefs": [{"name": "discourse-bootstrap-sql", "key": key} for key in data]}
    if secret_refs:
        refs["secretRefs"] = secret_refs
    cluster = {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": {"name": "postgres-cluster", "namespace": "infra"},
        "spec": {
            "instances": 3,
            "bootstrap": {"initdb": {"database": database, "postInitApplicationSQLRefs": refs}},
            "storage": {"size": "1Gi"},
        },
    }
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "discourse-bootstrap-sql", "namespace": "infra"},
        "data": data,
    }
    (folder / "postgres.yaml").write_text(yaml.safe_dump_all([cluster, config_map], allow_unicode=True))
    return folder
