"""Quantities and pod-state decisions on recorded-shape Pods."""

from __future__ import annotations

import pytest
from cluster_fixtures import obj, objs
from hypothesis import given
from hypothesis import strategies as st

from dbc_validate.analysis.live.pods import (
    container_states,
    crashloop_findings,
    is_ready,
    pod_problems,
    pods_by_workload,
    restart_counts,
    workload_of,
)
from dbc_validate.analysis.live.quantities import parse_quantity, percent


@pytest.mark.parametrize(
    ("text", "value"),
    [("250m", 0.25), ("2", 2.0), ("612345678n", 0.612345678), ("128Mi", 128 * 2**20), ("3211264Ki", 3211264 * 1024),
     ("1.5Gi", 1.5 * 2**30), ("1e3", 1000.0), ("100k", 1e5), ("1G", 1e9)],
)  # fmt: skip
def test_quantities_parse_to_base_units(text, value):
    assert parse_quantity(text) == pytest.approx(value)


@pytest.mark.parametrize("bad", ["", "12x", "Mi", "1.2.3", "abc"])
def test_malformed_quantities_are_refused(bad):
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity(bad)


@given(st.integers(min_value=0, max_value=10**9))
def test_binary_suffixes_are_powers_of_two(n):
    assert parse_quantity(f"{n}Ki") == n * 1024
    assert parse_quantity(f"{n}m") == pytest.approx(n / 1000)


def test_percent_without_capacity_is_unknown():
    assert percent(1, 0) is None
    assert percent(35, 50) == 70.0


def test_deployment_pods_belong_to_their_deployment_not_the_replicaset():
    assert workload_of(obj("pods", "wordpress_ready")) == "prod/wordpress"
    assert workload_of(obj("pods", "mysql_ready")) == "infra/mysql"
    assert workload_of(obj("pods", "cnpg_replica_2")) == "infra/postgres-cluster"
    assert workload_of(obj("pods", "coredns")) == "kube-system/coredns"
    assert workload_of(obj("pods", "completed_job_pod")) == "infra/discourse-init"


def test_grouping_by_workload_keeps_cnpg_instances_together():
    grouped = pods_by_workload(objs("pods", "cnpg_primary", "cnpg_replica_2", "cnpg_replica_3", "wordpress_ready"))
    assert len(grouped["infra/postgres-cluster"]) == 3
    assert list(grouped) == ["infra/postgres-cluster", "prod/wordpress"]


def test_ready_means_running_with_the_ready_condition():
    assert is_ready(obj("pods", "wordpress_ready"))
    assert not is_ready(obj("pods", "crashloop"))
    assert not is_ready(obj("pods", "completed_job_pod"))


def test_container_states_flatten_regular_and_ephemeral_containers():
    states = container_states(obj("pods", "with_probe_terminated"))
    assert [(s.name, s.role) for s in states] == [("wordpress", "container"), ("dbc-probe-a1b2c3", "ephemeral")]
    assert states[1].terminated_reason == "Completed"


def test_a_config_error_fails_the_wait_at_once():
    findings = pod_problems(obj("pods", "config_error"), persisted_s=0)
    assert len(findings) == 1 and "CreateContainerConfigError" in findings[0].message


def test_back_off_states_fail_only_once_they_persist():
    pod = obj("pods", "image_pull_backoff")
    assert pod_problems(pod, persisted_s=30, grace_s=120) == []
    assert "ImagePullBackOff" in pod_problems(pod, persisted_s=300, grace_s=120)[0].message


def test_an_unschedulable_pod_fails_after_the_grace_period_with_the_scheduler_message():
    findings = pod_problems(obj("pods", "unschedulable"), persisted_s=500)
    assert "Insufficient memory" in findings[0].message


def test_healthy_and_finished_pods_have_no_problems():
    assert pod_problems(obj("pods", "wordpress_ready"), persisted_s=1000) == []
    assert pod_problems(obj("pods", "completed_job_pod"), persisted_s=1000) == []


def test_crashlooping_container_is_found():
    findings = crashloop_findings([obj("pods", "crashloop"), obj("pods", "wordpress_ready")])
    assert [f.object for f in findings] == ["Pod/prod/logto-5c9d7-abcde (container logto)"]
    assert "CrashLoopBackOff" in findings[0].message


def test_restarts_count_only_after_the_baseline():
    mysql = obj("pods", "mysql_ready")  # one restart during bootstrap, exit code 1
    assert crashloop_findings([mysql], baseline=restart_counts([mysql])) == []
    assert "1 restart(s)" in crashloop_findings([mysql], baseline=None)[0].message
    later = obj("pods", "mysql_ready")
    later["status"]["containerStatuses"][0]["restartCount"] = 3
    findings = crashloop_findings([later], baseline=restart_counts([mysql]))
    assert "restarted 2 time(s) during the run" in findings[0].message
