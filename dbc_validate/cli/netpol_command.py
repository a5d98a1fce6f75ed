"""`dbc-validate netpol PATH... [--from NS/NAME --to NS/NAME --port N/PROTO] [--format text|json]`.

With --from/--to/--port: whether that one flow is allowed and why (JSON {"allowed", "explanation"}).
Without them: the whole expected matrix (JSON {"flows": [{"from", "to", "port", "protocol", "allowed"}]}).
Exit 0 whatever the answer; 2 for unusable input such as an unknown workload.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from dbc_validate.analysis.netpol import UnknownEndpoint, allowed, build_model, expected_matrix
from dbc_validate.analysis.unreadable import READ_ERRORS, unreadable
from dbc_validate.cli.analyze_command import add_paths_argument, load_paths
from dbc_validate.errors import InputError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "netpol",
        help="answer one flow with the NetworkPolicy engine, or print the expected connectivity matrix",
        description="Workloads are namespace/name of the object owning the pods (Deployment, CNPG Cluster, ...); "
        "--to also accepts an IP address outside the cluster. Exit 0 whatever the answer.",
    )
    add_paths_argument(parser)
    parser.add_argument("--from", dest="source", metavar="NS/NAME", help="source workload")
    parser.add_argument("--to", dest="destination", metavar="NS/NAME", help="destination workload or IP address")
    parser.add_argument("--port", metavar="N/PROTO", help="destination port and protocol, e.g. 5432/TCP or 53/UDP")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    parser.set_defaults(func=run)


def parse_port(text: str) -> tuple[int, str]:
    """ "5432/TCP" -> (5432, "TCP"); the protocol defaults to TCP. Raises InputError."""
    number, _, protocol = text.partition("/")
    protocol = (protocol or "TCP").upper()
    if not number.isdigit() or not 1 <= int(number) <= 65535 or protocol not in ("TCP", "UDP", "SCTP"):
        raise InputError(f"bad --port {text!r}", "give a port number and protocol, e.g. 5432/TCP or 53/UDP")
    return int(number), protocol


def run(args: argparse.Namespace) -> int:
    one_flow = [args.source, args.destination, args.port]
    if any(one_flow) and not all(one_flow):
        raise InputError(
            "--from, --to and --port go together", "give all three for one flow, or none for the whole matrix"
        )
    manifests = load_paths(args.paths)
    try:
        return _answer(args, build_model(manifests), all(one_flow))
    except UnknownEndpoint as exc:
        raise InputError(str(exc), "name a workload as namespace/name of its Deployment, StatefulSet, ...") from None
    except READ_ERRORS as exc:
        raise unreadable(manifests, exc) from None


def _answer(args: argparse.Namespace, model: Any, one_flow: bool) -> int:
    if not one_flow:
        flows = expected_matrix(model)
        if args.format == "json":
            json.dump({"flows": [f.as_dict() for f in flows]}, sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            for flow in flows:
                verdict = "allow" if flow.allowed else "deny "
                print(f"{verdict} {flow.source} -> {flow.destination} {flow.port}/{flow.protocol}")
            print(f"{len(flows)} flows, {sum(f.allowed for f in flows)} allowed")
        return 0
    port, protocol = parse_port(args.port)
    decision = allowed(model, args.source, args.destination, port, protocol)
    if args.format == "json":
        json.dump({"allowed": decision.allowed, "explanation": decision.explanation.as_dict()}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(decision.explanation.text())
    return 0
