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


def render_chart(title: str, series: Sequence[dict[str, Any]], width_in: float = 8.0, height_in: float = 2.6) -> str:
    """One SVG chart (as a string) for `series` of the report's JSON shape."""
    import matplotlib  # heavy: ~0.3 s, paid only when a report draws a chart

    matplotlib.use("svg", force=False)
    matplotlib.rcParams["svg.fonttype"] = "path"  # text drawn as paths: nothing in a label can become markup
    matplotlib.rcParams["svg.hashsalt"] = "dbc"  # deterministic ids
    matplotlib.rcParams["text.parse_math"] = False  # labels are plain text, "$...$" is not mathtext
    from matplotlib.figure import Figure  # heavy: after the backend is chosen above

    fig = Figure(figsize=(width_in, height_in), dpi=96)
    ax = fig.add_subplot()
    has_legend = False
    for s in series:
        x, y = downsample(s["x"], s["y"])
        if s.get("kind") == "events":
            for xi, label in zip(x, s.get("labels") or [""] * len(x), strict=False):
                ax.axvline(xi, linestyle="--", linewidth=0.8, color="#888")
                ax.annotate(
                    str(label)[:40],
                    (xi, 1.0),
                    xycoords=("data", "axes fraction"),
                    rotation=90,
                    fontsize=7,
                    va="top",
                    ha="right",
                    color="#555",
                )
            continue
        drawstyle = "steps-post" if s.get("kind") == "step" else "default"
        ax.plot(x, _nan(y), label=str(s.get("name", ""))[:60], linewidth=1.0, drawstyle=drawstyle)
        has_legend = True
        ax.set_ylabel(str(s.get("y_label", ""))[:40], fontsize=8)
        ax.set_xlabel(str(s.get("x_label", ""))[:40], fontsize=8)
    values = [v for s in series if s.get("kind") != "events" for v in s["y"] if v is not None]
    if values and min(values) >= 0:
        # Counts, rates and percentages: zero in view, just above the frame so a line at zero stays visible.
        top = max(ax.get_ylim()[1], 1e-9)
        ax.set_ylim(-0.03 * top, top)
    ax.set_title(title[:80], fontsize=9)
    ax.tick_params(labelsize=7)
    ax.grid(True, linewidth=0.3)
    if has_legend:
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    # Drop the XML prolog and DOCTYPE so the SVG can sit inline in HTML.
    return re.sub(r"^.*?(<svg\b)", r"\1", svg, count=1, flags=re.DOTALL)
