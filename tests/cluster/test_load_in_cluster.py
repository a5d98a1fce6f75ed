"""In-cluster Locust load: the objects meet Pod Security restricted and the NetworkPolicies let the workers reach
only the ingress (judged by the harness's own evaluators), the image must be digest-pinned, and the objects apply
to the Kubernetes API test double (schema-validated there) and are cleaned up unless kept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from double.fixture import DoubleLab, double_for

from dbc_validate.analysis.cluster_model import build_model
from dbc_validate.analysis.netpol.engine import allowed
from dbc_validate.analysis.pod_security import evaluate_pod
from dbc_validate.cluster.kubectl import Kubectl
from dbc_validate.cluster.load_in_cluster import (
    MASTER,
    NAMESPACE,
    WORKER,
    InClusterLoad,
    cleanup,
    deploy_objects,
    ingress_url,
    load_objects,
    pinned_image,
)
from dbc_validate.cluster.pins import load_pins
from dbc_validate.errors import InputError
from dbc_validate.manifests.model import ManifestSet, to_object
from dbc_validate.tools.binaries import find_program

# A syntactically valid digest for the tests only; the packaged pin's digest is empty on purpose.
TEST_IMAGE = "docker.io/locustio/locust:2.47.0@sha256:" + "0" * 64
TRAEFIK = load_pins().traefik


def objects(workers: int = 2) -> list[dict]:
    load = InClusterLoad(TEST_IMAGE, ingress_url(TRAEFIK), "www.dirtbikechina.com", workers=workers, rate_per_s=5)
    return load_objects(load, TRAEFIK)


def deployments(docs: list[dict]) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}


def test_master_and_workers_meet_pod_security_restricted_in_a_restricted_namespace():
    docs = objects()
    namespace = next(d for d in docs if d["kind"] == "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for name, deployment in deployments(docs).items():
        assert evaluate_pod(deployment["spec"]["template"]["spec"]) == [], name
    assert deployments(docs)[WORKER]["spec"]["replicas"] == 2
    master_args = deployments(docs)[MASTER]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--master" in master_args and "--expect-workers=2" in master_args and "--users=8" in master_args
    # Ready only once the web API listens: the harness reads it right after waiting for Ready.
    master = deployments(docs)[MASTER]["spec"]["template"]["spec"]["containers"][0]
    assert master["readinessProbe"]["tcpSocket"]["port"] == 8089


def test_a_root_container_would_be_caught_by_the_same_evaluator():
    spec = deployments(objects())[WORKER]["spec"]["template"]["spec"]
    spec["securityContext"] = {**spec["securityContext"], "runAsUser": 0}
    assert evaluate_pod(spec)


def test_workers_reach_only_the_ingress_web_port_and_the_master_and_nobody_reaches_the_master_api():
    manifests = ManifestSet(Path("load"), "generated", tuple(to_object(d, "load_in_cluster") for d in objects()))
    model = build_model(manifests)
    worker, master, traefik = f"{NAMESPACE}/{WORKER}", f"{NAMESPACE}/{MASTER}", "ingress-system/traefik"
    web, metrics = TRAEFIK.port("web").container_port, TRAEFIK.port("metrics").container_port
    assert allowed(model, worker, traefik, web).allowed
    assert not allowed(model, worker, traefik, metrics).allowed
    assert allowed(model, worker, master, 5557).allowed
    assert not allowed(model, worker, master, 8089).allowed
    assert not allowed(model, traefik, master, 8089).allowed
    assert not allowed(model, master, traefik, web).allowed  # the master sends no load
    assert not allowed(model, worker, "203.0.113.7", 443).allowed
    others = [w for w in model.ids if w not in (worker, master, traefik) and not w.startswith("kube-system/")]
    assert others and not any(allowed(model, worker, other, web).allowed for other in others)


def test_the_traffic_enters_through_the_ingress_service():
    env = {
        e["name"]: e["value"]
        for e in deployments(objects())[WORKER]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["DBC_TARGET_URL"] == "http://traefik.ingress-system.svc:80"
    assert env["DBC_RATE_PER_USER"] == "0.625"  # 5 requests/s over 8 users


def test_an_image_without_a_digest_is_refused_and_the_packaged_pin_says_how_to_fix_it():
    with pytest.raises(ValueError, match="pinned by digest"):
        InClusterLoad("locustio/locust:2.47.0", "http://x", "h")
    with pytest.raises(InputError, match=re.escape("crane digest docker.io/locustio/locust:2.47.0")):
        pinned_image()
    pins = {"load": {"locust": {"image": "docker.io/locustio/locust:2.47.0", "digest": "sha256:" + "a" * 64}}}
    assert pinned_image(pins) == "docker.io/locustio/locust:2.47.0@sha256:" + "a" * 64


@pytest.fixture
def double_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DoubleLab]:
    with double_for(None, tmp_path / "double") as lab:
        for key, value in lab.env({}).items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("KUBECONFIG", raising=False)
        yield lab


def test_the_objects_apply_to_the_api_double_and_are_cleaned_up_unless_kept(double_lab):
    kubectl = Kubectl(find_program("kubectl"), double_lab.kubeconfig)
    deploy_objects(kubectl, objects(workers=3))
    worker = kubectl.get("deployment", WORKER, NAMESPACE)
    assert worker is not None and worker["spec"]["replicas"] == 3
    assert {p["metadata"]["name"] for p in kubectl.items("networkpolicies", NAMESPACE)} == {
        "default-deny",
        "workers-reach-ingress-and-master",
        "master-admits-workers-only",
    }
    assert cleanup(kubectl, keep=True) is False and kubectl.get("namespace", NAMESPACE) is not None
    assert cleanup(kubectl) is True
    assert kubectl.get("deployment", WORKER, NAMESPACE) is None and kubectl.get("namespace", NAMESPACE) is None
