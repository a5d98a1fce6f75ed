"""`dbc-validate report JSON [--html OUT]`: render gate1.html again from a gate1.json."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from dbc_validate.errors import InputError
from dbc_validate.report.html import render_html
from dbc_validate.report.input_check import report_problem


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("report", help="render the Gate 1 HTML report from gate1.json")
    parser.add_argument("json", type=Path, help="a gate1.json written by a run")
    parser.add_argument("--html", type=Path, default=None, help="output path (default: beside the JSON)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        report = json.loads(args.json.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {args.json}: {exc.strerror}", "pass the path of a gate1.json") from None
    except UnicodeDecodeError:
        raise InputError(f"{args.json} is not UTF-8 text", "pass a gate1.json written by dbc_validate") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{args.json} is not JSON (line {exc.lineno}: {exc.msg})", "pass a gate1.json") from None
    problem = report_problem(report)
    if problem is not None:
        raise InputError(f"{args.json} {problem}", "pass a gate1.json written by dbc_validate")
    out = args.html or args.json.with_suffix(".html")
    try:
        html = render_html(report)
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        # The shape check covers what the page needs first; a deeper wrong type (in the evidence) ends here.
        raise InputError(
            f"{args.json} has a value of an unexpected type ({type(exc).__name__}: {exc})",
            "pass a gate1.json written by dbc_validate",
        ) from None
    out.write_text(html, encoding="utf-8")
    print(f"{out} ({report['verdict']})")
    return 0
