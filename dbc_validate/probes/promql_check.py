"""promtool's verdicts on a manifest set's PrometheusRules and dashboard queries, for the static analysis."""

from __future__ import annotations

from dbc_validate.analysis.monitoring import dashboards, rule_resources
from dbc_validate.analysis.observability import PromQLVerdicts
from dbc_validate.analysis.promql_text import expression_errors, expressions_rule_file
from dbc_validate.manifests.model import ManifestSet
from dbc_validate.tools.promtool import check_rules, find_promtool, promtool_version


def check_promql(manifests: ManifestSet) -> PromQLVerdicts | None:
    """Run promtool over the set's rule groups and (deduplicated) dashboard queries; None without promtool."""
    binary = find_promtool()
    if binary is None:
        return None
    resources = rule_resources(manifests)
    expressions = sorted({q.expr for d in dashboards(manifests) for q in d.queries})
    if not resources and not expressions:
        return PromQLVerdicts("promtool")  # nothing to check: no subprocess
    checker = f"promtool {promtool_version(binary)}"
    rule_errors = []
    for resource in resources:
        check = check_rules(binary, resource.rule_file)
        if not check.ok:
            rule_errors.append((resource.obj.ref, check.errors))
    expression_problems: list[tuple[str, str]] = []
    if expressions:
        check = check_rules(binary, expressions_rule_file(expressions))
        if not check.ok:
            verdicts = expression_errors("\n".join(check.errors), len(expressions))
            if not any(verdicts):  # the file as a whole was refused: no expression can be said to parse
                verdicts = [check.errors[0]] * len(expressions)
            expression_problems = [(e, err) for e, err in zip(expressions, verdicts, strict=True) if err]
    return PromQLVerdicts(checker, tuple(rule_errors), tuple(expression_problems))
