"""The `dbc-validate` command: one module per subcommand, each with `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from dbc_validate import __version__
from dbc_validate.errors import InputError

# Subcommand modules under dbc_validate.cli; each defines register(subparsers) setting `func`.
COMMANDS = ("report_command", "analyze_command", "netpol_command", "targets_command", "plan_command")

EXIT_UNUSABLE_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dbc-validate", description="dirtbikechina Gate 1 harness")
    parser.add_argument("--version", action="version", version=f"dbc-validate {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"dbc_validate.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except InputError as exc:
        print(f"dbc-validate: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    except KeyboardInterrupt:
        print("dbc-validate: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
