"""`dbc-validate analyze PATH... [--format text|json] [--kube-version V] [--split 70/30]`: static findings.

Exit 1 when any finding has severity error, 0 otherwise, 2 for unusable input (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dbc_validate.analysis import analyze
from dbc_validate.analysis.findings import format_findings
from dbc_validate.manifests.model import ManifestSet, load_manifest_set
from dbc_validate.probes.promql_check import check_promql


def load_paths(paths: Sequence[Path]) -> ManifestSet:
    """One manifest set from several paths (each a kustomization folder, YAML file or folder of YAML)."""
    sets = [load_manifest_set(path) for path in paths]
    if len(sets) == 1:
        return sets[0]
    methods = "+".join(dict.fromkeys(s.method for s in sets))
    return ManifestSet(sets[0].source, methods, tuple(o for s in sets for o in s.objects))


def add_paths_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="kustomization folder (rendered with kubectl kustomize), YAML file or folder of YAML; several are merged",
    )


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="judge a manifest set statically (pod security, NetworkPolicies, RBAC, secrets, images, ingress, CNPG)",
        description="Exit 1 when any error-severity finding, 0 otherwise, 2 for unusable input.",
    )
    add_paths_argument(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    parser.add_argument("--kube-version", default="1.36", help="Kubernetes version of the schemas (default 1.36)")
    parser.add_argument("--split", default="70/30", help="expected traffic split of weighted routes (default 70/30)")
    parser.set_defaults(func=run)


def summary_line(summary: dict[str, Any]) -> str:
    verdict = "no error" if summary["passed"] else "FAILED"
    return (
        f"{summary['errors']} error(s), {summary['warnings']} warning(s), {summary['infos']} info in "
        f"{summary['objects']} objects ({summary['workloads']} workloads, {summary['network_policies']} "
        f"NetworkPolicies): {verdict}"
    )


def run(args: argparse.Namespace) -> int:
    manifests = load_paths(args.paths)
    # promtool (when installed) judges the rules and dashboard queries; without it they are reported unchecked.
    result = analyze(
        manifests, expected_split=args.split, kube_version=args.kube_version, promql=check_promql(manifests)
    )
    if args.format == "json":
        json.dump(result.as_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        if result.findings:
            print(format_findings(result.findings))
        print(summary_line(result.summary))
    return 0 if result.summary["passed"] else 1
