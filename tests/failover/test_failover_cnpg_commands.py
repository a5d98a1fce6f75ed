"""The CNPG failover shell without a cluster (none runs here): the kubectl commands it issues through the cluster
tier's Kubectl, checked against a recording kubectl stand-in that answers with real-shaped objects, and the
provider's refusals. This proves the commands and their parsing, not CloudNativePG's behaviour."""

from __future__ import annotations

import functools
import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import ROOT, read_yaml

from dbc_validate.analysis.failover_log import Attempt, format_attempt
from dbc_validate.analysis.live.cnpg_instances import cnpg_clusters
from dbc_validate.cluster.access import ClusterAccess
from dbc_validate.cluster.cnpg_failover import CnpgBackend
from dbc_validate.cluster.kubectl import ClusterError, Kubectl
from dbc_validate.cluster.pins import load_pins
from dbc_validate.errors import InputError
from dbc_validate.manifests.model import load_manifest_set
from dbc_validate.targets.cluster import provide_cnpg_failover_lab

FIXTURES = ROOT / "fixtures" / "failover"
CLUSTER_FIXTURES = ROOT / "fixtures" / "cluster"
KIND_OVERLAY = ROOT / "manifests" / "overlays" / "kind"
NOT_FOUND = {"rc": 1, "stderr": 'Error from server (NotFound): secrets "x" not found'}

# -IS: the stub needs only the standard library, and skipping site-packages halves each call's start-up.
# Answers by the longest matching argument prefix; a dict answer gives an exit code and stderr instead.
STUB = """#!{python} -IS
import json, pathlib, sys
here = pathlib.Path(__file__).parent
args = sys.argv[1:]
stdin = sys.stdin.read() if "-f" in args else ""
with open(here / "calls.jsonl", "a") as calls:
    calls.write(json.dumps({{"args": args, "stdin": stdin}}) + "\\n")
responses = json.loads((here / "responses.json").read_text())
key = max((k for k in responses if args[: len(k.split())] == k.split()), key=len, default=None)
answer = responses.get(key, "")
if isinstance(answer, dict):
    print(answer["stderr"], file=sys.stderr)
    sys.exit(answer["rc"])
print(answer, end="")
"""


def live(name: str) -> dict[str, Any]:
    return read_yaml(FIXTURES / "cnpg-live" / name)


def cluster_objects(file: str, *names: str) -> list[Any]:
    loaded = read_yaml(CLUSTER_FIXTURES / f"{file}.yaml")
    return [loaded[n] for n in names]


@functools.cache
def kind_policies() -> dict[str, Any]:
    """The NetworkPolicies of infra as `kubectl get networkpolicies -n infra -o json` lists them on kind (rendered
    once: each render is a kustomize run; callers only serialise the result)."""
    ms = load_manifest_set(KIND_OVERLAY)
    items = [dict(o.body) for o in ms.of_kind("NetworkPolicy") if o.namespace == "infra"]
    for item in items:
        item["metadata"] = {**item["metadata"], "namespace": "infra"}
    return {"apiVersion": "v1", "kind": "List", "items": items}


def write_stub(tmp_path: Path, **overrides: Any) -> Kubectl:
    stub = tmp_path / "kubectl"
    stub.write_text(STUB.format(python=sys.executable))
    stub.chmod(0o755)
    pods = {"items": cluster_objects("pods", "cnpg_primary", "cnpg_replica_2", "cnpg_replica_3")}
    (app_secret,) = cluster_objects("secrets", "cnpg_app")
    log = "\n".join(format_attempt(Attempt(i, 1, 10.0 + i, 10.1 + i, True, "10.244.0.7:5432")) for i in (1, 2, 3))
    responses: dict[str, Any] = {
        "get clusters.postgresql.cnpg.io": json.dumps(live("cluster-healthy.yaml")),
        "get pods": json.dumps(pods),
        "get pod": json.dumps({"status": {"phase": "Succeeded"}}),
        "get secret postgres-cluster-app": json.dumps(app_secret),
        "get secret postgres-cluster-superuser": NOT_FOUND,
        "get networkpolicies.networking.k8s.io": json.dumps(kind_policies()),
        "logs": log + "\n",
        "exec -n infra postgres-cluster-1": "present\t1\t1\npresent\t2\t2\n",
        **overrides,
    }
    (tmp_path / "responses.json").write_text(json.dumps(responses))
    return Kubectl(str(stub))


@pytest.fixture
def kubectl(tmp_path: Path) -> Kubectl:
    return write_stub(tmp_path)


def calls(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]


def backend(kubectl: Kubectl) -> CnpgBackend:
    cluster = cnpg_clusters(load_manifest_set(FIXTURES / "async").objects)[0]
    return CnpgBackend(kubectl, cluster)


def test_topology_comes_from_the_cluster_status_and_the_instance_pods(kubectl: Kubectl, tmp_path: Path) -> None:
    cnpg = backend(kubectl)
    seen = cnpg.observe()
    assert seen is not None and (seen.primary, seen.label) == ("postgres-cluster-1", "primary postgres-cluster-1")
    cnpg.wait_healthy(5)
    args = [c["args"] for c in calls(tmp_path)]
    assert ["get", "clusters.postgresql.cnpg.io", "-n", "infra", "postgres-cluster", "-o", "json"] in args
    assert ["get", "pods", "-n", "infra", "-l", "cnpg.io/cluster=postgres-cluster", "-o", "json"] in args


def test_waiting_for_health_fails_naming_the_instance_problem(tmp_path: Path) -> None:
    during = {"items": live("pods.yaml")["items"][:3]}  # the old primary still being deleted
    cnpg = backend(write_stub(tmp_path, **{"get pods": json.dumps(during)}))
    with pytest.raises(ClusterError, match=r"not healthy after 0.2 s: .*postgres-cluster-1 is being deleted"):
        cnpg.wait_healthy(0.2)


def test_fault_deletes_the_primary_pod_with_a_one_second_grace_period(kubectl: Kubectl, tmp_path: Path) -> None:
    at, fault = backend(kubectl).inject("postgres-cluster-1", graceful=False)
    assert fault == "delete pod" and at > 0
    assert calls(tmp_path)[-1]["args"] == [
        "delete",
        "pod",
        "postgres-cluster-1",
        "-n",
        "infra",
        "--grace-period=1",
        "--wait=false",
    ]


def test_switchover_patches_the_status_like_cnpg_promote(kubectl: Kubectl, tmp_path: Path) -> None:
    _, fault = backend(kubectl).inject("postgres-cluster-1", graceful=True)
    assert fault == "switchover"
    patch = calls(tmp_path)[-1]["args"]
    assert patch[:5] == ["patch", "clusters.postgresql.cnpg.io", "postgres-cluster", "-n", "infra"]
    assert "--subresource=status" in patch and "--type=merge" in patch
    body = json.loads(patch[patch.index("-p") + 1])
    assert body["status"]["targetPrimary"] == "postgres-cluster-2"


def test_writer_pod_and_its_policies_are_applied_polled_stopped_read_and_deleted(
    kubectl: Kubectl, tmp_path: Path
) -> None:
    cnpg = backend(kubectl)
    writer = cnpg.start_writer("t1-abcd")
    assert writer.acks == 3 and writer.last_ack == pytest.approx(13.1)
    text = writer.stop()
    assert text.count("\tack\t") == 3
    assert writer.stop() == text  # a second stop does not touch the cluster again
    recorded = calls(tmp_path)
    apply = next(c for c in recorded if c["args"][0] == "apply")
    assert "--server-side" in apply["args"]
    applied = list(yaml.safe_load_all(apply["stdin"]))
    # The policies come first, so the writer's first connection is already let through.
    assert [d["kind"] for d in applied] == ["NetworkPolicy", "NetworkPolicy", "Pod"]
    pod = applied[-1]
    env = {e["name"]: e for e in pod["spec"]["containers"][0]["env"]}
    assert env["PGHOST"]["value"] == "postgres-cluster-rw"
    assert env["PGUSER"]["valueFrom"]["secretKeyRef"]["name"] == "postgres-cluster-app"
    assert env["PGDATABASE"]["value"] == "discourse"  # the app Secret's dbname
    assert "FIXTURE" not in apply["stdin"]  # the password stays in the Secret
    verbs = [c["args"][0] for c in recorded]
    stop_call = next(c["args"] for c in recorded if c["args"][0] == "exec")
    assert stop_call[-2:] == ["touch", "/work/stop"]
    deletes = [c["args"][:3] for c in recorded if c["args"][0] == "delete"]
    assert deletes == [
        ["delete", "pod", "dbc-failover-writer-t1-abcd"],
        ["delete", "networkpolicy", "dbc-failover-writer-t1-abcd-egress"],
        ["delete", "networkpolicy", "dbc-failover-writer-t1-abcd-ingress"],
    ]
    assert verbs[-1] == "delete"
    cnpg.cleanup()  # everything is gone already: nothing more to delete
    assert [c["args"][0] for c in calls(tmp_path)].count("delete") == 3
    assert cnpg.present("t1-abcd") == {1: 1, 2: 2}
    read = calls(tmp_path)[-1]["args"]
    assert read[:6] == ["exec", "-n", "infra", "postgres-cluster-1", "-c", "postgres"]
    assert read[read.index("-d") + 1] == "discourse" and "t1-abcd" in read[-1]


def test_a_writer_that_could_not_be_deleted_is_deleted_at_cleanup(tmp_path: Path) -> None:
    refusing = {"rc": 1, "stderr": "Unable to connect to the server"}
    cnpg = backend(write_stub(tmp_path, delete=refusing))
    writer = cnpg.start_writer("t2-abcd")
    writer.stop()
    write_stub(tmp_path)  # the API server answers again
    cnpg.cleanup()
    deletes = [c["args"][1:3] for c in calls(tmp_path) if c["args"][0] == "delete"]
    names = [["pod", "dbc-failover-writer-t2-abcd"]]
    names += [["networkpolicy", f"dbc-failover-writer-t2-abcd-{d}"] for d in ("egress", "ingress")]
    assert deletes == names + names  # refused at stop, done at cleanup
    cnpg.cleanup()
    assert len([c for c in calls(tmp_path) if c["args"][0] == "delete"]) == 6


def test_open_instances_get_no_ingress_policy_that_would_isolate_them(tmp_path: Path) -> None:
    cnpg = backend(write_stub(tmp_path, **{"get networkpolicies.networking.k8s.io": json.dumps({"items": []})}))
    cnpg.start_writer("t3-abcd")
    applied = list(yaml.safe_load_all(next(c for c in calls(tmp_path) if c["args"][0] == "apply")["stdin"]))
    assert [d["metadata"]["name"] for d in applied] == [
        "dbc-failover-writer-t3-abcd-egress",
        "dbc-failover-writer-t3-abcd",
    ]


def test_the_superuser_secret_is_the_fallback_and_its_star_database_is_not_used(tmp_path: Path) -> None:
    (superuser,) = cluster_objects("secrets", "cnpg_superuser")
    superuser["data"]["dbname"] = "Kg=="  # "*", as CloudNativePG writes it in the superuser Secret
    cnpg = backend(
        write_stub(
            tmp_path,
            **{
                "get secret postgres-cluster-app": NOT_FOUND,
                "get secret postgres-cluster-superuser": json.dumps(superuser),
            },
        )
    )
    login = cnpg.login()
    assert (login.secret, login.user, login.database) == ("postgres-cluster-superuser", "postgres", "app")
    assert "FIXTURE" not in repr(login)


def access(tmp_path: Path, kubectl: Kubectl, manifests: Path, target: str, allow: bool) -> ClusterAccess:
    return ClusterAccess(
        target,
        kubectl,
        load_manifest_set(manifests),
        load_pins(),
        None,
        allow,
        lambda line: None,
        ExitStack(),
        failover_trials=2,
    )


def test_provider_refuses_an_existing_cluster_without_allow_destructive(tmp_path: Path, kubectl: Kubectl) -> None:
    with pytest.raises(InputError, match="refused on an existing cluster") as info:
        provide_cnpg_failover_lab(access(tmp_path, kubectl, FIXTURES / "async", "kubeconfig", False), ExitStack())
    assert "--allow-destructive" in info.value.fix
    assert not (tmp_path / "calls.jsonl").exists()  # refused before any kubectl call


def test_provider_needs_a_cnpg_cluster_in_the_manifest_set(tmp_path: Path, kubectl: Kubectl) -> None:
    other = tmp_path / "set.yaml"
    other.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    with pytest.raises(InputError, match="no CloudNativePG Cluster"):
        provide_cnpg_failover_lab(access(tmp_path, kubectl, other, "kubeconfig", True), ExitStack())
    with ExitStack() as stack:
        lab = provide_cnpg_failover_lab(access(tmp_path, kubectl, FIXTURES / "async", "kind", False), stack)
        assert lab.default_trials == 2
        assert lab.description == "CloudNativePG cluster infra/postgres-cluster"
        assert "--grace-period=1" in lab.notes[0]
        lab.backend.start_writer("t4-abcd")
    # Leaving the stack (the end of the run, a failure or Ctrl-C) deleted the writer and its policies.
    deleted = [c["args"][1:3] for c in calls(tmp_path) if c["args"][0] == "delete"]
    assert ["pod", "dbc-failover-writer-t4-abcd"] in deleted
    assert ["networkpolicy", "dbc-failover-writer-t4-abcd-egress"] in deleted
