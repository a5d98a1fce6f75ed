"""Run Debian's `promtool check rules` on rule-file text (the only offline PromQL parser at hand, 2.42)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

from dbc_validate.errors import MissingBinary
from dbc_validate.tools.binaries import find_program

_VERSION = re.compile(r"promtool, version (\S+)")


@dataclass(frozen=True)
class RuleCheck:
    ok: bool
    errors: tuple[str, ...]  # promtool's FAILED lines, without the file name


def find_promtool() -> str | None:
    """Path of promtool ($DBC_PROMTOOL, then PATH), or None when it is not installed."""
    try:
        return find_program("promtool")
    except MissingBinary:
        return None


def promtool_version(binary: str) -> str:
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30, check=False)
    match = _VERSION.search(done.stdout + done.stderr)
    return match.group(1).split("+", 1)[0] if match else "unknown"


def check_rules(binary: str, text: str, timeout_s: float = 60.0) -> RuleCheck:
    """`promtool check rules` on one rule file's text (read from stdin: promtool takes /dev/stdin as a file)."""
    done = subprocess.run(
        [binary, "check", "rules", "/dev/stdin"], input=text, capture_output=True, text=True, timeout=timeout_s
    )
    if done.returncode == 0:
        return RuleCheck(True, ())
    lines = [line.strip() for line in (done.stderr or done.stdout).splitlines()]
    errors = tuple(line.removeprefix("/dev/stdin: ") for line in lines if line and line != "FAILED:")
    return RuleCheck(False, errors or (f"promtool exited {done.returncode}",))
