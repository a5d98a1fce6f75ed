"""What goes into a diagnostics bundle when a deploy or wait fails: which pods to describe and read logs
from, and the cluster's events as readable lines."""

from __future__ import annotations

from collections.abc import Sequence

from dbc_validate.analysis.live.pods import Obj, container_states, is_finished, is_ready, name_of, namespace_of


def pods_to_diagnose(pods: Sequence[Obj], limit: int = 12) -> list[Obj]:
    """Pods that are neither ready nor finished successfully, those with restarts or waiting reasons first."""

    def trouble(pod: Obj) -> int:
        states = container_states(pod)
        return sum(s.restarts for s in states) + 10 * sum(1 for s in states if s.waiting_reason)

    failing = [
        p
        for p in pods
        if not is_ready(p) and not (is_finished(p) and (p.get("status") or {}).get("phase") == "Succeeded")
    ]
    failing.sort(key=lambda p: (-trouble(p), namespace_of(p), name_of(p)))
    return failing[:limit]


def _when(event: Obj) -> str:
    return str(event.get("lastTimestamp") or event.get("eventTime") or event.get("firstTimestamp") or "")


def event_lines(events: Sequence[Obj], limit: int = 300) -> list[str]:
    """Events oldest first (the last `limit`), one line each: time, type, reason, object, message."""
    ordered = sorted(events, key=_when)[-limit:]
    lines = []
    for e in ordered:
        involved = e.get("involvedObject") or e.get("regarding") or {}
        what = f"{involved.get('kind', '?')}/{involved.get('namespace', '')}/{involved.get('name', '?')}"
        message = " ".join(str(e.get("message") or e.get("note") or "").split())
        count = e.get("count") or 1
        lines.append(f"{_when(e)} {e.get('type', '')} {e.get('reason', '')} {what} (x{count}): {message}")
    return lines


def warning_summary(events: Sequence[Obj], limit: int = 5) -> list[str]:
    """The most recent Warning events, for the one-line failure message."""
    return [line for line in event_lines([e for e in events if e.get("type") == "Warning"])][-limit:]
