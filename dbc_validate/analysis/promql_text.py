"""PromQL as text: Grafana variables replaced so an expression parses, and the rule file that lets promtool
(which has no expression-only check in 2.42) judge a list of expressions. Pure."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

# $__rate_interval, ${__interval}, $__range, [[interval]], $var, ${var:regex} ...
_VARIABLE = r"(?:\$\{[A-Za-z_][\w.]*(?::[^}]*)?\}|\[\[[A-Za-z_]\w*(?::[^\]]*)?\]\]|\$[A-Za-z_]\w*)"
_IN_RANGE = re.compile(r"\[\s*" + _VARIABLE + r"\s*(?=[\]:])")
_ANY = re.compile(_VARIABLE)
RANGE_STANDIN = "5m"
VALUE_STANDIN = ".*"


def promql_of(expr: str) -> str:
    """`expr` with Grafana variables replaced: a range or step variable by 5m, any other by `.*`.

    Values stand in only for parsing and for a "does this return series" query: a variable used as a
    label value under `=` (not `=~`) then matches the literal `.*`, which dashboards rarely do.
    """
    text = _IN_RANGE.sub("[" + RANGE_STANDIN, expr)
    text = re.sub(r":\s*" + _VARIABLE + r"\s*\]", ":" + RANGE_STANDIN + "]", text)  # subquery step
    return _ANY.sub(VALUE_STANDIN, text)


def expressions_rule_file(expressions: Sequence[str]) -> str:
    """A rule file with one recording rule per expression (rule K+1 is expressions[K]), for promtool."""
    lines = ["groups:", "- name: expressions", "  rules:"]
    for index, expr in enumerate(expressions):
        # json.dumps gives a double-quoted scalar, which is valid YAML for any expression text.
        lines += [f"  - record: e{index}", f"    expr: {json.dumps(expr)}"]
    return "\n".join(lines) + "\n"


_RULE_ERROR = re.compile(r'group "expressions", rule (\d+), "e\d+": (.*)$')


def expression_errors(promtool_stderr: str, count: int) -> list[str | None]:
    """Per expression, promtool's error for it (None: it parsed), read from `promtool check rules` output."""
    errors: list[str | None] = [None] * count
    for line in promtool_stderr.splitlines():
        match = _RULE_ERROR.search(line)
        if match and 1 <= int(match.group(1)) <= count:
            errors[int(match.group(1)) - 1] = match.group(2).strip()
    return errors
