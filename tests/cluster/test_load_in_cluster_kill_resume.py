"""`--load-in-cluster` end to end on the kubeconfig target against the Kubernetes API test double, whose Locust pods
run as local processes (double/pod_processes.py) loading the local Traefik lab that stands in for the cluster's
ingress: the harness is SIGKILLed mid-soak, the load goes on, `--soak-resume` reattaches, reads the master's
counters for the unwatched stretch, reports the gap, and leaves nothing running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from double.fixture import DoubleLab, double_for
from double.locust_image import TEST_DIGEST
from double.pod_processes import PodRunner, locust_program
from helpers import ROOT

from dbc_validate.capabilities import IngressEndpoint
from dbc_validate.cluster.load_in_cluster import NAMESPACE, ingress_url
from dbc_validate.cluster.pins import load_pins
from dbc_validate.labs.traefik_proxy import provide_local_traefik
from dbc_validate.manifests.model import load_manifest_set
from dbc_validate.manifests.traefik_routes import http_routes
from dbc_validate.tools.binaries import environment_scripts_dir

pytestmark = [pytest.mark.lab, pytest.mark.slow]

MANIFESTS = "manifests/overlays/k3d"  # the set the healthy scenario deploys
DURATION_S = 12
UNWATCHED_S = 6.0  # longer than the workers' 3 s report interval: the master counts load nobody samples


@dataclass
class InClusterLab:
    double: DoubleLab
    pods: PodRunner
    ingress: IngressEndpoint
    report: Path

    def harness(self, *extra: str) -> tuple[list[str], dict[str, str]]:
        argv = [sys.executable, "-m", "pytest", "suites/gate1/test_soak.py", "-p", "no:cacheprovider"]
        argv += ["-p", "double.label", "-p", "double.locust_image", "--target", "kubeconfig"]
        argv += ["--kubeconfig", str(self.double.kubeconfig), "--manifests", MANIFESTS, "--gate1-report"]
        argv += [str(self.report), "--load-in-cluster", "--load-workers", "1", "--soak-rate", "20", "-rA", "-q"]
        env = self.double.env(dict(os.environ))
        env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
        return [*argv, *extra], env


@pytest.fixture
def in_cluster_lab(tmp_path: Path) -> Iterator[InClusterLab]:
    routes = http_routes(load_manifest_set(ROOT / MANIFESTS))
    with ExitStack() as stack:
        ingress = provide_local_traefik(routes, stack, lambda _line: None).endpoint()
        lab = stack.enter_context(double_for("in_cluster_load", tmp_path / "double"))
        # The workers' target, the ingress Service's in-cluster address, is the local Traefik lab here.
        addresses = {ingress_url(load_pins().traefik): ingress.base_url}
        program = locust_program(environment_scripts_dir() / "locust", f"*@{TEST_DIGEST}", addresses)
        pods = PodRunner(lab.double, tmp_path / "pods", program, dict(os.environ)).attach()
        yield InClusterLab(lab, pods, ingress, tmp_path / "report" / "gate1.html")


def samples(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def wait_for_samples(root: Path, count: int, process: subprocess.Popen, timeout_s: float = 240.0) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for path in root.glob("*/samples.jsonl"):
            if sum(r.get("type") == "sample" for r in samples(path)) >= count:
                return path
        assert process.poll() is None, f"the harness ended early ({process.returncode})"
        time.sleep(0.5)
    raise AssertionError(f"no {count} soak samples under {root} within {timeout_s:.0f} s")


def port_forwards_to(kubeconfig: Path) -> list[str]:
    """The kubectl port-forward processes still running against this double (ours only: the kubeconfig is ours)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [w.decode(errors="replace") for w in argv]
        if "port-forward" in words and any(str(kubeconfig) in w for w in words):
            found.append(" ".join(words))
    return found


def soak_evidence(report: Path) -> dict:
    data = json.loads(report.with_suffix(".json").read_text(encoding="utf-8"))
    return next(c for c in data["criteria"] if c["id"] == "stability.soak")


def test_the_in_cluster_load_outlives_a_killed_harness_and_the_resume_reports_the_gap(in_cluster_lab: InClusterLab):
    lab = in_cluster_lab
    argv, env = lab.harness("--soak-duration", f"{DURATION_S}s", "--soak-interval", "1s")
    log = lab.report.parent.parent / "first.log"
    with open(log, "wb") as out:
        first = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            path = wait_for_samples(lab.report.parent / "soak", 3, first)
        except AssertionError:
            first.kill()
            raise AssertionError(log.read_text(errors="replace")[-4000:]) from None
        first.send_signal(signal.SIGKILL)  # no cleanup, no end record: a crashed runner
        first.wait(timeout=30)
    run_id = path.parent.name
    lab.pods.settle()
    assert sorted(p.split("/")[0] for p in lab.pods.alive()) == [NAMESPACE, NAMESPACE], lab.pods.errors
    time.sleep(UNWATCHED_S)  # nobody watches; the master and its worker go on

    done = subprocess.run([*argv, "--soak-resume", run_id], cwd=ROOT, env=env, capture_output=True, text=True)
    output = done.stdout[-4000:] + done.stderr[-2000:]
    assert "ran on while the harness was away" in done.stdout, output

    records = samples(path)
    segments = [r for r in records if r["type"] == "segment"]
    assert [s["segment"] for s in segments] == [0, 1] and segments[1]["resumed"], output
    unwatched = segments[1]["unwatched_load"]
    # 20 requests/s for the unwatched stretch, counted by the master and not sampled.
    assert unwatched["requests"] >= 20 * (UNWATCHED_S - 3) and unwatched["failures"] == 0, unwatched
    assert not unwatched["master_restarted"]
    resumed = [r for r in records if r["type"] == "sample" and r["segment"] == 1]
    assert resumed and all(r.get("load_totals") for r in resumed)
    assert resumed[-1]["load_totals"][0] > unwatched["requests"]  # the master's counters, not a fresh count
    assert sum(r["requests"] for r in resumed) > 0 and sum(r["failures"] for r in resumed) == 0

    criterion = soak_evidence(lab.report)
    text = json.dumps(criterion)
    assert "unobserved before segment 1" in text and "counted by the Locust master" in text, text[-3000:]

    # Nothing left running: the namespace is gone, so are its pods' processes and every port-forward.
    lab.pods.settle()
    assert lab.pods.alive() == [] and lab.pods.errors == []
    assert not any(key[2] == NAMESPACE for key in lab.double.double.store), "the load's namespace was kept"
    assert port_forwards_to(lab.double.kubeconfig) == []
    assert len(lab.pods.started) == 2  # the resume reattached to the same master and worker: no new pods
