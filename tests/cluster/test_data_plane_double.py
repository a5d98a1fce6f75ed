"""The cluster code path with a real data plane: the kubeconfig target against the API test double, whose
port-forwards relay (double/relay.py) to real local labs. The CNPG instance pods reach a local PostgreSQL
bootstrapped as CloudNativePG would (owner role and database, then the set's bootstrap SQL as superuser); the
cluster's Traefik Service reaches the local Traefik lab built from the set's IngressRoutes. So the CJK suite and the
split check run their real probes through `kubectl port-forward`, ClusterAccess and the cluster capabilities."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from double import relay
from double.fixture import double_for
from double.label import NOTE
from helpers import ROOT

from dbc_validate.analysis.app_stack import app_stack_plan
from dbc_validate.capabilities import DATABASE
from dbc_validate.labs.app_stack import LocalAppStack
from dbc_validate.labs.postgres_binaries import find_pg_binaries
from dbc_validate.labs.postgres_bootstrap import BootstrapReport, apply_bootstrap
from dbc_validate.labs.postgres_server import PostgresLab, start_postgres_lab
from dbc_validate.labs.traefik_proxy import TraefikLab, provide_local_traefik
from dbc_validate.manifests.cnpg_bootstrap import find_bootstrap_sql
from dbc_validate.manifests.model import load_manifest_set
from dbc_validate.manifests.traefik_routes import http_routes

pytestmark = [pytest.mark.lab, pytest.mark.slow]

MANIFESTS = "manifests/overlays/k3d"  # the set the healthy scenario deploys (`manifests: k3d`)
CLUSTER, NAMESPACE, OWNER = "postgres-cluster", "infra", "discourse"  # the set's CNPG Cluster and initdb owner
APP_PASSWORD = "relay-app-pw-5Hq"  # the owner's password in the `<cluster>-app` Secret the operator would make
TRAEFIK_NS, TRAEFIK_SVC = "ingress-system", "traefik"  # dbc_validate/data/traefik-install.yaml
CJK_SUITE, SPLIT_SUITE = "suites/gate1/test_cjk_parser.py", "suites/gate1/test_traffic_split.py"
APPS_SUITE = "suites/gate1/test_app_stack.py"
SPLIT_TEST = "test_measured_split_through_traefik_matches_the_gate1_split"


@dataclass(frozen=True)
class CnpgDatabase:
    lab: PostgresLab
    bootstrap: BootstrapReport

    @property
    def has_parser(self) -> bool:
        return self.bootstrap.lacks("pg_cjk_parser") is None


@pytest.fixture(scope="module")
def cnpg_database() -> Iterator[CnpgDatabase]:
    """A local PostgreSQL made as CloudNativePG's initdb makes the application database: the owner role with its
    password, the database owned by it, then the set's postInitApplicationSQL run as superuser in it. A statement
    this PostgreSQL cannot run (CREATE EXTENSION pg_cjk_parser without the extension) is left out, as the local
    target's lab does; with the extension installed here the database has the parser."""
    lab = start_postgres_lab(find_pg_binaries(), lambda line: None)
    try:
        lab.execute(f"CREATE ROLE {OWNER} LOGIN PASSWORD '{APP_PASSWORD}'")
        lab.execute(f"CREATE DATABASE {DATABASE} OWNER {OWNER} TEMPLATE template0 ENCODING 'UTF8'")
        bootstrap = find_bootstrap_sql(load_manifest_set(ROOT / MANIFESTS), DATABASE)
        with psycopg.connect(lab.dsn(DATABASE), autocommit=True) as conn:
            report = apply_bootstrap(conn, bootstrap)
        yield CnpgDatabase(lab, report)
    finally:
        lab.stop()


def app_secret() -> dict:
    """`<cluster>-app` as the CloudNativePG operator creates it for the initdb owner (keys per
    https://cloudnative-pg.io/documentation/current/applications/#secrets: username, password, dbname, ...)."""
    data = {"username": OWNER, "password": APP_PASSWORD, "dbname": DATABASE, "port": "5432"}
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    meta = {"name": f"{CLUSTER}-app", "namespace": NAMESPACE, "labels": {"cnpg.io/cluster": CLUSTER}}
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/basic-auth", "metadata": meta, "data": encoded}


@dataclass(frozen=True)
class Run:
    done: subprocess.CompletedProcess[str]
    report: dict
    requests: list  # (method, path, content-type) the double served

    def outcomes(self) -> dict[str, tuple[str, str]]:
        tests = self.report["measurements"]["tests"].items()
        return {nodeid.split("::")[-1]: (t["outcome"], t["message"] or "") for nodeid, t in tests}

    def criterion(self, cid: str) -> dict:
        return next(c for c in self.report["criteria"] if c["id"] == cid)


def run_gate1(argv: list[str], folder: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], dict]:
    report = folder / "report" / "gate1.html"
    command = [sys.executable, "-m", "pytest", *argv, "-p", "no:cacheprovider", "--gate1-report", str(report)]
    command += ["--manifests", MANIFESTS, "-rA", "-q"]
    env = {**env, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert report.with_suffix(".json").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return done, json.loads(report.with_suffix(".json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def traefik_lab() -> Iterator[TraefikLab]:
    """The local Traefik lab serving the k3d set's routes: what the cluster's Traefik Service leads to."""
    with ExitStack() as stack:
        yield provide_local_traefik(http_routes(load_manifest_set(ROOT / MANIFESTS)), stack, lambda line: None)


@pytest.fixture(scope="module")
def relayed(cnpg_database: CnpgDatabase, traefik_lab: TraefikLab, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The CJK and split suites through the kubeconfig target against the healthy scenario, its data plane relayed."""
    folder = tmp_path_factory.mktemp("relayed")
    with double_for("healthy", folder / "double") as lab:
        lab.double.put("", "secrets", NAMESPACE, app_secret())
        pg = ("127.0.0.1", cnpg_database.lab.port)
        relay.install(
            lab.double,
            [
                relay.Relay(NAMESPACE, f"pod/{CLUSTER}-*", 5432, pg),
                relay.Relay(TRAEFIK_NS, f"svc/{TRAEFIK_SVC}", 80, ("127.0.0.1", traefik_lab.web_port)),
                relay.Relay(TRAEFIK_NS, f"svc/{TRAEFIK_SVC}", 9100, ("127.0.0.1", traefik_lab.admin_port)),
            ],
        )
        argv = [CJK_SUITE, SPLIT_SUITE, "-p", "double.label", "--target", "kubeconfig"]
        argv += ["--kubeconfig", str(lab.kubeconfig)]
        done, report = run_gate1(argv, folder, lab.env(dict(os.environ)))
        return Run(done, report, list(lab.double.log))


def forwarded_pods(run: Run) -> set[str]:
    return {entry[1].split("/")[-2] for entry in run.requests if entry[1].endswith("/portforward")}


def test_every_cnpg_instance_is_checked_through_its_own_port_forward_to_the_real_database(relayed: Run):
    assert {f"{CLUSTER}-{n}" for n in (1, 2, 3)} <= forwarded_pods(relayed), relayed.done.stdout[-3000:]
    cjk = {name: o for name, o in relayed.outcomes().items() if name.startswith("test_") and "split" not in name}
    assert cjk and all(outcome != "not_run" for outcome, _ in cjk.values()), cjk
    output = relayed.done.stdout + json.dumps(relayed.report)
    for n in (1, 2, 3):
        assert f"CNPG {CLUSTER} {NAMESPACE}/{CLUSTER}-{n}" in output
    assert APP_PASSWORD not in output and APP_PASSWORD not in relayed.done.stderr
    assert NOTE in relayed.report["measurements"]["notes"]


def test_the_cjk_verdict_through_the_cluster_path_is_the_local_targets_on_the_same_database(
    relayed: Run, cnpg_database: CnpgDatabase, tmp_path: Path
):
    # The local target pointed at the same database (--postgres-dsn: checked as it is, like a cluster instance).
    dsn = cnpg_database.lab.tcp_dsn(DATABASE, OWNER, APP_PASSWORD)
    done, local = run_gate1([CJK_SUITE, "--target", "local", "--postgres-dsn", dsn], tmp_path, dict(os.environ))
    local_run = Run(done, local, [])
    mine = {k: v[0] for k, v in relayed.outcomes().items() if k != SPLIT_TEST and v[0] != "not_run"}
    theirs = {k: v[0] for k, v in local_run.outcomes().items() if v[0] != "not_run"}
    assert mine == theirs, (mine, theirs)
    cluster_status = relayed.criterion("databases.cjk_parser")["status"]
    assert cluster_status == local_run.criterion("databases.cjk_parser")["status"]
    if not cnpg_database.has_parser:
        # No pg_cjk_parser on this machine: an instance without it is what a cluster on a wrong image looks like.
        assert cluster_status == "FAIL", relayed.criterion("databases.cjk_parser")
        message = relayed.outcomes()["test_extension_parser_and_configuration_exist_and_are_the_database_default"][1]
        assert "extension pg_cjk_parser is not installed" in message
    else:
        assert cluster_status != "FAIL", relayed.criterion("databases.cjk_parser")


def test_the_split_is_measured_through_the_cluster_traefik_service_on_the_traefik_lab(relayed: Run):
    outcome, message = relayed.outcomes()[SPLIT_TEST]
    assert outcome == "passed", message + relayed.done.stdout[-3000:]
    assert any(pod.startswith(f"{TRAEFIK_SVC}-") for pod in forwarded_pods(relayed)), forwarded_pods(relayed)
    notes = json.dumps(relayed.report["measurements"]["criteria"]["applications.traffic_split"], ensure_ascii=False)
    assert "on the kubeconfig cluster" in notes and "through the kubeconfig kubectl port-forward" in notes
    # The lab's file provider names its leaves `...@file`, not the `<ns>-<svc>-<port>@kubernetescrd` the cluster
    # path reads: the cross-check is unavailable here and the run says so, rather than failing on zero counts.
    assert "@kubernetescrd" in notes and "server-side counts are not available" in notes, notes


def secret_values(lab_double, namespaces: set[str]) -> dict[str, dict[str, str]]:
    """What cluster/app_stack.py reads from the deployed Secrets, read from the double's store."""
    return {
        f"{ns}/{name}": {k: base64.b64decode(v).decode() for k, v in (obj.get("data") or {}).items()}
        for (group, plural, ns, name), obj in lab_double.store.items()
        if (group, plural) == ("", "secrets") and ns in namespaces
    }


@pytest.fixture(scope="module")
def apps_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The apps suite through the kubeconfig target: MySQL's Service forwards to a local MariaDB and the cluster's
    Traefik is the apps lab's Traefik in front of PHP-served WordPress, all made from the Secrets the double holds
    (so the cluster path's credentials are the ones the lab was created with)."""
    folder = tmp_path_factory.mktemp("apps")
    ms = load_manifest_set(ROOT / MANIFESTS)
    namespaces = {str(w.namespace) for w in ms.of_kind("Deployment", "StatefulSet") if w.namespace}
    with double_for("healthy", folder / "double") as lab, ExitStack() as stack:
        plan = app_stack_plan(ms, http_routes(ms), secret_values(lab.double, namespaces))
        apps = LocalAppStack(plan, lambda line: None).start(stack)
        assert apps.traefik is not None
        relay.install(
            lab.double,
            [
                relay.Relay(plan.mysql.namespace, f"svc/{plan.mysql.name}", 3306, ("127.0.0.1", apps.database.port)),
                relay.Relay(TRAEFIK_NS, f"svc/{TRAEFIK_SVC}", 80, ("127.0.0.1", apps.traefik.web_port)),
                relay.Relay(TRAEFIK_NS, f"svc/{TRAEFIK_SVC}", 9100, ("127.0.0.1", apps.traefik.admin_port)),
            ],
        )
        argv = [APPS_SUITE, "-p", "double.label", "--target", "kubeconfig", "--allow-destructive"]
        argv += ["--kubeconfig", str(lab.kubeconfig)]
        done, report = run_gate1(argv, folder, lab.env(dict(os.environ)))
        return Run(done, report, list(lab.double.log))


def test_the_apps_checks_run_through_the_cluster_path_on_mariadb_and_wordpress_labs(apps_run: Run):
    ran = {name: outcome for name, (outcome, _) in apps_run.outcomes().items()}
    assert ran and set(ran.values()) == {"passed"}, apps_run.done.stdout[-4000:]
    assert {pod.split("-")[0] for pod in forwarded_pods(apps_run)} >= {"mysql", TRAEFIK_SVC}
    # The restart check deleted the pods through the API and reached MySQL again through a new port-forward.
    mysql = [e for e in apps_run.requests if "/pods/mysql-" in e[1] and e[1].endswith("/portforward")]
    assert len(mysql) >= 2, mysql
    assert any(e[0] == "DELETE" and e[1].startswith("/api/v1/namespaces/infra/pods") for e in apps_run.requests)
    assert NOTE in apps_run.report["measurements"]["notes"]
