"""Gate 1 security.rbac, live: a SubjectAccessReview truth table per ServiceAccount against what the
manifest set's own Roles grant."""

from __future__ import annotations

import pytest

from dbc_validate.analysis.findings import brief_report
from dbc_validate.analysis.live.rbac import (
    Cell,
    parse_review,
    rbac_findings,
    review_body,
    sensitive_questions,
    subjects_of,
    truth_table,
)

pytestmark = pytest.mark.live


@pytest.mark.gate1("security.rbac")
def test_service_accounts_are_refused_what_the_manifests_do_not_grant(cluster, gate1_evidence):
    ms = cluster.manifest_set
    subjects = subjects_of(ms, cluster.app_namespaces)
    questions = {s.namespace: sensitive_questions(s.namespace) for s in subjects}
    table = truth_table(subjects, questions, ms)
    answers = cluster.reviews([review_body(s, q) for s, q, _ in table])
    cells = [Cell(s, q, grant, parse_review(a)) for (s, q, grant), a in zip(table, answers, strict=True)]
    findings = rbac_findings(cells)
    gate1_evidence.measure("service_accounts", len(subjects))
    gate1_evidence.measure("access_reviews", len(cells))
    gate1_evidence.measure("allowed_by_manifest", sum(1 for c in cells if c.expected.allowed))
    gate1_evidence.threshold(
        not findings, f"{len(cells) - len(findings)}/{len(cells)} answers as the manifests declare"
    )
    assert not findings, brief_report(findings, limit=40)
