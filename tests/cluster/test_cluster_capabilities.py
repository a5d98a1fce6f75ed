"""The capabilities a cluster target makes from its API access (postgres, ingress, soak), decided on
recorded-shape objects, and their thin shells run against a recording stand-in for the access (no cluster
runs here: nothing in this file claims to have touched one)."""

from __future__ import annotations

import http.server
from collections.abc import Iterator
from contextlib import ExitStack
from fractions import Fraction

import pytest
import yaml
from cluster_fixtures import MANIFEST_SET, ROOT, RecordingAccess, obj, objs
from helpers import http_server

from dbc_validate.analysis.live.cluster_ingress import (
    HostAddress,
    image_version,
    leaf_service_name,
    leaf_services,
    mapped_host_port,
    normalize,
    ready_replicas,
    traefik_replicas,
)
from dbc_validate.analysis.live.cnpg_instances import (
    Credentials,
    cnpg_clusters,
    cnpg_instances,
    is_instance_pod,
    pick_credentials,
)
from dbc_validate.analysis.live.headroom import container_loads, heaviest
from dbc_validate.analysis.live.pods import container_health
from dbc_validate.analysis.traefik_metrics import service_request_totals, variant_counts
from dbc_validate.capabilities import Backend
from dbc_validate.cluster.kubectl import ClusterError
from dbc_validate.cluster.soak_subject import API_COMPONENT, CLUSTER_DEFAULT_DURATION_S, cluster_soak
from dbc_validate.cluster.traefik_endpoint import cluster_ingress
from dbc_validate.errors import InputError
from dbc_validate.manifests.model import load_manifest_set
from dbc_validate.manifests.traefik_routes import http_routes
from dbc_validate.resources import read_text

KIND_OVERLAY = ROOT / "manifests" / "overlays" / "kind"
CNPG_PODS = ("cnpg_primary", "cnpg_replica_2", "cnpg_replica_3")
APP_PASSWORD = "app-pw-FIXTURE-7Qz"


@pytest.fixture(scope="module")
def fixture_cluster():
    (cluster,) = cnpg_clusters(load_manifest_set(MANIFEST_SET).objects)
    return cluster


# ---- postgres: instances and credentials ---------------------------------------------------------------


def test_clusters_of_the_set_name_their_database_and_credential_secrets(kind_set, fixture_cluster):
    (real,) = cnpg_clusters(kind_set.objects)
    assert (real.ref, real.instances, real.database) == ("infra/postgres-cluster", 3, "discourse")
    assert real.credential_secrets == ("postgres-cluster-app", "postgres-cluster-superuser")
    # A Cluster that names its initdb secret keeps the owner's credentials there.
    assert fixture_cluster.credential_secrets == ("discourse-db", "postgres-cluster-superuser")


def test_every_instance_pod_is_listed_primary_first_and_job_pods_are_not_instances(fixture_cluster):
    pods = objs("pods", "cnpg_replica_3", "image_pull_backoff", *CNPG_PODS[:2], "wordpress_ready")
    found = cnpg_instances(fixture_cluster, pods)
    assert found.problems == ()
    assert [(i.pod, i.role) for i in found.instances] == [
        ("postgres-cluster-1", "primary"),
        ("postgres-cluster-2", "replica"),
        ("postgres-cluster-3", "replica"),
    ]
    assert not is_instance_pod(obj("pods", "image_pull_backoff"), fixture_cluster)  # initdb Job pod


def test_missing_unready_or_ambiguous_instances_are_problems_not_a_smaller_sample(fixture_cluster):
    two = cnpg_instances(fixture_cluster, objs("pods", *CNPG_PODS[:2]))
    assert two.problems == ("infra/postgres-cluster: 2 instance pod(s) found, the Cluster declares 3",)
    unready = objs("pods", *CNPG_PODS)
    unready[2]["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    assert cnpg_instances(fixture_cluster, unready).problems == (
        "infra/postgres-cluster: pod postgres-cluster-3 is not ready (phase Running)",
    )
    failing_over = objs("pods", *CNPG_PODS)
    failing_over[1]["metadata"]["labels"]["cnpg.io/instanceRole"] = "primary"
    assert "2 pod(s) labelled primary (postgres-cluster-1, postgres-cluster-2)" in "".join(
        cnpg_instances(fixture_cluster, failing_over).problems
    )
    assert cnpg_instances(fixture_cluster, []).problems == (
        "infra/postgres-cluster: 0 instance pod(s) found, the Cluster declares 3",
    )


def test_the_legacy_role_label_gives_the_role_when_the_new_one_is_missing(fixture_cluster):
    pods = objs("pods", *CNPG_PODS)
    del pods[0]["metadata"]["labels"]["cnpg.io/instanceRole"]
    assert cnpg_instances(fixture_cluster, pods).instances[0].role == "primary"


def test_the_owners_secret_is_preferred_and_the_superuser_one_is_the_fallback(kind_set):
    (cluster,) = cnpg_clusters(kind_set.objects)
    app, superuser = obj("secrets", "cnpg_app"), obj("secrets", "cnpg_superuser")
    chosen = pick_credentials(cluster, {"postgres-cluster-app": app, "postgres-cluster-superuser": superuser})
    assert (chosen.user, chosen.password, chosen.database) == ("discourse", APP_PASSWORD, "discourse")
    assert chosen.secret == "infra/postgres-cluster-app"
    fallback = pick_credentials(cluster, {"postgres-cluster-app": None, "postgres-cluster-superuser": superuser})
    assert (fallback.user, fallback.database, fallback.secret) == (
        "postgres",
        "discourse",
        "infra/postgres-cluster-superuser",
    )
    broken = {"postgres-cluster-app": obj("secrets", "app_without_password"), "postgres-cluster-superuser": superuser}
    assert pick_credentials(cluster, broken).user == "postgres"
    superuser["data"]["dbname"] = "Kg=="  # "*": CloudNativePG's superuser Secret names no database
    assert pick_credentials(cluster, {"postgres-cluster-superuser": superuser}).database == "discourse"


def test_an_initdb_secret_without_dbname_uses_the_clusters_database(fixture_cluster):
    chosen = pick_credentials(fixture_cluster, {"discourse-db": obj("secrets", "initdb_secret")})
    assert (chosen.user, chosen.database, chosen.secret) == ("discourse", "discourse", "infra/discourse-db")


def test_no_usable_secret_is_an_error_naming_what_was_tried_and_no_value(kind_set):
    (cluster,) = cnpg_clusters(kind_set.objects)
    with pytest.raises(LookupError) as caught:
        pick_credentials(cluster, {"postgres-cluster-app": obj("secrets", "app_without_password")})
    message = str(caught.value)
    assert "postgres-cluster-app (no username/password)" in message and "postgres-cluster-superuser (absent)" in message
    assert "ZGlzY291cnNl" not in message and "discourse" not in message.split("tried")[1]


def test_credentials_never_show_their_password():
    credentials = Credentials("discourse", APP_PASSWORD, "discourse", "infra/postgres-cluster-app")
    assert APP_PASSWORD not in repr(credentials) and APP_PASSWORD not in str(credentials)


# ---- ingress: port mapping, replicas, leaf services ----------------------------------------------------


def _config(name: str) -> dict:
    return yaml.safe_load(read_text(name))


def test_the_kind_and_k3d_configs_map_a_host_port_to_traefiks_web_node_port():
    assert mapped_host_port("kind", _config("kind-config.yaml"), 30080, "kind") == HostAddress("127.0.0.1", 8080)
    assert mapped_host_port("k3d", _config("k3d-config.yaml"), 30080, "k3d") == HostAddress("127.0.0.1", 8080)
    assert HostAddress("127.0.0.1", 8080).url == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("target", "config", "expected"),
    [
        ("k3d", {"ports": [{"port": "8081:30080"}]}, HostAddress("127.0.0.1", 8081)),
        ("k3d", {"ports": [{"port": "0.0.0.0:8082:30080/tcp"}]}, HostAddress("127.0.0.1", 8082)),
        (
            "k3d",
            {"ports": [{"port": "8083:30080/udp"}, {"port": "10.0.0.5:8084:30080"}]},
            HostAddress("10.0.0.5", 8084),
        ),
        (
            "kind",
            {"nodes": [{"extraPortMappings": [{"containerPort": 30080, "hostPort": 9090}]}]},
            HostAddress("127.0.0.1", 9090),
        ),
    ],
)
def test_port_mapping_forms(target, config, expected):
    assert mapped_host_port(target, config, 30080, "config.yaml") == expected


def test_a_config_that_does_not_expose_traefik_is_bad_input_with_the_fix():
    kind = _config("kind-config.yaml")
    kind["nodes"][0]["extraPortMappings"][0]["containerPort"] = 30081
    with pytest.raises(InputError) as caught:
        mapped_host_port("kind", kind, 30080, "kind-config.yaml")
    assert "maps no host port to Traefik's web NodePort 30080" in caught.value.problem
    assert "127.0.0.1:8080->30081" in caught.value.problem and "containerPort: 30080" in caught.value.fix


def test_replicas_balancing_a_route_count_every_serving_pod():
    assert traefik_replicas(obj("traefik", "deployment_ready")) == 1
    assert traefik_replicas(obj("traefik", "deployment_rolling")) == 2  # old and new pod during a rollout
    assert ready_replicas(obj("traefik", "deployment_unready")) == 0
    assert image_version(obj("traefik", "deployment_ready")) == "v3.7.15"
    assert image_version(obj("traefik", "deployment_rolling")) == "v3.7.16"
    assert image_version(obj("traefik", "deployment_unready")) == "unknown"  # the colon is the registry's port


def test_leaf_services_are_named_as_traefiks_kubernetescrd_provider_names_them(kind_set):
    (route,) = [r for r in http_routes(kind_set) if r.is_split]
    assert leaf_services(route) == {
        "prod": ("prod-wordpress-80@kubernetescrd",),
        "stage": ("stage-wordpress-80@kubernetescrd",),
    }
    named = Backend("my_ns", "svc.v2", "http", Fraction(1), (), {})
    assert leaf_service_name(named) == "my-ns-svc-v2-http@kubernetescrd"
    assert leaf_service_name(Backend("prod", "wordpress", None, Fraction(1), (), {})) == "prod-wordpress@kubernetescrd"
    assert normalize("--a..b__c--") == "a-b-c"


def test_the_split_reads_server_counts_under_those_names(kind_set):
    (route,) = [r for r in http_routes(kind_set) if r.is_split]
    sample = 'traefik_service_requests_total{{code="200",method="GET",protocol="http",service="{}"}} {}'
    text = "\n".join(
        [
            "# TYPE traefik_service_requests_total counter",
            sample.format("prod-wordpress-80@kubernetescrd", 182),
            sample.format("stage-wordpress-80@kubernetescrd", 78),
            sample.format("ingress-system-www-1f2e3d4c5b6a7980@kubernetescrd", 260),  # the weighted parent
        ]
    )
    assert variant_counts({}, service_request_totals(text), leaf_services(route)) == {"prod": 182, "stage": 78}


class _Metrics(http.server.BaseHTTPRequestHandler):
    body = b'traefik_service_requests_total{service="prod-wordpress-80@kubernetescrd"} 3\n'

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def metrics_port() -> Iterator[int]:
    with http_server(_Metrics) as server:
        yield server.server_address[1]


def test_the_ingress_endpoint_is_the_clusters_traefik_with_its_metrics(kind_set, metrics_port):
    access = RecordingAccess(deployments=[obj("traefik", "deployment_rolling") | _named()], forward_to=metrics_port)
    access.manifest_set = kind_set
    with ExitStack() as stack:
        endpoint = cluster_ingress(access, stack)
    assert endpoint.base_url == "http://127.0.0.1:8080" and endpoint.replicas == 2
    assert endpoint.metrics_url == f"http://127.0.0.1:{metrics_port}/metrics"
    assert access.forwards == [("ingress-system", "svc/traefik", 9100)]
    (route,) = [r for r in endpoint.routes if r.is_split]
    assert endpoint.leaf_services[route.source]["prod"] == ("prod-wordpress-80@kubernetescrd",)
    assert endpoint.description == "Traefik v3.7.16 on the kind cluster (ingress-system/traefik, 2 replica(s))"
    assert access.versions["traefik"] == "v3.7.16"


def _named() -> dict:
    return {"metadata": {"name": "traefik", "namespace": "ingress-system"}}


def test_unreachable_metrics_leave_the_endpoint_without_server_counts_and_say_why(kind_set):
    access = RecordingAccess(deployments=[obj("traefik", "deployment_ready")], forward_to=9)  # nothing listens
    access.manifest_set = kind_set
    with ExitStack() as stack:
        endpoint = cluster_ingress(access, stack)
    assert endpoint.metrics_url is None
    assert any("metrics are not reachable" in n for n in endpoint.notes)


def test_a_missing_or_unready_traefik_fails_the_capability():
    with pytest.raises(ClusterError, match="no Traefik Deployment ingress-system/traefik"):
        cluster_ingress(RecordingAccess(), ExitStack())
    unready = RecordingAccess(deployments=[obj("traefik", "deployment_unready") | _named()])
    with pytest.raises(ClusterError, match="has no ready replica"):
        cluster_ingress(unready, ExitStack())


# ---- soak: health and resources from pods and the metrics API ----------------------------------------


def test_container_health_reads_readiness_restarts_and_crash_loops():
    readings = {
        r.name: r
        for r in container_health(
            objs("pods", "wordpress_ready", "mysql_ready", "crashloop", "unschedulable", "completed_job_pod")
        )
    }
    assert set(readings) == {
        "prod/wordpress-7d9f8b6c5d-x2x9k/wordpress",
        "infra/mysql-0/mysql",
        "prod/logto-5c9d7-abcde/logto",
        "infra/mysql-1",
    }  # the finished Job pod is not watched
    assert readings["prod/wordpress-7d9f8b6c5d-x2x9k/wordpress"].up
    assert (readings["infra/mysql-0/mysql"].restarts, readings["infra/mysql-0/mysql"].detail) == (1, "last exit: Error")
    logto = readings["prod/logto-5c9d7-abcde/logto"]
    assert (logto.up, logto.restarts, logto.crashlooping, logto.detail) == (False, 7, True, "CrashLoopBackOff")
    pending = readings["infra/mysql-1"]
    assert not pending.up and "Insufficient memory" in pending.detail


def test_the_soak_follows_the_container_closest_to_each_limit():
    pods = objs("pods", "wordpress_ready", "mysql_ready", "crashloop")
    metrics = obj("api_answers", "pod_metrics")["items"]
    metrics.append({"metadata": {"name": "logto-5c9d7-abcde", "namespace": "prod"}, "containers": [
        {"name": "logto", "usage": {"cpu": "3", "memory": "3Gi"}}]})  # fmt: skip
    loads = container_loads(metrics, pods)
    worst = heaviest(loads)
    assert worst.cpu is not None and worst.cpu.subject == "Pod/prod/wordpress-7d9f8b6c5d-x2x9k (container wordpress)"
    assert worst.cpu.cpu_cores / worst.cpu.cpu_limit_cores == pytest.approx(0.84)
    assert worst.memory is not None and worst.memory.subject == "Pod/infra/mysql-0 (container mysql)"
    # logto has no limits: it uses the most, but cannot be judged against a limit, so it is not the worst.
    assert heaviest([x for x in loads if "logto" in x.subject]) == heaviest([])


def test_the_soak_subject_watches_pods_through_the_api(kind_set):
    pods = objs("pods", "wordpress_ready", "crashloop", "traefik")
    access = RecordingAccess(
        pods=pods,
        deployments=[obj("traefik", "deployment_ready")],
        pod_metrics=obj("api_answers", "pod_metrics")["items"],
    )
    access.manifest_set = kind_set
    subject = cluster_soak(access, ExitStack())
    assert subject.default_duration_s == CLUSTER_DEFAULT_DURATION_S == 48 * 3600
    assert subject.route.is_split and "ingress-system" in subject.namespaces
    health = {h.name: h for h in subject.health(0.0)}
    assert health["ingress-system/traefik-6b9c7d8f9-t7rfk/traefik"].up
    assert health["prod/logto-5c9d7-abcde/logto"].crashlooping
    use = subject.resources()
    assert use.cpu_cores == pytest.approx(0.42) and use.cpu_limit_cores == pytest.approx(0.5)
    assert use.memory_mb == pytest.approx(200) and use.memory_limit_mb == pytest.approx(512)
    access.api_down = True
    (down,) = subject.health(1.0)
    assert (down.name, down.up) == (API_COMPONENT, False) and "Unable to connect" in down.detail
    assert subject.resources().cpu_cores is None  # no figure for this sample rather than a made-up one


def test_the_soak_needs_a_route_to_drive():
    access = RecordingAccess(deployments=[obj("traefik", "deployment_ready")])  # the fixture set has no split
    access.manifest_set = load_manifest_set(ROOT / "fixtures" / "cluster" / "manifest-set" / "00-namespaces.yaml")
    with pytest.raises(InputError, match=r"no traefik\.io IngressRoute"):
        cluster_soak(access, ExitStack())
