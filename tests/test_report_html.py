"""gate1.html: rendered from gate1.json alone, self-contained, and escaping everything it prints."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from dbc_validate.cli import main as cli_main
from dbc_validate.criteria import CATALOG
from dbc_validate.evidence import EvidenceRecorder, TestEvidence
from dbc_validate.report.build import RunInfo, build_report
from dbc_validate.report.html import render_html, write_report
from dbc_validate.report.verdict import Outcome, TestResult
from dbc_validate.scope import Scope

HOSTILE = "<script>alert('x')</script>\"'><img src=x onerror=alert(1)>"


def hostile_report() -> dict:
    nodeid = f"suites/gate1/test_{HOSTILE}.py::test_x"
    evidence = TestEvidence()
    recorder = EvidenceRecorder(["security.rbac"], evidence)
    recorder.measure(HOSTILE, HOSTILE, HOSTILE)
    recorder.note(HOSTILE)
    recorder.series(HOSTILE, [0, 1, 2], [1.0, None, 3.0], y_label=HOSTILE)
    tests = [TestResult(nodeid, ("security.rbac",), Outcome.FAILED, Scope.STATIC, HOSTILE)]
    run = RunInfo(
        target_name=HOSTILE,
        target_scope="local",
        started="s",
        finished="f",
        harness_version="0",
        versions={HOSTILE: HOSTILE},
        manifests_path=HOSTILE,
        notes=[HOSTILE],
    )
    return build_report(CATALOG, tests, {nodeid: evidence}, run)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_hostile_strings_are_escaped_everywhere() -> None:
    html = render_html(hostile_report())
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html
    parser = _Collector()
    parser.feed(html)
    assert not any(name.startswith("on") for _, attrs in parser.tags for name in attrs)


def test_the_page_is_self_contained() -> None:
    html = render_html(hostile_report())
    parser = _Collector()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag not in ("script", "link", "iframe")
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not re.match(r"(https?:)?//", value), f"external reference in <{tag} {name}={value}>"


def test_series_become_inline_svg_charts() -> None:
    html = render_html(hostile_report())
    assert html.count("<svg") == 1


def test_every_catalog_criterion_appears_in_json_and_html() -> None:
    report = hostile_report()
    assert [c["id"] for c in report["criteria"]] == [c.id for c in CATALOG]
    html = render_html(report)
    for criterion in CATALOG:
        assert f'id="{criterion.id}"' in html


def test_the_cli_renders_the_html_again_from_the_json(tmp_path: Path, capsys) -> None:
    json_path, html_path = write_report(hostile_report(), tmp_path / "gate1.html")
    html_path.unlink()
    assert cli_main(["report", str(json_path)]) == 0
    assert html_path.read_text().startswith("<!DOCTYPE html>")
    assert "NO-GO" in capsys.readouterr().out


def test_the_cli_rejects_a_json_that_is_not_a_report(tmp_path: Path, capsys) -> None:
    bogus = tmp_path / "x.json"
    bogus.write_text(json.dumps({"verdict": "GO"}))
    assert cli_main(["report", str(bogus)]) == 2
    assert "lacks target" in capsys.readouterr().err


def test_a_pass_below_the_gate_is_not_green_and_says_what_is_short() -> None:
    tests = [TestResult("suites/gate1/t.py::test_a", ("security.rbac",), Outcome.PASSED, Scope.LOCAL)]
    report = build_report(CATALOG, tests, {}, RunInfo("local", "local", "s", "f", "0"))
    rbac = next(c for c in report["criteria"] if c["id"] == "security.rbac")
    assert rbac["status"] == "PASSED_BELOW_GATE" and rbac["short_of"] == ["local only"]
    html = render_html(report)
    row = html[html.index('id="security.rbac"') :].split("</tr>")[0]
    assert 'class="badge s-PASSED_BELOW_GATE"' in row and "short: local only" in row
    css_rule = re.search(r"\.s-PASSED_BELOW_GATE \{ background: var\(--(\w+)\)", html)
    assert css_rule is not None and css_rule.group(1) != "go"
