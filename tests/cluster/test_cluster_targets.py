"""Cluster targets on a machine without Docker, kind or k3d: fail fast and clearly, refuse prod contexts,
skip destructive tests on an existing cluster, and the live suites skip on the local target."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from contextlib import ExitStack
from pathlib import Path

import pytest
from cluster_fixtures import ROOT, RecordingAccess, obj

from dbc_validate.errors import MissingBinary
from dbc_validate.targets.cluster import combined, missing_prerequisites
from dbc_validate.tools.container_engine import EngineProbe

NO_ENGINE = EngineProbe(None, False, "not found")
DEAD_ENGINE = EngineProbe("docker", False, "Cannot connect to the Docker daemon")
ENGINE = EngineProbe("docker", True, "28.1.1")


def _which(*present: str):
    return lambda name: f"/usr/bin/{name}" if name in present else None


def test_kind_without_engine_or_cli_names_both_and_both_fixes():
    problems = missing_prerequisites("kind", NO_ENGINE, _which(), False)
    assert [type(p) for p in problems] == [MissingBinary, MissingBinary]
    one = combined(problems)
    assert "no container engine (docker or podman) found" in one.problem and "kind CLI" in one.problem
    assert "install Docker Engine" in one.fix and "kind.sigs.k8s.io" in one.fix
    assert "\n" not in str(one)


def test_a_docker_client_without_engine_is_not_enough():
    problems = missing_prerequisites("k3d", DEAD_ENGINE, _which("k3d"), False)
    assert len(problems) == 1 and "docker client found but no container engine answers" in problems[0].problem


def test_observability_also_needs_helm_and_a_complete_machine_needs_nothing():
    assert missing_prerequisites("kind", ENGINE, _which("kind"), False) == []
    helm = missing_prerequisites("kind", ENGINE, _which("kind"), False, with_observability=True)
    assert "helm" in helm[0].problem
    assert missing_prerequisites("kind", ENGINE, _which("kind", "helm"), False, with_observability=True) == []


def test_kubeconfig_target_needs_a_kubeconfig_file_only():
    assert "kubeconfig" in missing_prerequisites("kubeconfig", NO_ENGINE, _which(), False)[0].problem
    assert missing_prerequisites("kubeconfig", NO_ENGINE, _which(), True) == []


def _isolated_env(tmp_path: Path) -> dict[str, str]:
    """PATH holding only this Python: no docker, podman, kind or k3d, whatever the machine has."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBC_") and k != "KUBECONFIG"}
    env["PATH"] = str(bin_dir)
    return env


@pytest.mark.parametrize("target", ["kind", "k3d"])
def test_gate1_on_a_machine_without_docker_fails_fast_in_one_line(target, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/gate1", "--target", target, "-p", "no:cacheprovider"],
        cwd=ROOT, env=_isolated_env(tmp_path), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 4, output
    lines = [line for line in output.splitlines() if "dbc_validate: target" in line and "needs" in line]
    assert len(lines) == 1, output
    assert f"target {target} needs a container engine" in lines[0] and f"needs the {target} CLI" in lines[0]
    assert "fix: install Docker Engine" in lines[0]
    assert "Traceback" not in output and "passed" not in output


def _gate1_project(pytester: pytest.Pytester, body: str) -> None:
    (pytester.path / "manifests").mkdir()
    shutil.copy(ROOT / "fixtures" / "cluster" / "manifest-set" / "00-namespaces.yaml", pytester.path / "manifests")
    pytester.makepyfile(test_live=textwrap.dedent(body))


def _kubeconfig(pytester: pytest.Pytester, name: str) -> Path:
    import yaml

    path = pytester.path / "kubeconfig.yaml"
    path.write_text(yaml.safe_dump(obj("api_answers", name)), encoding="utf-8")
    return path


LIVE = """
    import pytest

    @pytest.mark.live
    @pytest.mark.gate1("infrastructure.nodes_ready")
    def test_nodes(cluster):
        assert cluster is not None

    @pytest.mark.destructive
    @pytest.mark.gate1("applications.persistent_storage")
    def test_restart(manifest_set):
        assert len(manifest_set) == 2
"""


def test_kubeconfig_target_refuses_a_prod_context_before_anything_runs(pytester):
    _gate1_project(pytester, LIVE)
    kubeconfig = _kubeconfig(pytester, "kubeconfig_prod")
    result = pytester.runpytest("--target", "kubeconfig", "--kubeconfig", str(kubeconfig), "-p", "no:cacheprovider")
    assert result.ret == 4
    result.stdout.fnmatch_lines(
        ["*dbc_validate: kubeconfig context 'dirtbike-prod' looks like production*--allow-prod-context*"]
    )
    assert "Traceback" not in result.stdout.str()
    assert "REDACTED-IN-FIXTURE" not in result.stdout.str()


def test_allowed_prod_context_still_skips_destructive_tests_without_the_switch(pytester):
    _gate1_project(pytester, LIVE)
    kubeconfig = _kubeconfig(pytester, "kubeconfig_prod")
    result = pytester.runpytest(
        "--target", "kubeconfig", "--kubeconfig", str(kubeconfig), "--allow-prod-context",
        "-p", "no:cacheprovider", "-k", "restart", "-rs",
    )  # fmt: skip
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*destructive test*refused on an existing cluster*--allow-destructive*"])


def test_destructive_tests_run_on_kubeconfig_with_the_switch(pytester):
    _gate1_project(pytester, LIVE)
    kubeconfig = _kubeconfig(pytester, "kubeconfig_kind")
    result = pytester.runpytest(
        "--target", "kubeconfig", "--kubeconfig", str(kubeconfig), "--allow-destructive",
        "-p", "no:cacheprovider", "-k", "restart",
    )  # fmt: skip
    result.assert_outcomes(passed=1)


def test_live_suites_skip_on_the_local_target_with_the_capability_reason(pytester):
    _gate1_project(pytester, LIVE)
    result = pytester.runpytest("--target", "local", "-p", "no:cacheprovider", "-rs", "-k", "nodes")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*target 'local' does not offer capability 'cluster'*--target kind*"])


CAPABILITY_TESTS = """
    import pytest

    @pytest.mark.gate1("databases.cjk_parser")
    def test_cjk(postgres):
        assert postgres.instances

    @pytest.mark.gate1("applications.traffic_split")
    def test_split(ingress):
        assert ingress.routes

    @pytest.mark.gate1("stability.soak")
    def test_soak(soak):
        assert soak.default_duration_s
"""


def test_capability_suites_on_kind_without_an_engine_fail_fast_in_one_line(pytester, monkeypatch, tmp_path):
    _gate1_project(pytester, CAPABILITY_TESTS)
    monkeypatch.setenv("PATH", _isolated_env(tmp_path)["PATH"])
    result = pytester.runpytest("--target", "kind", "-p", "no:cacheprovider")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == 4, output
    result.stdout.fnmatch_lines(["*dbc_validate: target kind needs a container engine*needs the kind CLI*"])
    assert "Traceback" not in output and "passed" not in output and "skipped" not in output


def test_kind_offers_postgres_failover_ingress_and_soak_at_cluster_scope_made_from_its_api_access():
    from dbc_validate.capabilities import Capability, IngressEndpoint
    from dbc_validate.probes.failover_trials import FailoverLab
    from dbc_validate.scope import Scope
    from dbc_validate.settings import Settings
    from dbc_validate.targets.kind import KindTarget

    class KindWithRecordedAccess(KindTarget):
        connects = 0

        def connect(self, stack):  # no cluster here: the recorded-shape access stands in for it
            self.connects += 1
            access = RecordingAccess(deployments=[obj("traefik", "deployment_ready")])
            access.manifest_set = self.manifest_set()
            access.failover_trials = self.settings.failover_trials
            return access

    settings = Settings(root=ROOT, target="kind", failover_trials=4)
    target = KindWithRecordedAccess(settings, lambda line: None)
    scopes = target.capability_scopes()
    assert {c for c, s in scopes.items() if s is Scope.CLUSTER} == {
        Capability.CLUSTER,
        Capability.POSTGRES,
        Capability.FAILOVER_LAB,
        Capability.INGRESS,
        Capability.SOAK,
        Capability.SOAK_RUN,
        Capability.APPS,
        Capability.OBSERVABILITY,
    }
    assert scopes[Capability.MANIFEST_SET] is Scope.STATIC
    assert set(target.providers()) == set(scopes)
    endpoint = target.provide(Capability.INGRESS)
    assert isinstance(endpoint, IngressEndpoint) and endpoint.base_url == "http://127.0.0.1:8080"
    target.provide(Capability.SOAK)
    lab = target.provide(Capability.FAILOVER_LAB)  # made without touching the cluster: the trials do that
    assert isinstance(lab, FailoverLab) and lab.default_trials == 4
    assert lab.description == "CloudNativePG cluster infra/postgres-cluster"
    assert target.connects == 1  # one API access per run, shared by every capability
    target.stop()


def test_failover_lab_on_an_existing_cluster_is_refused_without_allow_destructive():
    from dbc_validate.errors import InputError
    from dbc_validate.targets.cluster import provide_cnpg_failover_lab

    with pytest.raises(InputError, match="refused on an existing cluster"):
        provide_cnpg_failover_lab(RecordingAccess(target="kubeconfig"), ExitStack())
    allowed = RecordingAccess(target="kubeconfig")
    allowed.allow_destructive = True
    assert provide_cnpg_failover_lab(allowed, ExitStack()).default_trials == 3
