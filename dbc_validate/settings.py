"""The harness's resolved settings: one record built from options, ini values and environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbc_validate.criteria import CATALOG, Criterion


@dataclass(frozen=True)
class Settings:
    root: Path  # the project's rootdir; relative paths are resolved against it
    target: str = "auto"  # as requested: auto | local | kind | k3d | kubeconfig
    target_source: str = "default"  # where the value came from (--target, DBC_TARGET, ini, default)
    manifests: Path | None = None  # None: the target's default overlay
    report_html: Path = Path("reports/gate1.html")
    kubeconfig: Path | None = None
    keep_cluster: bool = False
    allow_destructive: bool = False
    soak_duration_s: float | None = None  # None: the target's default
    require_go: bool = False
    catalog: tuple[Criterion, ...] = CATALOG
    # Every option's resolved value by flag ("--postgres-dsn": [...]): capabilities read their own here.
    options: dict[str, Any] = field(default_factory=dict)

    def option(self, flag: str) -> Any:
        return self.options.get(flag)

    @property
    def report_json(self) -> Path:
        return self.report_html.with_suffix(".json")
