"""Test secrets on kind/k3d from the real manifest set's declaration: `plan` shows the keys and the shared
values, the deploy refuses a Secret nothing provides before creating anything, and the sealed output carries
one value per value name, with no value in the plan, the progress lines, the record or a finding."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cluster_fixtures import MANIFEST_SET, ROOT, collected_once, self_signed_cert
from cryptography.hazmat.primitives.asymmetric import rsa

from dbc_validate.analysis.live.secrets import digest, sealed_secret_findings
from dbc_validate.cli import main, plan_command
from dbc_validate.cluster.deploy import Deployer, deploy_secret_plan
from dbc_validate.cluster.sealing import encryption_label, hybrid_decrypt
from dbc_validate.errors import InputError
from dbc_validate.manifests.model import load_manifest_set

KIND = ROOT / "manifests" / "overlays" / "kind"
WORKLOAD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: prod}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
        - name: app
          image: app:1
          envFrom: [{secretRef: {name: app-env}}]
          env:
            - name: DB_PASSWORD
              valueFrom: {secretKeyRef: {name: db, key: password}}
"""
DECLARES_DB_ONLY = """\
values:
  db-password: {generated: true}
secrets:
  - {namespace: prod, name: db, overlays: [kind], data: {password: db-password}}
"""


@pytest.fixture(autouse=True)
def _in_checkout(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(plan_command, "collect_checks", collected_once)


@pytest.fixture
def undeclared_project(tmp_path: Path) -> Path:
    """A set outside the project whose declaration (found by walking up) misses the Secret read with envFrom."""
    (tmp_path / "deploy-time-secrets.yaml").write_text(DECLARES_DB_ONLY, encoding="utf-8")
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "app.yaml").write_text(WORKLOAD, encoding="utf-8")
    return tmp_path / "set"


class CertOnlyKubectl:
    """Answers the two reads sealing needs: the controller's Service and its certificate."""

    def __init__(self, pem: bytes) -> None:
        self.pem = pem

    def get(self, resource: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        return {"metadata": {"name": name, "namespace": namespace}, "spec": {"ports": [{"name": "http"}]}}

    def raw(self, path: str, timeout_s: float = 30.0) -> str:
        assert path.endswith("/proxy/v1/cert.pem")
        return self.pem.decode()


def _controller() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, self_signed_cert(key)


def test_kind_plan_shows_every_declared_key_and_the_shared_values(capsys):
    assert main(["plan", "--target", "kind"]) == 0
    out = capsys.readouterr().out
    section = out[out.index("Secrets generated") : out.index("Objects in apply order")]
    assert "declared in manifests/deploy-time-secrets.yaml for overlay kind" in section
    assert "keys (none)" not in section and "postgres-backup-s3" not in section
    for ref in ("prod/wordpress", "stage/wordpress"):
        assert f"{ref}: keys WORDPRESS_AUTH_KEY, WORDPRESS_AUTH_SALT, WORDPRESS_DB_PASSWORD," in section
    assert "infra/mysql: keys password, root-password" in section
    assert (
        "shared value wordpress-db-password: infra/mysql.password, prod/wordpress.WORDPRESS_DB_PASSWORD, "
        "stage/wordpress.WORDPRESS_DB_PASSWORD"
    ) in section
    assert "referenced but not declared" not in section
    main(["plan", "--target", "k3d", "--format", "json"])
    plan = json.loads(capsys.readouterr().out)
    secrets = {s["secret"]: s for s in plan["secrets"]}
    assert secrets["infra/mysql"]["value_names"] == {
        "password": "wordpress-db-password",
        "root-password": "mysql-root-password",
    }
    assert len(secrets["stage/wordpress"]["keys"]) == 9 and plan["secrets_referenced_but_not_declared"] == []


def test_a_set_without_a_declaration_falls_back_to_inference(capsys):
    assert main(["plan", "--target", "kind", "--manifests", str(MANIFEST_SET)]) == 0
    out = capsys.readouterr().out
    assert "inferred from workload references (no deploy-time-secrets.yaml)" in out
    assert "infra/mysql-credentials: keys password, root-password" in out


def test_plan_lists_a_secret_referenced_but_not_declared(undeclared_project, capsys):
    assert main(["plan", "--target", "kind", "--manifests", str(undeclared_project)]) == 0
    out = capsys.readouterr().out
    assert "prod/db: keys password" in out
    assert "referenced but not declared: prod/app-env (used by Deployment/prod/app)" in out
    main(["plan", "--target", "kind", "--manifests", str(undeclared_project), "--format", "json"])
    missing = json.loads(capsys.readouterr().out)["secrets_referenced_but_not_declared"]
    assert missing == [{"secret": "prod/app-env", "keys": [], "used_by": ["Deployment/prod/app"]}]


def test_the_deploy_refuses_an_undeclared_secret_before_creating_anything(undeclared_project):
    with pytest.raises(InputError) as caught:
        deploy_secret_plan(load_manifest_set(undeclared_project), ROOT, "kind")
    assert "read Secrets that the kind deploy would not provide: prod/app-env (used by Deployment/prod/app)" in str(
        caught.value
    )
    assert "declare them in deploy-time-secrets.yaml (an entry with overlay kind" in caught.value.fix
    # The overlay filter: prod/db is declared for kind only, so a k3d deploy lacks it too.
    with pytest.raises(InputError) as caught:
        deploy_secret_plan(load_manifest_set(undeclared_project), ROOT, "k3d")
    assert "prod/app-env (used by Deployment/prod/app); prod/db (used by Deployment/prod/app)" in caught.value.problem


def test_sealed_test_secrets_share_one_value_per_name_and_never_show_a_value(kind_set):
    plan = deploy_secret_plan(kind_set, ROOT, "kind")
    key, pem = _controller()
    lines: list[str] = []
    deployer = Deployer(CertOnlyKubectl(pem), None, None, "kind", ROOT, False, lines.append)  # type: ignore[arg-type]
    sealed = deployer.sealed_test_secrets(plan)
    opened: dict[str, dict[str, str]] = {}
    for doc in sealed:
        ns, name = doc["metadata"]["namespace"], doc["metadata"]["name"]
        opened[f"{ns}/{name}"] = {
            k: hybrid_decrypt(key, base64.b64decode(v), encryption_label(ns, name)).decode()
            for k, v in doc["spec"]["encryptedData"].items()
        }
    assert set(opened) == {"infra/mysql", "prod/wordpress", "stage/wordpress"}
    mysql, prod, stage = opened["infra/mysql"], opened["prod/wordpress"], opened["stage/wordpress"]
    assert mysql["password"] == prod["WORDPRESS_DB_PASSWORD"] == stage["WORDPRESS_DB_PASSWORD"]
    assert mysql["root-password"] != mysql["password"] and len(prod) == len(stage) == 9
    assert all(prod[k] == stage[k] for k in prod)
    assert deployer.record.secret_digests == {r: {k: digest(v) for k, v in kv.items()} for r, kv in opened.items()}
    # A Secret unsealed with another value is named by key only.
    secret = {
        "metadata": {
            "namespace": "infra",
            "name": "mysql",
            "ownerReferences": [{"kind": "SealedSecret", "name": "mysql"}],
        },
        "data": {k: base64.b64encode((v + "-changed").encode()).decode() for k, v in mysql.items()},
    }
    synced = {**sealed[0], "status": {"conditions": [{"type": "Synced", "status": "True"}]}}
    findings = [str(f) for f in sealed_secret_findings([synced], [secret], deployer.record.secret_digests)]
    assert any("key password: unsealed value differs" in f for f in findings)
    shown = "\n".join([*lines, repr(deployer.record), repr(plan), *findings, json.dumps(sealed)])
    assert lines and "declared in manifests/deploy-time-secrets.yaml for overlay kind" in lines[-1]
    values = {v for kv in opened.values() for v in kv.values()}
    assert len(values) == 10 and not any(v in shown for v in values)


@pytest.mark.parametrize("target_name", ["kind", "k3d"])
def test_the_target_plans_its_own_overlay_and_its_preflight_refuses_an_undeclared_secret(
    target_name, undeclared_project, monkeypatch
):
    from dbc_validate.settings import Settings
    from dbc_validate.targets import cluster
    from dbc_validate.targets.k3d import K3dTarget
    from dbc_validate.targets.kind import KindTarget
    from dbc_validate.tools.container_engine import EngineProbe

    target_class = {"kind": KindTarget, "k3d": K3dTarget}[target_name]
    plan = target_class(Settings(root=ROOT, target=target_name), lambda line: None).secret_plan()
    assert plan.basis.endswith(f"for overlay {target_name}") and len(plan.specs) == 3
    # Every tool present: the preflight gets past the prerequisites and stops on the secret, before bring-up.
    monkeypatch.setattr(cluster, "probe_container_engine", lambda: EngineProbe("docker", True, "29.0"))
    monkeypatch.setattr(cluster.shutil, "which", lambda name: f"/usr/bin/{name}")
    target = target_class(Settings(root=ROOT, target=target_name, manifests=undeclared_project), lambda line: None)
    with pytest.raises(InputError, match=r"prod/app-env \(used by Deployment/prod/app\)"):
        target.preflight()
