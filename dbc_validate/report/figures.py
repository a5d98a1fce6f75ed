"""How recorded figures read in the report: a label that says what each is, its value with its unit, and
per-variant counts as small tables instead of key=value or JSON text (pure)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Key suffixes that only repeat the unit: the unit is shown beside the value instead.
_UNIT_SUFFIXES = {"_s": "s", "_ms": "ms", "_h": "h", "_percent": "%", "_mb": "MiB"}


@dataclass(frozen=True)
class Figure:
    """One figure as the report shows it: `text` for a single value, `rows` for a table of per-key values."""

    label: str
    text: str = ""
    rows: tuple[tuple[str, str], ...] = ()
    test: str = ""


def number(value: float | int) -> str:
    """12345 -> "12,345"; 0.016666 -> "0.0167"; 19.6 -> "19.6"; 2.0 -> "2"."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return "—"
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"


def hours_and_minutes(hours: float) -> str:
    """48.0 -> "48 h", 47.983 -> "47 h 59 min", 0.5 -> "30 min", 0.0056 -> "20 s" (under a minute, seconds:
    a 20 s soak is not "0 min")."""
    if 0 < hours * 60 < 1:
        return f"{round(hours * 3600)} s"
    minutes = max(0, round(hours * 60))
    h, m = divmod(minutes, 60)
    if h and m:
        return f"{h} h {m} min"
    return f"{h} h" if h else f"{m} min"


def with_unit(value: float | int, unit: str | None) -> str:
    if unit == "h" and not isinstance(value, bool):
        return hours_and_minutes(value)
    text = number(value)
    if not unit or unit in ("count", "bool"):
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def label_of(key: str, unit: str | None) -> str:
    """ "write_gap_p95_s" -> "write gap p95"; "http_status_example.org" -> "http status example.org"."""
    for suffix, suffix_unit in _UNIT_SUFFIXES.items():
        if key.endswith(suffix) and (unit in (None, suffix_unit)):
            key = key[: -len(suffix)]
            break
    return key.replace("_", " ").strip()


def value_text(value: Any, unit: str | None = None) -> str:
    """A scalar or a list of scalars as readable text."""
    if value is None:
        return "not measured"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return with_unit(value, unit)
    if isinstance(value, list | tuple):
        if not value:
            return "none"
        return ", ".join(value_text(v, unit) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {value_text(v, unit)}" for k, v in value.items())
    return str(value)


def figure(key: str, value: Any, unit: str | None = None, test: str = "", label: str | None = None) -> Figure:
    """The report's form of one recorded figure."""
    shown = label or label_of(key, unit)
    if isinstance(value, Mapping) and value:
        return Figure(shown, rows=tuple((str(k), value_text(v, unit)) for k, v in value.items()), test=test)
    return Figure(shown, value_text(value, unit), test=test)


def figures_of(recorded: Sequence[Mapping[str, Any]]) -> list[Figure]:
    """The figures of one criterion, from gate1.json's `measurements.criteria[id].figures`; a key recorded
    twice (by two tests) keeps its last value, as `measured` does."""
    latest: dict[str, Mapping[str, Any]] = {}
    for entry in recorded:
        latest.pop(str(entry.get("key")), None)
        latest[str(entry.get("key"))] = entry
    return [
        figure(k, e.get("value"), e.get("unit"), str(e.get("test") or ""), e.get("label") or None)
        for k, e in latest.items()
    ]


def split_figures(recorded: Sequence[Mapping[str, Any]]) -> tuple[list[Figure], list[Figure]]:
    """(measured, configured): what the tests measured, and the settings it was judged against."""
    entries = [e for e in recorded if isinstance(e, Mapping)]  # a hand-edited gate1.json may hold anything
    measured = figures_of([e for e in entries if not e.get("configured")])
    configured = figures_of([e for e in entries if e.get("configured")])
    return measured, configured
