"""The bootstrap SQL is found through the manifest set: CNPG Cluster -> configMapRefs -> ConfigMap data[key]."""

from __future__ import annotations

from pathlib import Path

import pytest
from cjk_support import BOOTSTRAP_SQL, FIXTURES, write_manifest_set

from dbc_validate.errors import InputError
from dbc_validate.manifests.cnpg_bootstrap import find_bootstrap_sql
from dbc_validate.manifests.model import load_manifest_set

BROKEN = FIXTURES / "manifests"


def test_the_real_sql_is_read_verbatim_through_the_chain(real_manifest_set: Path) -> None:
    bootstrap = find_bootstrap_sql(load_manifest_set(real_manifest_set))
    assert bootstrap.cluster == "Cluster/infra/postgres-cluster"
    assert bootstrap.database == "discourse"
    assert bootstrap.parts == (
        ("ConfigMap/infra/discourse-bootstrap-sql key discourse-bootstrap.sql", BOOTSTRAP_SQL.read_text()),
    )
    statements = bootstrap.statements()
    assert statements[0].origin == "ConfigMap/infra/discourse-bootstrap-sql key discourse-bootstrap.sql"
    assert bootstrap.source == (
        "Cluster/infra/postgres-cluster -> ConfigMap/infra/discourse-bootstrap-sql key discourse-bootstrap.sql"
    )


def test_a_kustomize_generated_config_map_is_followed() -> None:
    bootstrap = find_bootstrap_sql(load_manifest_set(BROKEN / "kustomize"))
    assert bootstrap.parts[0][0] == "ConfigMap/infra/discourse-bootstrap-sql key discourse-bootstrap.sql"
    assert "pg_trgm" in bootstrap.parts[0][1]


def test_several_references_are_kept_in_order_and_secrets_are_noted(tmp_path: Path) -> None:
    folder = write_manifest_set(
        tmp_path,
        "SELECT 1;",
        more_sql={"extra.sql": "SELECT 2;"},
        secret_refs=[{"name": "db-roles", "key": "roles.sql"}],
    )
    bootstrap = find_bootstrap_sql(load_manifest_set(folder))
    assert [t for _, t in bootstrap.parts] == ["SELECT 1;", "SELECT 2;"]
    assert bootstrap.unread_secret_refs == ("Secret/infra/db-roles key roles.sql",)


@pytest.mark.parametrize(
    ("folder", "names"),
    [
        ("no-cluster", ["no CloudNativePG Cluster", "add the Cluster"]),
        ("no-sql-refs", ["postInitApplicationSQLRefs.configMapRefs", "Cluster/infra/postgres-cluster"]),
        ("missing-configmap", ["ConfigMap infra/discourse-bootstrap-sql", "another namespace"]),
        ("hashed-configmap", ["discourse-bootstrap-sql-7m2fk9h8tb", "disableNameSuffixHash: true"]),
        ("missing-key", ["no SQL under key 'discourse-bootstrap.sql'", "init.sql"]),
        ("wrong-database", ["database 'app'", "initdb.database: discourse"]),
    ],
)
def test_a_broken_chain_names_the_missing_link_and_the_fix(folder: str, names: list[str]) -> None:
    with pytest.raises(InputError) as caught:
        find_bootstrap_sql(load_manifest_set(BROKEN / folder))
    message = str(caught.value)
    assert "; fix: " in message
    for name in names:
        assert name in message


def test_sql_that_cannot_be_split_is_an_input_error(tmp_path: Path) -> None:
    bootstrap = find_bootstrap_sql(load_manifest_set(write_manifest_set(tmp_path, "DO $$ BEGIN")))
    with pytest.raises(InputError, match="cannot read the SQL of ConfigMap/infra/discourse-bootstrap-sql"):
        bootstrap.statements()
