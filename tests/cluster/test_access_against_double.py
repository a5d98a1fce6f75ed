"""ClusterAccess's own HTTP paths against the Kubernetes API test double, in process: Traefik reached through a
`kubectl port-forward` on an existing cluster, a port-forward that fails, and a component asked at its own URL."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from double.fixture import DoubleLab, double_for
from helpers import ROOT

from dbc_validate.cluster.access import ClusterAccess, Observability
from dbc_validate.cluster.kubectl import ClusterError, Kubectl
from dbc_validate.cluster.pins import load_pins
from dbc_validate.manifests.model import load_manifest_set
from dbc_validate.tools.binaries import find_program
from dbc_validate.tools.processes import free_ports


@pytest.fixture
def healthy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DoubleLab]:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the port-forward's log folder (lab_directory)
    with double_for("healthy", tmp_path / "double") as lab:
        for key, value in lab.env({}).items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("KUBECONFIG", raising=False)
        yield lab


def access_to(lab: DoubleLab, stack: ExitStack, progress: list[str]) -> ClusterAccess:
    kubectl = Kubectl(find_program("kubectl"), lab.kubeconfig)
    manifests = load_manifest_set(ROOT / "manifests" / "overlays" / "k3d")
    return ClusterAccess("kubeconfig", kubectl, manifests, load_pins(), None, False, progress.append, stack)


@pytest.mark.slow
def test_traefik_is_reached_through_a_port_forward_on_the_double_as_an_existing_cluster(healthy: DoubleLab):
    with ExitStack() as stack:
        access = access_to(healthy, stack, [])
        answer = access.http_get("dirtbikechina.com", "/")
        assert answer.status == 200 and "Dirtbike China" in answer.body
        assert access.ingress_address().address == "127.0.0.1"  # the same forward, kept for the run
        forwards = [e for e in healthy.double.log if "portforward" in e[1]]
        assert forwards, healthy.double.log[-5:]


@pytest.mark.slow
def test_a_port_forward_that_cannot_start_is_a_cluster_error(healthy: DoubleLab):
    failed = "port-forward to ingress-system/svc/nowhere:80 failed"
    with ExitStack() as stack, pytest.raises(ClusterError, match=failed):
        access_to(healthy, stack, []).port_forward("ingress-system", "svc/nowhere", 80, "nowhere")


def test_a_component_asked_at_its_own_url_that_does_not_answer_is_a_cluster_error(healthy: DoubleLab):
    url = f"http://user:secret@127.0.0.1:{free_ports(1)[0]}"
    stack = Observability().with_urls({"prometheus": url})
    with pytest.raises(ClusterError, match=r"prometheus at .* did not answer /-/ready") as info:
        stack.fetch(Kubectl(find_program("kubectl"), healthy.kubeconfig), "prometheus", "/-/ready")
    assert "secret" not in str(info.value)  # the password in the URL is masked
