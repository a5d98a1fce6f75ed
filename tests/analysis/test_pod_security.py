"""Pod Security restricted on single pod specs: inheritance from the pod, init/ephemeral containers, exemptions."""

from __future__ import annotations

from typing import Any

import pytest
from analysis_builders import cnpg_cluster

from dbc_validate.analysis.cluster_model import cnpg_pod_spec
from dbc_validate.analysis.pod_security import evaluate_pod
from dbc_validate.manifests.model import to_object

HARDENED = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
POD_LEVEL = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}


def pod(container_sc: dict[str, Any] | None = None, pod_sc: dict[str, Any] | None = None, **extra: Any) -> dict:
    spec = {
        "securityContext": POD_LEVEL if pod_sc is None else pod_sc,
        "containers": [
            {"name": "app", "image": "a:1", "securityContext": HARDENED if container_sc is None else container_sc}
        ],
    }
    spec.update(extra)
    return spec


def rules(spec: dict, annotations: dict[str, str] | None = None) -> set[tuple[str, str | None]]:
    return {(v.rule, v.container) for v in evaluate_pod(spec, annotations)}


def test_pod_level_settings_are_inherited_by_every_container():
    assert evaluate_pod(pod()) == []


def test_container_level_settings_alone_comply():
    container = {**HARDENED, **POD_LEVEL}
    assert evaluate_pod(pod(container, pod_sc={})) == []


def test_a_container_may_not_override_the_pods_run_as_non_root_with_false():
    assert rules(pod({**HARDENED, "runAsNonRoot": False})) == {("pod-security.run-as-non-root", "app")}


def test_without_pod_level_value_every_container_must_set_run_as_non_root():
    spec = pod(pod_sc={"seccompProfile": {"type": "RuntimeDefault"}})
    spec["containers"].append({"name": "ok", "image": "a:1", "securityContext": {**HARDENED, "runAsNonRoot": True}})
    assert rules(spec) == {("pod-security.run-as-non-root", "app")}


def test_a_container_seccomp_unconfined_overrides_the_pods_runtime_default():
    spec = pod({**HARDENED, "seccompProfile": {"type": "Unconfined"}})
    assert rules(spec) == {("pod-security.seccomp", "app")}


def test_run_as_user_zero_is_refused_at_pod_level_even_when_containers_override_it():
    spec = pod({**HARDENED, "runAsUser": 1000}, pod_sc={**POD_LEVEL, "runAsUser": 0})
    assert rules(spec) == {("pod-security.run-as-user", None)}


@pytest.mark.parametrize("key", ["initContainers", "ephemeralContainers"])
def test_init_and_ephemeral_containers_are_judged_like_regular_ones(key):
    spec = pod(**{key: [{"name": "extra", "image": "a:1"}]})
    kind = key[:-1]
    assert rules(spec) == {
        ("pod-security.allow-privilege-escalation", f"extra ({kind})"),
        ("pod-security.capabilities", f"extra ({kind})"),
    }


def test_only_net_bind_service_may_be_added():
    ok = pod({**HARDENED, "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}})
    assert evaluate_pod(ok) == []
    bad = pod({**HARDENED, "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE", "SYS_ADMIN"]}})
    (violation,) = evaluate_pod(bad)
    assert violation.rule == "pod-security.capabilities" and "SYS_ADMIN" in violation.message


def test_allow_privilege_escalation_must_be_explicitly_false():
    (violation,) = evaluate_pod(pod({"capabilities": {"drop": ["ALL"]}}))
    assert violation.rule == "pod-security.allow-privilege-escalation" and "not set" in violation.message


def test_windows_pods_are_exempt_from_the_linux_only_checks():
    spec = pod({}, pod_sc={"runAsNonRoot": True}, os={"name": "windows"})
    assert evaluate_pod(spec) == []


def test_safe_sysctls_pass_and_unsafe_ones_are_named():
    safe = pod(pod_sc={**POD_LEVEL, "sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "1"}]})
    assert evaluate_pod(safe) == []
    unsafe = pod(pod_sc={**POD_LEVEL, "sysctls": [{"name": "kernel.msgmax", "value": "1"}]})
    assert rules(unsafe) == {("pod-security.sysctls", None)}


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [("runtime/default", set()), ("localhost/custom", set()), ("unconfined", {("pod-security.apparmor", "app")})],
)
def test_apparmor_annotations(annotation, expected):
    assert rules(pod(), {"container.apparmor.security.beta.kubernetes.io/app": annotation}) == expected


def test_host_path_is_reported_once_and_other_volume_types_by_name():
    spec = pod(
        volumes=[
            {"name": "h", "hostPath": {"path": "/"}},
            {"name": "g", "gitRepo": {"repository": "x"}},
            {"name": "e", "emptyDir": {}},
        ]
    )
    assert rules(spec) == {("pod-security.host-path", None), ("pod-security.volume-types", None)}


def test_the_cnpg_operator_generates_restricted_instances_unless_seccomp_is_relaxed():
    cluster = to_object(cnpg_cluster("infra", "pg"), "test")
    assert evaluate_pod(cnpg_pod_spec(cluster)) == []
    relaxed = to_object(cnpg_cluster("infra", "pg", seccompProfile={"type": "Unconfined"}), "test")
    assert {v.rule for v in evaluate_pod(cnpg_pod_spec(relaxed))} == {"pod-security.seccomp"}
