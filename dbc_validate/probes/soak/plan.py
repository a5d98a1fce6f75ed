"""The soak's plan from the resolved settings: duration, interval, resume id, error-rate limit, budget, load.

The values were validated when the settings were resolved (dbc_validate.options)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dbc_validate.durations import parse_cpu_cores, parse_memory_mb, parse_percent
from dbc_validate.settings import Settings

__all__ = ["SoakPlan", "parse_cpu_cores", "parse_memory_mb", "parse_percent", "resume_command", "soak_plan"]


@dataclass(frozen=True)
class SoakPlan:
    root: Path  # reports/soak
    duration_s: float | None  # None: the run's own plan when resuming, else the subject's default
    interval_s: float = 10.0
    resume: str | None = None
    error_rate_max: float = 0.01
    cpu_budget_cores: float = 1.0
    memory_budget_mb: float = 512.0
    rate_per_s: float = 5.0
    users: int = 2


def soak_plan(settings: Settings) -> SoakPlan:
    """The plan from the resolved settings."""
    return SoakPlan(
        root=settings.report_html.parent / "soak",
        duration_s=settings.soak_duration_s,
        interval_s=settings.soak_interval_s,
        resume=settings.soak_resume,
        error_rate_max=settings.soak_error_rate_max,
        cpu_budget_cores=settings.soak_cpu_budget_cores,
        memory_budget_mb=settings.soak_memory_budget_mb,
        rate_per_s=settings.soak_rate_per_s,
    )


def resume_command(args: Sequence[str], run_id: str, program: str = "pytest") -> str:
    """The command that continues run `run_id`: the interrupted command's arguments with `--soak-resume` set."""
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--soak-resume":
            skip = True
        elif not arg.startswith("--soak-resume="):
            kept.append(arg)
    return shlex.join([program, *kept, "--soak-resume", run_id])
