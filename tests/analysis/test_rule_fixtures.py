"""Every rule is proven by a known-bad fixture it must catch; the known-good sets must pass."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from analysis_builders import BAD, GOOD

from dbc_validate.analysis import AnalysisResult, analyze
from dbc_validate.analysis.findings import CATEGORIES, RULES, RULES_BY_ID, Severity
from dbc_validate.manifests.model import load_manifest_set
from dbc_validate.probes.promql_check import check_promql

RULE_IDS = [rule.id for rule in RULES]
# Findings a bad fixture causes besides its own rule, because they follow from the same mistake.
CONSEQUENCES = {
    "network-policy.peer-matches-nothing": {"network-policy.dns-blocked"},
    "rbac.cluster-admin-sa": {"rbac.secrets-read"},
}
# The only warnings a good set may carry, and why.
ACCEPTED_WARNINGS = {"ingress.cross-namespace"}  # the 70/30 split crosses from prod to the stage namespace
GOOD_SETS = sorted(p for p in GOOD.iterdir() if p.suffix == ".yaml" or p.is_dir())


# Analysed without promtool's verdicts: the fixture of the rule saying "not checked".
UNCHECKED = "observability.promql-not-checked"


@functools.cache
def result_of(path: Path) -> AnalysisResult:
    manifests = load_manifest_set(path)
    # promtool runs only for sets with rules or dashboards (a handful of fixtures, tens of ms each).
    return analyze(manifests, promql=None if path.stem == UNCHECKED else check_promql(manifests))


def test_every_rule_has_one_known_bad_fixture():
    fixtures = {p.stem for p in BAD.glob("*.yaml")}
    assert fixtures == set(RULE_IDS)


@pytest.mark.parametrize("rule", RULE_IDS)
def test_known_bad_fixture_is_caught_by_its_rule(rule):
    result = result_of(BAD / f"{rule}.yaml")
    assert result.of_rule(rule), f"{rule} missed its fixture; findings: {[f.rule for f in result.findings]}"
    if RULES_BY_ID[rule].severity is Severity.ERROR:
        assert not result.summary["passed"]


@pytest.mark.parametrize("rule", RULE_IDS)
def test_known_bad_fixture_raises_nothing_else_in_its_category(rule):
    category = RULES_BY_ID[rule].category
    fired = {f.rule for f in result_of(BAD / f"{rule}.yaml").of_category(category)}
    assert fired - {rule} <= CONSEQUENCES.get(rule, set())


@pytest.mark.parametrize("path", GOOD_SETS, ids=lambda p: p.name)
def test_known_good_set_has_no_error_and_no_unexplained_warning(path):
    result = result_of(path)
    assert result.summary["passed"], [f.describe() for f in result.errors]
    warnings = {f.rule for f in result.findings if f.severity is Severity.WARNING}
    assert warnings <= ACCEPTED_WARNINGS


@pytest.mark.parametrize("path", [*GOOD_SETS, *sorted(BAD.glob("*.yaml"))], ids=lambda p: p.name)
def test_every_finding_carries_a_catalogued_rule_with_its_category_and_severity(path):
    for f in result_of(path).findings:
        rule = RULES_BY_ID[f.rule]
        assert (f.category, f.severity) == (rule.category, rule.severity)
        assert f.category in CATEGORIES
        assert f.object.count("/") in (1, 2) and f.message and f.fix


def test_the_rules_page_documents_every_rule_id():
    readme = (BAD.parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")
    assert [rule for rule in RULE_IDS if f"`{rule}`" not in readme] == []
