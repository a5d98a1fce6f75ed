"""The CloudNativePG Cluster: its bootstrap SQL chain, sync replication choice and image."""

from __future__ import annotations

import pytest
from overlay_checks import BOOTSTRAP_SQL, MANIFESTS, OVERLAYS

from dbc_validate.manifests.cnpg_bootstrap import find_bootstrap_sql
from dbc_validate.manifests.model import ManifestSet


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_cluster_bootstrap_sql_resolves_to_the_shared_sql_file(overlay: str, overlay_sets: dict[str, ManifestSet]):
    bootstrap = find_bootstrap_sql(overlay_sets[overlay])
    assert bootstrap.cluster == "Cluster/infra/postgres-cluster" and bootstrap.database == "discourse"
    assert [text for _, text in bootstrap.parts] == [BOOTSTRAP_SQL.read_text(encoding="utf-8")]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_cluster_has_three_cjk_instances_and_creates_the_discourse_database(
    overlay: str, overlay_sets: dict[str, ManifestSet]
):
    spec = overlay_sets[overlay].get("Cluster", "postgres-cluster", "infra").spec
    assert spec["instances"] == 3
    assert spec["imageName"] == "dirtbikechina/postgres:15-cjk"
    assert spec["bootstrap"]["initdb"]["database"] == "discourse"
    assert spec["bootstrap"]["initdb"]["owner"] == "discourse"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_cluster_commits_synchronously_to_one_standby_with_required_durability(
    overlay: str, overlay_sets: dict[str, ManifestSet]
):
    # The documented choice (README "Synchronous replication"): RPO 0 for any single instance loss.
    spec = overlay_sets[overlay].get("Cluster", "postgres-cluster", "infra").spec
    assert spec["postgresql"]["synchronous"] == {"method": "any", "number": 1, "dataDurability": "required"}


def test_image_recipe_builds_the_cluster_image_from_a_pinned_cnpg_base_and_parser_commit(kind_set: ManifestSet):
    dockerfile = (MANIFESTS.parent / "images" / "postgres-cjk" / "Dockerfile").read_text(encoding="utf-8")
    image = kind_set.get("Cluster", "postgres-cluster", "infra").spec["imageName"]
    assert f"-t {image} " in dockerfile
    assert "ARG PG_CJK_PARSER_COMMIT=c896f182bee8bbcc03a1a1de0470709ad234f306" in dockerfile
    assert "ARG BASE=ghcr.io/cloudnative-pg/postgresql:15." in dockerfile
    stages = dockerfile.split("\nFROM ")
    assert len(stages) == 3, "expected a build stage and a final stage"
    final = stages[-1]
    assert "COPY --from=build" in final
    assert "RUN" not in final, "the final stage must not install anything (build tools stay in the build stage)"
