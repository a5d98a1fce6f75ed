"""The CNPG failover shell without a cluster (none runs here): the kubectl commands it issues, checked against a
recording kubectl stand-in that answers with real-shaped objects, and the provider's refusals. This proves the
commands and their parsing, not CloudNativePG's behaviour."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml

from dbc_validate.analysis.cnpg_topology import cnpg_clusters
from dbc_validate.analysis.failover_log import Attempt, format_attempt
from dbc_validate.errors import InputError
from dbc_validate.manifests.model import load_manifest_set
from dbc_validate.probes.cnpg_failover import CnpgBackend, Kubectl, provide_cnpg_failover_lab
from dbc_validate.settings import Settings
from dbc_validate.targets.cluster import KubeconfigTarget

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "failover"

STUB = """#!{python}
import json, pathlib, sys
here = pathlib.Path(__file__).parent
args = sys.argv[1:]
stdin = sys.stdin.read() if "-f" in args else ""
with open(here / "calls.jsonl", "a") as calls:
    calls.write(json.dumps({{"args": args, "stdin": stdin}}) + "\\n")
responses = json.loads((here / "responses.json").read_text())
key = max((k for k in responses if args[: len(k.split())] == k.split()), key=len, default=None)
if key is None:
    sys.exit(0)
print(responses[key], end="")
"""


def live(name: str) -> dict[str, Any]:
    return yaml.safe_load((FIXTURES / "cnpg-live" / name).read_text())


@pytest.fixture
def kubectl(tmp_path: Path) -> Kubectl:
    stub = tmp_path / "kubectl"
    stub.write_text(STUB.format(python=sys.executable))
    stub.chmod(0o755)
    healthy_pods = {"items": [p for p in live("pods.yaml")["items"] if p["metadata"]["name"] != "postgres-cluster-2"]}
    healthy_pods["items"][0]["metadata"].pop("deletionTimestamp")
    log = "\n".join(format_attempt(Attempt(i, 1, 10.0 + i, 10.1 + i, True, "10.244.0.7:5432")) for i in (1, 2, 3))
    responses = {
        "get clusters.postgresql.cnpg.io": json.dumps(live("cluster-healthy.yaml")),
        "get pods": json.dumps(healthy_pods),
        "get pod": json.dumps({"status": {"phase": "Succeeded"}}),
        "logs": log + "\n",
        "exec -n infra postgres-cluster-1": "present\t1\t1\npresent\t2\t2\n",
    }
    (tmp_path / "responses.json").write_text(json.dumps(responses))
    return Kubectl([str(stub)])


def calls(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]


def backend(kubectl: Kubectl) -> CnpgBackend:
    cluster = cnpg_clusters(load_manifest_set(FIXTURES / "async"))[0]
    return CnpgBackend(kubectl, cluster)


def test_topology_comes_from_the_cluster_status_and_the_primary_pod_label(kubectl: Kubectl, tmp_path: Path) -> None:
    cnpg = backend(kubectl)
    seen = cnpg.observe()
    assert seen is not None and (seen.primary, seen.label) == ("postgres-cluster-1", "primary postgres-cluster-1")
    cnpg.wait_healthy(5)
    args = [c["args"] for c in calls(tmp_path)]
    assert ["get", "clusters.postgresql.cnpg.io", "-n", "infra", "postgres-cluster", "-o", "json"] in args
    assert ["get", "pods", "-n", "infra", "-l", "cnpg.io/cluster=postgres-cluster", "-o", "json"] in args


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


def test_writer_pod_is_applied_polled_stopped_read_and_deleted(kubectl: Kubectl, tmp_path: Path) -> None:
    cnpg = backend(kubectl)
    writer = cnpg.start_writer("t1-abcd")
    assert writer.acks == 3 and writer.last_ack == pytest.approx(13.1)
    text = writer.stop()
    assert text.count("\tack\t") == 3
    assert writer.stop() == text  # a second stop does not touch the cluster again
    recorded = calls(tmp_path)
    applied = json.loads(recorded[0]["stdin"])
    env = {e["name"]: e for e in applied["spec"]["containers"][0]["env"]}
    assert env["PGHOST"]["value"] == "postgres-cluster-rw"
    assert env["PGUSER"]["valueFrom"]["secretKeyRef"]["name"] == "postgres-cluster-app"
    verbs = [c["args"][0] for c in recorded]
    assert verbs[0] == "apply" and "exec" in verbs and verbs[-1] == "delete"
    stop_call = next(c["args"] for c in recorded if c["args"][0] == "exec")
    assert stop_call[-2:] == ["touch", "/work/stop"]
    assert cnpg.present("t1-abcd") == {1: 1, 2: 2}
    read = calls(tmp_path)[-1]["args"]
    assert read[:6] == ["exec", "-n", "infra", "postgres-cluster-1", "-c", "postgres"]
    assert read[read.index("-d") + 1] == "app" and "t1-abcd" in read[-1]


def target(tmp_path: Path, manifests: Path, allow: bool) -> KubeconfigTarget:
    settings = Settings(
        root=ROOT,
        target="kubeconfig",
        manifests=manifests,
        kubeconfig=tmp_path / "kubeconfig",
        allow_destructive=allow,
        options={"--failover-trials": "2"},
    )
    return KubeconfigTarget(settings, lambda message: None)


def test_provider_refuses_an_existing_cluster_without_allow_destructive(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="without --allow-destructive") as info:
        provide_cnpg_failover_lab(ExitStack(), target(tmp_path, FIXTURES / "async", allow=False))
    assert "--allow-destructive" in info.value.fix


def test_provider_needs_a_cnpg_cluster_in_the_manifest_set(tmp_path: Path, kubectl: Kubectl) -> None:
    other = tmp_path / "set.yaml"
    other.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    with pytest.raises(InputError, match="no CloudNativePG Cluster"):
        provide_cnpg_failover_lab(ExitStack(), target(tmp_path, other, allow=True), kubectl.argv)
    with ExitStack() as stack:
        lab = provide_cnpg_failover_lab(stack, target(tmp_path, FIXTURES / "async", allow=True), kubectl.argv)
        assert lab.default_trials == 2
        assert lab.description == "CloudNativePG cluster infra/postgres-cluster"
        assert "--grace-period=1" in lab.notes[0]
