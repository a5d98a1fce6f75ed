"""Dev overlays: local storage classes and small, limited resources. prod: Longhorn and the seed's sizing."""

from __future__ import annotations

import pytest
from overlay_checks import containers_of, pod_specs

from dbc_validate.manifests.model import ManifestSet


def _storage_classes(manifests: ManifestSet) -> dict[str, str | None]:
    classes = {
        f"PVC/{o.namespace}/{o.name}": o.spec.get("storageClassName")
        for o in manifests.of_kind("PersistentVolumeClaim")
    }
    for sts in manifests.of_kind("StatefulSet"):
        for claim in sts.spec.get("volumeClaimTemplates") or []:
            classes[f"STS/{sts.namespace}/{sts.name}/{claim['metadata']['name']}"] = claim["spec"].get(
                "storageClassName"
            )
    cluster = manifests.get("Cluster", "postgres-cluster", "infra")
    classes["Cluster/infra/postgres-cluster"] = cluster.spec["storage"].get("storageClass")
    return classes


def _container(manifests: ManifestSet, kind: str, namespace: str, name: str) -> dict:
    obj = manifests.get(kind, name, namespace)
    return obj.spec["template"]["spec"]["containers"][0]


@pytest.mark.parametrize(("overlay", "storage_class"), [("kind", "standard"), ("k3d", "local-path")])
def test_dev_overlay_uses_the_clusters_local_storage_class(
    overlay: str, storage_class: str, overlay_sets: dict[str, ManifestSet]
):
    classes = _storage_classes(overlay_sets[overlay])
    assert len(classes) == 4  # two WordPress claims, MySQL, PostgreSQL
    assert set(classes.values()) == {storage_class}, classes


@pytest.mark.parametrize("overlay", ["kind", "k3d"])
def test_dev_overlay_is_small_and_one_node_friendly(overlay: str, overlay_sets: dict[str, ManifestSet]):
    manifests = overlay_sets[overlay]
    for obj, spec in pod_specs(manifests):
        assert obj.spec.get("replicas", 1) == 1, obj.ref
        for container in containers_of(spec):
            assert {"cpu", "memory"} <= container["resources"]["limits"].keys(), obj.ref
    cluster = manifests.get("Cluster", "postgres-cluster", "infra").spec
    assert cluster["storage"]["size"] == "1Gi"
    assert cluster.get("affinity", {}).get("podAntiAffinityType", "preferred") == "preferred"
    for pvc in manifests.of_kind("PersistentVolumeClaim"):
        assert pvc.spec["accessModes"] == ["ReadWriteOnce"], "local-path volumes are single-node"


def test_prod_overlay_puts_databases_on_longhorn_retain_and_wordpress_on_shared_longhorn(
    overlay_sets: dict[str, ManifestSet],
):
    prod = overlay_sets["prod"]
    assert _storage_classes(prod) == {
        "PVC/prod/wordpress-files": "longhorn-fast",
        "PVC/stage/wordpress-files": "longhorn-fast",
        "STS/infra/mysql/mysql-data": "longhorn-retain",
        "Cluster/infra/postgres-cluster": "longhorn-retain",
    }
    for namespace in ("prod", "stage"):
        pvc = prod.get("PersistentVolumeClaim", "wordpress-files", namespace)
        assert pvc.spec["accessModes"] == ["ReadWriteMany"], "several WordPress replicas share the files"
        assert pvc.spec["resources"]["requests"]["storage"] == "20Gi"


def test_prod_overlay_carries_the_seeds_production_sizing(overlay_sets: dict[str, ManifestSet]):
    prod = overlay_sets["prod"]
    cluster = prod.get("Cluster", "postgres-cluster", "infra").spec
    assert cluster["storage"]["size"] == "50Gi"
    assert cluster["resources"] == {
        "requests": {"cpu": "500m", "memory": "2Gi"},
        "limits": {"cpu": "2000m", "memory": "4Gi"},
    }
    parameters = cluster["postgresql"]["parameters"]
    assert parameters["shared_buffers"] == "2GB"
    assert parameters["effective_cache_size"] == "6GB"
    assert parameters["max_connections"] == "200"
    assert cluster["affinity"]["podAntiAffinityType"] == "required"

    mysql = prod.get("StatefulSet", "mysql", "infra")
    assert mysql.spec["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "30Gi"
    assert _container(prod, "StatefulSet", "infra", "mysql")["resources"] == {
        "requests": {"cpu": "250m", "memory": "512Mi"},
        "limits": {"cpu": "1000m", "memory": "2Gi"},
    }
    expected = {
        "prod": (3, {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"cpu": "2000m", "memory": "2Gi"}}),
        "stage": (2, {"requests": {"cpu": "200m", "memory": "256Mi"}, "limits": {"cpu": "1000m", "memory": "1Gi"}}),
    }
    for namespace, (replicas, resources) in expected.items():
        assert prod.get("Deployment", "wordpress-blue", namespace).spec["replicas"] == replicas
        assert _container(prod, "Deployment", namespace, "wordpress-blue")["resources"] == resources


def test_prod_overlay_archives_wal_and_backs_up_daily_with_30_day_retention(overlay_sets: dict[str, ManifestSet]):
    prod = overlay_sets["prod"]
    (plugin,) = prod.get("Cluster", "postgres-cluster", "infra").spec["plugins"]
    assert plugin["isWALArchiver"] is True
    store = prod.get("ObjectStore", plugin["parameters"]["barmanObjectName"], "infra")
    assert store is not None and store.spec["retentionPolicy"] == "30d"
    backup = prod.get("ScheduledBackup", "postgres-daily", "infra").spec
    assert backup["cluster"]["name"] == "postgres-cluster" and backup["method"] == "plugin"
    for overlay in ("kind", "k3d"):
        assert "plugins" not in overlay_sets[overlay].get("Cluster", "postgres-cluster", "infra").spec
