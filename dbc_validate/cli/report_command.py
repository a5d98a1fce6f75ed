"""`dbc-validate report JSON [--html OUT]`: render gate1.html again from a gate1.json."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from dbc_validate.errors import InputError
from dbc_validate.report.build import TOP_LEVEL_KEYS
from dbc_validate.report.html import render_html


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
    except json.JSONDecodeError as exc:
        raise InputError(f"{args.json} is not JSON (line {exc.lineno}: {exc.msg})", "pass a gate1.json") from None
    missing = [key for key in TOP_LEVEL_KEYS if key not in report]
    if missing:
        raise InputError(f"{args.json} lacks {', '.join(missing)}", "pass a gate1.json written by dbc_validate")
    out = args.html or args.json.with_suffix(".html")
    out.write_text(render_html(report), encoding="utf-8")
    print(f"{out} ({report['verdict']})")
    return 0
