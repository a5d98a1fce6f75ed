"""The soak's plan from the options: duration, interval, resume id, error-rate limit, budget, load.

Bad values raise InputError naming the option and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dbc_validate.durations import parse_duration
from dbc_validate.errors import InputError
from dbc_validate.settings import Settings

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_DECIMAL = {"k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_QUANTITY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


def parse_memory_mb(text: str) -> float:
    """MiB in a Kubernetes-style memory quantity: 512Mi, 1Gi, 500M, or plain bytes."""
    match = _QUANTITY.match(text)
    unit = match.group(2) if match else ""
    if match is None or (unit and unit not in _BINARY and unit not in _DECIMAL):
        raise ValueError(f"not a memory quantity: {text!r} (use e.g. 512Mi or 1Gi)")
    factor = _BINARY.get(unit) or _DECIMAL.get(unit) or 1
    return float(match.group(1)) * factor / 2**20


def parse_cpu_cores(text: str) -> float:
    """Cores in a Kubernetes-style CPU quantity: 1, 0.5, 500m."""
    match = _QUANTITY.match(text)
    if match is None or match.group(2) not in ("", "m"):
        raise ValueError(f"not a CPU quantity: {text!r} (use e.g. 1, 0.5 or 500m)")
    value = float(match.group(1))
    return value / 1000 if match.group(2) == "m" else value


def parse_percent(text: str) -> float:
    """A fraction from a percentage: "1%" or "1" -> 0.01."""
    body = text.strip().removesuffix("%").strip()
    try:
        value = float(body)
    except ValueError:
        raise ValueError(f"not a percentage: {text!r} (use e.g. 1% or 0.5)") from None
    if not 0 <= value <= 100:
        raise ValueError(f"a percentage must lie between 0 and 100, got {text!r}")
    return value / 100


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


def _value(settings: Settings, flag: str, parse: object, fix: str) -> float:
    raw = settings.option(flag)
    try:
        value = parse(str(raw))  # type: ignore[operator]
    except ValueError as exc:
        raise InputError(f"{flag}: {exc}", fix) from None
    if value <= 0 and flag != "--soak-error-rate-max":
        raise InputError(f"{flag} must be positive, got {raw!r}", fix)
    return float(value)


def soak_plan(settings: Settings) -> SoakPlan:
    """The plan from the resolved settings; raises InputError for a bad value."""
    interval = _value(settings, "--soak-interval", parse_duration, "pass a duration such as 10s or 1m")
    duration = settings.soak_duration_s
    if duration is not None and duration < interval:
        raise InputError(
            f"--soak-duration ({duration:g} s) is shorter than --soak-interval ({interval:g} s)",
            "give a duration of at least one interval",
        )
    resume = settings.option("--soak-resume")
    return SoakPlan(
        root=settings.report_html.parent / "soak",
        duration_s=duration,
        interval_s=interval,
        resume=str(resume).strip() if resume else None,
        error_rate_max=_value(settings, "--soak-error-rate-max", parse_percent, "pass a percentage such as 1%"),
        cpu_budget_cores=_value(settings, "--soak-cpu-budget", parse_cpu_cores, "pass cores such as 1 or 500m"),
        memory_budget_mb=_value(settings, "--soak-memory-budget", parse_memory_mb, "pass memory such as 512Mi"),
        rate_per_s=_value(settings, "--soak-rate", float, "pass requests per second such as 5"),
    )
