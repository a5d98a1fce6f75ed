"""`dbc-validate targets PATH... [--format text|json]`: the scrape targets the set's Prometheus would have.

Text: one line per target (allow/deny by the NetworkPolicies), then the observability findings met on the way.
JSON: {"prometheus": [{id, source}], "targets": [...], "findings": [...]}. Exit 0 whatever the answer (like
`netpol`; `analyze` is the command that fails on findings), 2 for unusable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from dbc_validate.analysis.findings import sort_findings
from dbc_validate.analysis.netpol import build_model
from dbc_validate.analysis.scrape_targets import predict_targets
from dbc_validate.cli.analyze_command import add_paths_argument, load_paths


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "targets",
        help="predict the Prometheus scrape targets of a manifest set from its ServiceMonitors and PodMonitors",
        description="Which Prometheus scrapes which pods on which port and path, and whether the NetworkPolicies "
        "let it. Exit 0 whatever the answer.",
    )
    add_paths_argument(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    prediction = predict_targets(build_model(load_paths(args.paths)))
    findings = sort_findings(prediction.findings)
    if args.format == "json":
        document = {
            "prometheus": [{"id": p.id, "source": p.source} for p in prediction.instances],
            "targets": [t.as_dict() for t in prediction.targets],
            "findings": [f.as_dict() for f in findings],
        }
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    for instance in prediction.instances:
        print(f"prometheus {instance.id} ({instance.source})")
    for target in prediction.targets:
        print(target.describe())
    for found in findings:
        print(found.describe())
    allowed = sum(t.allowed for t in prediction.targets)
    print(f"{len(prediction.targets)} targets, {allowed} allowed by the NetworkPolicies, {len(findings)} finding(s)")
    return 0
