"""CloudNativePG logic on real-shaped objects: declared durability, status topology, when a trial may start, the
writer pod."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from helpers import ROOT, read_yaml

from dbc_validate.analysis import cnpg_topology as cnpg
from dbc_validate.analysis.failover_log import TrialLog, analyse_trial
from dbc_validate.analysis.live.cnpg_instances import DEFAULT_IMAGE, CnpgCluster, cnpg_clusters, cnpg_instances
from dbc_validate.manifests.model import load_manifest_set, to_object
from dbc_validate.probes.failover_writer import CREATE_TABLE, TABLE

FIXTURES = ROOT / "fixtures" / "failover"


def live(name: str) -> dict[str, Any]:
    return read_yaml(FIXTURES / "cnpg-live" / name)


def cluster_with(spec: dict[str, Any]) -> Any:
    body = {"apiVersion": cnpg.API_VERSION, "kind": "Cluster", "metadata": {"name": "pg", "namespace": "db"}}
    return to_object({**body, "spec": spec}, "test")


def test_fixture_sets_declare_what_their_names_say() -> None:
    required = cnpg.durability_of_set(load_manifest_set(FIXTURES / "sync-required"))
    assert (required.cluster, required.synchronous, required.required) == ("infra/postgres-cluster", True, True)
    assert (required.method, required.number) == ("any", 1)
    relaxed = cnpg.durability_of_set(load_manifest_set(FIXTURES / "async"))
    assert (relaxed.cluster, relaxed.synchronous, relaxed.required) == ("infra/postgres-cluster", False, False)
    assert "asynchronous" in relaxed.describe()


@pytest.mark.parametrize(
    ("spec", "synchronous", "required"),
    [
        ({"postgresql": {"synchronous": {"method": "first", "number": 2}}}, True, True),  # required is the default
        ({"postgresql": {"synchronous": {"method": "any", "number": 1, "dataDurability": "preferred"}}}, True, False),
        ({"postgresql": {"synchronous": {"method": "any", "number": 0}}}, False, False),
        ({"minSyncReplicas": 1, "maxSyncReplicas": 2}, True, True),
        ({"minSyncReplicas": 0, "maxSyncReplicas": 1}, True, False),
        ({"postgresql": {"parameters": {"synchronous_commit": "on"}}}, False, False),
    ],
)
def test_durability_follows_the_synchronous_stanza_and_the_legacy_fields(
    spec: dict[str, Any], synchronous: bool, required: bool
) -> None:
    declared = cnpg.declared_durability(cluster_with(spec))
    assert (declared.synchronous, declared.required) == (synchronous, required)


def test_a_set_without_a_cnpg_cluster_assumes_asynchronous_replication() -> None:
    declared = cnpg.durability_of_set([])
    assert (declared.cluster, declared.synchronous) == (None, False)
    assert "no CloudNativePG Cluster" in declared.describe()


def test_application_secret_database_and_image_come_from_the_cluster_spec() -> None:
    (cluster,) = cnpg_clusters([to_object(live("cluster-healthy.yaml"), "live")])
    assert (cluster.app_secret, cluster.database, cluster.image) == (
        "discourse-db-credentials",
        "discourse",
        "ghcr.io/cloudnative-pg/postgresql:15",
    )
    (plain,) = cnpg_clusters([cluster_with({"instances": 3})])
    assert (plain.app_secret, plain.database, plain.image) == ("pg-app", "app", DEFAULT_IMAGE)


def test_status_topology_through_a_failover() -> None:
    healthy = cnpg.cluster_status(live("cluster-healthy.yaml"))
    assert healthy.healthy() and healthy.label() == "primary postgres-cluster-1"
    failing = cnpg.cluster_status(live("cluster-failing-over.yaml"))
    assert not failing.healthy()
    assert failing.label() == "failover: postgres-cluster-2"
    assert "ready=2/3" in failing.summary()
    promoted = cnpg.cluster_status(live("cluster-promoted.yaml"))
    assert not promoted.healthy()  # a replica is still being recreated
    assert promoted.current_primary == "postgres-cluster-2"
    # In a trial log, the new primary is the first observation whose current primary changed.
    topology = (
        cnpg.observation(healthy, 100.0),
        cnpg.observation(failing, 101.0),
        cnpg.observation(promoted, 103.5),
    )
    log = TrialLog(1, "delete pod", "postgres-cluster-1", 100.5, (), topology, {}, 110.0)
    figures = analyse_trial(log)
    assert figures.new_primary == "postgres-cluster-2"
    assert figures.fault_to_new_primary_s == pytest.approx(3.0)


def _cluster(name: str) -> CnpgCluster:
    return CnpgCluster("infra", name, 1, "app", f"{name}-app", f"{name}-superuser")


def test_a_trial_starts_only_when_status_pods_and_primary_label_agree() -> None:
    healthy = cnpg.cluster_status(live("cluster-healthy.yaml"))
    declared = CnpgCluster("infra", "postgres-cluster", 3, "app", "postgres-cluster-app", "postgres-cluster-superuser")
    during = live("pods.yaml")["items"]  # old primary being deleted, the promoted replica labelled primary
    reason = cnpg.unready_reason(healthy, cnpg_instances(declared, during))
    assert reason is not None and "pod postgres-cluster-1 is being deleted" in reason
    assert "2 pod(s) labelled primary" in reason
    promoted = cnpg.cluster_status(live("cluster-promoted.yaml"))
    assert cnpg.unready_reason(promoted, cnpg_instances(declared, during)) == promoted.summary()  # status first
    settled = [p for p in during if p["metadata"]["name"] != "postgres-cluster-1"]
    settled.append(
        {
            "metadata": {
                "name": "postgres-cluster-1",
                "namespace": "infra",
                "labels": {"cnpg.io/cluster": "postgres-cluster", "cnpg.io/instanceRole": "replica"},
            },
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
        }
    )
    # Every pod back and ready, but the label names -2 while the status still says -1: not yet.
    assert "while the status says postgres-cluster-1" in (
        cnpg.unready_reason(healthy, cnpg_instances(declared, settled)) or ""
    )
    moved = {**live("cluster-healthy.yaml")}
    moved["status"] = {**moved["status"], "currentPrimary": "postgres-cluster-2", "targetPrimary": "postgres-cluster-2"}
    assert cnpg.unready_reason(cnpg.cluster_status(moved), cnpg_instances(declared, settled)) is None


def test_the_legacy_role_label_still_names_the_primary() -> None:
    found = cnpg_instances(_cluster("legacy-cluster"), live("pods.yaml")["items"])
    assert [(i.pod, i.role) for i in found.instances] == [("legacy-cluster-1", "primary")]
    assert found.problems == ()


def test_switchover_goes_to_a_healthy_replica_with_the_promote_status_patch() -> None:
    status = cnpg.cluster_status(live("cluster-healthy.yaml"))
    assert cnpg.switchover_candidate(status) == "postgres-cluster-2"
    assert cnpg.switchover_candidate(cnpg.cluster_status({"status": {"currentPrimary": "a"}})) is None
    patch = cnpg.switchover_status_patch("postgres-cluster-2", "2026-01-10T10:00:00.000000Z")
    assert patch["status"]["targetPrimary"] == "postgres-cluster-2"
    assert patch["status"]["phase"] == cnpg.PHASE_SWITCHOVER == "Switchover in progress"


def test_writer_pod_reaches_the_rw_service_with_the_app_secret_and_meets_restricted_pod_security() -> None:
    pod = cnpg.writer_pod(
        name="w",
        namespace="infra",
        cluster="postgres-cluster",
        image="img:15",
        secret="postgres-cluster-app",
        database="discourse",
        run_id="t1-abcd",
        script="true",
    )
    container = pod["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["PGHOST"]["value"] == "postgres-cluster-rw"
    assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "postgres-cluster-app", "key": "password"}
    assert "value" not in env["PGPASSWORD"]  # the password never appears in the manifest
    assert env["PGDATABASE"]["value"] == "discourse"  # not the Secret's dbname: the superuser's says "*"
    assert pod["metadata"]["labels"] == cnpg.writer_labels("t1-abcd")
    assert pod["spec"]["automountServiceAccountToken"] is False
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert pod["spec"]["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["spec"]["restartPolicy"] == "Never" and pod["spec"]["activeDeadlineSeconds"] > 0
    with pytest.raises(ValueError, match="run id"):
        cnpg.writer_pod(
            name="w", namespace="n", cluster="c", image="i", secret="s", database="d", run_id="x'; drop", script=""
        )
    with pytest.raises(ValueError, match="run id"):
        cnpg.present_query(TABLE, "1' or '1'='1")


def test_writer_script_is_valid_bash_printing_the_shared_log_header() -> None:
    script = cnpg.writer_script(TABLE, CREATE_TABLE)
    done = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "__" not in script  # every placeholder filled
    assert "dbc_validate failover writer log v1" in script
    assert "target_session_attrs=read-write" in script
