"""Collect a diagnostics bundle after a failed deploy or wait: events, `kubectl describe` and logs of the
failing pods, written (redacted) under the report folder so CI uploads them with the report."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from dbc_validate.analysis.live.diagnostics import event_lines, pods_to_diagnose, warning_summary
from dbc_validate.analysis.live.pods import container_states, name_of, namespace_of
from dbc_validate.cluster.kubectl import ClusterError, Kubectl
from dbc_validate.redact import redact


def collect_bundle(kubectl: Kubectl, namespaces: Sequence[str], folder: Path) -> tuple[Path, list[str]]:
    """Write the bundle into a fresh folder under `folder`; returns it and the latest warning lines.

    Best effort: a cluster that no longer answers still gets a bundle saying so.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = folder / f"cluster-diagnostics-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    warnings: list[str] = []
    try:
        events = kubectl.items("events")
        (out / "events.txt").write_text(redact("\n".join(event_lines(events))) + "\n", encoding="utf-8")
        warnings = warning_summary(events)
        pods = [p for ns in namespaces for p in kubectl.items("pods", ns)]
        pods += kubectl.items("pods", "kube-system")
        for pod in pods_to_diagnose(pods):
            ns, name = namespace_of(pod), name_of(pod)
            described = kubectl.run(["describe", "pod", name, "-n", ns], check=False).stdout
            (out / f"describe-{ns}-{name}.txt").write_text(redact(described), encoding="utf-8")
            for state in container_states(pod):
                for previous in (False, True):
                    text = kubectl.logs(ns, name, state.name, tail=400, previous=previous)
                    if text:
                        suffix = "-previous" if previous else ""
                        path = out / f"logs-{ns}-{name}-{state.name}{suffix}.txt"
                        path.write_text(redact(text), encoding="utf-8")
        nodes = kubectl.items("nodes")
        (out / "nodes.json").write_text(
            json.dumps(
                [{"name": name_of(n), "conditions": (n.get("status") or {}).get("conditions")} for n in nodes], indent=2
            ),
            encoding="utf-8",
        )
    except ClusterError as exc:
        notes.append(f"collection stopped: {exc}")
    (out / "README.txt").write_text(
        "Diagnostics collected by dbc_validate after a failed deploy or wait (secrets redacted).\n"
        + "".join(f"{n}\n" for n in notes),
        encoding="utf-8",
    )
    return out, [redact(w) for w in warnings]
