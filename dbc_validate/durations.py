"""Parse and format the human quantities option values hold: durations (90s, 15m, 48h, 2d), Kubernetes-style
memory and CPU quantities (512Mi, 500m) and percentages."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_TOKEN = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")


def parse_duration(text: str) -> float:
    """Seconds in `text` ("60", "90s", "1h30m", "48h"); raises ValueError on anything else."""
    compact = text.strip().lower().replace(" ", "")
    if not compact:
        raise ValueError("empty duration")
    total = 0.0
    pos = 0
    for match in _TOKEN.finditer(compact):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2) or "s"]
        pos = match.end()
    if pos != len(compact):
        raise ValueError(f"not a duration: {text!r} (use e.g. 60s, 15m, 48h)")
    return total


def format_duration(seconds: float) -> str:
    """Compact human form: 45s, 12m05s, 3h20m, 2d04h."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


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
