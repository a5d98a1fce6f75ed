"""Render gate1.html from gate1.json alone: one self-contained, escaped, offline page."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from dbc_validate.criteria import AREAS
from dbc_validate.report.charts import group_series, render_chart
from dbc_validate.report.figures import split_figures
from dbc_validate.report.matrix import SCOPES, SHORT_STATUS, matrix_rows

if TYPE_CHECKING:
    from jinja2 import Template

SCOPE_MEANING = {
    "static": "decided from the rendered manifest set alone",
    "local": "measured on real local services standing in for the cluster's (proves the harness and the "
    "declared configuration, not the cluster)",
    "cluster": "measured on a live cluster",
}


def _charts(report: dict[str, Any]) -> dict[str, list[tuple[str, Markup]]]:
    charts: dict[str, list[tuple[str, Markup]]] = {}
    for criterion_id, detail in (report.get("measurements", {}).get("criteria") or {}).items():
        series = detail.get("series") or []
        if series:
            # matplotlib writes text as paths and escapes attributes: its SVG is safe to embed as markup.
            charts[criterion_id] = [
                (title, Markup(render_chart(title, group))) for title, group in group_series(series)
            ]
    return charts


@functools.cache
def _template() -> Template:
    """The page template, compiled once per process (compiling it costs more than rendering it)."""
    from jinja2 import Environment, PackageLoader, select_autoescape  # heavy: only when a report is written

    env = Environment(
        loader=PackageLoader("dbc_validate.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    env.filters["tojson_pretty"] = lambda v: json.dumps(v, ensure_ascii=False, indent=None, default=str)
    return env.get_template("gate1.html.j2")


def render_html(report: dict[str, Any]) -> str:
    areas = [(area, [c for c in report["criteria"] if c["area"] == area]) for area in AREAS]
    counts: dict[str, int] = {}
    for c in report["criteria"]:
        counts[c["status"]] = counts.get(c["status"], 0) + 1
    measurements = report.get("measurements", {})
    tests = measurements.get("tests", {})
    details = measurements.get("criteria", {})
    rows = {r.id: r for r in matrix_rows(report["criteria"], tests)}
    matrix = [(area, [rows[c["id"]] for c in criteria]) for area, criteria in areas if criteria]
    return _template().render(
        report=report,
        areas=areas,
        matrix=matrix,
        scopes=SCOPES,
        short_status=SHORT_STATUS,
        counts=counts,
        charts=_charts(report),
        scope_meaning=SCOPE_MEANING,
        tests=tests,
        details=details,
        figures={cid: split_figures(d.get("figures") or []) for cid, d in details.items()},
        versions={k: v for k, v in report["target"].get("versions", {}).items() if k != "harness"},
    )


def write_report(report: dict[str, Any], html_path: Path) -> tuple[Path, Path]:
    """Write gate1.json and gate1.html (JSON first, so a broken render still leaves the data)."""
    html_path.parent.mkdir(parents=True, exist_ok=True)
    json_path = html_path.with_suffix(".json")
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    html_path.write_text(render_html(report), encoding="utf-8")
    return json_path, html_path
