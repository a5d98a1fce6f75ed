"""Charts for the report: evidence series drawn by matplotlib as inline SVG (no JavaScript, no CDN)."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from typing import Any

from dbc_validate.stats import downsample


def _nan(values: Sequence[float | None]) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def group_series(series: Sequence[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Series sharing a `group` go on one chart; ungrouped ones get a chart each. Order is kept."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for index, s in enumerate(series):
        key = s.get("group") or f"__{index}"
        groups.setdefault(key, []).append(s)
    return [(k if not k.startswith("__") else v[0]["name"], v) for k, v in groups.items()]


def y_range(values: Sequence[float]) -> tuple[float, float] | None:
    """The y limits for non-negative series: zero in view just above the frame; an all-zero series gets 0-1
    (a flat line at zero, not a 0-0.05 axis of fractions). None: let matplotlib choose (negative values)."""
    if not values or min(values) < 0:
        return None
    top = max(values)
    if top == 0:
        return (-0.03, 1.0)
    return (-0.03 * top * 1.05, top * 1.05)


def whole_numbers(values: Sequence[float]) -> bool:
    """Counts (restarts, requests): the y axis then shows whole numbers only."""
    return bool(values) and all(float(v).is_integer() for v in values)


def _mark_events(ax: Any, events: Sequence[tuple[Sequence[float], Sequence[str]]]) -> None:
    """Dashed lines with horizontal labels inside the frame: a label in the right half of the x range reads
    leftwards from its line, and neighbouring labels sit on alternating rows so they do not collide."""
    for x, _labels in events:
        for xi in x:
            ax.axvline(xi, linestyle="--", linewidth=0.8, color="#888")
    low, high = ax.get_xlim()
    middle = (low + high) / 2
    for x, labels in events:
        for i, (xi, label) in enumerate(zip(x, labels, strict=False)):
            right_half = xi > middle
            note = ax.annotate(
                str(label)[:32],
                (xi, 0.96 - 0.1 * (i % 3)),
                xycoords=("data", "axes fraction"),
                xytext=(-3 if right_half else 3, 0),
                textcoords="offset points",
                fontsize=9,
                va="top",
                ha="right" if right_half else "left",
                color="#444",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
            )
            note.set_in_layout(False)  # inside the frame by construction: tight_layout need not make room


# Rendered at this size and scaled to the card's width by CSS (the SVG has a viewBox): fonts stay readable
# from a 1400 px screen down to an 800 px one.
WIDTH_IN, HEIGHT_IN = 8.5, 2.8


def render_chart(
    title: str, series: Sequence[dict[str, Any]], width_in: float = WIDTH_IN, height_in: float = HEIGHT_IN
) -> str:
    """One SVG chart (as a string) for `series` of the report's JSON shape."""
    import matplotlib  # heavy: ~0.3 s, paid only when a report draws a chart

    matplotlib.use("svg", force=False)
    matplotlib.rcParams["svg.fonttype"] = "path"  # text drawn as paths: nothing in a label can become markup
    matplotlib.rcParams["svg.hashsalt"] = "dbc"  # deterministic ids
    matplotlib.rcParams["text.parse_math"] = False  # labels are plain text, "$...$" is not mathtext
    from matplotlib.figure import Figure  # heavy: after the backend is chosen above
    from matplotlib.ticker import MaxNLocator  # heavy: part of matplotlib

    fig = Figure(figsize=(width_in, height_in), dpi=96)
    ax = fig.add_subplot()
    lines = 0
    events: list[tuple[Sequence[float], Sequence[str]]] = []
    for s in series:
        x, y = downsample(s["x"], s["y"])
        if s.get("kind") == "events":
            events.append((x, s.get("labels") or [""] * len(x)))
            continue
        drawstyle = "steps-post" if s.get("kind") == "step" else "default"
        ax.plot(x, _nan(y), label=str(s.get("name", ""))[:60], linewidth=1.0, drawstyle=drawstyle)
        lines += 1
        ax.set_ylabel(str(s.get("y_label", ""))[:40], fontsize=10)
        ax.set_xlabel(str(s.get("x_label", ""))[:40], fontsize=10)
    values = [float(v) for s in series if s.get("kind") != "events" for v in s["y"] if v is not None]
    limits = y_range(values)
    if limits is not None:
        ax.set_ylim(*limits)
    if whole_numbers(values):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _mark_events(ax, events)
    ax.set_title(title[:80], fontsize=11)
    ax.tick_params(labelsize=9)
    ax.grid(True, linewidth=0.3)
    if lines > 1 or (lines == 1 and not ax.get_ylabel()):  # one line is named by its y label already
        ax.legend(fontsize=9, loc="best")
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    # Drop the XML prolog and DOCTYPE so the SVG can sit inline in HTML.
    return re.sub(r"^.*?(<svg\b)", r"\1", svg, count=1, flags=re.DOTALL)
