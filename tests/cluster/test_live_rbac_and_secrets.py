"""RBAC truth table and test-secret decisions on the fixture manifest set and recorded-shape answers."""

from __future__ import annotations

import base64

import pytest
from cluster_fixtures import MANIFEST_SET, obj

from dbc_validate.analysis.live.rbac import (
    Cell,
    Question,
    Subject,
    declared_grant,
    parse_review,
    rbac_findings,
    review_body,
    sensitive_questions,
    subjects_of,
    truth_table,
)
from dbc_validate.analysis.live.secrets import (
    DEFAULT_USER,
    digest,
    digests_of,
    generate_values,
    sealed_secret_findings,
    secret_plan,
    secrets_to_generate,
)
from dbc_validate.manifests.deploy_time_secrets import parse_deploy_time_secrets
from dbc_validate.manifests.model import load_manifest_set

WORDPRESS = Subject("prod", "wordpress")
MYSQL = Subject("infra", "mysql")


@pytest.fixture(scope="module")
def ms():
    return load_manifest_set(MANIFEST_SET)


def test_subjects_are_declared_accounts_workload_accounts_and_namespace_defaults(ms):
    subjects = subjects_of(ms, ["prod", "infra"])
    assert {str(s) for s in subjects} == {
        "ServiceAccount/infra/default",
        "ServiceAccount/infra/mysql",
        "ServiceAccount/prod/default",
        "ServiceAccount/prod/wordpress",
    }


def test_service_account_identity_matches_the_api_server_conventions():
    assert WORDPRESS.user == "system:serviceaccount:prod:wordpress"
    assert WORDPRESS.groups == ("system:serviceaccounts", "system:serviceaccounts:prod", "system:authenticated")


def test_role_grants_apply_in_their_namespace_only(ms):
    assert declared_grant(ms, WORDPRESS, Question("list", "configmaps", namespace="prod")).allowed
    assert not declared_grant(ms, WORDPRESS, Question("list", "configmaps", namespace="infra")).allowed
    assert not declared_grant(ms, WORDPRESS, Question("delete", "configmaps", namespace="prod")).allowed


def test_a_rule_limited_to_resource_names_does_not_grant_nameless_secret_reads(ms):
    assert not declared_grant(ms, WORDPRESS, Question("get", "secrets", namespace="prod")).allowed


def test_a_cluster_role_bound_by_a_role_binding_grants_inside_that_namespace(ms):
    grant = declared_grant(ms, MYSQL, Question("list", "pods", namespace="infra"))
    assert grant.allowed and "RoleBinding/infra/mysql-pod-lister" in grant.by
    assert not declared_grant(ms, MYSQL, Question("list", "pods")).allowed


def test_wildcard_questions_need_wildcard_rules(ms):
    assert not declared_grant(ms, MYSQL, Question("*", "*", group="*")).allowed


def test_review_body_has_the_subject_access_review_shape():
    body = review_body(WORDPRESS, Question("create", "pods", subresource="exec", namespace="prod"))
    assert body["apiVersion"] == "authorization.k8s.io/v1" and body["kind"] == "SubjectAccessReview"
    assert body["spec"]["user"] == WORDPRESS.user
    assert body["spec"]["resourceAttributes"] == {
        "verb": "create", "resource": "pods", "group": "", "subresource": "exec", "namespace": "prod",
    }  # fmt: skip
    cluster_wide = review_body(WORDPRESS, Question("list", "nodes"))
    assert "namespace" not in cluster_wide["spec"]["resourceAttributes"]


def test_answers_parse_allowed_denied_and_evaluation_errors():
    assert parse_review(obj("api_answers", "review_allowed")).allowed
    assert not parse_review(obj("api_answers", "review_denied")).allowed
    err = parse_review(obj("api_answers", "review_evaluation_error"))
    assert not err.allowed and "evaluation error" in err.detail


def test_access_granted_outside_the_manifests_is_a_finding_and_matching_answers_are_not(ms):
    subjects = [WORDPRESS]
    table = truth_table(subjects, {"prod": sensitive_questions("prod")}, ms)
    denied = obj("api_answers", "review_denied")
    cells = [Cell(s, q, g, parse_review(denied)) for s, q, g in table]
    assert rbac_findings(cells) == []
    # Someone bound a role that lets wordpress read secrets: the live answer says allowed.
    leaked = [
        Cell(
            s,
            q,
            g,
            parse_review(obj("api_answers", "review_allowed"))
            if q.resource == "secrets" and q.verb == "get"
            else parse_review(denied),
        )
        for s, q, g in table
    ]
    findings = rbac_findings(leaked)
    assert (
        len(findings) == 1 and "may get secrets in prod but the manifest set does not grant it" in findings[0].message
    )


def test_a_declared_grant_refused_live_is_a_finding(ms):
    q = Question("list", "configmaps", namespace="prod")
    cell = Cell(WORDPRESS, q, declared_grant(ms, WORDPRESS, q), parse_review(obj("api_answers", "review_denied")))
    assert "is refused list configmaps in prod although" in rbac_findings([cell])[0].message


def test_without_a_declaration_the_plan_covers_sealed_secrets_and_unprovided_references(ms):
    specs = {s.ref: s for s in secrets_to_generate(ms)}
    assert set(specs) == {"infra/discourse-db", "infra/mysql-credentials", "prod/wordpress-db"}
    assert specs["infra/mysql-credentials"].keys == ("password", "root-password")
    assert specs["infra/mysql-credentials"].labels == {"app": "mysql"}
    assert specs["prod/wordpress-db"].keys == ("password", "username")
    discourse = specs["infra/discourse-db"]
    assert discourse.type == "kubernetes.io/basic-auth" and discourse.fixed == {"username": "discourse"}


def test_without_a_declaration_values_are_shared_per_key_name_and_user_names_fixed(ms):
    specs = secrets_to_generate(ms)
    counter = iter(range(100))
    values = generate_values(specs, lambda n: f"t{next(counter)}".ljust(n, "x"))
    assert values["infra/discourse-db"]["username"] == "discourse"
    assert values["prod/wordpress-db"]["username"] == DEFAULT_USER
    assert values["prod/wordpress-db"]["password"] == values["infra/mysql-credentials"]["password"]
    assert values["infra/mysql-credentials"]["root-password"] != values["infra/mysql-credentials"]["password"]
    assert all(len(v) == 24 for v in values["infra/mysql-credentials"].values())
    digests = digests_of(values)
    assert digests["infra/mysql-credentials"]["password"] == digest(values["infra/mysql-credentials"]["password"])


def test_a_declared_cnpg_initdb_secret_keeps_the_owner_as_user_name_and_its_basic_auth_type(ms):
    declared = parse_deploy_time_secrets(
        "values: {discourse-user: {generated: true}, discourse-password: {generated: true}}\n"
        "secrets:\n"
        "  - {namespace: infra, name: discourse-db, overlays: [kind],"
        " data: {username: discourse-user, password: discourse-password}}\n",
        "declared.yaml",
    )
    plan = secret_plan(ms, declared, "kind")
    spec = next(s for s in plan.specs if s.ref == "infra/discourse-db")
    assert spec.type == "kubernetes.io/basic-auth" and spec.fixed == {"username": "discourse"}
    values = generate_values(plan.specs, lambda n: "r" * n)["infra/discourse-db"]
    assert values == {"username": "discourse", "password": "r" * 24}
    # Only declared secrets are generated; the others are reported, the SealedSecret too (not applied here).
    assert {f"{u.namespace}/{u.name}" for u in plan.undeclared} == {"infra/mysql-credentials", "prod/wordpress-db"}
    password_only = parse_deploy_time_secrets(
        "values: {p: {generated: true}}\nsecrets: [{namespace: infra, name: discourse-db, overlays: [kind],"
        " data: {password: p}}]\n",
        "declared.yaml",
    )
    missing = [str(u) for u in secret_plan(ms, password_only, "kind").undeclared]
    assert (
        "keys username of infra/discourse-db (used by Cluster/infra/postgres-cluster, Job/infra/discourse-init)"
        in missing
    )


def test_synced_sealed_secret_with_its_owned_secret_and_expected_values_passes():
    secret = obj("workloads", "secret_from_sealed")
    expected = {"infra/mysql-credentials": {"password": digest(base64.b64decode(secret["data"]["password"]))}}
    assert sealed_secret_findings([obj("workloads", "sealed_synced")], [secret], expected) == []


def test_sealed_secret_failures_are_named_without_values():
    findings = sealed_secret_findings(
        [
            obj("workloads", "sealed_wrong_key"),
            obj("workloads", "sealed_unprocessed"),
            obj("workloads", "sealed_synced"),
        ],
        [obj("workloads", "secret_hand_made")],
        {"infra/mysql-credentials": {"password": digest("another value")}},
    )
    text = "\n".join(str(f) for f in findings)
    assert "SealedSecret/prod/wordpress-db: Synced=False: no key could decrypt" in text
    assert "SealedSecret/prod/logto-db: no Synced condition" in text
    assert "not owned by this SealedSecret" in text
    assert "lacks sealed key(s) root-password" in text
    assert "key password: unsealed value differs" in text
    assert "c2VjcmV0" not in text and "secret-value" not in text
