"""The soak's plan from the resolved settings: duration, interval, resume id, error-rate limit, budget, load.

The values were validated when the settings were resolved (dbc_validate.options)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dbc_validate.criteria import by_id
from dbc_validate.durations import parse_cpu_cores, parse_memory_mb, parse_percent
from dbc_validate.probes.load_topology import LoadTopology, load_topology
from dbc_validate.settings import Settings

__all__ = [
    "DEFAULT_INTERVAL_S",
    "SoakPlan",
    "parse_cpu_cores",
    "parse_memory_mb",
    "parse_percent",
    "resume_command",
    "sample_interval",
    "soak_plan",
]


@dataclass(frozen=True)
class SoakPlan:
    root: Path  # reports/soak
    duration_s: float | None  # None: the run's own plan when resuming, else the subject's default
    interval_s: float | None = None  # None: `sample_interval` picks one for the planned duration
    resume: str | None = None
    error_rate_max: float = 0.01
    cpu_budget_cores: float = 1.0
    memory_budget_mb: float = 512.0
    rate_per_s: float = 5.0
    users: int = 2
    load: LoadTopology = field(default_factory=LoadTopology)
    mode: str = "active"  # or "retrospective": judge the Prometheus history of the last duration_s
    prometheus_url: str | None = None
    window_end: float | None = None  # retrospective: None means now
    required_s: float = 48 * 3600.0  # Gate 1's covered time: a retrospective window's default length


DEFAULT_INTERVAL_S = 10.0
MIN_DEFAULT_SAMPLES = 2  # a run shorter than two default intervals samples more often: a chart needs two points


def sample_interval(plan: SoakPlan, planned_s: float) -> float:
    """The time between samples: --soak-interval when given, else 10 s, or half a run shorter than 20 s."""
    if plan.interval_s is not None:
        return plan.interval_s
    return min(DEFAULT_INTERVAL_S, planned_s / MIN_DEFAULT_SAMPLES) if planned_s > 0 else DEFAULT_INTERVAL_S


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
        load=load_topology(settings),
        mode=settings.soak_mode,
        prometheus_url=settings.soak_prometheus,
        window_end=settings.soak_window_end,
        required_s=float(by_id("stability.soak", settings.catalog).threshold.value) * 3600,  # type: ignore[union-attr]
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
