"""What the deploy waits for: readiness of recorded-shape workloads, CNPG Clusters and SealedSecrets."""

from __future__ import annotations

from cluster_fixtures import obj

from dbc_validate.analysis.findings import finding
from dbc_validate.analysis.live.readiness import readiness, wait_status


def test_available_deployment_is_ready_and_a_stale_generation_is_not():
    assert readiness(obj("workloads", "deployment_available")).ready
    rolling = readiness(obj("workloads", "deployment_rolling"))
    assert not rolling.ready and not rolling.failed


def test_progress_deadline_exceeded_is_a_failure_not_a_wait():
    r = readiness(obj("workloads", "deployment_deadline"))
    assert r.failed and "progress deadline" in r.detail


def test_statefulset_needs_ready_replicas_and_a_finished_rollout():
    assert readiness(obj("workloads", "statefulset_mysql_ready")).ready
    r = readiness(obj("workloads", "statefulset_mysql_no_pvc_unready"))
    assert not r.ready and "rollout in progress" in r.detail


def test_jobs_complete_or_fail_for_good():
    assert readiness(obj("workloads", "job_complete")).ready
    failed = readiness(obj("workloads", "job_failed"))
    assert failed.failed and "BackoffLimitExceeded" in failed.detail


def test_cnpg_cluster_is_ready_only_in_healthy_phase():
    assert readiness(obj("workloads", "cnpg_healthy")).ready
    assert not readiness(obj("workloads", "cnpg_failing_over")).ready


def test_a_cluster_kind_of_another_group_is_not_waited_for():
    assert readiness(obj("workloads", "traefik_ingressroute_not_cnpg_cluster")) is None


def test_sealed_secret_synced_false_fails_and_unprocessed_waits():
    assert readiness(obj("workloads", "sealed_synced")).ready
    assert readiness(obj("workloads", "sealed_wrong_key")).failed
    pending = readiness(obj("workloads", "sealed_unprocessed"))
    assert not pending.ready and not pending.failed


def test_wait_status_reports_pending_missing_and_failures():
    status = wait_status(
        [obj("workloads", "deployment_available"), obj("workloads", "statefulset_mysql_no_pvc_unready")],
        expected=["Deployment/prod/wordpress", "Job/infra/discourse-init"],
    )
    assert not status.done and not status.failed
    assert status.ready_count == 1 and status.total == 3
    assert any("Job/infra/discourse-init: not found yet" in p for p in status.pending)
    assert "1/3 ready after 12 s" in status.progress_line(12)


def test_wait_status_is_done_when_all_ready_and_failed_on_pod_findings():
    objects = [obj("workloads", "deployment_available"), obj("workloads", "job_complete")]
    assert wait_status(objects).done
    failed = wait_status(objects, [finding("live.pod", "Pod/prod/x", "waiting: CreateContainerConfigError")])
    assert failed.failed and not failed.done
