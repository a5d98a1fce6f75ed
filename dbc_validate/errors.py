"""Errors caused by the user's input or machine, shown as one line that names the problem and the fix."""

from __future__ import annotations


class InputError(Exception):
    """Bad input or a missing prerequisite: never a harness bug, so it is shown without a traceback."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem, fix)
        self.problem = problem
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.problem}; fix: {self.fix}"


class ManifestError(InputError):
    """The manifest set cannot be rendered or parsed."""


class MissingBinary(InputError):
    """A program the harness needs is not installed."""


class LabError(Exception):
    """A local lab did not reach the state asked for in time (with the members' log tails)."""
