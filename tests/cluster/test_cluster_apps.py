"""The `apps` capability on a cluster: planned from the set with the deployed Secrets' values, MySQL reached
through a port-forward to its Service, WordPress through the cluster's Traefik; a restart waits for new pods."""

from __future__ import annotations

import base64
from contextlib import ExitStack

from cluster_fixtures import RecordingAccess, obj

from dbc_validate.analysis.workload_config import restart_complete
from dbc_validate.cluster.app_stack import cluster_apps


def _secret(namespace: str, name: str, **data: str) -> dict:
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    return {"metadata": {"namespace": namespace, "name": name}, "data": encoded}


class WithSecrets(RecordingAccess):
    def __init__(self, secret_objects, **kwargs) -> None:
        super().__init__(**kwargs)
        self.secret_objects = secret_objects

    def items(self, resource, namespace=None, missing_ok=False):
        if resource == "secrets":
            return [s for s in self.secret_objects if s["metadata"]["namespace"] == namespace]
        return super().items(resource, namespace, missing_ok)


def test_cluster_apps_uses_the_deployed_credentials_and_forwards_to_the_mysql_service(kind_set):
    secrets = [
        _secret("infra", "mysql", password="deployed-pw", **{"root-password": "root-pw"}),
        _secret("prod", "wordpress", WORDPRESS_DB_PASSWORD="deployed-pw"),
        _secret("stage", "wordpress", WORDPRESS_DB_PASSWORD="deployed-pw"),
    ]
    access = WithSecrets(
        secrets, manifest_set=kind_set, deployments=[obj("traefik", "deployment_ready")], forward_to=43306
    )
    with ExitStack() as stack:
        apps = cluster_apps(access, stack)
        mysql = apps.mysql
    assert (mysql.host, mysql.port, mysql.database, mysql.user, mysql.password) == (
        "127.0.0.1",
        43306,
        "wordpress",
        "wordpress",
        "deployed-pw",
    )
    assert ("infra", "svc/mysql", 3306) in access.forwards
    assert "deployed-pw" not in repr(mysql)
    assert [v.variant for v in apps.variants] == ["prod", "stage"]
    assert apps.route.hosts == ("www.dirtbikechina.com",) and apps.ingress.base_url == "http://127.0.0.1:8080"
    assert all(v.uploads_persistent for v in apps.variants)


def _pod(uid: str, ready: bool, deleting: bool = False) -> dict:
    meta = {"uid": uid, **({"deletionTimestamp": "now"} if deleting else {})}
    return {"metadata": meta, "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def test_a_restart_is_complete_only_when_every_deleted_pod_is_replaced_and_ready():
    assert not restart_complete(["a"], [_pod("a", True, deleting=True)], 1)
    assert not restart_complete(["a"], [_pod("a", True, deleting=True), _pod("b", True)], 1)
    assert not restart_complete(["a"], [_pod("b", False)], 1)
    assert restart_complete(["a"], [_pod("b", True)], 1)


class FakeKubectl:
    """Pods per selector: the old ones until deleted, then their replacements (not ready on the first read)."""

    def __init__(self) -> None:
        self.deleted: list[tuple[str, str]] = []
        self.reads = 0

    def items(self, resource, namespace=None, *, selector=None, missing_ok=False):
        assert resource == "pods"
        self.reads += 1
        if (namespace, selector) not in self.deleted:
            return [_pod(f"old-{namespace}", True)]
        return [_pod(f"new-{namespace}", self.reads > 8)]

    def run(self, args, **kwargs):
        assert args[:2] == ["delete", "pods"]
        self.deleted.append((args[3], args[5]))

    def get(self, resource, name, namespace=None):
        return None


def test_a_cluster_restart_deletes_the_database_and_wordpress_pods_and_waits_for_ready_replacements(
    kind_set, monkeypatch
):
    secrets = [_secret("infra", "mysql", password="pw"), _secret("prod", "wordpress"), _secret("stage", "wordpress")]
    access = WithSecrets(secrets, manifest_set=kind_set, deployments=[obj("traefik", "deployment_ready")])
    with ExitStack() as stack:
        apps = cluster_apps(access, stack)
    fake = FakeKubectl()
    access.kubectl = fake
    monkeypatch.setattr("dbc_validate.cluster.app_stack.time.sleep", lambda seconds: None)
    assert apps.mysql.port == access.forward_to
    done = apps.restart()
    assert sorted(fake.deleted) == [
        ("infra", "app=mysql"),
        ("prod", "app=wordpress,version=blue"),
        ("stage", "app=wordpress,version=blue"),
    ]
    assert "deleted 3 pod(s) of 3 workload(s)" in done and fake.reads > 8
    assert apps.mysql.port == access.forward_to  # the forward went to a deleted pod: a new one was opened
    assert [f for f in access.forwards if f[1] == "svc/mysql"] == [("infra", "svc/mysql", 3306)] * 2
    assert apps.workload_problems() == ["StatefulSet/infra/mysql is not deployed"]
